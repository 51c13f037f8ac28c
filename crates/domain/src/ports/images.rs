//! Image records: images and their approvals, galleries, and files due for removal.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Inspected;
use crate::{
    After, Approval, BlobKey, Decision, GalleryId, Image, ImageFilter, ImageFormat, ImageId, ImagePatch, NewImage,
    PageRequest, Reason, RepoError, UserId, Visibility,
};
use crate::{Gallery, GalleryPatch, NewGallery};

/// One page of a listing, as the store read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// At most `per_page` images.
    pub items: Vec<Image>,
    /// Whether more images follow the last of `items`.
    pub more: bool,
    /// How many images the listing holds, or [`ImageFilter::SEARCH_COUNT_LIMIT`] when a
    /// `q` search has more (then `exact` is false).
    pub total: u64,
    pub exact: bool,
}

/// Images and their approval history.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ImageRepo: Send + Sync {
    /// Records an image, unless the uploader's stored bytes plus this one would pass
    /// `quota`: the check and the insert are atomic per uploader.
    ///
    /// # Errors
    /// `Conflict(Quota)` over the quota.
    async fn create(&self, image: &NewImage, quota: u64) -> Result<Image, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn by_id(&self, id: ImageId, visibility: Visibility) -> Result<Option<Image>, RepoError>;

    /// One page of the images `visibility` allows and `filter` selects, in its sort: the
    /// page `page` names, or the `per_page` images just after `after` (as fast however deep
    /// it is). The total is exact without `q`; with it, counting stops past
    /// [`ImageFilter::SEARCH_COUNT_LIMIT`].
    ///
    /// # Errors
    /// Store failures only.
    async fn list<'a>(
        &self,
        filter: &ImageFilter,
        visibility: Visibility,
        page: PageRequest,
        after: Option<&'a After>,
    ) -> Result<Listed, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn update(&self, id: ImageId, patch: &ImagePatch) -> Result<Option<Image>, RepoError>;

    /// Deletes the row; returns the key of its file, for the caller to remove.
    ///
    /// # Errors
    /// Store failures only.
    async fn delete(&self, id: ImageId) -> Result<Option<BlobKey>, RepoError>;

    /// Deletes every image; returns their keys.
    ///
    /// # Errors
    /// Store failures only.
    async fn purge(&self) -> Result<Vec<BlobKey>, RepoError>;

    /// Sets the status and appends the decision to the history, in one transaction.
    ///
    /// # Errors
    /// Store failures only.
    async fn decide(
        &self,
        id: ImageId,
        decision: Decision,
        reason: Option<Reason>,
        by: UserId,
    ) -> Result<Option<Image>, RepoError>;

    /// The decision history, oldest first.
    ///
    /// # Errors
    /// Store failures only.
    async fn approvals(&self, id: ImageId) -> Result<Vec<Approval>, RepoError>;

    /// The bytes `user` stores.
    ///
    /// # Errors
    /// Store failures only.
    async fn stored_bytes(&self, user: UserId) -> Result<u64, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn gallery_exists(&self, id: GalleryId) -> Result<bool, RepoError>;

    /// Up to `limit` images recorded before their size was read as shown and their shot
    /// read at all, by id: their key and format.
    ///
    /// # Errors
    /// Store failures only.
    async fn to_reinspect(&self, limit: u32) -> Result<Vec<Stale>, RepoError>;

    /// Records what reading the original again `found` (its size as shown and its shot), or
    /// only that it was tried (`None`: the original could not be read; the row keeps what it
    /// says). No-op for an image deleted meanwhile.
    ///
    /// # Errors
    /// Store failures only.
    async fn reinspected(&self, id: ImageId, found: Option<Inspected>) -> Result<(), RepoError>;

    /// The turn to read originals again, one server at a time; `None` while another has it.
    ///
    /// # Errors
    /// Store failures only.
    async fn reinspect_turn(&self) -> Result<Option<Box<dyn Turn>>, RepoError>;
}

/// An image whose original is to be read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub id: ImageId,
    pub key: BlobKey,
    pub format: ImageFormat,
}

/// Galleries.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait GalleryRepo: Send + Sync {
    /// # Errors
    /// Store failures only.
    async fn create(&self, gallery: &NewGallery, by: UserId) -> Result<Gallery, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn by_id(&self, id: GalleryId) -> Result<Option<Gallery>, RepoError>;

    /// One page of galleries, newest first, and their total.
    ///
    /// # Errors
    /// Store failures only.
    async fn list(&self, page: PageRequest) -> Result<(Vec<Gallery>, u64), RepoError>;

    /// # Errors
    /// Store failures only.
    async fn update(&self, id: GalleryId, patch: &GalleryPatch) -> Result<Option<Gallery>, RepoError>;

    /// Deletes the gallery; its images stay, in no gallery. `false` when there was none.
    ///
    /// # Errors
    /// Store failures only.
    async fn delete(&self, id: GalleryId) -> Result<bool, RepoError>;
}

/// Files to remove later, kept durably so that none is orphaned for good: the store
/// records the file of every image row it deletes (in the same transaction), an upload
/// records its file before putting it in place, and recording the image row takes that
/// record back. A sweep removes what is due; the store is never listed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RemovalRepo: Send + Sync {
    /// Records `key`'s files as removable from `due_at`, unless an image row claims the key
    /// by then, and pins the key until the pin is ended (or dropped, should the server die):
    /// while an upload holds it, however long recording the image takes, no sweep removes
    /// the file ([`RemovalRepo::claim`] passes it by).
    ///
    /// # Errors
    /// Store failures only.
    async fn schedule(&self, key: &BlobKey, due_at: DateTime<Utc>) -> Result<Box<dyn Turn>, RepoError>;

    /// The sweep's hold on `key`, to remove its files: only when nothing pins it, it is still
    /// due at `now`, and no image claims it; `None` otherwise (it is passed by, for now).
    ///
    /// # Errors
    /// Store failures only.
    async fn claim(&self, key: &BlobKey, now: DateTime<Utc>) -> Result<Option<Box<dyn Turn>>, RepoError>;

    /// Up to `limit` keys due at `now` that no image refers to, the longest due first.
    ///
    /// # Errors
    /// Store failures only.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BlobKey>, RepoError>;

    /// Forgets `key`: its files are gone.
    ///
    /// # Errors
    /// Store failures only.
    async fn done(&self, key: &BlobKey) -> Result<(), RepoError>;

    /// The sweep's turn, when no other server is sweeping the same store: `None` while one
    /// is. Held until ended or dropped.
    ///
    /// # Errors
    /// Store failures only.
    async fn sweep_turn(&self) -> Result<Option<Box<dyn Turn>>, RepoError>;
}

/// Work only one server at a time may do, begun; over when ended (or dropped, should
/// the server die at it).
#[async_trait]
pub trait Turn: Send + Sync {
    /// Lets the next server take its turn.
    async fn end(self: Box<Self>);
}
