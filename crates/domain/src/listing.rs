//! Image lists at any depth: pages that say how to read on, and keyset cursors.

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::{DomainError, Image, ImageFilter, ImageId, ImageSort, Page, Seal};

/// One page of an image list, and how to read on.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePage {
    pub page: Page<Image>,
    /// False when `page.total` is a floor: a `q` search stops counting at
    /// [`ImageFilter::SEARCH_COUNT_LIMIT`].
    pub total_exact: bool,
    /// The page after this one; `None` on the last.
    pub next: Option<ImageCursor>,
}

/// Where a list goes on: just after an image, by the key of the list's sort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    Uploaded {
        at: DateTime<Utc>,
        id: ImageId,
    },
    Titled {
        title: String,
        id: ImageId,
    },
    /// `at: None`: among the images with no `taken_at`, which come last either way.
    Taken {
        at: Option<DateTime<Utc>>,
        id: ImageId,
    },
}

impl After {
    fn of(image: &Image, sort: ImageSort) -> Self {
        match sort {
            ImageSort::NewestFirst | ImageSort::OldestFirst => Self::Uploaded { at: image.uploaded_at, id: image.id },
            ImageSort::Title | ImageSort::TitleDescending => Self::Titled { title: image.title.clone(), id: image.id },
            ImageSort::TakenFirst | ImageSort::TakenLast => Self::Taken { at: image.shot.taken_at, id: image.id },
        }
    }
}

/// The opaque `next` a client is handed and sends back as `cursor`: the key of the last
/// image of a page, and a fingerprint of the sort and filter it was made for, sealed
/// ([`Seal`]) so that none can be forged or altered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageCursor {
    listing: [u8; 8],
    after: After,
}

const VERSION: u8 = 1;
const UPLOADED: u8 = 0;
const TITLED: u8 = 1;
const TAKEN: u8 = 2;

impl ImageCursor {
    /// The cursor for the page after `last`, in the list `filter` makes.
    #[must_use]
    pub fn after(last: &Image, filter: &ImageFilter) -> Self {
        Self { listing: fingerprint(filter), after: After::of(last, filter.sort) }
    }

    /// The cursor `raw` is, when `seal` made it and nothing in it changed.
    ///
    /// # Errors
    /// The message for a cursor that is not one of ours, or was altered.
    pub fn open(raw: &str, seal: &Seal) -> Result<Self, String> {
        let bytes = seal.open(raw).ok_or_else(|| "is not a cursor this server made, or was altered".to_owned())?;
        Self::from_bytes(&bytes)
    }

    /// The cursor as the client holds it.
    #[must_use]
    pub fn seal(&self, seal: &Seal) -> String {
        seal.seal(&self.to_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let malformed = || "is not a cursor this server made".to_owned();
        let (&[VERSION], rest) = bytes.split_at_checked(1).ok_or_else(malformed)? else { return Err(malformed()) };
        let (listing, rest) = rest.split_first_chunk::<8>().ok_or_else(malformed)?;
        let (&kind, rest) = rest.split_first().ok_or_else(malformed)?;
        let (id, rest) = rest.split_first_chunk::<16>().ok_or_else(malformed)?;
        let id = ImageId::from_uuid(Uuid::from_bytes(*id));
        let after = match kind {
            UPLOADED => {
                let micros = i64::from_be_bytes(*<&[u8; 8]>::try_from(rest).map_err(|_| malformed())?);
                After::Uploaded { at: DateTime::from_timestamp_micros(micros).ok_or_else(malformed)?, id }
            }
            TITLED => After::Titled { title: String::from_utf8(rest.to_vec()).map_err(|_| malformed())?, id },
            TAKEN => match rest {
                [] => After::Taken { at: None, id },
                micros => {
                    let micros = i64::from_be_bytes(*<&[u8; 8]>::try_from(micros).map_err(|_| malformed())?);
                    After::Taken { at: Some(DateTime::from_timestamp_micros(micros).ok_or_else(malformed)?), id }
                }
            },
            _ => return Err(malformed()),
        };
        Ok(Self { listing: *listing, after })
    }

    /// Where to go on from, when the cursor was made for this sort and filter.
    ///
    /// # Errors
    /// `BadRequest` when it was made for another.
    pub fn resume(&self, filter: &ImageFilter) -> Result<&After, DomainError> {
        if self.listing == fingerprint(filter) {
            Ok(&self.after)
        } else {
            Err(DomainError::BadRequest("cursor: made for another sort or filter".into()))
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![VERSION];
        bytes.extend_from_slice(&self.listing);
        match &self.after {
            After::Uploaded { at, id } => {
                bytes.push(UPLOADED);
                bytes.extend_from_slice(id.as_uuid().as_bytes());
                bytes.extend_from_slice(&at.timestamp_micros().to_be_bytes());
            }
            After::Titled { title, id } => {
                bytes.push(TITLED);
                bytes.extend_from_slice(id.as_uuid().as_bytes());
                bytes.extend_from_slice(title.as_bytes());
            }
            After::Taken { at, id } => {
                bytes.push(TAKEN);
                bytes.extend_from_slice(id.as_uuid().as_bytes());
                if let Some(at) = at {
                    bytes.extend_from_slice(&at.timestamp_micros().to_be_bytes());
                }
            }
        }
        bytes
    }
}

/// Eight bytes that tell lists apart: every filter and the sort.
fn fingerprint(filter: &ImageFilter) -> [u8; 8] {
    let ImageFilter { status, uploaded_by, gallery_id, q, sort } = filter;
    let text = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{sort:?}",
        status.map_or("", |s| s.as_str()),
        uploaded_by.map(|u| u.to_string()).unwrap_or_default(),
        gallery_id.map(|g| g.to_string()).unwrap_or_default(),
        q.as_ref().map_or("", |q| q.as_str()),
    );
    let digest = Sha256::digest(text.as_bytes());
    let mut listing = [0; 8];
    listing.copy_from_slice(&digest[..8]);
    listing
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::{SearchText, UserId};

    fn image(title: &str) -> Image {
        let owner = crate::testing::user_with_role(crate::testing::builtin_role("beta_player"));
        let mut image = crate::testing::image_of(&owner, crate::ImageStatus::Approved);
        image.title = title.into();
        image.uploaded_at = Utc.with_ymd_and_hms(2026, 5, 4, 3, 2, 1).unwrap() + chrono::Duration::microseconds(7);
        image
    }

    #[test]
    fn a_cursor_round_trips_for_every_sort() {
        let untaken = image("Harbour at dusk ⛵");
        let mut taken = untaken.clone();
        taken.shot.taken_at = Some(Utc.with_ymd_and_hms(2019, 8, 7, 6, 5, 4).unwrap());
        for last in [untaken, taken] {
            for sort in ImageSort::ALL {
                let filter = ImageFilter { sort, uploaded_by: Some(UserId::generate()), ..ImageFilter::default() };
                let cursor = ImageCursor::after(&last, &filter);
                let back = ImageCursor::open(&cursor.seal(&seal()), &seal()).unwrap();
                assert_eq!(back, cursor);
                assert_eq!(back.resume(&filter).unwrap(), &After::of(&last, sort));
            }
        }
    }

    #[test]
    fn a_cursor_is_refused_for_another_sort_or_filter() {
        let filter =
            ImageFilter { q: Some(SearchText::parse_query(Some("cat")).unwrap().unwrap()), ..ImageFilter::default() };
        let cursor = ImageCursor::after(&image("a"), &filter);
        for other in [
            ImageFilter::default(),
            ImageFilter { sort: ImageSort::Title, ..filter.clone() },
            ImageFilter { q: Some(SearchText::parse_query(Some("dog")).unwrap().unwrap()), ..filter.clone() },
        ] {
            assert!(matches!(cursor.resume(&other), Err(DomainError::BadRequest(_))));
        }
    }

    fn seal() -> Seal {
        Seal::new(b"the server's secret", "cursor")
    }

    #[test]
    fn anything_else_is_not_a_cursor() {
        let good = ImageCursor::after(&image("a"), &ImageFilter::default()).seal(&seal());
        for raw in ["", "!!", "AQ", &good[..good.len() - 2], &format!("{good}AA"), "AgAAAAAAAAAAAA"] {
            assert!(ImageCursor::open(raw, &seal()).is_err(), "{raw}");
        }
        assert!(ImageCursor::open(&good, &Seal::new(b"another server's secret", "cursor")).is_err());
    }

    #[test]
    fn a_forged_cursor_is_refused_however_well_formed() {
        // A title with NUL in it: PostgreSQL cannot even compare it. Made without the key.
        let forged = ImageCursor {
            listing: fingerprint(&ImageFilter { sort: ImageSort::Title, ..ImageFilter::default() }),
            after: After::Titled { title: "a\0b".into(), id: ImageId::generate() },
        };
        let raw = Seal::new(b"a guess", "cursor").seal(&forged.to_bytes());
        assert!(ImageCursor::open(&raw, &seal()).is_err());
        // And the bytes of a real cursor with the tag of another.
        let real = ImageCursor::after(&image("a"), &ImageFilter::default()).seal(&seal());
        let other = ImageCursor::after(&image("b"), &ImageFilter::default()).seal(&seal());
        let spliced = format!("{}{}", &real[..real.len() - 22], &other[other.len() - 22..]);
        assert!(ImageCursor::open(&spliced, &seal()).is_err());
    }
}
