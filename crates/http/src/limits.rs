//! Rate limits on the endpoints worth hammering: sign-up, login and refresh per client
//! address, failed logins per username *and* client address together (so a stranger's
//! failures never lock the account out for its owner elsewhere), and share-link fetches per
//! client address. GCRA: a steady rate with a burst of the same size, counted through the
//! [`RateCounter`] port (PostgreSQL), so that every server behind one address counts the
//! same attempts. Answered with 429 `rate_limited` and `Retry-After`.
//!
//! The client address is the TCP peer's; behind a reverse proxy that is the proxy, so a
//! deployment there should rate-limit at the proxy or keep this off.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::HttpRequest;
use gallery_domain::DomainError;
use gallery_domain::ports::{Allowance, RateCounter};
use sha2::{Digest as _, Sha256};

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

/// What a limit guards: its share of the counter's keys, and its metrics label.
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

/// The limits, over one worker's counter. Off when `rate_limit.enabled` is false.
#[derive(Clone, Default)]
pub struct RateLimits {
    inner: Option<Limits>,
}

#[derive(Clone)]
struct Limits {
    settings: RateLimitSettings,
    counter: Arc<dyn RateCounter>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").field("settings", &self.inner.as_ref().map(|l| l.settings)).finish()
    }
}

/// The client's address as a key part (behind trusted proxies, the one they name).
fn client(req: &HttpRequest) -> Option<IpAddr> {
    crate::client::address(req)
}

fn refused(scope: Scope, allowance: Allowance) -> Result<(), ApiError> {
    match allowance {
        Allowance::Granted => Ok(()),
        Allowance::Exhausted(wait) => {
            metrics::counter!("gallery_rate_limited_total", "scope" => scope.label()).increment(1);
            Err(ApiError::RateLimited(wait))
        }
    }
}

impl RateLimits {
    #[must_use]
    pub fn new(settings: RateLimitSettings, counter: Arc<dyn RateCounter>) -> Self {
        Self { inner: settings.enabled.then_some(Limits { settings, counter }) }
    }

    /// Counts one sign-up, login or refresh attempt from the request's client.
    pub(crate) async fn auth(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.take(Scope::Auth, |s| s.auth_per_minute, req).await
    }

    /// Counts one share-link fetch from the request's client.
    pub(crate) async fn link(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.take(Scope::Links, |s| s.links_per_minute, req).await
    }

    async fn take(
        &self,
        scope: Scope,
        per_minute: impl FnOnce(&RateLimitSettings) -> u32,
        req: &HttpRequest,
    ) -> Result<(), ApiError> {
        let Some(limits) = &self.inner else { return Ok(()) };
        let (Some(n), Some(ip)) = (NonZeroU32::new(per_minute(&limits.settings)), client(req)) else { return Ok(()) };
        let key = format!("{}:{ip}", scope.label());
        refused(scope, limits.counter.take(&key, n).await.map_err(DomainError::from)?)
    }

    /// A login attempt for `username` (any case) from the request's client: refused while
    /// that pair has used up its failures for the minute. Tell the attempt how it went.
    pub(crate) async fn login(&self, req: &HttpRequest, username: &str) -> Result<LoginAttempt, ApiError> {
        let Some(limits) = &self.inner else { return Ok(LoginAttempt { counted: None }) };
        let (Some(n), Some(ip)) = (NonZeroU32::new(limits.settings.login_per_username_per_minute), client(req)) else {
            return Ok(LoginAttempt { counted: None });
        };
        // Hashed: whatever a client sends as a username, the key stays short.
        let name = Sha256::digest(username.to_lowercase().as_bytes());
        let key = format!("{}:{ip}:{}", Scope::Login.label(), hex(&name[..16]));
        refused(Scope::Login, limits.counter.peek(&key, n).await.map_err(DomainError::from)?)?;
        Ok(LoginAttempt { counted: Some((limits.counter.clone(), key, n)) })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One login attempt, to be told whether it failed.
pub(crate) struct LoginAttempt {
    counted: Option<(Arc<dyn RateCounter>, String, NonZeroU32)>,
}

impl std::fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAttempt").field("counted", &self.counted.is_some()).finish()
    }
}

impl LoginAttempt {
    /// Wrong credentials: counts against the username and address.
    pub(crate) async fn failed(self) {
        if let Some((counter, key, n)) = self.counted {
            if let Err(e) = counter.take(&key, n).await {
                tracing::warn!(error = %e, "could not count a failed login");
            }
        }
    }

    /// The right password: the pair starts afresh.
    pub(crate) async fn succeeded(self) {
        if let Some((counter, key, _)) = self.counted {
            if let Err(e) = counter.forget(&key).await {
                tracing::warn!(error = %e, "could not reset a login's failures");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use gallery_domain::ports::MockRateCounter;

    use super::*;

    fn settings(enabled: bool) -> RateLimitSettings {
        RateLimitSettings { enabled, auth_per_minute: 5, login_per_username_per_minute: 2, links_per_minute: 0 }
    }

    fn from(ip: &str) -> HttpRequest {
        actix_web::test::TestRequest::default().peer_addr(format!("{ip}:9").parse().unwrap()).to_http_request()
    }

    #[tokio::test]
    async fn a_spent_allowance_is_a_429_with_its_wait() {
        let mut counter = MockRateCounter::new();
        counter
            .expect_take()
            .withf(|key, n| key == "auth:10.0.0.66" && n.get() == 5)
            .returning(|_, _| Ok(Allowance::Exhausted(Duration::from_secs(12))));
        let limits = RateLimits::new(settings(true), Arc::new(counter));
        match limits.auth(&from("10.0.0.66")).await {
            Err(ApiError::RateLimited(wait)) => assert_eq!(wait, Duration::from_secs(12)),
            other => panic!("expected a rate limit, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn failed_logins_count_per_username_in_any_case_and_address() {
        let keys = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut counter = MockRateCounter::new();
        counter.expect_peek().returning(|_, _| Ok(Allowance::Granted));
        let k = keys.clone();
        counter.expect_take().returning(move |key, _| {
            k.lock().unwrap().push(key.to_owned());
            Ok(Allowance::Granted)
        });
        let limits = RateLimits::new(settings(true), Arc::new(counter));
        limits.login(&from("10.0.0.66"), "Alice").await.unwrap().failed().await;
        limits.login(&from("10.0.0.66"), "ALICE").await.unwrap().failed().await;
        limits.login(&from("192.168.1.2"), "alice").await.unwrap().failed().await;
        limits.login(&from("10.0.0.66"), "bob").await.unwrap().failed().await;
        let keys = keys.lock().unwrap();
        assert_eq!(keys[0], keys[1], "one count for a name in any case");
        assert_ne!(keys[0], keys[2], "the owner elsewhere is not locked out");
        assert_ne!(keys[0], keys[3], "another name has its own count");
        assert!(keys.iter().all(|k| k.len() < 80), "{keys:?}");
    }

    #[tokio::test]
    async fn a_locked_pair_is_refused_before_the_password_is_checked_and_a_success_resets_it() {
        let mut counter = MockRateCounter::new();
        counter.expect_peek().times(1).returning(|_, _| Ok(Allowance::Exhausted(Duration::from_secs(30))));
        let limits = RateLimits::new(settings(true), Arc::new(counter));
        assert!(matches!(limits.login(&from("10.0.0.66"), "alice").await, Err(ApiError::RateLimited(_))));

        let mut counter = MockRateCounter::new();
        counter.expect_peek().returning(|_, _| Ok(Allowance::Granted));
        counter.expect_forget().times(1).returning(|_| Ok(()));
        let limits = RateLimits::new(settings(true), Arc::new(counter));
        limits.login(&from("10.0.0.66"), "alice").await.unwrap().succeeded().await;
    }

    #[tokio::test]
    async fn disabled_limits_never_count() {
        // A counter with no expectations: any call would fail the test.
        let limits = RateLimits::new(settings(false), Arc::new(MockRateCounter::new()));
        for _ in 0..100 {
            limits.auth(&from("127.0.0.1")).await.unwrap();
            limits.login(&from("127.0.0.1"), "alice").await.unwrap().failed().await;
        }
    }
}
