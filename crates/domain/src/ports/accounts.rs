//! Accounts: users, roles, sessions, password hashing and tokens.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::{
    BlobKey, DomainError, NewRole, NewUser, PageRequest, Password, PasswordHash, RepoError, Role, RoleId, RoleName,
    RolePatch, SessionId, Token, TokenHash, User, UserFilter, UserId, UserPatch, Username,
};

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
    pub token: Token,
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
    fn verify_access(&self, token: &Token) -> Result<AccessClaims, DomainError>;

    /// A new refresh token from a CSPRNG, and its hash.
    fn new_refresh(&self) -> (Token, TokenHash);

    fn hash_refresh(&self, token: &Token) -> TokenHash;

    /// How long a refresh token lives.
    fn refresh_ttl(&self) -> Duration;
}
