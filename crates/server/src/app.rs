//! Wiring: adapters into ports, ports into use-cases, use-cases into routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer};
use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gallery_auth::{BcryptHasher, JwtConfig, JwtTokens};
use gallery_domain::RoleName;
use gallery_domain::auth::Auth;
use gallery_domain::ports::Clock;
use gallery_domain::roles::Roles;
use gallery_domain::users::Users;
use gallery_http::{AppState, ReadinessProbe, echo_request_id, problem_safety_net};
use gallery_postgres::{Db, PgRoleRepo, PgSessionRepo, PgUserRepo, PoolSettings};
use secrecy::ExposeSecret as _;
use tracing_actix_web::TracingLogger;

use crate::Settings;

/// The wall clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

struct DatabaseProbe(Db);

#[async_trait]
impl ReadinessProbe for DatabaseProbe {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// The use-cases, built over the PostgreSQL adapters.
#[derive(Debug, Clone)]
pub struct Services {
    pub db: Db,
    pub auth: Auth,
    pub users: Users,
    pub roles: Roles,
}

impl Services {
    /// # Errors
    /// A bad pool size, bcrypt cost or role name in the settings.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let pool = PoolSettings {
            max_size: settings.database.max_connections,
            wait_timeout: Duration::from_secs(settings.database.acquire_timeout_seconds),
            connect_timeout: Duration::from_secs(settings.database.connect_timeout_seconds),
        };
        let db = Db::new(settings.database.url.expose_secret(), &pool).map_err(anyhow::Error::msg)?;
        let users = Arc::new(PgUserRepo::new(db.clone()));
        let roles = Arc::new(PgRoleRepo::new(db.clone()));
        let sessions = Arc::new(PgSessionRepo::new(db.clone()));
        let hasher = Arc::new(
            BcryptHasher::new(settings.auth.bcrypt_cost).map_err(anyhow::Error::msg).context("auth.bcrypt_cost")?,
        );
        let tokens = Arc::new(JwtTokens::new(JwtConfig {
            secret: settings.auth.jwt_secret.expose_secret().as_bytes().to_vec(),
            issuer: settings.auth.issuer.clone(),
            audience: settings.auth.audience.clone(),
            access_ttl: chrono::Duration::seconds(settings.auth.access_ttl_seconds),
            refresh_ttl: chrono::Duration::seconds(settings.auth.refresh_ttl_seconds),
        }));
        let signup_role = RoleName::parse(&settings.auth.signup_default_role)
            .map_err(|e| anyhow::anyhow!("auth.signup_default_role: {e}"))?;
        let auth = Auth::new(
            users.clone(),
            roles.clone(),
            sessions,
            hasher.clone(),
            tokens,
            Arc::new(SystemClock),
            signup_role,
        );
        Ok(Self { users: Users::new(users, roles.clone(), hasher), roles: Roles::new(roles), auth, db })
    }
}

/// The HTTP server, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one) and builds the app.
    /// Connects to nothing yet: the database may come up later.
    ///
    /// # Errors
    /// A bad setting or a port that cannot be bound.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let services = Services::build(settings)?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| format!("binding {}:{}", settings.server.host, settings.server.port))?;
        let port = listener.local_addr()?.port();
        let state = AppState {
            auth: services.auth,
            users: services.users,
            roles: services.roles,
            readiness: vec![("database", Arc::new(DatabaseProbe(services.db)) as Arc<dyn ReadinessProbe>)],
        };
        let mut server = HttpServer::new(move || {
            App::new()
                .configure(gallery_http::configure(state.clone()))
                .wrap(ErrorHandlers::new().default_handler(problem_safety_net))
                .wrap(from_fn(echo_request_id))
                .wrap(TracingLogger::default())
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_seconds);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Self { port, server: server.run() })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
