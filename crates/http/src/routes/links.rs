//! Expiring share links: `/images/{id}/links`, `/links/{id}`, and the public `/l/{token}`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use gallery_domain::fields::{Fields as _, field, parsed};
use gallery_domain::links::{Links, Shared};
use gallery_domain::{ImageId, LinkId, ShareLink, Variant};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::images::ImageBytes;
use super::{Route, route};
use crate::extract::Caller;
use crate::limits::RateLimits;
use crate::urls::PublicUrl;
use crate::{ApiError, send};

pub(crate) fn routes() -> Vec<Route> {
    vec![route!(list), route!(create, LinksCreate), route!(revoke), route!(open)]
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkBody {
    /// Seconds, within the plan's `link_ttl_min..=link_ttl_max`.
    #[schema(value_type = i64, minimum = 1, example = 3600)]
    expires_in: Option<i64>,
    /// `original` (default) or `thumbnail:<height>`.
    #[schema(pattern = "^(original|thumbnail:[0-9]+)$", example = "thumbnail:400")]
    variant: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    id: Uuid,
    /// The absolute URL to share; shown once, at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[schema(example = "original")]
    variant: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl LinkView {
    fn new(link: ShareLink, url: Option<String>) -> Self {
        Self {
            id: link.id.as_uuid(),
            url,
            variant: link.variant.as_string(),
            expires_at: link.expires_at,
            created_at: link.created_at,
        }
    }
}

#[utoipa::path(post, operation_id = "create_link", path = "/api/v1/images/{id}/links", tag = "links", request_body = LinkBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 201, description = "The link, with its absolute URL", body = LinkView),
        (status = 403, description = "Needs `links:create` (`forbidden`); the plan has no expiring links or not this variant (`plan_forbids`)"),
        (status = 404, description = "Missing or not visible (`not_found`)"),
        (status = 409, description = "The image is not approved (`not_approved`)"),
        (status = 422, description = "`expires_in` outside the plan's bounds, or a bad variant (`validation_failed`)")))]
pub(crate) async fn create(
    links: web::Data<Links>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<LinkBody>,
) -> Result<HttpResponse, ApiError> {
    let (expires_in, variant) = (
        parsed("expires_in", body.expires_in, |s| u64::try_from(s).map_err(|_| "must be positive".to_owned())),
        field("variant", Variant::parse(body.variant.as_deref().unwrap_or("original"))),
    )
        .all()?;
    let (link, token) = links.create(&actor, ImageId::from_uuid(*id), expires_in, variant).await?;
    let url = PublicUrl::root(&req, &format!("/l/{}", token.as_str()));
    Ok(HttpResponse::Created().json(LinkView::new(link, Some(url))))
}

#[utoipa::path(get, operation_id = "list_links", path = "/api/v1/images/{id}/links", tag = "links", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The caller's live links to the image (their URLs are not kept)", body = Vec<LinkView>),
        (status = 404, description = "Missing or not visible (`not_found`)")))]
pub(crate) async fn list(
    links: web::Data<Links>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let views: Vec<LinkView> =
        links.list(&actor, ImageId::from_uuid(*id)).await?.into_iter().map(|l| LinkView::new(l, None)).collect();
    Ok(HttpResponse::Ok().json(views))
}

#[utoipa::path(delete, operation_id = "revoke_link", path = "/api/v1/links/{id}", tag = "links", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Link id")),
    responses((status = 204, description = "Revoked: the URL answers 410 from now on"),
        (status = 404, description = "No such link of the caller's (`not_found`)")))]
pub(crate) async fn revoke(
    links: web::Data<Links>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    links.revoke(&actor, LinkId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, operation_id = "open_link", path = "/l/{token}", tag = "links",
    params(("token" = String, Path, description = "The token from the link's URL")),
    responses((status = 200, description = "The shared bytes: the original in its format, or a JPEG or PNG thumbnail", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/gif"), (ImageBytes = "image/webp"), (ImageBytes = "image/heic"), (ImageBytes = "image/avif"))),
        (status = 404, description = "Unknown token (`not_found`)"),
        (status = 410, description = "Expired or revoked; or the image is no longer approved, its creator disabled, or the creator's plan no longer has expiring links or this variant (`link_expired`)"),
        (status = 429, description = "Too many fetches from this address (`rate_limited`); see `Retry-After`")))]
pub(crate) async fn open(
    links: web::Data<Links>,
    limits: web::Data<RateLimits>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    limits.link(&req).await?;
    let (mime, body) = match links.open(&token.into_inner().into()).await? {
        Shared::Original(original) => (original.image.format.mime(), original.body),
        Shared::Thumbnail(thumb) => (thumb.format.mime(), thumb.body),
    };
    let mut res = HttpResponse::Ok();
    // The link may be revoked at any moment: nobody keeps a copy.
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    Ok(send::stream(res, mime, body))
}
