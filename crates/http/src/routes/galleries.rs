//! `/galleries`.

use actix_web::{HttpRequest, HttpResponse, web};
use gallery_domain::fields::{Fields as _, optional, parsed};
use gallery_domain::galleries::Galleries;
use gallery_domain::{Description, DomainError, Gallery, GalleryId, GalleryPatch, Name, NewGallery, Seal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::images::{GalleryImagesQuery, ImagePageView, ImageView};
use super::{Route, route};
use crate::ApiError;
use crate::extract::Caller;
use crate::views::{PageParams, PageView};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route!(list, ImagesRead),
        route!(create, GalleriesManage),
        route!(get, ImagesRead),
        route!(update, GalleriesManage),
        route!(delete, GalleriesManage),
    ]
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GalleryView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub created_by: Option<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Gallery> for GalleryView {
    fn from(g: Gallery) -> Self {
        Self {
            id: g.id.as_uuid(),
            name: g.name,
            description: g.description,
            created_by: g.created_by.map(|u| u.as_uuid()),
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A gallery with one page of the images in it the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct GalleryDetail {
    #[serde(flatten)]
    gallery: GalleryView,
    images: ImagePageView,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GalleryBody {
    /// 1 to 100 characters.
    name: Option<String>,
    /// At most 2000 characters.
    description: Option<String>,
}

impl TryFrom<GalleryBody> for NewGallery {
    type Error = DomainError;

    fn try_from(body: GalleryBody) -> Result<Self, DomainError> {
        let (name, description) = (
            parsed("name", body.name.as_deref(), Name::parse),
            optional("description", body.description.as_deref(), Description::parse),
        )
            .all()?;
        Ok(Self { name, description: description.unwrap_or_default() })
    }
}

impl TryFrom<GalleryBody> for GalleryPatch {
    type Error = DomainError;

    fn try_from(body: GalleryBody) -> Result<Self, DomainError> {
        let (name, description) = (
            optional("name", body.name.as_deref(), Name::parse),
            optional("description", body.description.as_deref(), Description::parse),
        )
            .all()?;
        Ok(Self { name, description })
    }
}

#[utoipa::path(get, operation_id = "list_galleries", path = "/api/v1/galleries", tag = "galleries", params(PageParams), security(("bearer" = [])),
    responses((status = 200, description = "One page of galleries, newest first", body = PageView<GalleryView>),
        (status = 403, description = "Needs `images:read` (`forbidden`)")))]
pub(crate) async fn list(
    galleries: web::Data<Galleries>,
    Caller(actor): Caller,
    query: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    Ok(HttpResponse::Ok().json(PageView::from(galleries.list(&actor, page).await?.map(GalleryView::from))))
}

#[utoipa::path(get, operation_id = "get_gallery", path = "/api/v1/galleries/{id}", tag = "galleries", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Gallery id"), GalleryImagesQuery),
    responses((status = 200, description = "The gallery and a page of its images the caller may see", body = GalleryDetail),
        (status = 403, description = "Needs `images:read` (`forbidden`)"),
        (status = 404, description = "No such gallery (`not_found`)")))]
pub(crate) async fn get(
    galleries: web::Data<Galleries>,
    cursors: web::Data<Seal>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: web::Query<GalleryImagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, cursor) = query.parse(&cursors)?;
    let (gallery, images) = galleries.get(&actor, GalleryId::from_uuid(*id), page, cursor).await?;
    let images = ImageView::page(images, &req, &cursors);
    Ok(HttpResponse::Ok().json(GalleryDetail { gallery: gallery.into(), images }))
}

#[utoipa::path(post, operation_id = "create_gallery", path = "/api/v1/galleries", tag = "galleries", request_body = GalleryBody, security(("bearer" = [])),
    responses((status = 201, description = "The new gallery", body = GalleryView),
        (status = 403, description = "Needs `galleries:manage` (`forbidden`)"),
        (status = 422, description = "A field breaks its rule (`validation_failed`)")))]
pub(crate) async fn create(
    galleries: web::Data<Galleries>,
    Caller(actor): Caller,
    body: web::Json<GalleryBody>,
) -> Result<HttpResponse, ApiError> {
    let new = NewGallery::try_from(body.into_inner())?;
    Ok(HttpResponse::Created().json(GalleryView::from(galleries.create(&actor, new).await?)))
}

#[utoipa::path(patch, operation_id = "update_gallery", path = "/api/v1/galleries/{id}", tag = "galleries", request_body = GalleryBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Gallery id")),
    responses((status = 200, description = "The updated gallery", body = GalleryView),
        (status = 403, description = "Needs `galleries:manage` (`forbidden`)"),
        (status = 404, description = "No such gallery (`not_found`)"),
        (status = 422, description = "A field breaks its rule (`validation_failed`)")))]
pub(crate) async fn update(
    galleries: web::Data<Galleries>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
    body: web::Json<GalleryBody>,
) -> Result<HttpResponse, ApiError> {
    let patch = GalleryPatch::try_from(body.into_inner())?;
    Ok(HttpResponse::Ok().json(GalleryView::from(galleries.update(&actor, GalleryId::from_uuid(*id), patch).await?)))
}

#[utoipa::path(delete, operation_id = "delete_gallery", path = "/api/v1/galleries/{id}", tag = "galleries", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Gallery id")),
    responses((status = 204, description = "Deleted; its images stay, in no gallery"),
        (status = 403, description = "Needs `galleries:manage` (`forbidden`)"),
        (status = 404, description = "No such gallery (`not_found`)")))]
pub(crate) async fn delete(
    galleries: web::Data<Galleries>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    galleries.delete(&actor, GalleryId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
