//! A gallery: a named group of images.

use chrono::{DateTime, Utc};

use crate::{Description, GalleryId, Name, UserId};

/// A gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gallery {
    pub id: GalleryId,
    pub name: String,
    pub description: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A gallery to create, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGallery {
    pub name: Name,
    pub description: Description,
}

/// Changes to a gallery; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GalleryPatch {
    pub name: Option<Name>,
    pub description: Option<Description>,
}
