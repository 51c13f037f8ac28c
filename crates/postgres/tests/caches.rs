//! The in-memory copies against a real database: two servers (each its pools, caches and
//! listener) on one database, as several Gallery processes run in production.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gallery_domain::ports::{Clock, ImageRepo as _, RoleRepo as _, SessionRepo as _, UserRepo as _};
use gallery_domain::ports::{PlanRepo as _, SubscriptionRepo as _};
use gallery_domain::{
    BlobKey, Decision, Description, Email, ImageFormat, ImageId, ImagePatch, ImageStatus, NewImage, NewUser,
    PasswordHash, Permission, PermissionSet, RoleName, RolePatch, SessionId, Title, TokenHash, User, UserPatch,
    Username, Visibility,
};
use gallery_postgres::{
    Caches, Db, PgImageRepo, PgPlanRepo, PgRoleRepo, PgSessionRepo, PgSubscriptionRepo, PgUserRepo, PoolSettings,
};
use gallery_testdb::TestDb;

struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// One Gallery process, as far as the database is concerned.
struct Server {
    db: Db,
    caches: Caches,
    _listener: gallery_postgres::ListenerThread,
    users: PgUserRepo,
    roles: PgRoleRepo,
    sessions: PgSessionRepo,
    images: PgImageRepo,
    plans: PgPlanRepo,
    subscriptions: PgSubscriptionRepo,
}

/// A bound on waits that must end: a hang fails the test instead of stalling it.
async fn bounded<F: Future>(what: &str, wait: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("{what}: over 10 s"))
}

async fn server(test_db: &TestDb) -> Server {
    let caches = Caches::default();
    let db = Db::new(test_db.url(), &PoolSettings::default(), Arc::new(WallClock)).unwrap().with_caches(caches.clone());
    let listener = caches.listen(test_db.url().to_owned()).expect("the listener's thread");
    bounded("the listener subscribes", caches.ready()).await;
    Server {
        users: PgUserRepo::new(db.clone()),
        roles: PgRoleRepo::new(db.clone()),
        sessions: PgSessionRepo::new(db.clone()),
        images: PgImageRepo::new(db.clone()),
        plans: PgPlanRepo::new(db.clone()),
        subscriptions: PgSubscriptionRepo::new(db.clone()),
        db,
        caches,
        _listener: listener,
    }
}

impl Server {
    /// Waits until this server has applied every change committed so far, anywhere.
    async fn settle(&self) {
        bounded("settling", self.caches.settle(&self.db)).await.expect("a ping");
    }

    async fn signed_in(&self, name: &str, role: &str) -> (User, SessionId) {
        let user = self
            .users
            .create(&NewUser {
                username: Username::parse(name).unwrap(),
                email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
                role: RoleName::parse(role).unwrap(),
                password_hash: PasswordHash::new("$2b$04$not-a-real-hash".into()),
                is_active: true,
            })
            .await
            .unwrap();
        let session = self.sessions.start(user.id, &fresh_hash(), Utc::now() + chrono::Duration::days(1)).await;
        (user, session.unwrap())
    }

    async fn holder(&self, session: SessionId, user: &User) -> Option<User> {
        self.sessions.holder(session, user.id).await.unwrap()
    }

    async fn image(&self, id: ImageId) -> Option<gallery_domain::Image> {
        self.images.by_id(id, Visibility::All).await.unwrap()
    }
}

fn fresh_hash() -> TokenHash {
    let mut hash = [0; 32];
    hash[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    TokenHash(hash)
}

/// Runs `sql` with every trigger off, so that no change is announced: what a server then
/// answers from before the change came from its memory.
async fn unannounced(test_db: &TestDb, sql: &str) {
    test_db.execute(&format!("SET session_replication_role = replica; {sql}")).await;
}

async fn uploaded(server: &Server, owner: &User, status: ImageStatus) -> ImageId {
    let id = ImageId::generate();
    let image = NewImage {
        id,
        title: Title::parse("lamp").unwrap(),
        description: Description::default(),
        status,
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
    server.images.create(&image, 1 << 20).await.unwrap();
    id
}

#[tokio::test]
async fn a_session_is_served_from_memory_until_its_revocation_reaches_every_server() {
    let test_db = TestDb::create().await;
    let (a, b) = (server(&test_db).await, server(&test_db).await);
    let (alice, session) = b.signed_in("alice", "beta_player").await;
    assert_eq!(a.holder(session, &alice).await.as_ref(), Some(&alice));
    assert_eq!(b.holder(session, &alice).await.as_ref(), Some(&alice));

    // Revoked behind the servers' backs: both still answer from memory.
    unannounced(&test_db, &format!("UPDATE refresh_families SET revoked_at = now() WHERE id = '{session}'")).await;
    assert!(a.holder(session, &alice).await.is_some(), "A answers from memory");
    assert!(b.holder(session, &alice).await.is_some(), "B answers from memory");
    unannounced(&test_db, &format!("UPDATE refresh_families SET revoked_at = NULL WHERE id = '{session}'")).await;

    // Revoked through B: B refuses it at once, A as soon as the news is in.
    b.sessions.revoke(session).await.unwrap();
    assert_eq!(b.holder(session, &alice).await, None, "the writer forgets at once");
    a.settle().await;
    assert_eq!(a.holder(session, &alice).await, None);

    // Every other session of a user, revoked on A (a password change), on both.
    let (bob, first) = a.signed_in("bob", "beta_player").await;
    let second = a.sessions.start(bob.id, &fresh_hash(), Utc::now() + chrono::Duration::days(1)).await.unwrap();
    for s in [first, second] {
        assert!(a.holder(s, &bob).await.is_some() && b.holder(s, &bob).await.is_some());
    }
    a.sessions.revoke_all(bob.id, Some(second)).await.unwrap();
    assert_eq!(a.holder(first, &bob).await, None);
    b.settle().await;
    assert_eq!(b.holder(first, &bob).await, None);
    assert!(b.holder(second, &bob).await.is_some(), "the session kept stays");
}

#[tokio::test]
async fn changes_to_a_user_their_role_or_their_plan_reach_every_server() {
    let test_db = TestDb::create().await;
    let (a, b) = (server(&test_db).await, server(&test_db).await);
    let (carol, session) = b.signed_in("carol", "beta_player").await;
    let on_a = async || a.holder(session, &carol).await.expect("a live session");
    assert!(on_a().await.is_active);

    b.users.update(carol.id, &UserPatch { is_active: Some(false), ..UserPatch::default() }).await.unwrap();
    a.settle().await;
    assert!(!on_a().await.is_active, "disabled");

    let role = RoleName::parse("company_user").unwrap();
    b.users.update(carol.id, &UserPatch { role: Some(role), ..UserPatch::default() }).await.unwrap();
    a.settle().await;
    assert_eq!(on_a().await.role.name.as_str(), "company_user", "re-roled");

    let growth = b.plans.list().await.unwrap().into_iter().find(|p| p.code.as_str() == "growth").unwrap();
    b.subscriptions.set(carol.id, growth.id, None, carol.id).await.unwrap();
    a.settle().await;
    assert_eq!(on_a().await.plan_code(Utc::now()).as_str(), "growth", "a new plan");

    let mut bigger = growth.clone();
    bigger.features.thumbnail_heights = vec![200, 400, 800];
    b.plans.update(&bigger).await.unwrap();
    a.settle().await;
    assert_eq!(on_a().await.plan(Utc::now()).features.thumbnail_heights, [200, 400, 800], "the plan changed");

    let company = on_a().await.role;
    let only_read =
        RolePatch { permissions: Some(PermissionSet::from_iter([Permission::ImagesRead])), ..RolePatch::default() };
    // Built-in roles refuse changes in the use-case, not in the store: the store is what is tested.
    b.roles.update(company.id, &only_read).await.unwrap();
    a.settle().await;
    assert_eq!(on_a().await.role.permissions, PermissionSet::from_iter([Permission::ImagesRead]), "the role changed");

    b.users.delete(carol.id, false).await.unwrap();
    a.settle().await;
    assert_eq!(a.holder(session, &carol).await, None, "deleted");
}

#[tokio::test]
async fn changes_to_an_image_reach_every_server() {
    let test_db = TestDb::create().await;
    let (a, b) = (server(&test_db).await, server(&test_db).await);
    let (dave, _) = a.signed_in("dave", "beta_player").await;
    let (erin, _) = a.signed_in("erin", "beta_player").await;
    let id = uploaded(&a, &dave, ImageStatus::Pending).await;
    let seen_by_erin = async || a.images.by_id(id, Visibility::ApprovedOrOwnedBy(erin.id)).await.unwrap();
    assert_eq!(a.image(id).await.unwrap().title, "lamp");
    assert_eq!(seen_by_erin().await, None, "pending: only its owner and moderators see it");

    unannounced(&test_db, &format!("UPDATE images SET title = 'unannounced' WHERE id = '{id}'")).await;
    assert_eq!(a.image(id).await.unwrap().title, "lamp", "from memory");
    unannounced(&test_db, &format!("UPDATE images SET title = 'lamp' WHERE id = '{id}'")).await;

    let retitle = ImagePatch { title: Some(Title::parse("lantern").unwrap()), ..ImagePatch::default() };
    assert_eq!(b.images.update(id, &retitle).await.unwrap().unwrap().title, "lantern");
    a.settle().await;
    assert_eq!(a.image(id).await.unwrap().title, "lantern", "retitled");

    b.images.decide(id, Decision::Approved, None, dave.id).await.unwrap();
    a.settle().await;
    assert_eq!(seen_by_erin().await.map(|i| i.status), Some(ImageStatus::Approved), "approved: visible to all");

    b.images.delete(id).await.unwrap();
    a.settle().await;
    assert_eq!(a.image(id).await, None, "deleted");

    let ids = [uploaded(&a, &dave, ImageStatus::Approved).await, uploaded(&a, &erin, ImageStatus::Approved).await];
    for id in ids {
        assert!(a.image(id).await.is_some());
    }
    b.images.purge().await.unwrap();
    a.settle().await;
    for id in ids {
        assert_eq!(a.image(id).await, None, "purged");
    }
}

#[tokio::test]
async fn while_the_listener_is_away_nothing_held_is_served_and_it_comes_back() {
    let test_db = TestDb::create().await;
    let a = server(&test_db).await;
    let (frank, session) = a.signed_in("frank", "beta_player").await;
    assert!(a.holder(session, &frank).await.is_some());

    let drops = a.caches.drops();
    test_db
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'gallery cache listener' AND datname = current_database()",
        )
        .await;
    bounded("the listener notices", a.caches.dropped(drops)).await;
    // Revoked with no news: whether the listener is still away or already back (and has
    // forgotten everything), what A held before the drop is not served.
    unannounced(&test_db, &format!("UPDATE refresh_families SET revoked_at = now() WHERE id = '{session}'")).await;
    assert_eq!(a.holder(session, &frank).await, None);

    bounded("the listener is back", a.caches.ready()).await;
    unannounced(&test_db, &format!("UPDATE refresh_families SET revoked_at = NULL WHERE id = '{session}'")).await;
    assert!(a.holder(session, &frank).await.is_some());
    unannounced(&test_db, &format!("UPDATE refresh_families SET revoked_at = now() WHERE id = '{session}'")).await;
    assert!(a.holder(session, &frank).await.is_some(), "copies are in use again");
}

/// A database backend stopped with SIGSTOP: alive, connected, silent. Continued when
/// dropped, whatever the test did meanwhile.
struct Frozen(i32);

impl Frozen {
    fn stop(pid: i32) -> Self {
        signal("-STOP", pid);
        Self(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        signal("-CONT", self.0);
    }
}

fn signal(which: &str, pid: i32) {
    let status = std::process::Command::new("kill").args([which, &pid.to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill {which} {pid}: the test must run as the database's user or root");
}

#[tokio::test]
async fn a_frozen_listener_stops_the_copies_within_its_lease_and_forgets_nothing() {
    let test_db = TestDb::create().await;
    let (a, b) = (server(&test_db).await, server(&test_db).await);
    let (frank, session) = a.signed_in("frank", "beta_player").await;
    let (grace, kept) = a.signed_in("grace", "beta_player").await;
    b.settle().await;
    assert!(b.holder(session, &frank).await.is_some() && b.holder(kept, &grace).await.is_some());
    let (drops, lapses) = (b.caches.drops(), b.caches.lapses());

    // B's listener backend stops: B hears nothing more, and nothing tells it so.
    let frozen = Frozen::stop(b.caches.listener_backend().expect("B's listener is subscribed"));
    a.sessions.revoke(session).await.unwrap();
    bounded("B's lease runs out", b.caches.lapsed(lapses)).await;
    assert_eq!(b.holder(session, &frank).await, None, "revoked on A: B reads it from the database");

    drop(frozen);
    bounded("B's listener answers again", b.caches.ready()).await;
    assert_eq!(b.holder(session, &frank).await, None);
    unannounced(&test_db, &format!("UPDATE refresh_families SET revoked_at = now() WHERE id = '{kept}'")).await;
    assert!(b.holder(kept, &grace).await.is_some(), "what B held before the freeze is still held");
    assert_eq!(b.caches.drops(), drops, "the connection was never given up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_workers_are_all_busy_keeps_its_copies_and_its_lease() {
    let test_db = TestDb::create().await;
    let a = server(&test_db).await;
    let (heidi, session) = a.signed_in("heidi", "beta_player").await;
    assert!(a.holder(session, &heidi).await.is_some());
    let (drops, lapses) = (a.caches.drops(), a.caches.lapses());

    // Both workers spin without yielding for longer than any heartbeat may wait (what a
    // run queue thousands of requests long does to a task on them), while the test's own
    // thread watches the lease from outside the runtime.
    let spinning = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let spinning = spinning.clone();
            tokio::spawn(async move {
                while spinning.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let watched = std::time::Instant::now();
    let mut lapsed_seen = 0;
    while watched.elapsed() < Duration::from_secs(3) {
        lapsed_seen += u32::from(!a.caches.is_live());
        std::thread::sleep(Duration::from_millis(5));
    }
    spinning.store(false, std::sync::atomic::Ordering::Relaxed);
    for spinner in spinners {
        spinner.await.unwrap();
    }

    assert_eq!(lapsed_seen, 0, "the lease never ran out while the workers were busy");
    assert_eq!((a.caches.drops(), a.caches.lapses()), (drops, lapses));
    unannounced(&test_db, &format!("UPDATE refresh_families SET revoked_at = now() WHERE id = '{session}'")).await;
    assert!(a.holder(session, &heidi).await.is_some(), "the copies were kept throughout");
}
