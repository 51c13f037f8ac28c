//! The `storage.s3` settings, and the `object_store` client they describe.

use std::time::Duration;

use gallery_domain::StorageError;
use object_store::ClientOptions;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use secrecy::{ExposeSecret as _, SecretString};

/// The `storage.s3` config table. Empty values fall back to the standard `AWS_*`
/// variables ([`S3Settings::environment`]), and then to `object_store`'s defaults.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct S3Settings {
    pub bucket: String,
    /// Empty for AWS; e.g. `http://127.0.0.1:9000` for a self-hosted store.
    pub endpoint: String,
    /// `us-east-1` when unset here and in `AWS_REGION`.
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Option<SecretString>,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`: what most
    /// self-hosted stores want.
    pub force_path_style: bool,
    /// Prepended to every key, as `prefix/originals/...`.
    pub prefix: String,
    /// The process's `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_SESSION_TOKEN`...), read by the caller.
    #[serde(skip)]
    pub environment: Vec<(String, String)>,
}

/// `endpoint` with the bucket as the first label of its host, for virtual-hosted-style
/// requests to a store that is not AWS.
fn virtual_hosted(endpoint: &str, bucket: &str) -> Result<String, StorageError> {
    let mut url = url::Url::parse(endpoint)
        .map_err(|e| StorageError::Unavailable(format!("storage.s3.endpoint {endpoint:?}: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| StorageError::Unavailable(format!("storage.s3.endpoint {endpoint:?} has no host")))?;
    let host = format!("{bucket}.{host}");
    url.set_host(Some(&host)).map_err(|e| StorageError::Unavailable(format!("storage.s3.endpoint: {e}")))?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The client `settings` describe: each setting, else its `AWS_*` variable, else
/// `object_store`'s default.
pub(super) fn builder(settings: &S3Settings) -> Result<AmazonS3Builder, StorageError> {
    if settings.bucket.is_empty() {
        return Err(StorageError::Unavailable("storage.s3.bucket is required with the s3 backend".into()));
    }
    // Client options first: setting them replaces what `with_allow_http` set.
    let mut builder = AmazonS3Builder::new().with_client_options(
        ClientOptions::new().with_connect_timeout(Duration::from_secs(2)).with_timeout(Duration::from_secs(60)),
    );
    let mut endpoint = None;
    for (key, value) in &settings.environment {
        match key.to_ascii_lowercase().parse() {
            Ok(AmazonS3ConfigKey::Endpoint) => endpoint = Some(value.clone()),
            Ok(config) => builder = builder.with_config(config, value),
            Err(_) => {}
        }
    }
    if !settings.endpoint.is_empty() {
        endpoint = Some(settings.endpoint.clone());
    }
    if let Some(endpoint) = endpoint.filter(|e| !e.is_empty()) {
        let endpoint = if settings.force_path_style { endpoint } else { virtual_hosted(&endpoint, &settings.bucket)? };
        builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
    }
    if !settings.region.is_empty() {
        builder = builder.with_region(&settings.region);
    }
    if !settings.access_key_id.is_empty() {
        builder = builder.with_access_key_id(&settings.access_key_id);
    }
    if let Some(secret) = settings.secret_access_key.as_ref().filter(|s| !s.expose_secret().is_empty()) {
        builder = builder.with_secret_access_key(secret.expose_secret());
    }
    Ok(builder.with_bucket_name(&settings.bucket).with_virtual_hosted_style_request(!settings.force_path_style))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn value(builder: &AmazonS3Builder, key: AmazonS3ConfigKey) -> Option<String> {
        builder.get_config_value(&key)
    }

    #[test]
    fn unset_settings_fall_back_to_the_aws_variables_and_set_ones_win() {
        let aws = env(&[
            ("AWS_ACCESS_KEY_ID", "from-env"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret"),
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
        ]);
        let fallback = S3Settings {
            bucket: "b".into(),
            force_path_style: true,
            environment: aws.clone(),
            ..S3Settings::default()
        };
        let b = builder(&fallback).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(), Some("from-env"));
        assert_eq!(value(&b, AmazonS3ConfigKey::SecretAccessKey).as_deref(), Some("env-secret"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Region).as_deref(), Some("eu-west-3"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("http://127.0.0.1:9000"));

        let set = S3Settings {
            bucket: "b".into(),
            endpoint: "https://s3.example.net".into(),
            region: "auto".into(),
            access_key_id: "from-config".into(),
            secret_access_key: Some("config-secret".into()),
            force_path_style: true,
            environment: aws,
            ..S3Settings::default()
        };
        let b = builder(&set).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::AccessKeyId).as_deref(), Some("from-config"));
        assert_eq!(value(&b, AmazonS3ConfigKey::SecretAccessKey).as_deref(), Some("config-secret"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Region).as_deref(), Some("auto"));
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("https://s3.example.net"));
    }

    #[test]
    fn virtual_hosted_requests_put_the_bucket_in_the_endpoints_host() {
        let settings = S3Settings {
            bucket: "photos".into(),
            endpoint: "https://objects.example.net:8443".into(),
            ..S3Settings::default()
        };
        let b = builder(&settings).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("https://photos.objects.example.net:8443"));
        assert_eq!(value(&b, AmazonS3ConfigKey::VirtualHostedStyleRequest).as_deref(), Some("true"));
        let b = builder(&S3Settings { force_path_style: true, ..settings }).unwrap();
        assert_eq!(value(&b, AmazonS3ConfigKey::Endpoint).as_deref(), Some("https://objects.example.net:8443"));
    }

    #[test]
    fn no_bucket_is_refused() {
        assert!(matches!(builder(&S3Settings::default()), Err(StorageError::Unavailable(_))));
    }
}
