//! A share link: a URL anyone may fetch until it expires or is revoked.

use chrono::{DateTime, Utc};

use crate::{Image, ImageId, LinkId, TokenHash, User, UserId};

/// What a link serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail(u32),
}

impl Variant {
    /// # Errors
    /// A message naming the accepted forms.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.strip_prefix("thumbnail:") {
            None if raw == "original" => Ok(Self::Original),
            Some(h) => h.parse().map(Self::Thumbnail).map_err(|_| "thumbnail:<height> needs a height in pixels".into()),
            None => Err("must be `original` or `thumbnail:<height>`".into()),
        }
    }

    #[must_use]
    pub fn as_string(&self) -> String {
        match self {
            Self::Original => "original".into(),
            Self::Thumbnail(h) => format!("thumbnail:{h}"),
        }
    }
}

/// A share link as stored (never its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub id: LinkId,
    pub image: ImageId,
    pub created_by: UserId,
    pub variant: Variant,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A link to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub image: ImageId,
    pub created_by: UserId,
    pub token_hash: TokenHash,
    pub variant: Variant,
    pub expires_at: DateTime<Utc>,
}

/// What a token leads to, read in one go: the link, its image and its creator (with the
/// role and plans to judge them by).
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub link: ShareLink,
    pub image: Image,
    pub creator: User,
}
