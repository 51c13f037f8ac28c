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
        self.check_address(req, Scope::Auth)
    }

    /// Counts one share-link fetch from the request's client.
    pub(crate) fn link(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.check_address(req, Scope::Links)
    }

    /// Counts one login attempt for `username`, whatever its case.
    pub(crate) fn login(&self, username: &str) -> Result<(), ApiError> {
        let Some(inner) = &self.inner else { return Ok(()) };
        let Some(limiter) = &inner.login else { return Ok(()) };
        inner.tick();
        verdict(limiter.check_key(&username.to_lowercase()), Scope::Login)
    }

    fn check_address(&self, req: &HttpRequest, scope: Scope) -> Result<(), ApiError> {
        let Some(inner) = &self.inner else { return Ok(()) };
        let limiter = match scope {
            Scope::Auth => &inner.auth,
            Scope::Links => &inner.links,
            Scope::Login => &None,
        };
        let (Some(limiter), Some(peer)) = (limiter, req.peer_addr()) else { return Ok(()) };
        inner.tick();
        verdict(limiter.check_key(&peer.ip()), scope)
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

fn verdict(
    outcome: Result<(), governor::NotUntil<governor::clock::QuantaInstant>>,
    scope: Scope,
) -> Result<(), ApiError> {
    outcome.map_err(|not_until| {
        metrics::counter!("gallery_rate_limited_total", "scope" => scope.label()).increment(1);
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::RateLimited(wait.max(Duration::from_secs(1)))
    })
}
