use serde::Serialize;

/// One refused field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

/// Which rule a store refused a write under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The username is taken, ignoring case.
    #[error("username")]
    Username,
    #[error("role_name")]
    RoleName,
    #[error("plan_code")]
    PlanCode,
    /// Another uniqueness rule.
    #[error("unique")]
    Unique,
    /// The uploader's stored bytes plus the new image would pass their quota.
    #[error("quota")]
    Quota,
    /// The change would leave no active user holding every permission.
    #[error("last_admin")]
    LastAdmin,
    /// The change would leave a role open to sign-up holding these permissions, some of them
    /// administrative (found by the store under the role's lock: two changes that each pass
    /// alone).
    #[error("open_to_signup")]
    OpenToSignup(crate::PermissionSet),
}

/// What still references a row a store was asked to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Referenced {
    /// Users hold the role.
    #[error("role")]
    Role,
    /// The user uploaded images.
    #[error("images")]
    Images,
    /// Subscriptions name the plan.
    #[error("plan")]
    Plan,
    #[error("referenced")]
    Other,
}

/// What a repository port may answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("conflict on {0}")]
    Conflict(Conflict),
    /// The row is still referenced elsewhere.
    #[error("still referenced: {0}")]
    InUse(Referenced),
    /// The store cannot be reached right now; the request may succeed later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the cause is for the logs, never for the client.
    #[error("store failure: {0}")]
    Other(String),
}

/// Why a use-case refused or failed. The HTTP layer maps each to one status and code.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid token")]
    InvalidToken,
    #[error("token expired")]
    TokenExpired,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden")]
    Forbidden,
    /// The actor would hand out, or touch, more than they hold.
    #[error("forbidden: {0}")]
    Overreach(String),
    #[error("account disabled")]
    AccountDisabled,
    #[error("the plan does not include this")]
    PlanForbids(String),
    #[error("storage quota exceeded")]
    QuotaExceeded,
    #[error("payload too large: limit {0} bytes")]
    PayloadTooLarge(u64),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A byte range outside a file of this many bytes.
    #[error("range not satisfiable")]
    RangeNotSatisfiable(u64),
    #[error("invalid image: {0}")]
    InvalidImage(String),
    #[error("image too large: {0}")]
    ImageTooLarge(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("username taken")]
    UsernameTaken,
    #[error("in use: {0}")]
    InUse(String),
    #[error("built-in roles cannot be changed")]
    SystemRole,
    /// Sharing an image that is not approved.
    #[error("the image is not approved")]
    NotApproved,
    #[error("the link has expired or was revoked")]
    LinkExpired,
    /// Too many at once; the next try may succeed after this long.
    #[error("too many at once; retry after {0:?}")]
    RateLimited(std::time::Duration),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl DomainError {
    /// A single-field validation failure.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<RepoError> for DomainError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::Conflict(Conflict::Username) => Self::UsernameTaken,
            RepoError::Conflict(Conflict::Quota) => Self::QuotaExceeded,
            RepoError::Conflict(Conflict::LastAdmin) => {
                Self::Conflict("the last active admin cannot be disabled, demoted or deleted".into())
            }
            // The same answer the rule gives before the store is asked.
            RepoError::Conflict(Conflict::OpenToSignup(permissions)) => {
                crate::Policy::may_open_to_signup(permissions, true).err().unwrap_or_else(|| {
                    Self::field("signup_allowed", "an administrative role cannot be open to sign-up")
                })
            }
            RepoError::Conflict(what) => Self::Conflict(format!("{what} already exists")),
            RepoError::InUse(what) => Self::InUse(what.to_string()),
            RepoError::Unavailable(cause) => Self::Unavailable(cause),
            RepoError::Other(cause) => Self::Internal(cause),
        }
    }
}

/// What a blob store may answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no such blob")]
    NotFound,
    /// The store cannot take or give bytes now (disk full, unwritable root, unreachable).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<StorageError> for DomainError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::NotFound => Self::Internal("a stored file is missing".into()),
            StorageError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}
