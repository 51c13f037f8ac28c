//! Gallery's domain: what the service is, independent of HTTP, SQL and files.
//!
//! Entities and value objects parse their input once (a value that exists is valid),
//! [`Permission`] is the closed set of things a role may grant, [`Policy`] answers every
//! "may this actor do this" question, the [`ports`] are what the adapters implement, and
//! the use-cases hold the business rules: [`auth`], [`users`], [`roles`], [`plans`],
//! [`subscriptions`], [`images`], [`galleries`] and [`links`].

pub mod auth;
mod error;
pub mod fields;
pub mod galleries;
mod gallery;
mod ids;
mod image;
pub mod images;
mod link;
pub mod links;
mod listing;
mod page;
mod permission;
mod plan;
pub mod plans;
mod policy;
pub mod ports;
mod range;
mod role;
pub mod roles;
mod seal;
mod subscription;
pub mod subscriptions;
#[cfg(test)]
mod testing;
mod text;
mod token;
mod user;
pub mod users;
mod web_url;

pub use error::{Conflict, DomainError, FieldError, Referenced, RepoError, StorageError};
pub use gallery::{Gallery, GalleryPatch, NewGallery};
pub use ids::{GalleryId, ImageId, LinkId, PlanId, RoleId, SessionId, UserId};
pub use image::{
    Approval, BlobKey, Camera, Decision, Image, ImageFilter, ImageFormat, ImagePatch, ImageSort, ImageStatus, NewImage,
    Seen, Shot, UserRef, Variants, Visibility,
};
pub use link::{LinkTarget, NewLink, ShareLink, Variant};
pub use listing::{After, ImageCursor, ImagePage};
pub use page::{Page, PageRequest};
pub use permission::{Permission, PermissionSet};
pub use plan::{
    BillingPeriod, Currency, FeaturesPatch, NewPlan, Plan, PlanCode, PlanFeatures, PlanPatch, SubscriptionStatus,
    SubscriptionTerm,
};
pub use policy::{Actor, Policy};
pub use range::ByteRange;
pub use role::{NewRole, Role, RoleName, RolePatch};
pub use seal::Seal;
pub use subscription::{CurrentSubscription, Standing, Subscription};
pub use text::{Description, Name, Reason, RoleDescription, SearchText, Title};
pub use token::{Token, TokenHash};
pub use user::{Account, Email, NewUser, Password, PasswordHash, User, UserFilter, UserPatch, Username};
pub use web_url::WebUrl;
