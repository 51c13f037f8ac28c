//! Fetching images from URLs for import.

use async_trait::async_trait;

use crate::WebUrl;

/// Why a URL could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not a URL we fetch: a redirect to another scheme, or an address that is not global.
    #[error("{0}")]
    Refused(String),
    /// The fetch failed: no answer, an error status, too many redirects, past its deadline.
    #[error("{0}")]
    Failed(String),
    /// The answer says (by its `Content-Type`) that it is not an image.
    #[error("not an image: {0}")]
    NotAnImage(String),
    /// The resource is larger than the limit.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
}

/// The body of a fetched URL.
pub struct Fetched {
    pub stream: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, FetchError>>,
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched").finish_non_exhaustive()
    }
}

/// Fetches images from URLs for import.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UrlFetcher: Send + Sync {
    /// Checks `url` with a HEAD request, then GETs it, following at most a few redirects,
    /// each hop's scheme and every resolved address checked again. The whole fetch —
    /// connecting, every answer's head and the body's last byte — has one deadline: past
    /// it the stream fails.
    ///
    /// # Errors
    /// `Refused` for a scheme or address we do not reach; `TooLarge` past `limit` when the
    /// size is announced; `NotAnImage` when the answer's type says so; `Failed` otherwise.
    async fn fetch(&self, url: &WebUrl, limit: u64) -> Result<Fetched, FetchError>;
}
