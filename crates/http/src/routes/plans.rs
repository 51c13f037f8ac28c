//! `/plans`: public to read, `plans:manage` to change.

use actix_web::{HttpResponse, web};
use gallery_domain::fields::{Fields as _, optional, parsed, unless};
use gallery_domain::plans::{Plans, check_features, price_cents};
use gallery_domain::{
    BillingPeriod, Currency, Description, DomainError, FeaturesPatch, Name, NewPlan, Plan, PlanCode, PlanFeatures,
    PlanId, PlanPatch,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Route, route};
use crate::ApiError;
use crate::extract::{Caller, MaybeCaller};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route!(list),
        route!(create, PlansManage),
        route!(get),
        route!(update, PlansManage),
        route!(delete, PlansManage),
    ]
}

/// What a plan grants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeaturesDto {
    /// 16..=4096, unique, at most 10.
    #[schema(example = json!([200, 400]))]
    thumbnail_heights: Vec<u32>,
    original_access: bool,
    expiring_links: bool,
    /// Share-link lifetimes in seconds: 1 <= min <= max <= 604800.
    link_ttl_min: u32,
    link_ttl_max: u32,
    max_upload_bytes: u64,
    storage_quota_bytes: u64,
}

impl From<PlanFeatures> for FeaturesDto {
    fn from(f: PlanFeatures) -> Self {
        Self {
            thumbnail_heights: f.thumbnail_heights,
            original_access: f.original_access,
            expiring_links: f.expiring_links,
            link_ttl_min: f.link_ttl_min,
            link_ttl_max: f.link_ttl_max,
            max_upload_bytes: f.max_upload_bytes,
            storage_quota_bytes: f.storage_quota_bytes,
        }
    }
}

/// Features to set: on a new plan, what is left out is the free plan's (200 px thumbnails,
/// no original, no links, 300..30000 s link lifetimes, 5 MiB uploads, 1 GiB stored); on a
/// change, what is left out keeps its value.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FeaturesBody {
    /// 16..=4096, unique, at most 10.
    #[schema(example = json!([200, 400]))]
    thumbnail_heights: Option<Vec<u32>>,
    original_access: Option<bool>,
    expiring_links: Option<bool>,
    /// Share-link lifetimes in seconds: 1 <= min <= max <= 604800.
    link_ttl_min: Option<u32>,
    link_ttl_max: Option<u32>,
    max_upload_bytes: Option<u64>,
    storage_quota_bytes: Option<u64>,
}

impl From<FeaturesBody> for FeaturesPatch {
    fn from(f: FeaturesBody) -> Self {
        Self {
            thumbnail_heights: f.thumbnail_heights,
            original_access: f.original_access,
            expiring_links: f.expiring_links,
            link_ttl_min: f.link_ttl_min,
            link_ttl_max: f.link_ttl_max,
            max_upload_bytes: f.max_upload_bytes,
            storage_quota_bytes: f.storage_quota_bytes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    id: Uuid,
    #[schema(example = "growth")]
    code: String,
    name: String,
    description: String,
    price_cents: i64,
    currency: String,
    billing_period: String,
    is_public: bool,
    is_default: bool,
    features: FeaturesDto,
}

impl From<Plan> for PlanView {
    fn from(p: Plan) -> Self {
        Self {
            id: p.id.as_uuid(),
            code: p.code.as_str().to_owned(),
            name: p.name,
            description: p.description,
            price_cents: p.price_cents,
            currency: p.currency.as_str().to_owned(),
            billing_period: p.billing_period.as_str().to_owned(),
            is_public: p.is_public,
            is_default: p.is_default,
            features: p.features.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanBody {
    /// 2..=32 of lowercase letters, digits, `_` and `-`; fixed once created.
    code: Option<String>,
    name: Option<String>,
    description: Option<String>,
    price_cents: Option<i64>,
    /// Three capital letters (default `USD`).
    currency: Option<String>,
    /// `month` (default) or `year`.
    billing_period: Option<String>,
    is_public: Option<bool>,
    is_default: Option<bool>,
    /// Merged field by field into the plan's features.
    features: Option<FeaturesBody>,
}

impl TryFrom<PlanBody> for NewPlan {
    type Error = DomainError;

    /// What is left out is the default: no description, free, `USD`, monthly, public, not
    /// the default plan, and the free plan's features under those sent.
    fn try_from(body: PlanBody) -> Result<Self, DomainError> {
        let features = body.features.map(FeaturesPatch::from).unwrap_or_default().apply(PlanFeatures::default());
        let (code, name, description, price, currency, billing_period, ()) = (
            parsed("code", body.code.as_deref(), PlanCode::parse),
            parsed("name", body.name.as_deref(), Name::parse),
            optional("description", body.description.as_deref(), Description::parse),
            optional("price_cents", body.price_cents, price_cents),
            optional("currency", body.currency.as_deref(), Currency::parse),
            optional("billing_period", body.billing_period.as_deref(), BillingPeriod::parse),
            check_features(&features),
        )
            .all()?;
        Ok(Self {
            code,
            name,
            description: description.unwrap_or_default(),
            price_cents: price.unwrap_or(0),
            currency: currency.unwrap_or_default(),
            billing_period: billing_period.unwrap_or_default(),
            is_public: body.is_public.unwrap_or(true),
            is_default: body.is_default.unwrap_or(false),
            features,
        })
    }
}

impl TryFrom<PlanBody> for PlanPatch {
    type Error = DomainError;

    /// The features sent merge into the plan's; the use-case checks the result.
    fn try_from(body: PlanBody) -> Result<Self, DomainError> {
        let ((), name, description, price, currency, billing_period) = (
            unless(body.code.is_some(), "code", "cannot be changed"),
            optional("name", body.name.as_deref(), Name::parse),
            optional("description", body.description.as_deref(), Description::parse),
            optional("price_cents", body.price_cents, price_cents),
            optional("currency", body.currency.as_deref(), Currency::parse),
            optional("billing_period", body.billing_period.as_deref(), BillingPeriod::parse),
        )
            .all()?;
        Ok(Self {
            name,
            description,
            price_cents: price,
            currency,
            billing_period,
            is_public: body.is_public,
            is_default: body.is_default,
            features: body.features.map(FeaturesPatch::from),
        })
    }
}

#[utoipa::path(get, operation_id = "list_plans", path = "/api/v1/plans", tag = "plans",
    responses((status = 200, description = "Public plans (every plan for `plans:manage`)", body = Vec<PlanView>)))]
pub(crate) async fn list(plans: web::Data<Plans>, MaybeCaller(actor): MaybeCaller) -> Result<HttpResponse, ApiError> {
    let views: Vec<PlanView> = plans.list(actor.as_ref()).await?.into_iter().map(PlanView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

#[utoipa::path(get, operation_id = "get_plan", path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses((status = 200, description = "The plan", body = PlanView),
        (status = 404, description = "No such plan, or a private one (`not_found`)")))]
pub(crate) async fn get(
    plans: web::Data<Plans>,
    MaybeCaller(actor): MaybeCaller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PlanView::from(plans.get(actor.as_ref(), PlanId::from_uuid(*id)).await?)))
}

#[utoipa::path(post, operation_id = "create_plan", path = "/api/v1/plans", tag = "plans", request_body = PlanBody, security(("bearer" = [])),
    responses((status = 201, description = "The new plan", body = PlanView),
        (status = 403, description = "Needs `plans:manage` (`forbidden`)"),
        (status = 409, description = "The code is taken (`conflict`)"),
        (status = 422, description = "A field breaks its rule (`validation_failed`)")))]
pub(crate) async fn create(
    plans: web::Data<Plans>,
    Caller(actor): Caller,
    body: web::Json<PlanBody>,
) -> Result<HttpResponse, ApiError> {
    let new = NewPlan::try_from(body.into_inner())?;
    Ok(HttpResponse::Created().json(PlanView::from(plans.create(&actor, new).await?)))
}

#[utoipa::path(patch, operation_id = "update_plan", path = "/api/v1/plans/{id}", tag = "plans", request_body = PlanBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plan id")),
    responses((status = 200, description = "The updated plan; its users get the change on their next request", body = PlanView),
        (status = 403, description = "Needs `plans:manage` (`forbidden`)"),
        (status = 404, description = "No such plan (`not_found`)"),
        (status = 422, description = "A field breaks its rule (`validation_failed`)")))]
pub(crate) async fn update(
    plans: web::Data<Plans>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    body: web::Json<PlanBody>,
) -> Result<HttpResponse, ApiError> {
    let patch = PlanPatch::try_from(body.into_inner())?;
    Ok(HttpResponse::Ok().json(PlanView::from(plans.update(&actor, PlanId::from_uuid(*id), patch).await?)))
}

#[utoipa::path(delete, operation_id = "delete_plan", path = "/api/v1/plans/{id}", tag = "plans", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plan id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Needs `plans:manage` (`forbidden`)"),
        (status = 404, description = "No such plan (`not_found`)"),
        (status = 409, description = "The default plan, or one with subscriptions (`in_use`)")))]
pub(crate) async fn delete(
    plans: web::Data<Plans>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    plans.delete(&actor, PlanId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
