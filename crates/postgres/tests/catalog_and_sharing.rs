//! The plan, subscription, gallery and share-link adapters against a real database, with
//! a stopped clock: every timestamp a repository writes comes from the clock it was given.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use gallery_domain::ports::{Clock, GalleryRepo as _, ImageRepo as _, LinkRepo as _, PlanRepo as _};
use gallery_domain::ports::{SubscriptionRepo as _, UserRepo as _};
use gallery_domain::{
    BillingPeriod, BlobKey, Conflict, Currency, Description, Email, GalleryPatch, ImageFormat, ImageId, ImageStatus,
    Name, NewGallery, NewImage, NewLink, NewPlan, NewUser, PageRequest, PasswordHash, PlanCode, PlanFeatures,
    Referenced, RepoError, RoleName, Standing, Title, TokenHash, User, Username, Variant,
};
use gallery_postgres::{
    Db, PgGalleryRepo, PgImageRepo, PgLinkRepo, PgPlanRepo, PgSubscriptionRepo, PgUserRepo, PoolSettings,
};
use gallery_testdb::TestDb;

/// A clock stopped at one instant.
struct Stopped(DateTime<Utc>);

impl Clock for Stopped {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()
}

struct Repos {
    _db: TestDb,
    users: PgUserRepo,
    images: PgImageRepo,
    galleries: PgGalleryRepo,
    plans: PgPlanRepo,
    subscriptions: PgSubscriptionRepo,
    links: PgLinkRepo,
}

async fn repos() -> Repos {
    let test_db = TestDb::create().await;
    let db = Db::new(test_db.url(), &PoolSettings::default(), Arc::new(Stopped(instant()))).unwrap();
    Repos {
        users: PgUserRepo::new(db.clone()),
        images: PgImageRepo::new(db.clone()),
        galleries: PgGalleryRepo::new(db.clone()),
        plans: PgPlanRepo::new(db.clone()),
        subscriptions: PgSubscriptionRepo::new(db.clone()),
        links: PgLinkRepo::new(db),
        _db: test_db,
    }
}

async fn user(r: &Repos, name: &str, role: &str) -> User {
    let new = NewUser {
        username: Username::parse(name).unwrap(),
        email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
        role: RoleName::parse(role).unwrap(),
        password_hash: PasswordHash::new("$2b$04$not-a-real-hash".into()),
        is_active: true,
    };
    r.users.create(&new).await.unwrap()
}

fn new_plan(code: &str, price_cents: i64) -> NewPlan {
    NewPlan {
        code: PlanCode::parse(code).unwrap(),
        name: Name::parse("Studio").unwrap(),
        description: Description::parse("for studios").unwrap(),
        price_cents,
        currency: Currency::parse("EUR").unwrap(),
        billing_period: BillingPeriod::Year,
        is_public: false,
        is_default: false,
        features: PlanFeatures { thumbnail_heights: vec![120, 480], ..PlanFeatures::default() },
    }
}

#[tokio::test]
async fn plans_round_trip_keep_one_default_and_refuse_taken_codes_and_used_plans() {
    let r = repos().await;
    let seeded: Vec<_> = r.plans.list().await.unwrap().into_iter().map(|p| p.code.as_str().to_owned()).collect();
    assert_eq!(seeded, ["basic", "growth", "enterprise"], "by price, then code");

    let studio = r.plans.create(&new_plan("studio", 4_900)).await.unwrap();
    let read = r.plans.by_id(studio.id).await.unwrap().unwrap();
    assert_eq!(read, studio);
    assert_eq!((read.currency.as_str(), read.billing_period), ("EUR", BillingPeriod::Year));
    assert_eq!(read.features.thumbnail_heights, [120, 480]);
    assert!(matches!(r.plans.create(&new_plan("studio", 1)).await, Err(RepoError::Conflict(Conflict::PlanCode))));

    // Making a plan the default takes it from the one that was.
    let mut changed = read.clone();
    changed.is_default = true;
    changed.price_cents = 5_900;
    assert_eq!(r.plans.update(&changed).await.unwrap().unwrap().price_cents, 5_900);
    let defaults: Vec<_> = r.plans.list().await.unwrap().into_iter().filter(|p| p.is_default).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0].id, studio.id);

    // A plan someone is subscribed to stays; an unused one goes.
    let owner = user(&r, "owner", "subscriber").await;
    r.subscriptions.set(owner.id, studio.id, None, owner.id).await.unwrap();
    assert!(matches!(r.plans.delete(studio.id).await, Err(RepoError::InUse(Referenced::Plan))));
    let spare = r.plans.create(&new_plan("spare", 0)).await.unwrap();
    assert!(r.plans.delete(spare.id).await.unwrap());
    assert!(!r.plans.delete(spare.id).await.unwrap());
}

#[tokio::test]
async fn subscriptions_are_set_changed_canceled_and_listed() {
    let r = repos().await;
    let (alice, bob) = (user(&r, "alice", "subscriber").await, user(&r, "bob", "subscriber").await);
    assert!(r.subscriptions.of(alice.id).await.unwrap().is_none());
    let plans = r.plans.list().await.unwrap();
    let (growth, enterprise) = (&plans[1], &plans[2]);

    let end = instant() + Duration::days(30);
    let set = r.subscriptions.set(alice.id, growth.id, Some(end), bob.id).await.unwrap();
    assert_eq!((set.plan.as_str(), set.current_period_end, set.started_at), ("growth", Some(end), instant()));
    assert_eq!(set.standing(instant()), Standing::Active);
    // Changing the plan replaces the subscription: one per user.
    let moved = r.subscriptions.set(alice.id, enterprise.id, None, bob.id).await.unwrap();
    assert_eq!((moved.plan.as_str(), moved.current_period_end), ("enterprise", None));

    let ends = instant() + Duration::days(3);
    let canceled = r.subscriptions.cancel(alice.id, ends).await.unwrap().unwrap();
    assert!(canceled.cancel_at_period_end);
    assert_eq!(canceled.standing(instant()), Standing::Canceled);
    assert_eq!(canceled.standing(ends), Standing::Expired);
    assert!(r.subscriptions.cancel(bob.id, ends).await.unwrap().is_none(), "bob has none to cancel");

    r.subscriptions.set(bob.id, growth.id, None, bob.id).await.unwrap();
    let (page, total) = r.subscriptions.list(PageRequest::parse(Some(1), Some(1)).unwrap()).await.unwrap();
    assert_eq!((page.len(), total), (1, 2));
}

#[tokio::test]
async fn galleries_page_newest_first_and_changes_are_stamped_by_the_clock() {
    let r = repos().await;
    let curator = user(&r, "curator", "beta_player").await;
    let mut made = Vec::new();
    for name in ["Holidays", "Harbours", "Lamps"] {
        let new = NewGallery { name: Name::parse(name).unwrap(), description: Description::default() };
        made.push(r.galleries.create(&new, curator.id).await.unwrap());
    }
    assert_eq!(made[0].created_by, Some(curator.id));
    let (page, total) = r.galleries.list(PageRequest::parse(Some(1), Some(2)).unwrap()).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(page.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Lamps", "Harbours"]);

    let patch = GalleryPatch { name: None, description: Some(Description::parse("by the sea").unwrap()) };
    let changed = r.galleries.update(made[1].id, &patch).await.unwrap().unwrap();
    assert_eq!((changed.name.as_str(), changed.description.as_str()), ("Harbours", "by the sea"));
    assert_eq!(changed.updated_at, instant());
    assert_eq!(r.galleries.by_id(made[1].id).await.unwrap().unwrap(), changed);

    assert!(r.galleries.delete(made[1].id).await.unwrap());
    assert!(r.galleries.by_id(made[1].id).await.unwrap().is_none());
    assert!(r.galleries.update(made[1].id, &patch).await.unwrap().is_none());
    assert!(!r.galleries.delete(made[1].id).await.unwrap());
}

#[tokio::test]
async fn links_are_found_by_token_listed_while_live_and_revoked_by_the_clock() {
    let r = repos().await;
    let owner = user(&r, "owner", "beta_player").await;
    let id = ImageId::generate();
    let image = NewImage {
        id,
        title: Title::parse("lamp").unwrap(),
        description: Description::default(),
        status: ImageStatus::Approved,
        uploaded_by: owner.id,
        gallery_id: None,
        width: 4,
        height: 3,
        format: ImageFormat::Png,
        size_bytes: 10,
        sha256: [1; 32],
        storage_key: BlobKey::original(id),
        shot: Default::default(),
    };
    r.images.create(&image, 1 << 20).await.unwrap();
    let link = |hash: u8, expires_at| NewLink {
        image: id,
        created_by: owner.id,
        token_hash: TokenHash([hash; 32]),
        variant: Variant::Thumbnail(200),
        expires_at,
    };
    let live = r.links.create(&link(1, instant() + Duration::hours(1))).await.unwrap();
    let lapsed = r.links.create(&link(2, instant() - Duration::hours(1))).await.unwrap();
    assert_eq!(live.variant, Variant::Thumbnail(200));
    assert_eq!(r.links.by_id(live.id).await.unwrap().unwrap(), live);

    let target = r.links.by_token(&TokenHash([1; 32])).await.unwrap().unwrap();
    assert_eq!((target.link.id, target.image.id, target.creator.id), (live.id, id, owner.id));
    assert!(r.links.by_token(&TokenHash([9; 32])).await.unwrap().is_none());

    let listed: Vec<_> = r.links.live(id, owner.id, instant()).await.unwrap().into_iter().map(|l| l.id).collect();
    assert_eq!(listed, [live.id], "the lapsed link {:?} is not live", lapsed.id);

    r.links.revoke(live.id).await.unwrap();
    assert_eq!(r.links.by_id(live.id).await.unwrap().unwrap().revoked_at, Some(instant()));
    assert!(r.links.live(id, owner.id, instant()).await.unwrap().is_empty());
}
