use chrono::{TimeZone as _, Utc};
use gallery_domain::{
    BillingPeriod, BlobKey, Currency, Image, ImageFormat, ImageId, ImageStatus, PermissionSet, Plan, PlanCode,
    PlanFeatures, PlanId, Role, RoleId, RoleName, SessionId, User, UserId, UserRef, Username,
};

use super::{Caches, Change, LEASE, lease_nanos};

/// A moment an hour from now, as [`Caches::now`] counts: a question "sent" then gives a
/// lease that outlasts any test.
fn far_ahead(caches: &Caches) -> u64 {
    caches.now() + 3_600_000_000_000
}

fn user() -> User {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    User {
        id: UserId::generate(),
        username: Username::from_trusted("someone".into()),
        email: None,
        role: Role {
            id: RoleId::generate(),
            name: RoleName::from_trusted("viewer".into()),
            description: String::new(),
            permissions: PermissionSet::default(),
            is_system: false,
            signup_allowed: true,
            created_at: at,
        },
        is_active: true,
        created_at: at,
        subscription: None,
        default_plan: Plan {
            id: PlanId::generate(),
            code: PlanCode::from_trusted("basic".into()),
            name: "Basic".into(),
            description: String::new(),
            price_cents: 0,
            currency: Currency::default(),
            billing_period: BillingPeriod::Month,
            is_public: true,
            is_default: true,
            features: PlanFeatures::default(),
        },
    }
}

fn image(owner: &User) -> Image {
    let id = ImageId::generate();
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    Image {
        id,
        title: "a title".into(),
        description: String::new(),
        status: ImageStatus::Approved,
        uploaded_by: UserRef { id: owner.id, username: owner.username.clone() },
        gallery_id: None,
        width: 1,
        height: 1,
        format: ImageFormat::Png,
        size_bytes: 1,
        sha256: [0; 32],
        storage_key: BlobKey::original(id),
        uploaded_at: at,
        updated_at: at,
        shot: Default::default(),
    }
}

fn live() -> Caches {
    let caches = Caches::default();
    caches.subscribed(far_ahead(&caches), 1);
    caches
}

#[test]
fn payloads_name_what_changed_and_anything_unreadable_forgets_everything() {
    let id = uuid::Uuid::new_v4();
    assert_eq!(Change::parse(&format!("s {id}")), Change::Session(SessionId::from_uuid(id)));
    assert_eq!(Change::parse(&format!("u {id}")), Change::User(UserId::from_uuid(id)));
    assert_eq!(Change::parse(&format!("i {id}")), Change::Image(ImageId::from_uuid(id)));
    assert_eq!(Change::parse("i *"), Change::Images);
    assert_eq!(Change::parse("c"), Change::Catalog);
    assert_eq!(Change::parse("*"), Change::Everything);
    assert_eq!(Change::parse("ping 42"), Change::Ping(42));
    for odd in ["", "s", "s nope", "u 1", "i ", "ping x", "x y", "c c"] {
        assert_eq!(Change::parse(odd), Change::Everything, "{odd:?}");
    }
}

#[test]
fn copies_are_kept_and_served_only_while_live() {
    let caches = Caches::default();
    let (someone, session) = (user(), SessionId::generate());
    assert!(caches.ticket().is_none(), "no claim to keep anything before the listener subscribes");
    caches.keep_holder(caches.ticket(), session, &someone);
    caches.subscribed(far_ahead(&caches), 1);
    assert_eq!(caches.holder(session, someone.id), None);

    caches.keep_holder(caches.ticket(), session, &someone);
    assert_eq!(caches.holder(session, someone.id), Some(someone.clone()));
    assert_eq!(caches.holder(session, UserId::generate()), None, "a session is only its holder's");

    caches.dropped_off();
    assert_eq!(caches.holder(session, someone.id), None, "off: bypassed");
    caches.subscribed(far_ahead(&caches), 1);
    assert_eq!(caches.holder(session, someone.id), None, "back on: forgotten while it was off");
    assert_eq!(caches.drops(), 1);
}

#[test]
fn copies_are_good_until_a_lease_after_the_last_answered_question() {
    let caches = Caches::default();
    assert!(!caches.live_at(0), "off until the listener subscribes");
    let sent = 1_000;
    caches.subscribed(sent, 1);
    assert!(caches.live_at(sent + lease_nanos() - 1));
    assert!(!caches.live_at(sent + lease_nanos()), "a listener that stops answering stops the copies");

    let later = sent + lease_nanos() / 3;
    caches.renew(later);
    assert!(caches.live_at(later + lease_nanos() - 1), "each answer extends it from its question");
    assert!(!caches.live_at(later + lease_nanos()));
    assert!(LEASE.as_millis() <= 500, "the staleness bound API.md's 'at once' rests on");

    caches.dropped_off();
    assert!(!caches.live_at(later), "a lost connection ends it at once");
}

#[test]
fn a_lapsed_lease_serves_nothing_and_forgets_nothing() {
    let caches = live();
    let (someone, session) = (user(), SessionId::generate());
    caches.keep_holder(caches.ticket(), session, &someone);

    // The lease ran out (a question sent long ago, unanswered since).
    caches.inner.fresh_until.store(1, std::sync::atomic::Ordering::SeqCst);
    caches.lapse();
    assert_eq!(caches.holder(session, someone.id), None, "no copy served past the lease");
    assert!(caches.ticket().is_none(), "and nothing read meanwhile is kept");
    assert_eq!((caches.lapses(), caches.drops()), (1, 0));

    caches.renew(far_ahead(&caches));
    assert_eq!(caches.holder(session, someone.id), Some(someone), "the answer came: the copies were kept");
    assert_eq!(caches.lapses(), 1);
}

#[test]
fn a_lapse_nobody_reported_is_counted_when_the_answer_comes() {
    let caches = live();
    // The listener's own thread was late: its lease ran out before it even asked.
    caches.inner.fresh_until.store(1, std::sync::atomic::Ordering::SeqCst);
    caches.renew(far_ahead(&caches));
    assert_eq!(caches.lapses(), 1);
    caches.renew(far_ahead(&caches));
    assert_eq!(caches.lapses(), 1, "a lease renewed in time is no lapse");
}

#[test]
fn a_read_that_raced_a_change_does_not_keep_what_it_read() {
    let caches = live();
    let owner = user();
    let before = image(&owner);
    let ticket = caches.ticket();
    // The change commits and is announced while the read's query is in flight ...
    caches.apply(Change::Image(before.id));
    // ... so the row the read found may be the old one: it is not kept.
    caches.keep_image(ticket, &before);
    assert_eq!(caches.image(before.id), None);
    // A read after the change keeps its answer.
    caches.keep_image(caches.ticket(), &before);
    assert_eq!(caches.image(before.id), Some(before));
}

#[test]
fn each_change_forgets_what_it_names() {
    let caches = live();
    let (a, b) = (user(), user());
    let (sa, sb) = (SessionId::generate(), SessionId::generate());
    let (ia, ib) = (image(&a), image(&b));
    let fill = |caches: &Caches| {
        caches.keep_holder(caches.ticket(), sa, &a);
        caches.keep_holder(caches.ticket(), sb, &b);
        caches.keep_image(caches.ticket(), &ia);
        caches.keep_image(caches.ticket(), &ib);
    };
    let held = |caches: &Caches| {
        [
            caches.holder(sa, a.id).is_some(),
            caches.holder(sb, b.id).is_some(),
            caches.image(ia.id).is_some(),
            caches.image(ib.id).is_some(),
        ]
    };
    let cases = [
        (Change::Session(sa), [false, true, true, true]),
        (Change::User(b.id), [true, false, true, true]),
        (Change::Catalog, [false, false, true, true]),
        (Change::Image(ia.id), [true, true, false, true]),
        (Change::Images, [true, true, false, false]),
        (Change::Everything, [false, false, false, false]),
        (Change::Ping(7), [true, true, true, true]),
    ];
    for (change, after) in cases {
        fill(&caches);
        assert_eq!(held(&caches), [true; 4]);
        caches.apply(change);
        assert_eq!(held(&caches), after, "{change:?}");
    }
}
