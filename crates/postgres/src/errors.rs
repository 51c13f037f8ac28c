//! The one translation of database failures into the ports' terms.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use gallery_domain::{Conflict, Referenced, RepoError};

/// The one translation of Diesel errors into the port's terms.
pub(crate) fn repo_error(err: DieselError) -> RepoError {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepoError::Conflict(match info.constraint_name() {
                Some("users_username_lower_key") => Conflict::Username,
                Some("roles_name_key") => Conflict::RoleName,
                Some("plans_code_key") => Conflict::PlanCode,
                _ => Conflict::Unique,
            })
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            RepoError::InUse(match info.constraint_name() {
                Some("users_role_id_fkey") => Referenced::Role,
                Some("images_uploaded_by_fkey") => Referenced::Images,
                Some("subscriptions_plan_id_fkey") => Referenced::Plan,
                _ => Referenced::Other,
            })
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
        | DieselError::BrokenTransactionManager => RepoError::Unavailable("the database connection was lost".into()),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) if is_connection_failure(info.message()) => {
            RepoError::Unavailable(info.message().to_owned())
        }
        other => RepoError::Other(other.to_string()),
    }
}

fn is_connection_failure(message: &str) -> bool {
    ["connection closed", "connection reset", "terminating connection", "error communicating"]
        .iter()
        .any(|m| message.contains(m))
}

/// Errors inside a transaction: Diesel's, or a rule the transaction found broken.
#[derive(Debug)]
pub(crate) enum TxError {
    Diesel(DieselError),
    Rule(RepoError),
}

impl From<DieselError> for TxError {
    fn from(err: DieselError) -> Self {
        Self::Diesel(err)
    }
}

impl From<TxError> for RepoError {
    fn from(err: TxError) -> Self {
        match err {
            TxError::Diesel(e) => repo_error(e),
            TxError::Rule(e) => e,
        }
    }
}
