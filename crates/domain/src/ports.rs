//! The ports: what the domain needs from the outside world. Adapters implement them;
//! tests mock them (`mocks` feature).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::galleries::{Gallery, GalleryPatch, NewGallery};
use crate::links::{LinkId, LinkTarget, NewLink, ShareLink};
use crate::plans::NewPlan;
use crate::subscriptions::Subscription;
use crate::{
    Approval, BlobKey, Decision, DomainError, GalleryId, Image, ImageFilter, ImageFormat, ImageId, ImagePatch,
    NewImage, NewRole, NewUser, PageRequest, Password, PasswordHash, Reason, RepoError, Role, RoleId, RoleName,
    RolePatch, SessionId, StorageError, User, UserFilter, UserId, UserPatch, Username, Visibility,
};
use crate::{Plan, PlanId};

/// User accounts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// # Errors
    /// `Conflict(Username)` when the name is taken, ignoring case; `Other` when the role
    /// does not exist.
    async fn create(&self, user: &NewUser) -> Result<User, RepoError>;

    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn by_id(&self, id: UserId) -> Result<Option<User>, RepoError>;

    /// Looks a user up by name, ignoring case, with their password hash.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn credentials(&self, username: &Username) -> Result<Option<(User, PasswordHash)>, RepoError>;

    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn password_hash(&self, id: UserId) -> Result<Option<PasswordHash>, RepoError>;

    /// One page of users matching `filter`, ordered by name, and the total matching.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn list(&self, filter: &UserFilter, page: PageRequest) -> Result<(Vec<User>, u64), RepoError>;

    /// Applies `patch`; `None` when the user does not exist.
    ///
    /// # Errors
    /// `Conflict(LastAdmin)` when the change would leave no active admin.
    async fn update(&self, id: UserId, patch: &UserPatch) -> Result<Option<User>, RepoError>;

    /// Deletes the user and their sessions, and with `with_images` their images' rows in
    /// the same transaction; returns the keys of those images' files for the caller to
    /// remove, or `None` when there was no such user.
    ///
    /// # Errors
    /// `Conflict(LastAdmin)` when they are the last active admin; `InUse(Images)`
    /// when they own images and `with_images` is false.
    async fn delete(&self, id: UserId, with_images: bool) -> Result<Option<Vec<BlobKey>>, RepoError>;
}

/// Roles and their permissions.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RoleRepo: Send + Sync {
    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn list(&self) -> Result<Vec<Role>, RepoError>;

    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn by_id(&self, id: RoleId) -> Result<Option<Role>, RepoError>;

    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn by_name(&self, name: &RoleName) -> Result<Option<Role>, RepoError>;

    /// # Errors
    /// `Conflict(RoleName)` when the name is taken.
    async fn create(&self, role: &NewRole) -> Result<Role, RepoError>;

    /// Applies `patch` to a custom role; `None` when it does not exist.
    ///
    /// # Errors
    /// `Conflict(RoleName)` when the new name is taken.
    async fn update(&self, id: RoleId, patch: &RolePatch) -> Result<Option<Role>, RepoError>;

    /// Deletes a role; `false` when there was no such role.
    ///
    /// # Errors
    /// `InUse(Role)` when users still hold it.
    async fn delete(&self, id: RoleId) -> Result<bool, RepoError>;
}

/// SHA-256 of a refresh token: the only form in which tokens are stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(***)")
    }
}

/// What the store knows of a presented refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub session: SessionId,
    pub user: UserId,
    /// Whether this is the newest token of its session (older ones were used already).
    pub is_current: bool,
    pub is_revoked: bool,
    pub expires_at: DateTime<Utc>,
}

/// Login sessions and their rotating refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Opens a session whose first refresh token hashes to `refresh`.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn start(&self, user: UserId, refresh: &TokenHash, expires_at: DateTime<Utc>)
    -> Result<SessionId, RepoError>;

    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn by_refresh(&self, refresh: &TokenHash) -> Result<Option<RefreshRecord>, RepoError>;

    /// Replaces the session's current token `old` with `new`, atomically: `false` when
    /// `old` was no longer current (a concurrent refresh won) or the session is revoked.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn rotate(
        &self,
        session: SessionId,
        old: &TokenHash,
        new: &TokenHash,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn revoke(&self, session: SessionId) -> Result<(), RepoError>;

    /// Revokes every session of `user` but `except`.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn revoke_all(&self, user: UserId, except: Option<SessionId>) -> Result<(), RepoError>;

    /// The user behind a live session: `None` when the session is revoked, unknown, or
    /// not `user`'s, or the user is gone. One round trip: this runs on every request.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on store failure.
    async fn holder(&self, session: SessionId, user: UserId) -> Result<Option<User>, RepoError>;
}

/// Password hashing (bcrypt in production). Slow on purpose: adapters run it off the
/// async executor.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// # Errors
    /// `Internal` if hashing fails.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, DomainError>;

    /// Checks `password` against `hash`. With `None` it checks against a dummy hash of the
    /// same cost and answers `false`, so an unknown user costs as much as a wrong password.
    ///
    /// # Errors
    /// `Internal` if the check cannot run.
    async fn verify(&self, password: &Password, hash: Option<PasswordHash>) -> Result<bool, DomainError>;
}

/// What a valid access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user: UserId,
    pub session: SessionId,
}

/// A freshly signed access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
}

/// Signs and checks access tokens; makes and hashes refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenService: Send + Sync {
    /// # Errors
    /// `Internal` if signing fails.
    fn issue_access(&self, user: UserId, session: SessionId) -> Result<AccessToken, DomainError>;

    /// # Errors
    /// `TokenExpired` past `exp`; `InvalidToken` for anything forged, malformed, of another
    /// algorithm, issuer or audience.
    fn verify_access(&self, token: &str) -> Result<AccessClaims, DomainError>;

    /// A new refresh token from a CSPRNG, and its hash.
    fn new_refresh(&self) -> (String, TokenHash);

    fn hash_refresh(&self, token: &str) -> TokenHash;

    /// How long a refresh token lives.
    fn refresh_ttl(&self) -> Duration;
}

/// The time. A port so that tests can set it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
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

    /// One page of the images `visibility` allows and `filter` selects, and their total.
    ///
    /// # Errors
    /// Store failures only.
    async fn list(
        &self,
        filter: &ImageFilter,
        visibility: Visibility,
        page: PageRequest,
    ) -> Result<(Vec<Image>, u64), RepoError>;

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
}

/// A readable, seekable source of bytes (a staged file read back).
pub trait ReadSeek: std::io::Read + std::io::Seek + Send {}

impl<T: std::io::Read + std::io::Seek + Send> ReadSeek for T {}

/// Bytes read from the blob store.
pub struct BlobBody {
    /// The whole blob, or the range asked for.
    pub len: u64,
    pub stream: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, StorageError>>,
}

impl std::fmt::Debug for BlobBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobBody").field("len", &self.len).finish_non_exhaustive()
    }
}

/// A file being written: nothing is visible under any key until [`StagedBlob::commit`];
/// dropping it uncommitted removes what was written.
#[async_trait]
pub trait StagedBlob: Send + Sync {
    /// # Errors
    /// `Unavailable` when the store cannot take the bytes (disk full, unwritable root).
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError>;

    /// Reads back what was written, for checks that need the whole file.
    ///
    /// # Errors
    /// `Unavailable` when it cannot be read.
    fn reader(&self) -> Result<Box<dyn ReadSeek>, StorageError>;

    /// Makes the bytes durable and visible under `key`.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot.
    async fn commit(self: Box<Self>, key: &BlobKey) -> Result<(), StorageError>;
}

/// Where image bytes live (the local file system now, S3 later).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts writing a new blob.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot take a file.
    async fn stage(&self) -> Result<Box<dyn StagedBlob>, StorageError>;

    /// Streams `key`'s bytes, or the inclusive byte `range` of them.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    async fn open(&self, key: &BlobKey, range: Option<(u64, u64)>) -> Result<BlobBody, StorageError>;

    /// Removes `key`; a missing key is not an error.
    ///
    /// # Errors
    /// `Unavailable` when the file exists but cannot be removed.
    async fn delete(&self, key: &BlobKey) -> Result<(), StorageError>;

    /// Removes every blob whose key starts with `prefix/`; none is not an error.
    ///
    /// # Errors
    /// `Unavailable` when they exist but cannot be removed.
    async fn delete_under(&self, prefix: &BlobKey) -> Result<(), StorageError>;

    /// Stores small, derived bytes (a thumbnail) under `key`, atomically.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot.
    async fn put(&self, key: &BlobKey, bytes: bytes::Bytes) -> Result<(), StorageError>;

    /// Reads `key` whole and seekably, for decoding.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    async fn reader(&self, key: &BlobKey) -> Result<Box<dyn ReadSeek>, StorageError>;
}

/// Makes thumbnails: `height` pixels high (never more than the original), aspect kept,
/// EXIF orientation applied; JPEG for opaque images, PNG where there is alpha.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ThumbnailRenderer: Send + Sync {
    /// The encoded thumbnail.
    ///
    /// # Errors
    /// `Invalid` when the original does not decode.
    async fn render(
        &self,
        source: Box<dyn ReadSeek>,
        format: ImageFormat,
        height: u32,
    ) -> Result<bytes::Bytes, InspectError>;
}

/// Why an image was refused on inspection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// More pixels than allowed, told from the header before any decoding.
    #[error("{width}x{height} is more than {max_pixels} pixels")]
    TooLarge { width: u32, height: u32, max_pixels: u64 },
    /// It does not decode as its format.
    #[error("{0}")]
    Invalid(String),
}

/// Checks an image: dimensions from the header first, then a full decode with limits.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ImageInspector: Send + Sync {
    /// The image's width and height, once it is known to decode.
    ///
    /// # Errors
    /// `TooLarge` past `max_pixels`; `Invalid` when it does not decode.
    async fn inspect(
        &self,
        source: Box<dyn ReadSeek>,
        format: ImageFormat,
        max_pixels: u64,
    ) -> Result<(u32, u32), InspectError>;
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

/// Why a URL could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not a URL we fetch: another scheme, or an address that is not global.
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
    async fn fetch(&self, url: &str, limit: u64) -> Result<Fetched, FetchError>;
}

/// Subscription plans.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PlanRepo: Send + Sync {
    /// Every plan, by price then code.
    ///
    /// # Errors
    /// Store failures only.
    async fn list(&self) -> Result<Vec<Plan>, RepoError>;

    /// # Errors
    /// Store failures only.
    async fn by_id(&self, id: PlanId) -> Result<Option<Plan>, RepoError>;

    /// Creates a plan; a new default takes the place of the old one, atomically.
    ///
    /// # Errors
    /// `Conflict(PlanCode)` when the code is taken.
    async fn create(&self, plan: &NewPlan) -> Result<Plan, RepoError>;

    /// Stores every field of `plan` but its id and code (`None` when it is gone); a new
    /// default takes the place of the old one, atomically.
    ///
    /// # Errors
    /// Store failures only.
    async fn update(&self, plan: &Plan) -> Result<Option<Plan>, RepoError>;

    /// # Errors
    /// `InUse(Plan)` while subscriptions name it.
    async fn delete(&self, id: PlanId) -> Result<bool, RepoError>;
}

/// Users' subscriptions and their history.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SubscriptionRepo: Send + Sync {
    /// # Errors
    /// Store failures only.
    async fn of(&self, user: UserId) -> Result<Option<Subscription>, RepoError>;

    /// Puts `user` on `plan`, active until `period_end`, and records the change (who, from,
    /// to, when) in the same transaction.
    ///
    /// # Errors
    /// Store failures only.
    async fn set(
        &self,
        user: UserId,
        plan: PlanId,
        period_end: Option<DateTime<Utc>>,
        by: UserId,
    ) -> Result<Subscription, RepoError>;

    /// Marks the subscription canceled, ending at `ends_at`.
    ///
    /// # Errors
    /// Store failures only.
    async fn cancel(&self, user: UserId, ends_at: DateTime<Utc>) -> Result<Option<Subscription>, RepoError>;

    /// One page of subscriptions, newest first, and their total.
    ///
    /// # Errors
    /// Store failures only.
    async fn list(&self, page: PageRequest) -> Result<(Vec<Subscription>, u64), RepoError>;
}

/// Takes location out of an image's bytes as they stream, without touching its pixels:
/// EXIF GPS data and XMP packets go, the rest of EXIF (orientation included) stays.
pub trait LocationFilter: Send + Sync {
    /// A scrub for one file of `format`.
    fn begin(&self, format: ImageFormat) -> Box<dyn LocationScrub>;
}

/// One file's scrub, fed its bytes in order.
pub trait LocationScrub: Send {
    /// Takes the next bytes; appends to `out` what may be stored.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>);

    /// The input has ended; appends to `out` whatever is left to store.
    fn finish(&mut self, out: &mut Vec<u8>);
}

/// Files to remove later, kept durably so that none is orphaned for good: the store
/// records the file of every image row it deletes (in the same transaction), an upload
/// records its file before putting it in place, and recording the image row takes that
/// record back. A sweep removes what is due; the store is never listed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RemovalRepo: Send + Sync {
    /// Records `key`'s files as removable from `due_at`, unless an image row claims the key
    /// by then.
    ///
    /// # Errors
    /// Store failures only.
    async fn schedule(&self, key: &BlobKey, due_at: DateTime<Utc>) -> Result<(), RepoError>;

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
}

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
    async fn by_token(&self, hash: &[u8; 32]) -> Result<Option<LinkTarget>, RepoError>;

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
