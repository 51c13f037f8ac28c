//! What clients send to `/images`, and the domain commands and filters it parses into.

use gallery_domain::fields::{Field, Fields as _, nullable, optional, parsed};
use gallery_domain::images::{ImageImport, Review, UploadField, UploadMeta};
use gallery_domain::{
    Decision, Description, DomainError, GalleryId, ImageCursor, ImageFilter, ImagePatch, ImageSort, ImageStatus,
    PageRequest, Reason, Seal, SearchText, Title, UserId, WebUrl,
};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};

use crate::parse::{self, double_option, query};

/// The multipart form of an upload, for the spec only: the handler reads the parts as they
/// stream (see `super::upload`). Its part names are the domain's ([`UploadField`]).
#[derive(Debug)]
pub struct UploadForm;

impl utoipa::PartialSchema for UploadForm {
    fn schema() -> RefOr<Schema> {
        let text = |field: UploadField| {
            let nullable_string = SchemaType::from_iter([Type::String, Type::Null]);
            match field {
                UploadField::Title => {
                    ObjectBuilder::new().schema_type(nullable_string).description(Some("At most 200 characters."))
                }
                UploadField::Description => {
                    ObjectBuilder::new().schema_type(nullable_string).description(Some("At most 2000 characters."))
                }
                UploadField::GalleryId => ObjectBuilder::new()
                    .schema_type(nullable_string)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            }
        };
        let file = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The image: JPEG, PNG, GIF, WebP, HEIC or AVIF, told by its bytes."));
        UploadField::ALL
            .into_iter()
            .fold(ObjectBuilder::new().property(UploadField::FILE, file), |form, field| {
                form.property(field.name(), text(field))
            })
            .required(UploadField::FILE)
            .description(Some("The multipart form of an upload."))
            .into()
    }
}

impl ToSchema for UploadForm {}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportBody {
    /// An `http` or `https` URL of a JPEG, PNG, GIF, WebP, HEIC or AVIF image.
    #[schema(value_type = String, example = "https://example.com/cat.jpg")]
    url: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

impl TryFrom<ImportBody> for ImageImport {
    type Error = DomainError;

    fn try_from(body: ImportBody) -> Result<Self, DomainError> {
        let (url, title, description) = (
            parsed("url", body.url.as_deref(), WebUrl::parse),
            optional("title", body.title.as_deref(), Title::parse),
            optional("description", body.description.as_deref(), Description::parse),
        )
            .all()?;
        let meta = UploadMeta {
            title: title.unwrap_or_default(),
            description: description.unwrap_or_default(),
            gallery_id: None,
        };
        Ok(Self { url, meta })
    }
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
    /// `PATCH` changes what it sends; `PUT` (`whole`) must send both texts.
    pub(crate) fn into_patch(self, whole: bool) -> Result<ImagePatch, DomainError> {
        let (title, description, gallery_id) = (
            text(whole, "title", self.title.as_deref(), Title::parse),
            text(whole, "description", self.description.as_deref(), Description::parse),
            nullable("gallery_id", self.gallery_id, |g| GalleryId::parse(&g)),
        )
            .all()?;
        Ok(ImagePatch { title, description, gallery_id })
    }
}

/// A text of an image's change: required when the change is `whole`.
fn text<T>(whole: bool, name: &str, value: Option<&str>, parse: fn(&str) -> Result<T, String>) -> Field<Option<T>> {
    if whole { parsed(name, value, parse).map(Some) } else { optional(name, value, parse) }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `approved` or `rejected`.
    #[schema(value_type = String, pattern = "^(approved|rejected)$", example = "approved")]
    decision: Option<String>,
    /// Required to reject.
    reason: Option<String>,
}

impl TryFrom<DecisionBody> for Review {
    type Error = DomainError;

    fn try_from(body: DecisionBody) -> Result<Self, DomainError> {
        let (decision, reason) = (
            parsed("decision", body.decision.as_deref(), Decision::parse),
            optional("reason", body.reason.as_deref(), Reason::parse),
        )
            .all()?;
        Ok(Self { decision, reason })
    }
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
    /// `uploaded_at`, `-uploaded_at` (default), `title`, `-title`, `taken_at` or `-taken_at`
    /// (images with no `taken_at` last either way).
    sort: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
    /// The `next` of the page before, to read on from it (with the same filters and sort):
    /// as fast however deep; `page` is then ignored. Cursors are signed: one altered in any
    /// byte is a 400.
    cursor: Option<String>,
}

impl ListQuery {
    pub(crate) fn parse(&self, seal: &Seal) -> Result<(ImageFilter, PageRequest, Option<ImageCursor>), DomainError> {
        let filter = ImageFilter {
            status: query("status", self.status.as_deref(), ImageStatus::parse)?,
            uploaded_by: query("uploaded_by", self.uploaded_by.as_deref(), UserId::parse)?,
            gallery_id: query("gallery_id", self.gallery_id.as_deref(), GalleryId::parse)?,
            q: SearchText::parse_query(self.q.as_deref()).map_err(parse::bad("q"))?,
            sort: query("sort", self.sort.as_deref(), ImageSort::parse)?.unwrap_or_default(),
        };
        let (page, cursor) = position(self.page.as_deref(), self.per_page.as_deref(), self.cursor.as_deref(), seal)?;
        Ok((filter, page, cursor))
    }
}

/// Where an image list starts: the page `page` and `per_page` name, or after `cursor`.
fn position(
    page: Option<&str>,
    per_page: Option<&str>,
    cursor: Option<&str>,
    seal: &Seal,
) -> Result<(PageRequest, Option<ImageCursor>), DomainError> {
    Ok((parse::page(page, per_page)?, query("cursor", cursor, |raw| ImageCursor::open(raw, seal))?))
}

/// A page of a gallery's images: by number, or after a cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GalleryImagesQuery {
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    /// Items per page, 1..=100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
    /// The `next` of the page before, to read on from it; `page` is then ignored.
    cursor: Option<String>,
}

impl GalleryImagesQuery {
    pub(crate) fn parse(&self, seal: &Seal) -> Result<(PageRequest, Option<ImageCursor>), DomainError> {
        position(self.page.as_deref(), self.per_page.as_deref(), self.cursor.as_deref(), seal)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurgeQuery {
    /// Must be `true`.
    confirm: Option<String>,
}

impl PurgeQuery {
    /// # Errors
    /// `BadRequest` unless `confirm=true`.
    pub(crate) fn confirmed(&self) -> Result<(), DomainError> {
        if self.confirm.as_deref() == Some("true") {
            Ok(())
        } else {
            Err(DomainError::BadRequest("deleting every image needs confirm=true".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_put_needs_both_texts_and_a_patch_neither() {
        let body = || ImageBody { title: None, description: Some("d".into()), gallery_id: Some(None) };
        let patch = body().into_patch(false).unwrap();
        assert!(patch.title.is_none() && patch.description.is_some() && patch.gallery_id == Some(None));
        let Err(DomainError::Validation(errors)) = body().into_patch(true) else { panic!("a PUT without a title") };
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].field.as_str(), errors[0].message.as_str()), ("title", "is required"));
    }
}
