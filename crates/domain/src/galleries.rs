//! Galleries: named groups of images. Deleting one keeps its images.

use std::sync::Arc;

use crate::images::page_of;
use crate::ports::{Clock, GalleryRepo, ImageRepo};
use crate::{
    Actor, DomainError, GalleryId, ImageCursor, ImageFilter, ImagePage, Page, PageRequest, Permission, Policy, Seen,
};
use crate::{Gallery, GalleryPatch, NewGallery};

/// The gallery use-cases.
#[derive(Clone)]
pub struct Galleries {
    galleries: Arc<dyn GalleryRepo>,
    images: Arc<dyn ImageRepo>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Galleries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Galleries").finish_non_exhaustive()
    }
}

impl Galleries {
    #[must_use]
    pub fn new(galleries: Arc<dyn GalleryRepo>, images: Arc<dyn ImageRepo>, clock: Arc<dyn Clock>) -> Self {
        Self { galleries, images, clock }
    }

    /// # Errors
    /// `Forbidden` without `images:read`.
    pub async fn list(&self, actor: &Actor, page: PageRequest) -> Result<Page<Gallery>, DomainError> {
        Policy::require(actor, Permission::ImagesRead)?;
        let (items, total) = self.galleries.list(page).await?;
        Ok(Page::new(items, page, total))
    }

    /// The gallery and one page of the images in it that the caller may see: the page
    /// `page` names, or the one after `cursor`.
    ///
    /// # Errors
    /// `Forbidden` without `images:read`; `NotFound`.
    pub async fn get(
        &self,
        actor: &Actor,
        id: GalleryId,
        page: PageRequest,
        cursor: Option<ImageCursor>,
    ) -> Result<(Gallery, Seen<ImagePage>), DomainError> {
        Policy::require(actor, Permission::ImagesRead)?;
        let gallery = self.galleries.by_id(id).await?.ok_or(DomainError::NotFound)?;
        let filter = ImageFilter { gallery_id: Some(id), ..ImageFilter::default() };
        let listed = page_of(self.images.as_ref(), actor, &filter, page, cursor.as_ref()).await?;
        Ok((gallery, Seen::by(actor, self.clock.now(), listed)))
    }

    /// # Errors
    /// `Forbidden` without `galleries:manage`.
    pub async fn create(&self, actor: &Actor, gallery: NewGallery) -> Result<Gallery, DomainError> {
        Policy::require(actor, Permission::GalleriesManage)?;
        Ok(self.galleries.create(&gallery, actor.id()).await?)
    }

    /// # Errors
    /// `Forbidden` without `galleries:manage`; `NotFound`.
    pub async fn update(&self, actor: &Actor, id: GalleryId, patch: GalleryPatch) -> Result<Gallery, DomainError> {
        Policy::require(actor, Permission::GalleriesManage)?;
        self.galleries.update(id, &patch).await?.ok_or(DomainError::NotFound)
    }

    /// Deletes the gallery; its images stay, in no gallery.
    ///
    /// # Errors
    /// `Forbidden` without `galleries:manage`; `NotFound`.
    pub async fn delete(&self, actor: &Actor, id: GalleryId) -> Result<(), DomainError> {
        Policy::require(actor, Permission::GalleriesManage)?;
        if self.galleries.delete(id).await? { Ok(()) } else { Err(DomainError::NotFound) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockGalleryRepo, MockImageRepo};
    use crate::testing::{actor_with_role, builtin_role};
    use crate::{Description, Name};
    use chrono::Utc;

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        Arc::new(clock)
    }

    #[tokio::test]
    async fn only_gallery_managers_change_galleries() {
        let mut repo = MockGalleryRepo::new();
        repo.expect_create().never();
        let galleries = Galleries::new(Arc::new(repo), Arc::new(MockImageRepo::new()), clock());
        for role in ["company_user", "subscriber"] {
            let new = NewGallery { name: Name::parse("g").unwrap(), description: Description::default() };
            let err = galleries.create(&actor_with_role(builtin_role(role)), new).await.unwrap_err();
            assert!(matches!(err, DomainError::Forbidden), "{role}");
        }
    }

    #[tokio::test]
    async fn a_gallery_lists_only_what_the_caller_may_see() {
        let viewer = actor_with_role(builtin_role("company_user"));
        let viewer_id = viewer.id();
        let mut repo = MockGalleryRepo::new();
        repo.expect_by_id().returning(|id| {
            Ok(Some(Gallery {
                id,
                name: "g".into(),
                description: String::new(),
                created_by: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            }))
        });
        let mut images = MockImageRepo::new();
        images
            .expect_list()
            .withf(move |f, v, _, _| f.gallery_id.is_some() && *v == crate::Visibility::ApprovedOrOwnedBy(viewer_id))
            .returning(|_, _, _, _| Ok(crate::ports::Listed { items: Vec::new(), more: false, total: 0, exact: true }));
        let galleries = Galleries::new(Arc::new(repo), Arc::new(images), clock());
        assert!(galleries.get(&viewer, GalleryId::generate(), PageRequest::default(), None).await.is_ok());
    }
}
