//! `/subscriptions` and `/users/{id}/subscription`.

use actix_web::{HttpResponse, web};
use gallery_domain::fields::{Fields as _, required};
use gallery_domain::subscriptions::Subscriptions;
use gallery_domain::{CurrentSubscription, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::images::UserRefView;
use super::{Route, route};
use crate::ApiError;
use crate::extract::Caller;
use crate::views::{PageParams, PageView};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route!(list, SubscriptionsManage),
        route!(subscribe),
        route!(mine),
        route!(cancel),
        route!(assign, SubscriptionsManage),
    ]
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    /// The plan's code.
    #[schema(example = "growth")]
    plan: String,
    /// `active`, `canceled` (runs to the period's end) or `expired` (the default plan applies).
    #[schema(example = "active")]
    status: &'static str,
    started_at: chrono::DateTime<chrono::Utc>,
    current_period_end: Option<chrono::DateTime<chrono::Utc>>,
    cancel_at_period_end: bool,
    user: UserRefView,
}

impl From<CurrentSubscription> for SubscriptionView {
    fn from(CurrentSubscription { subscription: s, standing }: CurrentSubscription) -> Self {
        Self {
            status: standing.as_str(),
            plan: s.plan.as_str().to_owned(),
            started_at: s.started_at,
            current_period_end: s.current_period_end,
            cancel_at_period_end: s.cancel_at_period_end,
            user: s.user.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscribeBody {
    /// A plan's code.
    #[schema(value_type = String, example = "enterprise")]
    plan: Option<String>,
    /// Only for `PUT /users/{id}/subscription`: when the period ends (RFC 3339).
    current_period_end: Option<chrono::DateTime<chrono::Utc>>,
}

#[utoipa::path(get, operation_id = "get_my_subscription", path = "/api/v1/subscriptions/me", tag = "subscriptions", security(("bearer" = [])),
    responses((status = 200, description = "The caller's subscription; the default plan when they have none", body = SubscriptionView)))]
pub(crate) async fn mine(
    subscriptions: web::Data<Subscriptions>,
    Caller(actor): Caller,
) -> Result<HttpResponse, ApiError> {
    let mine = subscriptions.mine(&actor).await?;
    Ok(HttpResponse::Ok().json(SubscriptionView::from(mine)))
}

#[utoipa::path(post, operation_id = "subscribe", path = "/api/v1/subscriptions", tag = "subscriptions", request_body = SubscribeBody, security(("bearer" = [])),
    responses((status = 201, description = "Subscribed; the plan applies from the next request", body = SubscriptionView),
        (status = 422, description = "No such public plan (`validation_failed` on `plan`)")))]
pub(crate) async fn subscribe(
    subscriptions: web::Data<Subscriptions>,
    Caller(actor): Caller,
    body: web::Json<SubscribeBody>,
) -> Result<HttpResponse, ApiError> {
    let code = required("plan", body.plan.as_deref()).all()?;
    let saved = subscriptions.subscribe(&actor, code).await?;
    Ok(HttpResponse::Created().json(SubscriptionView::from(saved)))
}

#[utoipa::path(delete, operation_id = "cancel_my_subscription", path = "/api/v1/subscriptions/me", tag = "subscriptions", security(("bearer" = [])),
    responses((status = 200, description = "Canceled at the end of the period", body = SubscriptionView),
        (status = 404, description = "No subscription to cancel (`not_found`)")))]
pub(crate) async fn cancel(
    subscriptions: web::Data<Subscriptions>,
    Caller(actor): Caller,
) -> Result<HttpResponse, ApiError> {
    let canceled = subscriptions.cancel(&actor).await?;
    Ok(HttpResponse::Ok().json(SubscriptionView::from(canceled)))
}

#[utoipa::path(get, operation_id = "list_subscriptions", path = "/api/v1/subscriptions", tag = "subscriptions", params(PageParams), security(("bearer" = [])),
    responses((status = 200, description = "One page of subscriptions, most recently changed first", body = PageView<SubscriptionView>),
        (status = 403, description = "Needs `subscriptions:manage` (`forbidden`)")))]
pub(crate) async fn list(
    subscriptions: web::Data<Subscriptions>,
    Caller(actor): Caller,
    query: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    Ok(HttpResponse::Ok().json(PageView::from(subscriptions.list(&actor, page).await?.map(SubscriptionView::from))))
}

#[utoipa::path(put, operation_id = "assign_subscription", path = "/api/v1/users/{id}/subscription", tag = "subscriptions", request_body = SubscribeBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user's new subscription, from their next request", body = SubscriptionView),
        (status = 403, description = "Needs `subscriptions:manage` (`forbidden`)"),
        (status = 404, description = "No such user (`not_found`)"),
        (status = 422, description = "No such plan (`validation_failed` on `plan`)")))]
pub(crate) async fn assign(
    subscriptions: web::Data<Subscriptions>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    body: web::Json<SubscribeBody>,
) -> Result<HttpResponse, ApiError> {
    let code = required("plan", body.plan.as_deref()).all()?;
    let saved = subscriptions.assign(&actor, UserId::from_uuid(*id), code, body.current_period_end).await?;
    Ok(HttpResponse::Ok().json(SubscriptionView::from(saved)))
}
