//! What `/images` answers with.

use std::collections::BTreeMap;

use actix_web::HttpRequest;
use gallery_domain::images::ClientLimits;
use gallery_domain::{Approval, Image, ImagePage, Seal, Seen, UserRef, Variants};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::urls::PublicUrl;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRefView {
    pub id: Uuid,
    pub username: String,
}

impl From<UserRef> for UserRefView {
    fn from(u: UserRef) -> Self {
        Self { id: u.id.as_uuid(), username: u.username.as_str().to_owned() }
    }
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
    /// What the stored bytes are: `jpeg`, `png`, `gif`, `webp`, `heic` or `avif`.
    #[schema(example = "jpeg")]
    pub format: &'static str,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// When the photo was taken (EXIF `DateTimeOriginal` at its `OffsetTimeOriginal`, else
    /// read as UTC), or null.
    pub taken_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The camera EXIF names, or null.
    pub camera: Option<CameraView>,
    pub links: ImageLinks,
}

/// EXIF's `Make` and `Model`; either may be null.
#[derive(Debug, Serialize, ToSchema)]
pub struct CameraView {
    #[schema(example = "Canon")]
    pub make: Option<String>,
    #[schema(example = "Canon EOS R5")]
    pub model: Option<String>,
}

impl ImageView {
    /// `image` with the links to what the caller may fetch of it.
    pub(crate) fn new(image: Image, variants: &Variants, req: &HttpRequest) -> Self {
        let root = PublicUrl::api(req, &format!("/images/{}", image.id));
        let links = ImageLinks {
            original: variants.original.then(|| format!("{root}/original")),
            thumbnails: variants
                .thumbnail_heights
                .iter()
                .map(|h| (h.to_string(), format!("{root}/thumbnails/{h}")))
                .collect(),
        };
        Self {
            id: image.id.as_uuid(),
            sha256: image.sha256_hex(),
            title: image.title,
            description: image.description,
            status: image.status.as_str(),
            uploaded_by: image.uploaded_by.into(),
            gallery_id: image.gallery_id.map(|g| g.as_uuid()),
            width: image.width,
            height: image.height,
            format: image.format.as_str(),
            size_bytes: image.size_bytes,
            uploaded_at: image.uploaded_at,
            updated_at: image.updated_at,
            taken_at: image.shot.taken_at,
            camera: image.shot.camera.map(|c| CameraView { make: c.make, model: c.model }),
            links,
        }
    }

    pub(crate) fn one(seen: Seen<Image>, req: &HttpRequest) -> Self {
        Self::new(seen.item, &seen.variants, req)
    }

    pub(crate) fn page(seen: Seen<ImagePage>, req: &HttpRequest, seal: &Seal) -> ImagePageView {
        let Seen { item: ImagePage { page, total_exact, next }, variants } = seen;
        ImagePageView {
            items: page.items.into_iter().map(|image| Self::new(image, &variants, req)).collect(),
            page: page.page,
            per_page: page.per_page,
            total: page.total,
            total_exact,
            next: next.map(|c| c.seal(seal)),
        }
    }
}

/// A page of images: the pagination envelope, and how to read on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImagePageView {
    pub items: Vec<ImageView>,
    pub page: u32,
    pub per_page: u32,
    /// Exact, unless `total_exact` is false: a `q` search stops counting at 10,000.
    pub total: u64,
    pub total_exact: bool,
    /// The cursor of the page after this one (send it as `cursor`); null on the last.
    pub next: Option<String>,
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
            decided_by: a.decided_by.map(UserRefView::from),
            decided_at: a.decided_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Purged {
    pub(crate) deleted: u64,
}

/// Image bytes, for the spec: a binary string.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "a type for the spec only: image bytes are streamed, never held")]
pub struct ImageBytes(Vec<u8>);

/// `GET /limits`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientLimitsView {
    /// Uploads and imports one user may have in progress at once; one more is 429.
    #[schema(example = 2)]
    max_uploads_per_user: u32,
    /// `per_page` when a list is not told.
    #[schema(example = 20)]
    default_per_page: u32,
    /// The largest `per_page` a list takes.
    #[schema(example = 100)]
    max_per_page: u32,
}

impl From<ClientLimits> for ClientLimitsView {
    fn from(limits: ClientLimits) -> Self {
        let ClientLimits { max_uploads_per_user, default_per_page, max_per_page } = limits;
        Self { max_uploads_per_user, default_per_page, max_per_page }
    }
}
