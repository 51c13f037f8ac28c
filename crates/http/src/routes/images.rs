//! `/images`: upload (multipart, streamed), list, read, edit, delete, purge, originals with
//! ranges, and approval.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::{StreamExt as _, TryStreamExt as _};
use gallery_domain::images::{Images, UploadMeta};
use gallery_domain::{
    Actor, Approval, Decision, DomainError, FieldErrors, GalleryId, Image, ImageFilter, ImageId, ImagePatch, ImageSort,
    ImageStatus, Policy, UserId, parse_search, parse_text,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use gallery_domain::Permission;

use super::Endpoint;
use crate::extract::Caller;
use crate::urls::PublicUrl;
use crate::views::{PageView, double_option, parse_page};
use crate::{ApiError, Problem, send};

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new("/images")
            .get_needs(Permission::ImagesRead, list)
            .post_needs(Permission::ImagesUpload, upload)
            .delete_needs(Permission::ImagesPurge, purge),
        Endpoint::new("/images/import").post_needs(Permission::ImagesUpload, import),
        Endpoint::new("/images/{id}")
            .get_needs(Permission::ImagesRead, get)
            .patch_needs(Permission::ImagesUpdate, update)
            .put_needs(Permission::ImagesUpdate, replace)
            .delete_needs(Permission::ImagesDelete, delete),
        Endpoint::new("/images/{id}/original").get(original),
        Endpoint::new("/images/{id}/thumbnails/{height}").get(thumbnail),
        Endpoint::new("/images/{id}/approval").post_needs(Permission::ImagesModerate, decide),
        Endpoint::new("/images/{id}/approvals").get(approvals),
    ]
}

const TITLE_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 2000;
/// Text parts of an upload are small; anything bigger is refused, not buffered.
const TEXT_PART_MAX: usize = 16 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRefView {
    pub id: Uuid,
    pub username: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageLinks {
    /// The original file's URL, or null when the caller's plan does not include it.
    pub original: Option<String>,
    /// Thumbnail URLs by height, exactly the heights the caller's plan allows.
    pub thumbnails: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    #[schema(example = "pending")]
    pub status: &'static str,
    pub uploaded_by: UserRefView,
    pub gallery_id: Option<Uuid>,
    pub width: u32,
    pub height: u32,
    #[schema(example = "jpeg")]
    pub format: &'static str,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub links: ImageLinks,
}

impl ImageView {
    fn new(image: Image, actor: &Actor, now: chrono::DateTime<chrono::Utc>, req: &HttpRequest) -> Self {
        let (original, heights) = Policy::image_variants(actor, now);
        let root = PublicUrl::api(req, &format!("/images/{}", image.id));
        let links = ImageLinks {
            original: original.then(|| format!("{root}/original")),
            thumbnails: heights.iter().map(|h| (h.to_string(), format!("{root}/thumbnails/{h}"))).collect(),
        };
        Self {
            id: image.id.as_uuid(),
            sha256: image.sha256_hex(),
            title: image.title,
            description: image.description,
            status: image.status.as_str(),
            uploaded_by: UserRefView {
                id: image.uploaded_by.id.as_uuid(),
                username: image.uploaded_by.username.as_str().to_owned(),
            },
            gallery_id: image.gallery_id.map(|g| g.as_uuid()),
            width: image.width,
            height: image.height,
            format: image.format.as_str(),
            size_bytes: image.size_bytes,
            uploaded_at: image.uploaded_at,
            updated_at: image.updated_at,
            links,
        }
    }
}

pub(crate) fn view(images: &Images, actor: &Actor, req: &HttpRequest, image: Image) -> ImageView {
    ImageView::new(image, actor, images.now(), req)
}

/// The form itself is not multipart: the request's content type is wrong (415).
fn form_error(e: &MultipartError) -> ApiError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::UnsupportedMediaType("send multipart/form-data".into()),
        other => multipart_error(other).into(),
    }
}

fn multipart_error(e: &MultipartError) -> DomainError {
    DomainError::BadRequest(format!("malformed multipart body: {e}"))
}

async fn read_text(mut field: Field, name: &str) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(|e| multipart_error(&e))? {
        if buf.len() + chunk.len() > TEXT_PART_MAX {
            return Err(DomainError::field(name, "is too long").into());
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| DomainError::field(name, "must be UTF-8 text").into())
}

/// A multipart upload: the `file` part is streamed through the use-case as it arrives;
/// the text parts may come before or after it.
#[utoipa::path(post, operation_id = "upload_image", path = "/api/v1/images", tag = "images", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored; `pending` unless the uploader moderates", body = ImageView),
        (status = 400, description = "A malformed multipart body (`bad_request`)", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "Needs `images:upload` (`forbidden`), or over the plan's storage quota (`quota_exceeded`)", content_type = "application/problem+json", body = Problem),
        (status = 413, description = "Over the plan's `max_upload_bytes` or the server maximum (`payload_too_large`)", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "Not JPEG, PNG, GIF or WebP by its bytes, or not a multipart request (`unsupported_media_type`)", content_type = "application/problem+json", body = Problem),
        (status = 408, description = "The body stopped arriving for `server.body_idle_timeout_seconds` (`request_timeout`); nothing is kept", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "A field breaks its rule (`validation_failed`), the file does not decode (`invalid_image`) or has too many pixels (`image_too_large`)", content_type = "application/problem+json", body = Problem),
        (status = 429, description = "The caller already has `server.max_uploads_per_user` uploads or imports in progress (`rate_limited`); see `Retry-After`", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn upload(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    slots: web::Data<UploadSlots>,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let _slot = slots.acquire(actor.id()).await?;
    let mut staged = None;
    let (mut title, mut description, mut gallery) = (None, None, None);
    while let Some(field) = form.try_next().await.map_err(|e| form_error(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if staged.is_some() => return Err(DomainError::field("file", "send one file per upload").into()),
            "file" => {
                let body = field.map_err(|e| multipart_error(&e));
                staged = Some(images.ingest(&actor, body).await?);
            }
            "title" => title = Some(read_text(field, "title").await?),
            "description" => description = Some(read_text(field, "description").await?),
            "gallery_id" => gallery = Some(read_text(field, "gallery_id").await?),
            // Unknown parts are drained and ignored.
            _ => field.map(|_| ()).collect::<()>().await,
        }
    }
    let mut errors = FieldErrors::new();
    let title = errors.check("title", parse_text(title.as_deref().unwrap_or_default(), TITLE_MAX));
    let description =
        errors.check("description", parse_text(description.as_deref().unwrap_or_default(), DESCRIPTION_MAX));
    let gallery_id = gallery
        .filter(|g| !g.is_empty())
        .and_then(|g| errors.check("gallery_id", parse_uuid(&g).map(GalleryId::from_uuid)));
    if staged.is_none() {
        errors.push("file", "is required");
    }
    errors.finish()?;
    let (Some(staged), Some(title), Some(description)) = (staged, title, description) else {
        return Err(DomainError::field("file", "is required").into());
    };
    let (uploads, uploader) = (images.clone(), actor.clone());
    let meta = UploadMeta { title, description, gallery_id };
    let image = detached(async move { uploads.complete(&uploader, staged, meta).await }).await?;
    stored(&image, "upload");
    Ok(HttpResponse::Created().json(view(&images, &actor, &req, image)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportBody {
    /// An `http` or `https` URL of a JPEG, PNG, GIF or WebP image.
    #[schema(value_type = String, example = "https://example.com/cat.jpg")]
    url: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

/// Fetches an image from a URL (HEAD, then GET; private addresses refused) and stores it
/// as an upload.
#[utoipa::path(post, operation_id = "import_image", path = "/api/v1/images/import", tag = "images", request_body = ImportBody, security(("bearer" = [])),
    responses((status = 201, description = "Stored; `pending` unless the importer moderates", body = ImageView),
        (status = 403, description = "Needs `images:upload` (`forbidden`), or over the storage quota (`quota_exceeded`)", content_type = "application/problem+json", body = Problem),
        (status = 413, description = "Over the plan's `max_upload_bytes` (`payload_too_large`)", content_type = "application/problem+json", body = Problem),
        (status = 415, description = "Not JPEG, PNG, GIF or WebP by its bytes (`unsupported_media_type`)", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "A refused scheme or address, a failed fetch, or one past `import.timeout_seconds` (`validation_failed` on `url`); an undecodable (`invalid_image`) or too large (`image_too_large`) image", content_type = "application/problem+json", body = Problem),
        (status = 429, description = "The caller already has `server.max_uploads_per_user` uploads or imports in progress (`rate_limited`); see `Retry-After`", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn import(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    slots: web::Data<UploadSlots>,
    body: web::Json<ImportBody>,
) -> Result<HttpResponse, ApiError> {
    let _slot = slots.acquire(actor.id()).await?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let url = super::auth::required(&mut errors, "url", body.url.as_deref()).map(str::to_owned);
    let title = errors.check("title", parse_text(body.title.as_deref().unwrap_or_default(), TITLE_MAX));
    let description =
        errors.check("description", parse_text(body.description.as_deref().unwrap_or_default(), DESCRIPTION_MAX));
    errors.finish()?;
    let (Some(url), Some(title), Some(description)) = (url, title, description) else {
        return Err(DomainError::field("url", "is required").into());
    };
    let meta = UploadMeta { title, description, gallery_id: None };
    // In the request's own task: when the request ends (timeout, client gone) the import
    // stops with it and creates nothing, then or later.
    let image = images.import(&actor, &url, meta).await?;
    stored(&image, "import");
    Ok(HttpResponse::Created().json(view(&images, &actor, &req, image)))
}

/// Image bytes, for the spec: a binary string.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "a type for the spec only: image bytes are streamed, never held")]
pub struct ImageBytes(Vec<u8>);

/// Counts a stored image for `/metrics`.
fn stored(image: &Image, how: &'static str) {
    metrics::counter!("gallery_uploads_total", "kind" => how).increment(1);
    metrics::counter!("gallery_upload_bytes_total", "kind" => how).increment(image.size_bytes);
}

/// Runs the end of an upload or import as a task of its own. Once the bytes are in, a
/// cancelled request (timeout, client gone) must neither leave a file without its row nor
/// stop the clean-up of a failed one; the task finishes either way.
async fn detached<T: 'static>(work: impl Future<Output = Result<T, DomainError>> + 'static) -> Result<T, ApiError> {
    actix_web::rt::spawn(work)
        .await
        .map_err(|e| DomainError::Internal(format!("the upload task failed: {e}")))?
        .map_err(ApiError::from)
}

/// Uploads and imports in progress: at most `per_user` for one user at once (one more is
/// refused with 429 `rate_limited`, so that one user's slow uploads never hold every slot),
/// and at most `max` in all, the rest waiting their turn (within the request timeout).
/// Shared by every worker of the process.
#[derive(Debug, Clone)]
pub struct UploadSlots {
    all: Arc<tokio::sync::Semaphore>,
    per_user: u32,
    held: Arc<std::sync::Mutex<HashMap<UserId, u32>>>,
}

/// How long a user told to wait for a slot is asked to wait.
const SLOT_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

impl UploadSlots {
    #[must_use]
    pub fn new(max: usize, per_user: u32) -> Self {
        Self { all: Arc::new(tokio::sync::Semaphore::new(max.max(1))), per_user: per_user.max(1), held: Arc::default() }
    }

    /// A slot for one of `user`'s uploads, held until the guard drops.
    async fn acquire(&self, user: UserId) -> Result<UploadSlot, ApiError> {
        {
            let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = held.entry(user).or_default();
            if *count >= self.per_user {
                metrics::counter!("gallery_rate_limited_total", "scope" => "uploads").increment(1);
                return Err(ApiError::RateLimited(SLOT_RETRY));
            }
            *count += 1;
            metrics::gauge!("gallery_uploads_in_progress").increment(1.0);
        }
        // Counted from here: a request dropped while waiting for its turn frees it.
        let mut slot = UploadSlot { user, held: self.held.clone(), _turn: None };
        slot._turn = self.all.clone().acquire_owned().await.ok();
        Ok(slot)
    }
}

/// One upload's slot; dropping it frees it.
struct UploadSlot {
    user: UserId,
    held: Arc<std::sync::Mutex<HashMap<UserId, u32>>>,
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        metrics::gauge!("gallery_uploads_in_progress").decrement(1.0);
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.user);
            }
        }
    }
}

/// The multipart form of an upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the form; the handler reads the parts as they stream.
pub struct UploadForm {
    /// The image: JPEG, PNG, GIF or WebP, told by its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// At most 200 characters.
    title: Option<String>,
    /// At most 2000 characters.
    description: Option<String>,
    gallery_id: Option<Uuid>,
}

fn parse_uuid(raw: &str) -> Result<Uuid, String> {
    Uuid::parse_str(raw).map_err(|_| "must be a UUID".to_owned())
}

/// Filters, order and page of the image listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending`, `approved` or `rejected`.
    status: Option<String>,
    /// A user id.
    uploaded_by: Option<String>,
    gallery_id: Option<String>,
    /// Matches title or description, ignoring case.
    q: Option<String>,
    /// `uploaded_at`, `-uploaded_at` (default), `title` or `-title`.
    sort: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<ImageFilter, DomainError> {
        let bad = |what: &str, why: String| DomainError::BadRequest(format!("{what}: {why}"));
        Ok(ImageFilter {
            status: self.status.as_deref().map(ImageStatus::parse).transpose().map_err(|e| bad("status", e))?,
            uploaded_by: self
                .uploaded_by
                .as_deref()
                .map(parse_uuid)
                .transpose()
                .map_err(|e| bad("uploaded_by", e))?
                .map(UserId::from_uuid),
            gallery_id: self
                .gallery_id
                .as_deref()
                .map(parse_uuid)
                .transpose()
                .map_err(|e| bad("gallery_id", e))?
                .map(GalleryId::from_uuid),
            q: parse_search(self.q.as_deref()).map_err(|e| bad("q", e))?,
            sort: self
                .sort
                .as_deref()
                .map(ImageSort::parse)
                .transpose()
                .map_err(|e| bad("sort", e))?
                .unwrap_or_default(),
        })
    }
}

#[utoipa::path(get, operation_id = "list_images", path = "/api/v1/images", tag = "images", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of the images the caller may see", body = PageView<ImageView>),
        (status = 403, description = "Needs `images:read` (`forbidden`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn list(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = parse_page(query.page.as_deref(), query.per_page.as_deref())?;
    let listed = images.list(&actor, query.filter()?, page).await?;
    let now = images.now();
    Ok(HttpResponse::Ok().json(PageView::from(listed.map(|i| ImageView::new(i, &actor, now, &req)))))
}

#[utoipa::path(get, operation_id = "get_image", path = "/api/v1/images/{id}", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The image", body = ImageView),
        (status = 403, description = "Needs `images:read` (`forbidden`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Missing or not visible to the caller (`not_found`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn get(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let image = images.get(&actor, ImageId::from_uuid(*id)).await?;
    Ok(HttpResponse::Ok().json(view(&images, &actor, &req, image)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ImageBody {
    title: Option<String>,
    description: Option<String>,
    /// A gallery id, or null to take the image out of its gallery.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    gallery_id: Option<Option<String>>,
}

impl ImageBody {
    fn patch(self, require_texts: bool) -> Result<ImagePatch, DomainError> {
        let mut errors = FieldErrors::new();
        if require_texts {
            for (field, value) in [("title", &self.title), ("description", &self.description)] {
                if value.is_none() {
                    errors.push(field, "is required");
                }
            }
        }
        let title = self.title.as_deref().and_then(|t| errors.check("title", parse_text(t, TITLE_MAX)));
        let description =
            self.description.as_deref().and_then(|d| errors.check("description", parse_text(d, DESCRIPTION_MAX)));
        let gallery_id = match self.gallery_id {
            Some(Some(g)) => errors.check("gallery_id", parse_uuid(&g)).map(|g| Some(GalleryId::from_uuid(g))),
            Some(None) => Some(None),
            None => None,
        };
        errors.finish()?;
        Ok(ImagePatch { title, description, gallery_id })
    }
}

#[utoipa::path(patch, operation_id = "update_image", path = "/api/v1/images/{id}", tag = "images", request_body = ImageBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The updated image", body = ImageView),
        (status = 403, description = "Needs `images:update` (`forbidden`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Missing or not visible (`not_found`)", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "A field breaks its rule (`validation_failed`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn update(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ImageBody>,
) -> Result<HttpResponse, ApiError> {
    edit(&images, &actor, &req, *id, body.into_inner().patch(false)?).await
}

/// PATCH and PUT differ only in what the body must hold.
async fn edit(
    images: &Images,
    actor: &Actor,
    req: &HttpRequest,
    id: Uuid,
    patch: ImagePatch,
) -> Result<HttpResponse, ApiError> {
    let image = images.update(actor, ImageId::from_uuid(id), patch).await?;
    Ok(HttpResponse::Ok().json(view(images, actor, req, image)))
}

#[utoipa::path(put, operation_id = "replace_image", path = "/api/v1/images/{id}", tag = "images", request_body = ImageBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The updated image; `title` and `description` are both required", body = ImageView),
        (status = 403, description = "Needs `images:update` (`forbidden`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Missing or not visible (`not_found`)", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "A field is missing or breaks its rule (`validation_failed`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn replace(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ImageBody>,
) -> Result<HttpResponse, ApiError> {
    edit(&images, &actor, &req, *id, body.into_inner().patch(true)?).await
}

#[utoipa::path(delete, operation_id = "delete_image", path = "/api/v1/images/{id}", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 204, description = "Deleted: the row, then the file"),
        (status = 403, description = "Needs `images:delete` (`forbidden`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Missing or not visible (`not_found`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn delete(
    images: web::Data<Images>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    images.delete(&actor, ImageId::from_uuid(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurgeQuery {
    /// Must be `true`.
    confirm: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Purged {
    deleted: u64,
}

#[utoipa::path(delete, operation_id = "purge_images", path = "/api/v1/images", tag = "images", params(PurgeQuery), security(("bearer" = [])),
    responses((status = 200, description = "Every image deleted", body = Purged),
        (status = 403, description = "Needs `images:purge` (`forbidden`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn purge(
    images: web::Data<Images>,
    Caller(actor): Caller,
    query: web::Query<PurgeQuery>,
) -> Result<HttpResponse, ApiError> {
    if query.confirm.as_deref() != Some("true") {
        return Err(DomainError::BadRequest("deleting every image needs confirm=true".into()).into());
    }
    let deleted = images.purge(&actor).await?;
    Ok(HttpResponse::Ok().json(Purged { deleted }))
}

/// What a `Range` header asks of a blob of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// A single `bytes=` range; anything else (several ranges, other units, nonsense) is
/// ignored and the whole file served, as RFC 9110 allows.
fn parse_range(value: &str, size: u64) -> RangeAsk {
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return RangeAsk::Whole };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else { return RangeAsk::Whole };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => Some((s, e.min(size.saturating_sub(1)))),
        (Ok(_), Ok(_)) => return RangeAsk::Whole,
        (Ok(s), Err(_)) if end.is_empty() => Some((s, size.saturating_sub(1))),
        (Err(_), Ok(n)) if start.is_empty() && n > 0 => Some((size.saturating_sub(n), size.saturating_sub(1))),
        (Err(_), Ok(_)) if start.is_empty() => return RangeAsk::Unsatisfiable,
        _ => return RangeAsk::Whole,
    };
    match parsed {
        Some((s, e)) if s < size && s <= e => RangeAsk::Part(s, e),
        _ => RangeAsk::Unsatisfiable,
    }
}

#[utoipa::path(get, operation_id = "get_image_original", path = "/api/v1/images/{id}/original", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id"),
        ("Range" = Option<String>, Header, description = "One `bytes=` range"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses((status = 200, description = "The stored bytes, typed by their format, with `ETag` (the SHA-256) and `Content-Length`", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/gif"), (ImageBytes = "image/webp"))),
        (status = 206, description = "The requested range, with `Content-Range`", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"), (ImageBytes = "image/gif"), (ImageBytes = "image/webp"))),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 403, description = "The plan does not include originals (`plan_forbids`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Missing or not visible (`not_found`)", content_type = "application/problem+json", body = Problem),
        (status = 416, description = "The range is outside the file", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn original(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let image = images.original(&actor, ImageId::from_uuid(*id)).await?;
    let etag = format!("\"{}\"", image.sha256_hex());
    let cache = "private, max-age=3600";
    if let Some(res) = send::not_modified(&req, &etag, cache) {
        return Ok(res);
    }
    let size = image.size_bytes;
    let ask = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map_or(RangeAsk::Whole, |v| parse_range(v, size));
    let (mut res, range) = match ask {
        RangeAsk::Whole => (HttpResponse::Ok(), None),
        RangeAsk::Part(start, end) => {
            let mut res = HttpResponse::PartialContent();
            res.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
            (res, Some((start, end)))
        }
        RangeAsk::Unsatisfiable => return Err(ApiError::RangeNotSatisfiable(size)),
    };
    let body = images.open(&image, range).await?;
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    Ok(send::stream(res, image.format.mime(), body))
}

#[utoipa::path(get, operation_id = "get_image_thumbnail", path = "/api/v1/images/{id}/thumbnails/{height}", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id"), ("height" = u32, Path, description = "One of the heights of the caller's plan"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses((status = 200, description = "The thumbnail: JPEG, or PNG where the image has transparent pixels; aspect kept, never upscaled", content((ImageBytes = "image/jpeg"), (ImageBytes = "image/png"))),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 403, description = "A height outside the caller's plan (`plan_forbids`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Missing or not visible (`not_found`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn thumbnail(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, u32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, height) = path.into_inner();
    let thumb = images.thumbnail(&actor, ImageId::from_uuid(id), height).await?;
    let source = if thumb.rendered { "rendered" } else { "cache" };
    metrics::counter!("gallery_thumbnails_served_total", "source" => source).increment(1);
    // Made from the original's bytes at this height: the pair names it.
    let etag = format!("\"{}-{height}\"", thumb.image.sha256_hex());
    let cache = "private, max-age=86400";
    if let Some(res) = send::not_modified(&req, &etag, cache) {
        return Ok(res);
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, cache));
    Ok(send::stream(res, thumb.format.mime(), thumb.body))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `approved` or `rejected`.
    #[schema(value_type = String, pattern = "^(approved|rejected)$", example = "approved")]
    decision: Option<String>,
    /// Required to reject.
    reason: Option<String>,
}

#[utoipa::path(post, operation_id = "decide_image", path = "/api/v1/images/{id}/approval", tag = "images", request_body = DecisionBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The image with its new status", body = ImageView),
        (status = 403, description = "Needs `images:moderate` (`forbidden`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such image (`not_found`)", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "A bad decision, or a rejection without a reason (`validation_failed`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn decide(
    images: web::Data<Images>,
    Caller(actor): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<DecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let decision = match body.decision.as_deref() {
        Some(d) => errors.check("decision", Decision::parse(d)),
        None => {
            errors.push("decision", "is required");
            None
        }
    };
    let reason = body.reason.as_deref().and_then(|r| errors.check("reason", parse_text(r, DESCRIPTION_MAX)));
    errors.finish()?;
    let Some(decision) = decision else { return Err(DomainError::field("decision", "is required").into()) };
    let image = images.decide(&actor, ImageId::from_uuid(*id), decision, reason).await?;
    Ok(HttpResponse::Ok().json(view(&images, &actor, &req, image)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    id: Uuid,
    decision: &'static str,
    reason: Option<String>,
    decided_by: Option<UserRefView>,
    decided_at: chrono::DateTime<chrono::Utc>,
}

impl From<Approval> for ApprovalView {
    fn from(a: Approval) -> Self {
        Self {
            id: a.id,
            decision: a.decision.as_str(),
            reason: a.reason,
            decided_by: a
                .decided_by
                .map(|u| UserRefView { id: u.id.as_uuid(), username: u.username.as_str().to_owned() }),
            decided_at: a.decided_at,
        }
    }
}

#[utoipa::path(get, operation_id = "list_image_approvals", path = "/api/v1/images/{id}/approvals", tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "The decision history, oldest first", body = Vec<ApprovalView>),
        (status = 403, description = "Needs `images:moderate` (`forbidden`)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "No such image (`not_found`)", content_type = "application/problem+json", body = Problem)))]
pub(crate) async fn approvals(
    images: web::Data<Images>,
    Caller(actor): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let history: Vec<ApprovalView> =
        images.approvals(&actor, ImageId::from_uuid(*id)).await?.into_iter().map(ApprovalView::from).collect();
    Ok(HttpResponse::Ok().json(history))
}

#[cfg(test)]
mod tests {
    use super::{RangeAsk, parse_range};

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAsk::Part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeAsk::Part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeAsk::Part(90, 99));
        assert_eq!(parse_range("bytes=50-500", 100), RangeAsk::Part(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAsk::Whole);
        assert_eq!(parse_range("items=0-1", 100), RangeAsk::Whole);
        assert_eq!(parse_range("bytes=abc", 100), RangeAsk::Whole);
    }
}
