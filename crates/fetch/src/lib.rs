//! [`HttpFetcher`]: fetches a user's URL for import without letting it reach what it should
//! not. Only `http` and `https`; every hop (at most [`MAX_REDIRECTS`] redirects, followed by
//! hand) is resolved once, every resolved address must be global unless private networks
//! are allowed, and the connection goes to the address that was checked, so a second DNS
//! answer cannot swap in another (DNS rebinding). Proxies from the environment are ignored
//! for the same reason.

mod net;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt as _;
use gallery_domain::WebUrl;
use gallery_domain::ports::{FetchError, Fetched, UrlFetcher};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, Response, StatusCode, Url, redirect};

use crate::net::is_global;

/// Redirects followed per fetch.
pub const MAX_REDIRECTS: usize = 3;

/// Timeouts and the private-network switch.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub allow_private_networks: bool,
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer.
    pub read_timeout: Duration,
    /// The whole fetch, from the first lookup to the body's last byte
    /// (`import.timeout_seconds`): a server that drips its answer cannot hold it longer.
    pub deadline: Duration,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(30),
        }
    }
}

/// The `UrlFetcher` adapter.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    settings: FetchSettings,
}

impl HttpFetcher {
    #[must_use]
    pub fn new(settings: FetchSettings) -> Self {
        Self { settings }
    }

    /// Resolves `url`'s host and checks every address; returns the one to connect to.
    async fn checked_address(&self, url: &Url) -> Result<SocketAddr, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Refused(format!(
                "the scheme `{}` is not fetched; use http or https",
                url.scheme()
            )));
        }
        let port = url.port_or_known_default().ok_or_else(|| FetchError::Refused("the URL has no port".into()))?;
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| FetchError::Failed(format!("the host `{name}` does not resolve")))?
                .collect(),
            None => return Err(FetchError::Refused("the URL has no host".into())),
        };
        if addrs.is_empty() {
            return Err(FetchError::Failed("the host resolves to no address".into()));
        }
        if !self.settings.allow_private_networks && addrs.iter().any(|a| !is_global(a.ip())) {
            return Err(FetchError::Refused("the URL resolves to a private or reserved address".into()));
        }
        Ok(addrs[0])
    }

    /// A client that connects `url`'s host to `addr` only.
    fn client_for(&self, url: &Url, addr: SocketAddr) -> Result<reqwest::Client, FetchError> {
        let mut builder = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.settings.connect_timeout)
            .read_timeout(self.settings.read_timeout);
        if let Some(url::Host::Domain(name)) = url.host() {
            builder = builder.resolve(name, addr);
        }
        builder.build().map_err(|e| FetchError::Failed(format!("cannot build an HTTP client: {e}")))
    }
}

/// Where a redirect points, resolved against the URL that answered it.
fn redirect_target(url: &Url, res: &Response) -> Result<Url, FetchError> {
    let location = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| FetchError::Failed("a redirect without a Location".into()))?;
    url.join(location).map_err(|_| FetchError::Failed("a redirect to an invalid URL".into()))
}

fn announced_len(res: &Response) -> Option<u64> {
    res.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

fn failed(what: &str) -> impl Fn(reqwest::Error) -> FetchError + '_ {
    move |e| {
        let why = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "failed"
        };
        FetchError::Failed(format!("{what} {why}"))
    }
}

fn past_deadline() -> FetchError {
    FetchError::Failed("the fetch took longer than the import deadline".into())
}

#[async_trait]
impl UrlFetcher for HttpFetcher {
    async fn fetch(&self, url: &WebUrl, limit: u64) -> Result<Fetched, FetchError> {
        let deadline = tokio::time::Instant::now() + self.settings.deadline;
        let fetched =
            tokio::time::timeout_at(deadline, self.answer(url, limit)).await.map_err(|_| past_deadline())??;
        // The body, too, ends by the deadline: each read waits no later than it.
        let body = futures_util::stream::unfold(Some(fetched), move |state| async move {
            let mut res = state?;
            match tokio::time::timeout_at(deadline, res.chunk()).await {
                Ok(Ok(Some(chunk))) => Some((Ok(chunk), Some(res))),
                Ok(Ok(None)) => None,
                Ok(Err(e)) => Some((Err(failed("reading the image")(e)), None)),
                Err(_) => Some((Err(past_deadline()), None)),
            }
        });
        Ok(Fetched { stream: Box::pin(body.fuse()) })
    }
}

impl HttpFetcher {
    /// The answer to GET `url`, after the HEAD check and redirects, its head checked.
    async fn answer(&self, url: &WebUrl, limit: u64) -> Result<Response, FetchError> {
        let mut url = url.as_url().clone();
        let mut method = Method::HEAD;
        let mut redirects = 0;
        loop {
            let addr = self.checked_address(&url).await?;
            let client = self.client_for(&url, addr)?;
            let res = client.request(method.clone(), url.clone()).send().await.map_err(failed("the request"))?;
            if res.status().is_redirection() && res.status() != StatusCode::NOT_MODIFIED {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(FetchError::Failed(format!("more than {MAX_REDIRECTS} redirects")));
                }
                url = redirect_target(&url, &res)?;
                continue;
            }
            if method == Method::HEAD {
                // The HEAD check: an image of an acceptable size. Servers that do not
                // answer HEAD are given the GET.
                if !matches!(res.status(), StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED) {
                    check_answer(&res, limit)?;
                }
                method = Method::GET;
                continue;
            }
            check_answer(&res, limit)?;
            return Ok(res);
        }
    }
}

fn check_answer(res: &Response, limit: u64) -> Result<(), FetchError> {
    if !res.status().is_success() {
        return Err(FetchError::Failed(format!("the server answered {}", res.status().as_u16())));
    }
    let content_type = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.trim_start().to_ascii_lowercase().starts_with("image/") {
        return Err(FetchError::NotAnImage(format!("the answer's type is `{}`", content_type.escape_debug())));
    }
    if announced_len(res).is_some_and(|len| len > limit) {
        return Err(FetchError::TooLarge(limit));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
