//! When a photo was taken and with what camera, from its EXIF: `DateTimeOriginal` with
//! `OffsetTimeOriginal` (read as UTC without one), `Make` and `Model`; and whether its
//! `Orientation` turns it a quarter. kamadak-exif reads
//! the TIFF structure; a block it cannot read, or a date that is no date, tells nothing.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone as _, Utc};
use exif::{Field, In, Tag, Value};
use gallery_domain::{Camera, Shot};

/// What `exif` (a TIFF structure, with or without its `Exif\0\0`) says of the shot, and
/// whether it says the picture is shown turned a quarter (`Orientation` 5 to 8: width and
/// height trade places).
pub(crate) fn from_exif(exif: &[u8]) -> (Shot, bool) {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    // Read as the thumbnails read it, so that sizes and thumbnails never disagree.
    let turned = image::metadata::Orientation::from_exif_chunk(tiff).is_some_and(crate::turns_a_quarter);
    let Ok(read) = exif::Reader::new().read_raw(tiff.to_vec()) else { return (Shot::default(), turned) };
    let ascii = |tag| read.get_field(tag, In::PRIMARY).and_then(first_ascii);
    let text = |tag| ascii(tag).map(|bytes| String::from_utf8_lossy(bytes).into_owned());
    let shot = Shot {
        taken_at: ascii(Tag::DateTimeOriginal).and_then(|at| taken_at(at, ascii(Tag::OffsetTimeOriginal))),
        camera: Camera::from_exif(text(Tag::Make).as_deref(), text(Tag::Model).as_deref()),
    };
    (shot, turned)
}

fn first_ascii(field: &Field) -> Option<&[u8]> {
    match &field.value {
        Value::Ascii(values) => values.first().map(Vec::as_slice),
        _ => None,
    }
}

/// `YYYY:MM:DD HH:MM:SS` at `±HH:MM`, or as UTC when no offset is recorded.
fn taken_at(at: &[u8], offset: Option<&[u8]>) -> Option<DateTime<Utc>> {
    let mut at = exif::DateTime::from_ascii(at).ok()?;
    if let Some(offset) = offset {
        // A blank or malformed offset is no offset.
        let _ = at.parse_offset(offset);
    }
    let local = NaiveDate::from_ymd_opt(at.year.into(), at.month.into(), at.day.into())?.and_hms_opt(
        at.hour.into(),
        at.minute.into(),
        at.second.into(),
    )?;
    match at.offset {
        Some(minutes) => {
            FixedOffset::east_opt(i32::from(minutes) * 60)?.from_local_datetime(&local).single().map(|t| t.to_utc())
        }
        None => Some(Utc.from_utc_datetime(&local)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::taken_at;

    #[test]
    fn a_date_with_its_offset_is_that_instant_and_without_one_it_is_utc() {
        let utc = |h| Utc.with_ymd_and_hms(2024, 5, 1, h, 30, 15).single();
        assert_eq!(taken_at(b"2024:05:01 12:30:15", Some(b"+02:00")), utc(10));
        assert_eq!(taken_at(b"2024:05:01 12:30:15", Some(b"-05:00")), utc(17));
        assert_eq!(taken_at(b"2024:05:01 12:30:15", None), utc(12));
        assert_eq!(taken_at(b"2024:05:01 12:30:15", Some(b"   :  ")), utc(12), "a blank offset is none");
        assert_eq!(taken_at(b"    :  :     :  :  ", None), None, "blank");
        assert_eq!(taken_at(b"2024:13:01 12:30:15", None), None, "no 13th month");
        assert_eq!(taken_at(b"2024:05:01", None), None, "too short");
    }
}
