//! Reading a multipart upload as it streams.

use actix_multipart::{Field, Multipart, MultipartError};
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use gallery_domain::images::{UploadField, UploadPart};
use gallery_domain::{DomainError, Image};

use crate::ApiError;

/// Text parts of an upload are small; anything bigger is refused, not buffered.
const TEXT_PART_MAX: usize = 16 * 1024;

/// An upload's form as it arrives, for [`gallery_domain::images::Images::upload`]: the
/// `file` part as a stream, each text part read whole, unknown parts drained.
///
/// Its errors: 415 when the request is not multipart; 400 for a malformed body; 422 for
/// a text part that is too long or not UTF-8.
pub(crate) fn parts(
    form: Multipart,
) -> impl Stream<Item = Result<UploadPart<impl Stream<Item = Result<Bytes, DomainError>> + Unpin>, ApiError>> {
    form.map_err(|e| form_error(&e)).try_filter_map(|field| async move {
        let name = field.name().unwrap_or_default();
        if name == UploadField::FILE {
            return Ok(Some(UploadPart::File(field.map_err(|e| multipart_error(&e)))));
        }
        let Some(text) = UploadField::named(name) else {
            field.map(|_| ()).collect::<()>().await;
            return Ok(None);
        };
        Ok(Some(UploadPart::Text(text, read_text(field, text.name()).await?)))
    })
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

/// Counts a stored image for `/metrics`.
pub(crate) fn stored(image: &Image, how: &'static str) {
    metrics::counter!("gallery_uploads_total", "kind" => how).increment(1);
    metrics::counter!("gallery_upload_bytes_total", "kind" => how).increment(image.size_bytes);
}
