//! `/images`: upload (multipart, streamed), import, list, read, edit, delete, purge,
//! originals with ranges, thumbnails, and approval. Each handler parses (`bodies`), calls
//! one use-case and maps its answer (`views`); `upload` reads its form as it streams.

mod bodies;
mod upload;
mod views;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use gallery_domain::images::{Conditional, ImageImport, Images, Review};
use gallery_domain::{Image, ImageId, Seal};
use uuid::Uuid;

pub use bodies::{DecisionBody, GalleryImagesQuery, ImageBody, ImportBody, ListQuery, PurgeQuery, UploadForm};
pub use views::{ApprovalView, ClientLimitsView, ImageBytes, ImagePageView, ImageView, Purged, UserRefView};

use super::{Route, route};
use crate::ApiError;
use crate::extract::Caller;
use crate::send;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route!(list, ImagesRead),
        route!(upload, ImagesUpload),
        route!(purge, ImagesPurge),
        route!(import, ImagesUpload),
        route!(get, ImagesRead),
        route!(update, ImagesUpdate),
        route!(replace, ImagesUpdate),
        route!(delete, ImagesDelete),
        route!(original),
        route!(thumbnail),
        route!(decide, ImagesModerate),
        route!(approvals),
        route!(limits),
    ]
}

/// A multipart upload: the `file` part is streamed through the use-case as it arrives;
/// the text parts may come before or after it.
#[utoipa::path(post, operation_id = "upload_image", path = "/api/v1/images", tag = "images", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored; `pending` unless the uploader moderates", body = ImageView),
        (status = 400, description = "A malformed multipart body (`bad_request`)"),
        (status = 403, description = "Needs `images:upload` (`forbidden`), or over the plan's storage quota (`quota_exceeded`)"),
        (status = 413, description = "Over the plan's `max_upload_bytes` or the server maximum (`payload_too_large`)"),
        (status = 415, description = "Not JPEG, PNG, GIF, WebP, HEIC or AVIF by its bytes, or not a multipart request (`unsupported_media_type`)"),
        (status = 408, description = "The body stopped arriving for `server.body_idle_timeout_seconds` (`request_timeout`); nothing is kept"),
        (status = 422, description = "A field breaks its rule (`validation_failed`), the file does not decode (`invalid_image`) or has too many pixels (`image_too_large`)"),
        (status = 429, description = "The caller already has `server.max_uploads_per_user` uploads or imports in progress (`rate_limited`); see `Retry-After`")))]
pub(crate) async fn upload(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let seen = images.upload(&actor, upload::parts(form)).await?;
    upload::stored(&seen.item, "upload");
    Ok(HttpResponse::Created().json(ImageView::one(seen, &req)))
}

/// Fetches an image from a URL (HEAD, then GET; private addresses refused) and stores it
/// as an upload.
#[utoipa::path(post, operation_id = "import_image", path = "/api/v1/images/import", tag = "images", request_body = ImportBody, security(("bearer" = [])),
    responses((status = 201, description = "Stored; `pending` unless the importer moderates", body = ImageView),
        (status = 403, description = "Needs `images:upload` (`forbidden`), or over the storage quota (`quota_exceeded`)"),
        (status = 413, description = "Over the plan's `max_upload_bytes` (`payload_too_large`)"),
        (status = 415, description = "Not JPEG, PNG, GIF, WebP, HEIC or AVIF by its bytes (`unsupported_media_type`)"),
        (status = 422, description = "A refused scheme or address, a failed fetch, or one past `import.timeout_seconds` (`validation_failed` on `url`); an undecodable (`invalid_image`) or too large (`image_too_large`) image"),
        (status = 429, description = "The caller already has `server.max_uploads_per_user` uploads or imports in progress (`rate_limited`); see `Retry-After`")))]
pub(crate) async fn import(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    body: web::Json<ImportBody>,
) -> Result<HttpResponse, ApiError> {
    let import = ImageImport::try_from(body.into_inner())?;
    // In the request's own task: when the request ends (timeout, client gone) the import
    // stops with it and creates nothing, then or later.
    let seen = images.import(&actor, import).await?;
    upload::stored(&seen.item, "import");
    Ok(HttpResponse::Created().json(ImageView::one(seen, &req)))
}

#[utoipa::path(get, operation_id = "list_images", path = "/api/v1/images", tag = "images", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of the images the caller may see", body = ImagePageView),
        (status = 403, description = "Needs `images:read` (`forbidden`)")))]
pub(crate) async fn list(
    images: web::Data<Images>,
    cursors: web::Data<Seal>,
    Caller(actor): Caller,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page, cursor) = query.parse(&cursors)?;
    Ok(HttpResponse::Ok().json(ImageView::page(images.list(&actor, filter, page, cursor).await?, &req, &cursors)))
}

#[utoipa::path(get, operation_id = "get_image", path = "/api/v1/images/{id}", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The image", body = ImageView),
        (status = 403, description = "Needs `images:read` (`forbidden`)"),
        (status = 404, description = "Missing or not visible to the caller (`not_found`)")))]
pub(crate) async fn get(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let seen = images.get(&actor, ImageId::from_uuid(*id)).await?;
    Ok(HttpResponse::Ok().json(ImageView::one(seen, &req)))
}

#[utoipa::path(patch, operation_id = "update_image", path = "/api/v1/images/{id}", tag = "images", request_body = ImageBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The updated image", body = ImageView),
        (status = 403, description = "Needs `images:update` (`forbidden`)"),
        (status = 404, description = "Missing or not visible (`not_found`)"),
        (status = 422, description = "A field breaks its rule (`validation_failed`)")))]
pub(crate) async fn update(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ImageBody>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.into_inner().into_patch(false)?;
    let seen = images.update(&actor, ImageId::from_uuid(*id), patch).await?;
    Ok(HttpResponse::Ok().json(ImageView::one(seen, &req)))
}

#[utoipa::path(put, operation_id = "replace_image", path = "/api/v1/images/{id}", tag = "images", request_body = ImageBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The updated image; `title` and `description` are both required", body = ImageView),
        (status = 403, description = "Needs `images:update` (`forbidden`)"),
        (status = 404, description = "Missing or not visible (`not_found`)"),
        (status = 422, description = "A field is missing or breaks its rule (`validation_failed`)")))]
pub(crate) async fn replace(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ImageBody>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.into_inner().into_patch(true)?;
    let seen = images.update(&actor, ImageId::from_uuid(*id), patch).await?;
    Ok(HttpResponse::Ok().json(ImageView::one(seen, &req)))
}

#[utoipa::path(delete, operation_id = "delete_image", path = "/api/v1/images/{id}", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 204, description = "Deleted: the row, then the file"),
        (status = 403, description = "Needs `images:delete` (`forbidden`)"),
        (status = 404, description = "Missing or not visible (`not_found`)")))]
pub(crate) async fn delete(
    images: web::Data<Images>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    images.delete(&actor, ImageId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(delete, operation_id = "purge_images", path = "/api/v1/images", tag = "images", params(PurgeQuery), security(("bearer" = [])),
    responses((status = 200, description = "Every image deleted", body = Purged),
        (status = 403, description = "Needs `images:purge` (`forbidden`)")))]
pub(crate) async fn purge(
    images: web::Data<Images>,
    Caller(actor): Caller,
    query: web::Query<PurgeQuery>,
) -> Result<HttpResponse, ApiError> {
    query.confirmed()?;
    Ok(HttpResponse::Ok().json(Purged { deleted: images.purge(&actor).await? }))
}

#[utoipa::path(get, operation_id = "get_image_original", path = "/api/v1/images/{id}/original", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id"),
        ("Range" = Option<String>, Header, description = "One `bytes=` range"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses((status = 200, description = "The stored bytes, typed by their format, with `ETag` (the SHA-256) and `Content-Length`", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/gif"), (ImageBytes = "image/webp"), (ImageBytes = "image/heic"), (ImageBytes = "image/avif"))),
        (status = 206, description = "The requested range, with `Content-Range`", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/gif"), (ImageBytes = "image/webp"), (ImageBytes = "image/heic"), (ImageBytes = "image/avif"))),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 403, description = "The plan does not include originals (`plan_forbids`)"),
        (status = 404, description = "Missing or not visible (`not_found`)"),
        (status = 416, description = "The range is outside the file")))]
pub(crate) async fn original(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let etag = |image: &Image| format!("\"{}\"", image.sha256_hex());
    let cache = "private, max-age=3600";
    let range = send::range(&req);
    let asked = images.original(&actor, ImageId::from_uuid(*id), range, |image| send::holds(&req, &etag(image)));
    let original = match asked.await? {
        Conditional::Unchanged(image) => return Ok(send::unchanged(etag(&image), cache)),
        Conditional::Fresh(original) => original,
    };
    let mut res = send::whole_or_part(original.range, original.image.size_bytes);
    res.insert_header((header::ETAG, etag(&original.image)))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    Ok(send::stream(res, original.image.format.mime(), original.body))
}

#[utoipa::path(get, operation_id = "get_image_thumbnail", path = "/api/v1/images/{id}/thumbnails/{height}", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id"), ("height" = u32, Path, description = "One of the heights of the caller's plan"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses((status = 200, description = "The thumbnail: JPEG, or PNG where the image has transparent pixels; aspect kept, never upscaled", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"))),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 403, description = "A height outside the caller's plan (`plan_forbids`)"),
        (status = 404, description = "Missing or not visible (`not_found`)")))]
pub(crate) async fn thumbnail(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, u32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, height) = path.into_inner();
    // Made from the original's bytes at this height: the pair names it.
    let etag = |image: &Image| format!("\"{}-{height}\"", image.sha256_hex());
    let cache = "private, max-age=86400";
    let asked = images.thumbnail(&actor, ImageId::from_uuid(id), height, |image| send::holds(&req, &etag(image)));
    let thumb = match asked.await? {
        Conditional::Unchanged(image) => {
            metrics::counter!("gallery_thumbnails_served_total", "source" => "unchanged").increment(1);
            return Ok(send::unchanged(etag(&image), cache));
        }
        Conditional::Fresh(thumb) => thumb,
    };
    let source = if thumb.rendered { "rendered" } else { "cache" };
    metrics::counter!("gallery_thumbnails_served_total", "source" => source).increment(1);
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag(&thumb.image))).insert_header((header::CACHE_CONTROL, cache));
    Ok(send::stream(res, thumb.format.mime(), thumb.body))
}

#[utoipa::path(post, operation_id = "decide_image", path = "/api/v1/images/{id}/approval", tag = "images", request_body = DecisionBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The image with its new status", body = ImageView),
        (status = 403, description = "Needs `images:moderate` (`forbidden`)"),
        (status = 404, description = "No such image (`not_found`)"),
        (status = 422, description = "A bad decision, or a rejection without a reason (`validation_failed`)")))]
pub(crate) async fn decide(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<DecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let review = Review::try_from(body.into_inner())?;
    let seen = images.decide(&actor, ImageId::from_uuid(*id), review).await?;
    Ok(HttpResponse::Ok().json(ImageView::one(seen, &req)))
}

#[utoipa::path(get, operation_id = "list_image_approvals", path = "/api/v1/images/{id}/approvals", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The decision history, oldest first", body = Vec<ApprovalView>),
        (status = 403, description = "Needs `images:moderate` (`forbidden`)"),
        (status = 404, description = "No such image (`not_found`)")))]
pub(crate) async fn approvals(
    images: web::Data<Images>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let history = images.approvals(&actor, ImageId::from_uuid(*id)).await?;
    Ok(HttpResponse::Ok().json(history.into_iter().map(ApprovalView::from).collect::<Vec<_>>()))
}

/// What a client may do at once.
///
/// So that a client can pace itself: the uploads and imports one user may have in progress
/// (`server.max_uploads_per_user`; one more is 429) and the page sizes lists take. Open to
/// everyone; the same for every caller.
#[utoipa::path(get, operation_id = "get_limits", path = "/api/v1/limits", tag = "operations",
    responses((status = 200, description = "This server's limits for clients", body = ClientLimitsView)))]
pub(crate) async fn limits(images: web::Data<Images>) -> HttpResponse {
    HttpResponse::Ok().json(ClientLimitsView::from(images.client_limits()))
}
