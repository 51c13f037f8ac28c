//! Rate limits on the endpoints worth hammering: sign-up, login and refresh per client
//! address, login also per username (so spreading guesses over many addresses does not
//! help), and share-link fetches per client address. GCRA through `governor`: a steady
//! rate with a burst of the same size, answered with 429 `rate_limited` and `Retry-After`.
//!
//! The client address is the TCP peer's; behind a reverse proxy that is the proxy, so a
//! deployment there should rate-limit at the proxy or keep this off.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::ApiError;

/// Attempts allowed per minute; zero turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Register, login and refresh, per client address.
    pub auth_per_minute: u32,
    /// Login, per username (any case).
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
    login: Option<DefaultKeyedRateLimiter<String>>,
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
                login: limiter(settings.login_per_username_per_minute),
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

    /// Counts one login attempt for `username`, whatever its case.
    pub(crate) fn login(&self, username: &str) -> Result<(), ApiError> {
        self.check(Scope::Login, |l| l.login.as_ref(), || Some(username.to_lowercase()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(enabled: bool) -> RateLimitSettings {
        RateLimitSettings { enabled, auth_per_minute: 0, login_per_username_per_minute: 2, links_per_minute: 0 }
    }

    #[test]
    fn a_username_gets_its_quota_whatever_its_case_then_waits() {
        let limits = RateLimits::new(settings(true));
        assert!(limits.login("Alice").is_ok());
        assert!(limits.login("alice").is_ok());
        match limits.login("ALICE") {
            Err(ApiError::RateLimited(wait)) => {
                assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(30), "{wait:?}");
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(limits.login("bob").is_ok(), "another name has its own quota");
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limits = RateLimits::new(settings(false));
        assert!((0..100).all(|_| limits.login("alice").is_ok()));
    }
}
