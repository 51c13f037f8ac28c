//! Share links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{ImageId, RepoError, TokenHash, UserId};
use crate::{LinkId, LinkTarget, NewLink, ShareLink};

/// Share links.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LinkRepo: Send + Sync {
    /// # Errors
    /// Store failures only.
    async fn create(&self, link: &NewLink) -> Result<ShareLink, RepoError>;

    /// The link whose token hashes to `hash`, with its image and its creator, in one
    /// round trip (this is the hot path of `GET /l/{token}`). The lookup is an index
    /// equality on the SHA-256, so its timing tells nothing about any stored token.
    ///
    /// # Errors
    /// Store failures only.
    async fn by_token(&self, hash: &TokenHash) -> Result<Option<LinkTarget>, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn by_id(&self, id: LinkId) -> Result<Option<ShareLink>, RepoError>;

    /// `creator`'s links to `image` neither revoked nor expired at `now`, newest first.
    ///
    /// # Errors
    /// Store failures only.
    async fn live(&self, image: ImageId, creator: UserId, now: DateTime<Utc>) -> Result<Vec<ShareLink>, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn revoke(&self, id: LinkId) -> Result<(), RepoError>;
}
