//! Expiring share links: a URL anyone may fetch until it expires or is revoked.

use std::sync::Arc;

use chrono::Duration;

use crate::images::{Images, Original, Thumbnail};
use crate::ports::{Clock, LinkRepo, TokenService};
use crate::{Actor, DomainError, ImageId, Permission, Policy};
use crate::{LinkId, LinkTarget, NewLink, ShareLink, Token, Variant};

/// What a link fetch sends.
#[derive(Debug)]
pub enum Shared {
    Original(Original),
    Thumbnail(Thumbnail),
}

/// The share-link use-cases.
#[derive(Clone)]
pub struct Links {
    links: Arc<dyn LinkRepo>,
    images: Images,
    tokens: Arc<dyn TokenService>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links").finish_non_exhaustive()
    }
}

impl Links {
    #[must_use]
    pub fn new(links: Arc<dyn LinkRepo>, images: Images, tokens: Arc<dyn TokenService>, clock: Arc<dyn Clock>) -> Self {
        Self { links, images, tokens, clock }
    }

    /// Creates a link valid for `expires_in` seconds; returns it with its token, which is
    /// never stored and never shown again.
    ///
    /// # Errors
    /// `Forbidden` without `links:create`; `NotFound`; `PlanForbids` when the plan has no
    /// expiring links or not this variant; `NotApproved` for an image moderation has not
    /// approved; `Validation` on `expires_in` outside the plan's bounds.
    #[tracing::instrument(skip_all, fields(image_id = %image))]
    pub async fn create(
        &self,
        actor: &Actor,
        image: ImageId,
        expires_in: u64,
        variant: Variant,
    ) -> Result<(ShareLink, Token), DomainError> {
        Policy::require(actor, Permission::LinksCreate)?;
        let shared = self.images.get(actor, image).await?.item;
        let now = self.clock.now();
        let features = &actor.user.plan(now).features;
        if !features.expiring_links {
            return Err(DomainError::PlanForbids("your plan does not include expiring links".into()));
        }
        Policy::may_share(&shared)?;
        let (min, max) = (u64::from(features.link_ttl_min), u64::from(features.link_ttl_max));
        if !(min..=max).contains(&expires_in) {
            return Err(DomainError::field("expires_in", format!("must be between {min} and {max} seconds")));
        }
        match variant {
            Variant::Original => Policy::may_get_original(actor, now)?,
            Variant::Thumbnail(h) => Policy::may_get_thumbnail(actor, now, h)?,
        }
        let (token, hash) = self.tokens.new_refresh();
        let seconds = i64::try_from(expires_in).unwrap_or(i64::MAX);
        let new = NewLink {
            image,
            created_by: actor.id(),
            token_hash: hash,
            variant,
            expires_at: now + Duration::seconds(seconds),
        };
        Ok((self.links.create(&new).await?, token))
    }

    /// The caller's live links to an image.
    ///
    /// # Errors
    /// `NotFound` when the image is not visible.
    pub async fn list(&self, actor: &Actor, image: ImageId) -> Result<Vec<ShareLink>, DomainError> {
        self.images.get(actor, image).await?;
        Ok(self.links.live(image, actor.id(), self.clock.now()).await?)
    }

    /// Revokes one of the caller's links.
    ///
    /// # Errors
    /// `NotFound` for a link that is not the caller's.
    pub async fn revoke(&self, actor: &Actor, id: LinkId) -> Result<(), DomainError> {
        let link = self.links.by_id(id).await?.filter(|l| l.created_by == actor.id()).ok_or(DomainError::NotFound)?;
        self.links.revoke(link.id).await?;
        Ok(())
    }

    /// What a token serves, with no authentication. One store read finds the link, its
    /// image and its creator; then the link serves only while [`Policy::link_serves`].
    ///
    /// # Errors
    /// `NotFound` for an unknown token; `LinkExpired` once expired or revoked, or when
    /// the image, its creator or the creator's plan no longer allow it.
    pub async fn open(&self, token: &Token) -> Result<Shared, DomainError> {
        let found = self.links.by_token(&self.tokens.hash_refresh(token)).await?;
        let LinkTarget { link, image, creator } = found.ok_or(DomainError::NotFound)?;
        let now = self.clock.now();
        if link.revoked_at.is_some()
            || link.expires_at <= now
            || !Policy::link_serves(&creator, &image, link.variant, now)
        {
            return Err(DomainError::LinkExpired);
        }
        Ok(match link.variant {
            Variant::Original => Shared::Original(self.images.original_of(image, None).await?),
            Variant::Thumbnail(h) => Shared::Thumbnail(self.images.thumbnail_of(image, h).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::TokenHash;
    use crate::UserId;
    use crate::images::{ImageLimits, ImagePorts};
    use crate::ports::{
        MockBlobStore, MockClock, MockImageInspector, MockImageRepo, MockLinkRepo, MockThumbnails, MockTokenService,
        MockUrlFetcher,
    };
    use crate::testing::{actor_with_role, builtin_role, plan};
    use crate::{BlobKey, Image, ImageFormat, ImageStatus, UserRef};
    use chrono::{DateTime, Utc};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Arc::new(clock)
    }

    fn image(owner: &Actor) -> Image {
        let id = ImageId::generate();
        Image {
            id,
            title: String::new(),
            description: String::new(),
            status: ImageStatus::Approved,
            uploaded_by: UserRef { id: owner.id(), username: owner.user.username.clone() },
            gallery_id: None,
            width: 10,
            height: 10,
            format: ImageFormat::Png,
            size_bytes: 1,
            sha256: [0; 32],
            storage_key: BlobKey::original(id),
            uploaded_at: now(),
            updated_at: now(),
            shot: Default::default(),
        }
    }

    fn links(repo: MockLinkRepo, owner: &Actor) -> Links {
        links_to(repo, image(owner))
    }

    fn links_to(repo: MockLinkRepo, img: Image) -> Links {
        let mut images = MockImageRepo::new();
        images.expect_by_id().returning(move |_, _| Ok(Some(img.clone())));
        let ports = ImagePorts {
            images: Arc::new(images),
            blobs: Arc::new(MockBlobStore::new()),
            inspector: Arc::new(MockImageInspector::new()),
            thumbnails: Arc::new(MockThumbnails::new()),
            fetcher: Arc::new(MockUrlFetcher::new()),
            clock: clock(),
            removals: Arc::new(crate::ports::MockRemovalRepo::new()),
            location: Arc::new(crate::testing::KeepEverything),
            tasks: Arc::new(crate::testing::Spawned),
            slots: Arc::new(crate::testing::free_slots()),
            turns: Arc::new(crate::testing::FreeTurns),
        };
        let limits = ImageLimits {
            max_pixels: 1,
            max_upload_bytes: 1,
            orphan_grace: Duration::minutes(5),
            uploads_per_user: 1,
            upload_lease: Duration::minutes(3),
        };
        let images = Images::new(ports, limits);
        let mut tokens = MockTokenService::new();
        tokens.expect_new_refresh().returning(|| ("secret".into(), TokenHash([9; 32])));
        tokens.expect_hash_refresh().returning(|_| TokenHash([9; 32]));
        Links::new(Arc::new(repo), images, Arc::new(tokens), clock())
    }

    fn enterprise_player() -> Actor {
        let mut actor = actor_with_role(builtin_role("beta_player"));
        actor.user.default_plan = plan("enterprise");
        actor
    }

    fn stored(expires_at: DateTime<Utc>, revoked: bool) -> ShareLink {
        ShareLink {
            id: LinkId::generate(),
            image: ImageId::generate(),
            created_by: UserId::generate(),
            variant: Variant::Original,
            expires_at,
            revoked_at: revoked.then(now),
            created_at: now(),
        }
    }

    #[test]
    fn variants_parse_and_print() {
        assert_eq!(Variant::parse("original"), Ok(Variant::Original));
        assert_eq!(Variant::parse("thumbnail:200"), Ok(Variant::Thumbnail(200)));
        assert!(Variant::parse("thumbnail:").is_err());
        assert!(Variant::parse("thumbnail:-1").is_err());
        assert!(Variant::parse("huge").is_err());
        assert_eq!(Variant::Thumbnail(400).as_string(), "thumbnail:400");
    }

    #[tokio::test]
    async fn a_plan_without_expiring_links_cannot_create_them() {
        let basic = actor_with_role(builtin_role("beta_player"));
        let mut repo = MockLinkRepo::new();
        repo.expect_create().never();
        let err = links(repo, &basic).create(&basic, ImageId::generate(), 600, Variant::Original).await.unwrap_err();
        assert!(matches!(err, DomainError::PlanForbids(_)), "{err:?}");
    }

    #[tokio::test]
    async fn the_ttl_must_sit_within_the_plans_bounds() {
        let actor = enterprise_player();
        for ttl in [299, 30_001, 0] {
            let err = links(MockLinkRepo::new(), &actor)
                .create(&actor, ImageId::generate(), ttl, Variant::Original)
                .await
                .unwrap_err();
            assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "expires_in"), "{ttl}");
        }
    }

    #[tokio::test]
    async fn a_link_expires_at_creation_plus_its_ttl_and_stores_only_the_hash() {
        let actor = enterprise_player();
        let mut repo = MockLinkRepo::new();
        repo.expect_create()
            .withf(|new| new.expires_at == now() + Duration::seconds(300) && new.token_hash == TokenHash([9; 32]))
            .returning(|new| Ok(stored(new.expires_at, false)));
        let (link, token) =
            links(repo, &actor).create(&actor, ImageId::generate(), 300, Variant::Thumbnail(400)).await.unwrap();
        assert_eq!((link.expires_at, token.as_str()), (now() + Duration::seconds(300), "secret"));
    }

    #[tokio::test]
    async fn an_image_that_is_not_approved_cannot_be_shared() {
        let actor = enterprise_player();
        for status in [ImageStatus::Pending, ImageStatus::Rejected] {
            let mut repo = MockLinkRepo::new();
            repo.expect_create().never();
            let pending = Image { status, ..image(&actor) };
            let err =
                links_to(repo, pending).create(&actor, ImageId::generate(), 600, Variant::Original).await.unwrap_err();
            assert!(matches!(err, DomainError::NotApproved), "{err:?}");
        }
    }

    #[tokio::test]
    async fn a_link_stops_serving_when_its_image_or_creator_no_longer_allows_it() {
        let actor = enterprise_player();
        let live = stored(now() + Duration::hours(1), false);
        let rejected = Image { status: ImageStatus::Rejected, ..image(&actor) };
        let disabled = crate::User { is_active: false, ..actor.user.clone() };
        for (image, creator) in [(rejected, actor.user.clone()), (image(&actor), disabled)] {
            let target = LinkTarget { link: live.clone(), image, creator };
            let mut repo = MockLinkRepo::new();
            repo.expect_by_token().returning(move |_| Ok(Some(target.clone())));
            let err = links(repo, &actor).open(&"whatever".into()).await.unwrap_err();
            assert!(matches!(err, DomainError::LinkExpired), "{err:?}");
        }
    }

    #[tokio::test]
    async fn expired_and_revoked_links_are_gone_and_unknown_ones_not_found() {
        let actor = enterprise_player();
        for (link, gone) in
            [(Some(stored(now(), false)), true), (Some(stored(now() + Duration::hours(1), true)), true), (None, false)]
        {
            let target = link.map(|link| LinkTarget { link, image: image(&actor), creator: actor.user.clone() });
            let mut repo = MockLinkRepo::new();
            repo.expect_by_token().returning(move |_| Ok(target.clone()));
            let err = links(repo, &actor).open(&"whatever".into()).await.unwrap_err();
            if gone {
                assert!(matches!(err, DomainError::LinkExpired), "{err:?}");
            } else {
                assert!(matches!(err, DomainError::NotFound), "{err:?}");
            }
        }
    }
}
