//! Gallery's domain: what the service is, independent of HTTP, SQL and files.
//!
//! Entities and value objects parse their input once (a value that exists is valid),
//! [`Permission`] is the closed set of things a role may grant, [`Policy`] answers every
//! "may this actor do this" question, the [`ports`] are what the adapters implement, and
//! the use-cases hold the business rules: [`auth`], [`users`], [`roles`], [`plans`],
//! [`subscriptions`], [`images`], [`galleries`] and [`links`].

pub mod auth;
mod error;
pub mod galleries;
mod ids;
mod image;
pub mod images;
pub mod links;
mod net;
mod page;
mod permission;
mod plan;
pub mod plans;
mod policy;
pub mod ports;
mod role;
pub mod roles;
pub mod subscriptions;
#[cfg(test)]
mod testing;
mod user;
pub mod users;

pub use error::{Conflict, DomainError, FieldError, Referenced, RepoError, StorageError};
pub use ids::{GalleryId, ImageId, LinkId, PlanId, RoleId, SessionId, UserId};
pub use image::{
    Approval, BlobKey, Decision, Image, ImageFilter, ImageFormat, ImagePatch, ImageSort, ImageStatus, NewImage,
    UserRef, Visibility,
};
pub use net::is_global;
pub use page::{Page, PageRequest};
pub use permission::{Permission, PermissionSet};
pub use plan::{FeaturesPatch, Plan, PlanCode, PlanFeatures, SubscriptionStatus, SubscriptionTerm};
pub use policy::{Actor, Policy};
pub use role::{NewRole, Role, RoleName, RolePatch, SEARCH_MAX, parse_search, parse_text};
pub use user::{Email, NewUser, Password, PasswordHash, User, UserFilter, UserPatch, Username};

/// Collects field failures while parsing a request, so the caller hears about all of
/// them at once rather than one per round trip.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the parsed value, or records why `field` was refused.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// # Errors
    /// `DomainError::Validation` with every recorded failure, if there was any.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() { Ok(()) } else { Err(DomainError::Validation(self.0)) }
    }
}
