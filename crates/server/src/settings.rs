//! Typed configuration: `config/default.toml` < `config/$GALLERY_ENV.toml` < environment
//! `GALLERY__SECTION__KEY` < `DATABASE_URL`. Checked once at startup; a bad value names its key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use config::{Config, Environment, File};
use gallery_http::RateLimitSettings;
use gallery_storage::{Backend, S3Settings};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// The development default, refused in production.
pub const DEFAULT_JWT_SECRET: &str = "dev-only-secret-change-me-in-production";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub environment: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub auth: AuthSettings,
    pub images: ImageSettings,
    pub import: ImportSettings,
    pub rate_limit: RateLimitSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub telemetry: TelemetrySettings,
}

/// OpenTelemetry traces over OTLP/HTTP; nothing is exported without an endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// The collector's base URL (`http://127.0.0.1:4318`); spans go to `<it>/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// `service.name` on every span.
    pub service_name: String,
    /// Finished spans waiting for the exporter, at most; past that they are dropped (and
    /// counted), so a collector that is slow or away never holds up a request.
    pub max_queued_spans: usize,
    /// The share of requests traced that arrive without a `traceparent` (0..=1); a request
    /// whose caller's trace is sampled is always traced.
    pub sample_ratio: f64,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self { otlp_endpoint: None, service_name: "gallery".into(), max_queued_spans: 4096, sample_ratio: 1.0 }
    }
}

impl TelemetrySettings {
    /// The endpoint, unless unset or empty.
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        self.otlp_endpoint.as_deref().map(str::trim).filter(|e| !e.is_empty())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsSettings {
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>`.
    pub token: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    pub shutdown_timeout_seconds: u64,
    /// The public base URL of absolute links (`https://gallery.example.com`); required in
    /// production. Unset, links use the request's `Host`.
    pub public_url: Option<String>,
    /// A request not answered within this long gets 503 `unavailable` (uploads included).
    pub request_timeout_seconds: u64,
    /// A client must send its request head within this long.
    pub header_timeout_seconds: u64,
    /// Uploads and imports running at once; more wait their turn (0: one per core, ×2).
    pub max_concurrent_uploads: usize,
    /// Uploads and imports one user may have in progress at once; one more is 429.
    pub max_uploads_per_user: u32,
    /// A request body that delivers nothing for this long is answered 408.
    pub body_idle_timeout_seconds: u64,
    /// The least a request body must deliver per second, on average over each
    /// `body_idle_timeout_seconds`; 0 checks only that every window brings something.
    pub body_min_bytes_per_second: u64,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client; in the
    /// environment, comma-separated. Empty: the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: usize,
    pub connect_timeout_seconds: u64,
    pub acquire_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    /// `fs` (files under `root`) or `s3` (objects in the `s3` bucket).
    #[serde(default)]
    pub backend: Backend,
    pub root: PathBuf,
    /// The bucket, with `backend = "s3"`.
    #[serde(default)]
    pub s3: S3Settings,
    /// How often files recorded for removal are swept; also how long an upload's file may
    /// wait for its image row.
    pub sweep_interval_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub bcrypt_cost: u32,
    pub access_ttl_seconds: i64,
    pub refresh_ttl_seconds: i64,
    pub issuer: String,
    pub audience: String,
    pub signup_default_role: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ImageSettings {
    pub max_pixels: u64,
    /// The largest upload whatever the plan.
    pub max_upload_bytes: u64,
    /// Decodes running at once; 0 means one per core.
    pub max_concurrent_decodes: usize,
    /// Bytes of decoded pixels that checks and renders in flight share; a decode that
    /// would pass it waits.
    pub decode_memory_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ImportSettings {
    pub allow_private_networks: bool,
    /// The whole fetch of an import (connect, headers, body); below the request timeout.
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Settings {
    /// Loads the layers from `config_dir` for `GALLERY_ENV` (default `development`).
    ///
    /// # Errors
    /// A missing `default.toml`, a value of the wrong type, or a rule broken (named).
    pub fn load(config_dir: &Path) -> anyhow::Result<Self> {
        let environment = std::env::var("GALLERY_ENV").unwrap_or_else(|_| "development".into());
        Self::load_for(config_dir, &environment)
    }

    /// Like [`Settings::load`] for a named environment.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_for(config_dir: &Path, environment: &str) -> anyhow::Result<Self> {
        Self::load_with_env(config_dir, environment, std::env::vars().collect())
    }

    /// Like [`Settings::load_for`] with the environment variables given, not the process's.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_with_env(config_dir: &Path, environment: &str, env: HashMap<String, String>) -> anyhow::Result<Self> {
        let default = config_dir.join("default.toml");
        if !default.is_file() {
            bail!(
                "configuration file {} not found (set GALLERY_CONFIG_DIR to the folder holding it)",
                default.display()
            );
        }
        let mut builder = Config::builder()
            .add_source(File::from(default))
            .add_source(File::from(config_dir.join(format!("{environment}.toml"))).required(false))
            .add_source(
                Environment::with_prefix("GALLERY")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies")
                    .source(Some(env.clone())),
            )
            .set_override("environment", environment)?;
        if let Some(url) = env.get("DATABASE_URL") {
            builder = builder.set_override("database.url", url.as_str())?;
        }
        let mut settings: Self = builder.build()?.try_deserialize().context("reading the configuration")?;
        // What `storage.s3` leaves empty comes from the standard AWS variables.
        settings.storage.s3.environment =
            env.iter().filter(|(k, _)| k.starts_with("AWS_")).map(|(k, v)| (k.clone(), v.clone())).collect();
        settings.check()?;
        Ok(settings)
    }

    #[must_use]
    pub fn is_production(&self) -> bool {
        self.environment == "production"
    }

    fn check(&self) -> anyhow::Result<()> {
        let secret = self.auth.jwt_secret.expose_secret();
        let distinct = secret.chars().collect::<std::collections::HashSet<_>>().len();
        if self.is_production() && (secret == DEFAULT_JWT_SECRET || secret.len() < 32 || distinct < 8) {
            bail!(
                "auth.jwt_secret: production needs a secret of at least 32 bytes with at least 8 distinct characters, not the default (set GALLERY__AUTH__JWT_SECRET, e.g. to `openssl rand -hex 32`)"
            );
        }
        match self.server.public_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => check_public_url(url)?,
            None if self.is_production() => bail!(
                "server.public_url: production needs the public base URL of absolute links, e.g. https://gallery.example.com (set GALLERY__SERVER__PUBLIC_URL)"
            ),
            None => {}
        }
        if secret.is_empty() {
            bail!("auth.jwt_secret must not be empty");
        }
        if !(4..=31).contains(&self.auth.bcrypt_cost) {
            bail!("auth.bcrypt_cost must be between 4 and 31");
        }
        if self.auth.access_ttl_seconds <= 0 || self.auth.refresh_ttl_seconds <= 0 {
            bail!("auth.access_ttl_seconds and auth.refresh_ttl_seconds must be positive");
        }
        if self.import.timeout_seconds == 0 || self.import.timeout_seconds >= self.server.request_timeout_seconds {
            bail!("import.timeout_seconds must be at least 1 and below server.request_timeout_seconds");
        }
        if !(1..=86_400 * 7).contains(&self.storage.sweep_interval_seconds) {
            bail!("storage.sweep_interval_seconds must be between 1 and 604800");
        }
        if self.storage.backend == Backend::S3 && self.storage.s3.bucket.is_empty() {
            bail!("storage.s3.bucket is required with storage.backend = \"s3\" (set GALLERY__STORAGE__S3__BUCKET)");
        }
        if self.server.max_uploads_per_user == 0 {
            bail!("server.max_uploads_per_user must be at least 1");
        }
        if self.server.body_idle_timeout_seconds == 0 {
            bail!("server.body_idle_timeout_seconds must be at least 1");
        }
        if self.database.max_connections == 0 {
            bail!("database.max_connections must be at least 1");
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            bail!("log.format must be `pretty` or `json`");
        }
        Ok(())
    }

    /// The public base URL, trimmed, when one is set.
    #[must_use]
    pub fn public_url(&self) -> Option<&str> {
        self.server.public_url.as_deref().filter(|u| !u.is_empty())
    }

    /// The folder holding the configuration: `GALLERY_CONFIG_DIR`, else `./config`.
    #[must_use]
    pub fn config_dir() -> PathBuf {
        std::env::var_os("GALLERY_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from)
    }
}

/// A public base URL: `http` or `https`, a host, no query, fragment or credentials.
fn check_public_url(raw: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(raw).map_err(|e| anyhow::anyhow!("server.public_url: {e}"))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        bail!("server.public_url must be an http(s) base URL like https://gallery.example.com, got `{raw}`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_s3_backend_needs_a_bucket_and_hears_the_aws_variables() {
        let s3 = [("GALLERY__STORAGE__BACKEND", "s3")];
        let refused = Settings::load_with_env(&dir(), "development", env(&s3)).unwrap_err();
        assert!(format!("{refused:#}").contains("storage.s3.bucket"), "{refused:#}");
        let s = Settings::load_with_env(
            &dir(),
            "development",
            env(&[
                s3[0],
                ("GALLERY__STORAGE__S3__BUCKET", "photos"),
                ("GALLERY__STORAGE__S3__FORCE_PATH_STYLE", "true"),
                ("AWS_REGION", "eu-west-3"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(s.storage.backend, gallery_storage::Backend::S3);
        assert_eq!(s.storage.s3.bucket, "photos");
        assert!(s.storage.s3.force_path_style);
        assert_eq!(s.storage.s3.environment, vec![("AWS_REGION".to_owned(), "eu-west-3".to_owned())]);
    }

    #[test]
    fn layers_apply_in_order() {
        let s = Settings::load_with_env(&dir(), "development", env(&[])).unwrap();
        assert_eq!((s.server.port, s.auth.bcrypt_cost, s.environment.as_str()), (8080, 10, "development"));
        let t = Settings::load_with_env(&dir(), "test", env(&[])).unwrap();
        assert_eq!((t.server.port, t.auth.bcrypt_cost), (0, 4));
    }

    #[test]
    fn double_underscore_environment_variables_land() {
        let s = Settings::load_with_env(
            &dir(),
            "development",
            env(&[
                ("GALLERY__SERVER__PORT", "9191"),
                ("GALLERY__RATE_LIMIT__ENABLED", "false"),
                ("GALLERY__IMAGES__MAX_PIXELS", "1000"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9191);
        assert!(!s.rate_limit.enabled);
        assert_eq!(s.images.max_pixels, 1000);
    }

    #[test]
    fn trusted_proxies_come_comma_separated_from_the_environment() {
        let s = Settings::load_with_env(&dir(), "development", env(&[])).unwrap();
        assert!(s.server.trusted_proxies.is_empty(), "nobody is trusted unless named");
        let named = [("GALLERY__SERVER__TRUSTED_PROXIES", "10.0.0.0/8,192.168.1.5")];
        let s = Settings::load_with_env(&dir(), "development", env(&named)).unwrap();
        assert_eq!(s.server.trusted_proxies, ["10.0.0.0/8", "192.168.1.5"]);
    }

    #[test]
    fn a_single_underscore_prefix_is_not_ours() {
        let s = Settings::load_with_env(&dir(), "development", env(&[("GALLERY_SERVER__PORT", "9191")])).unwrap();
        assert_eq!(s.server.port, 8080);
    }

    #[test]
    fn database_url_overrides_the_file() {
        let s = Settings::load_with_env(&dir(), "development", env(&[("DATABASE_URL", "postgres://x@h/db")])).unwrap();
        assert_eq!(s.database.url.expose_secret(), "postgres://x@h/db");
    }

    const SECRET: &str = "9f1c2b7e4a6d8035c1e2f3a4b5c6d7e8";
    const PUBLIC: &str = "https://gallery.example.com";

    #[test]
    fn production_refuses_the_default_a_short_or_a_monotonous_secret() {
        let err =
            Settings::load_with_env(&dir(), "production", env(&[("GALLERY__SERVER__PUBLIC_URL", PUBLIC)])).unwrap_err();
        assert!(format!("{err:#}").contains("auth.jwt_secret"), "{err:#}");
        for bad in ["too-short", &"a".repeat(32), &"abcdefg".repeat(6)] {
            let vars = env(&[("GALLERY__AUTH__JWT_SECRET", bad), ("GALLERY__SERVER__PUBLIC_URL", PUBLIC)]);
            let err = Settings::load_with_env(&dir(), "production", vars).unwrap_err();
            assert!(format!("{err:#}").contains("auth.jwt_secret"), "{bad}: {err:#}");
        }
        let vars = env(&[("GALLERY__AUTH__JWT_SECRET", SECRET), ("GALLERY__SERVER__PUBLIC_URL", PUBLIC)]);
        let ok = Settings::load_with_env(&dir(), "production", vars).unwrap();
        assert_eq!((ok.log.format.as_str(), ok.public_url()), ("json", Some(PUBLIC)));
    }

    #[test]
    fn production_needs_a_public_url_and_any_public_url_must_be_a_base_url() {
        let err =
            Settings::load_with_env(&dir(), "production", env(&[("GALLERY__AUTH__JWT_SECRET", SECRET)])).unwrap_err();
        assert!(format!("{err:#}").contains("server.public_url"), "{err:#}");
        for bad in ["gallery.example.com", "ftp://x.example", "https://x.example/?a=1", "https://u:p@x.example"] {
            let err = Settings::load_with_env(&dir(), "development", env(&[("GALLERY__SERVER__PUBLIC_URL", bad)]))
                .unwrap_err();
            assert!(format!("{err:#}").contains("server.public_url"), "{bad}: {err:#}");
        }
        let dev = Settings::load_with_env(&dir(), "development", env(&[])).unwrap();
        assert_eq!(dev.public_url(), None);
    }

    #[test]
    fn a_wrongly_typed_value_names_its_key() {
        let err =
            Settings::load_with_env(&dir(), "development", env(&[("GALLERY__SERVER__PORT", "eighty")])).unwrap_err();
        assert!(format!("{err:#}").contains("port"), "{err:#}");
    }
}
