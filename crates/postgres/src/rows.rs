//! Every row the repositories read, and how each becomes its domain type: the catalog
//! (roles with their permissions, plans; read by the cache too), users, images, galleries,
//! share links and refresh tokens. A row that does not convert (a value the domain would
//! refuse) is `RepoError::Other`: the database holds what no write of ours made.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Timestamptz, Uuid as SqlUuid};
use diesel_async::AsyncPgConnection;
use gallery_domain::{
    BillingPeriod, BlobKey, Camera, Currency, Email, Gallery, GalleryId, Image, ImageFormat, ImageId, ImageStatus,
    LinkId, PermissionSet, Plan, PlanCode, PlanFeatures, PlanId, RepoError, Role, RoleId, RoleName, ShareLink, Shot,
    SubscriptionStatus, SubscriptionTerm, User, UserId, UserRef, Username, Variant,
};
use uuid::Uuid;

use crate::catalog::Snapshot;
use crate::db::Db;
use crate::schema::{galleries, images, plans, role_details, share_links, user_core};

/// A row of the `role_details` view: a role with its permissions.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = role_details, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RoleRow {
    pub(crate) role_id: Uuid,
    pub(crate) role_name: String,
    pub(crate) role_description: String,
    pub(crate) role_is_system: bool,
    pub(crate) role_signup_allowed: bool,
    pub(crate) role_created_at: DateTime<Utc>,
    pub(crate) role_permissions: Vec<String>,
}

impl TryFrom<RoleRow> for Role {
    type Error = RepoError;

    fn try_from(row: RoleRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: RoleId::from_uuid(row.role_id),
            name: RoleName::from_trusted(row.role_name),
            description: row.role_description,
            permissions: PermissionSet::parse(row.role_permissions.iter().map(String::as_str))
                .map_err(RepoError::Other)?,
            is_system: row.role_is_system,
            signup_allowed: row.role_signup_allowed,
            created_at: row.role_created_at,
        })
    }
}

/// A row of `plans`; `features` is JSONB, typed as [`PlanFeatures`] on the way out.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PlanRow {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    price_cents: i64,
    currency: String,
    billing_period: String,
    is_public: bool,
    is_default: bool,
    features: serde_json::Value,
    #[allow(dead_code)] // Selected for completeness; the API does not show it.
    created_at: DateTime<Utc>,
}

impl TryFrom<PlanRow> for Plan {
    type Error = RepoError;

    fn try_from(row: PlanRow) -> Result<Self, RepoError> {
        let malformed =
            |what: &str, e: String| RepoError::Other(format!("plan {} has a malformed {what}: {e}", row.code));
        let features: PlanFeatures =
            serde_json::from_value(row.features).map_err(|e| malformed("features", e.to_string()))?;
        let currency = Currency::parse(&row.currency).map_err(|e| malformed("currency", e))?;
        let billing_period = BillingPeriod::parse(&row.billing_period).map_err(|e| malformed("billing period", e))?;
        Ok(Self {
            id: PlanId::from_uuid(row.id),
            code: PlanCode::from_trusted(row.code),
            name: row.name,
            description: row.description,
            price_cents: row.price_cents,
            currency,
            billing_period,
            is_public: row.is_public,
            is_default: row.is_default,
            features,
        })
    }
}

/// A row of the `user_core` view: a user, their role id and subscription, and the
/// catalog version to resolve the role and plans against.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = user_core, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    id: Uuid,
    username: String,
    email: Option<String>,
    is_active: bool,
    created_at: DateTime<Utc>,
    role_id: Uuid,
    sub_plan_id: Option<Uuid>,
    sub_status: Option<String>,
    sub_period_end: Option<DateTime<Utc>>,
    catalog_version: i64,
}

impl UserRow {
    pub(crate) fn into_user(self, catalog: &Snapshot) -> Result<User, RepoError> {
        let subscription = match (self.sub_plan_id, self.sub_status.as_deref()) {
            (Some(plan), Some(status)) => Some(SubscriptionTerm {
                plan: catalog.plan(plan)?.clone(),
                status: if status == "canceled" { SubscriptionStatus::Canceled } else { SubscriptionStatus::Active },
                current_period_end: self.sub_period_end,
            }),
            _ => None,
        };
        Ok(User {
            id: UserId::from_uuid(self.id),
            username: Username::from_trusted(self.username),
            email: self.email.map(Email::from_trusted),
            role: catalog.role(self.role_id)?.clone(),
            is_active: self.is_active,
            created_at: self.created_at,
            subscription,
            default_plan: catalog.default_plan()?.clone(),
        })
    }
}

/// Turns rows into users against a catalog at least as new as any of them.
pub(crate) async fn to_users(
    db: &Db,
    conn: &mut AsyncPgConnection,
    rows: Vec<UserRow>,
) -> Result<Vec<User>, RepoError> {
    let Some(version) = rows.iter().map(|r| r.catalog_version).max() else { return Ok(Vec::new()) };
    let catalog = db.catalog.at_least(conn, version).await?;
    rows.into_iter().map(|r| r.into_user(&catalog)).collect()
}

pub(crate) async fn to_user(
    db: &Db,
    conn: &mut AsyncPgConnection,
    row: Option<UserRow>,
) -> Result<Option<User>, RepoError> {
    Ok(to_users(db, conn, row.into_iter().collect()).await?.pop())
}

/// A row of `images`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = images, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ImageRow {
    id: Uuid,
    title: String,
    description: String,
    status: String,
    uploaded_by: Uuid,
    gallery_id: Option<Uuid>,
    width: i32,
    height: i32,
    format: String,
    size_bytes: i64,
    sha256: Vec<u8>,
    storage_key: String,
    uploaded_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    taken_at: Option<DateTime<Utc>>,
    camera_make: Option<String>,
    camera_model: Option<String>,
}

pub(crate) fn corrupt(what: &str) -> RepoError {
    RepoError::Other(format!("stored image has an invalid {what}"))
}

pub(crate) fn to_image((row, username): (ImageRow, String)) -> Result<Image, RepoError> {
    Ok(Image {
        id: ImageId::from_uuid(row.id),
        title: row.title,
        description: row.description,
        status: ImageStatus::parse(&row.status).map_err(|_| corrupt("status"))?,
        uploaded_by: UserRef { id: UserId::from_uuid(row.uploaded_by), username: Username::from_trusted(username) },
        gallery_id: row.gallery_id.map(GalleryId::from_uuid),
        width: u32::try_from(row.width).map_err(|_| corrupt("width"))?,
        height: u32::try_from(row.height).map_err(|_| corrupt("height"))?,
        format: ImageFormat::from_stored(&row.format).ok_or_else(|| corrupt("format"))?,
        size_bytes: u64::try_from(row.size_bytes).map_err(|_| corrupt("size"))?,
        sha256: row.sha256.try_into().map_err(|_| corrupt("hash"))?,
        storage_key: BlobKey::parse(&row.storage_key).map_err(|_| corrupt("storage key"))?,
        uploaded_at: row.uploaded_at,
        updated_at: row.updated_at,
        shot: Shot {
            taken_at: row.taken_at,
            camera: Camera::from_exif(row.camera_make.as_deref(), row.camera_model.as_deref()),
        },
    })
}

/// A row of `galleries`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = galleries, check_for_backend(diesel::pg::Pg))]
pub(crate) struct GalleryRow {
    id: Uuid,
    name: String,
    description: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<GalleryRow> for Gallery {
    fn from(row: GalleryRow) -> Self {
        Self {
            id: GalleryId::from_uuid(row.id),
            name: row.name,
            description: row.description,
            created_by: row.created_by.map(UserId::from_uuid),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A row of `share_links`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = share_links, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LinkRow {
    id: Uuid,
    image_id: Uuid,
    created_by: Uuid,
    variant: String,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<LinkRow> for ShareLink {
    type Error = RepoError;

    fn try_from(row: LinkRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: LinkId::from_uuid(row.id),
            image: ImageId::from_uuid(row.image_id),
            created_by: UserId::from_uuid(row.created_by),
            variant: Variant::parse(&row.variant).map_err(RepoError::Other)?,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, QueryableByName)]
pub(crate) struct RecordRow {
    #[diesel(sql_type = SqlUuid)]
    pub(crate) id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub(crate) user_id: Uuid,
    #[diesel(sql_type = Bool)]
    pub(crate) is_current: bool,
    #[diesel(sql_type = Bool)]
    pub(crate) is_revoked: bool,
    #[diesel(sql_type = Timestamptz)]
    pub(crate) expires_at: DateTime<Utc>,
}
