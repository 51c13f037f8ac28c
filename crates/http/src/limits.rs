//! Rate limits on the endpoints worth hammering: sign-up, login and refresh per client
//! address, failed logins per username *and* client address together (so a stranger's
//! failures never lock the account out for its owner elsewhere), and share-link fetches per
//! client address. GCRA through `governor`: a steady rate with a burst of the same size;
//! failed logins in a fixed one-minute window. Answered with 429 `rate_limited` and
//! `Retry-After`.
//!
//! The client address is the TCP peer's; behind a reverse proxy that is the proxy, so a
//! deployment there should rate-limit at the proxy or keep this off.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::ApiError;

/// Attempts allowed per minute; zero turns that limit off. The `rate_limit` config table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Register, login and refresh, per client address.
    pub auth_per_minute: u32,
    /// Failed logins, per username (any case) and client address together.
    pub login_per_username_per_minute: u32,
    /// `GET /l/{token}`, per client address.
    pub links_per_minute: u32,
}

/// What a limit guards, for the `Retry-After` answer and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Auth,
    Login,
    Links,
}

impl Scope {
    fn label(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Login => "login_username",
            Self::Links => "links",
        }
    }
}

/// The limiters, shared by every worker. Cloning shares them.
#[derive(Clone, Default)]
pub struct RateLimits {
    inner: Option<Arc<Limiters>>,
}

struct Limiters {
    auth: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login: Option<LoginFailures>,
    links: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU64,
}

/// Forget idle keys every this many checks, so the maps stay as small as the set of
/// recently active clients.
const CLEANUP_EVERY: u64 = 4096;

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").field("enabled", &self.inner.is_some()).finish()
    }
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| DefaultKeyedRateLimiter::dashmap(Quota::per_minute(n)))
}

impl RateLimits {
    #[must_use]
    pub fn new(settings: RateLimitSettings) -> Self {
        if !settings.enabled {
            return Self::default();
        }
        Self {
            inner: Some(Arc::new(Limiters {
                auth: limiter(settings.auth_per_minute),
                login: NonZeroU32::new(settings.login_per_username_per_minute).map(LoginFailures::new),
                links: limiter(settings.links_per_minute),
                checks: AtomicU64::new(0),
            })),
        }
    }

    /// Counts one sign-up, login or refresh attempt from the request's client.
    pub(crate) fn auth(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.check(Scope::Auth, |l| l.auth.as_ref(), || req.peer_addr().map(|p| p.ip()))
    }

    /// Counts one share-link fetch from the request's client.
    pub(crate) fn link(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.check(Scope::Links, |l| l.links.as_ref(), || req.peer_addr().map(|p| p.ip()))
    }

    /// A login attempt for `username` (any case) from the request's client: refused while
    /// that pair has used up its failures for the minute. Tell the attempt how it went.
    pub(crate) fn login(&self, req: &HttpRequest, username: &str) -> Result<LoginAttempt, ApiError> {
        let key = req.peer_addr().map(|p| (username.to_lowercase(), p.ip()));
        let attempt = LoginAttempt { limits: self.inner.clone(), key };
        if let (Some(failures), Some(key)) = (attempt.failures(), &attempt.key) {
            failures.admit(key).inspect_err(|_| {
                metrics::counter!("gallery_rate_limited_total", "scope" => Scope::Login.label()).increment(1);
            })?;
        }
        Ok(attempt)
    }

    /// One check against the scope's limiter, when limits are on and the scope has one.
    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        scope: Scope,
        limiter: impl FnOnce(&Limiters) -> Option<&DefaultKeyedRateLimiter<K>>,
        key: impl FnOnce() -> Option<K>,
    ) -> Result<(), ApiError> {
        let Some(inner) = &self.inner else { return Ok(()) };
        let (Some(limiter), Some(key)) = (limiter(inner), key()) else { return Ok(()) };
        inner.tick();
        limiter.check_key(&key).map_err(|not_until| {
            metrics::counter!("gallery_rate_limited_total", "scope" => scope.label()).increment(1);
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited(wait.max(Duration::from_secs(1)))
        })
    }
}

impl Limiters {
    fn tick(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            for limiter in [&self.auth, &self.links].into_iter().flatten() {
                limiter.retain_recent();
            }
            if let Some(login) = &self.login {
                login.retain_recent();
            }
        }
    }
}

/// One login attempt, to be told whether it failed.
#[derive(Debug)]
pub(crate) struct LoginAttempt {
    limits: Option<Arc<Limiters>>,
    key: Option<(String, IpAddr)>,
}

impl LoginAttempt {
    fn failures(&self) -> Option<&LoginFailures> {
        self.limits.as_deref().and_then(|l| l.login.as_ref())
    }

    /// Wrong credentials: counts against the username and address.
    pub(crate) fn failed(self) {
        if let (Some(failures), Some(key)) = (self.failures(), self.key.clone()) {
            failures.fail(key);
        }
    }

    /// The right password: the pair starts afresh.
    pub(crate) fn succeeded(self) {
        if let (Some(failures), Some(key)) = (self.failures(), &self.key) {
            failures.forget(key);
        }
    }
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
    }
}

/// Failed logins per (username, address) in a one-minute window from the first failure.
struct LoginFailures {
    per_minute: u32,
    windows: Mutex<HashMap<(String, IpAddr), (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl LoginFailures {
    fn new(per_minute: NonZeroU32) -> Self {
        Self { per_minute: per_minute.get(), windows: Mutex::default() }
    }

    fn admit(&self, key: &(String, IpAddr)) -> Result<(), ApiError> {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(key) {
            Some(&(start, failures)) if failures >= self.per_minute && start.elapsed() < WINDOW => {
                Err(ApiError::RateLimited((WINDOW - start.elapsed()).max(Duration::from_secs(1))))
            }
            _ => Ok(()),
        }
    }

    fn fail(&self, key: (String, IpAddr)) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(key).or_insert((Instant::now(), 0));
        if window.0.elapsed() >= WINDOW {
            *window = (Instant::now(), 0);
        }
        window.1 += 1;
    }

    fn forget(&self, key: &(String, IpAddr)) {
        self.windows.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    fn retain_recent(&self) {
        self.windows.lock().unwrap_or_else(PoisonError::into_inner).retain(|_, (start, _)| start.elapsed() < WINDOW);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(enabled: bool) -> RateLimitSettings {
        RateLimitSettings { enabled, auth_per_minute: 0, login_per_username_per_minute: 2, links_per_minute: 0 }
    }

    fn failures(per_minute: u32) -> LoginFailures {
        LoginFailures::new(NonZeroU32::new(per_minute).unwrap())
    }

    fn key(name: &str, ip: [u8; 4]) -> (String, IpAddr) {
        (name.to_lowercase(), IpAddr::from(ip))
    }

    #[test]
    fn failed_logins_lock_one_username_and_address_then_wait() {
        let limits = failures(2);
        let attacker = key("Alice", [10, 0, 0, 66]);
        limits.fail(attacker.clone());
        assert!(limits.admit(&attacker).is_ok());
        limits.fail(attacker.clone());
        match limits.admit(&key("ALICE", [10, 0, 0, 66])) {
            Err(ApiError::RateLimited(wait)) => {
                assert!(wait >= Duration::from_secs(1) && wait <= WINDOW, "{wait:?}");
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(limits.admit(&key("alice", [192, 168, 1, 2])).is_ok(), "the owner elsewhere is not locked out");
        assert!(limits.admit(&key("bob", [10, 0, 0, 66])).is_ok(), "another name has its own count");
    }

    #[test]
    fn a_success_starts_the_count_afresh() {
        let limits = failures(2);
        let owner = key("alice", [127, 0, 0, 1]);
        limits.fail(owner.clone());
        limits.forget(&owner);
        limits.fail(owner.clone());
        assert!(limits.admit(&owner).is_ok());
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limits = RateLimits::new(settings(false));
        let req = actix_web::test::TestRequest::default().peer_addr("127.0.0.1:9".parse().unwrap()).to_http_request();
        assert!((0..100).all(|_| limits.login(&req, "alice").map(LoginAttempt::failed).is_ok()));
    }
}
