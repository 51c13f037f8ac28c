//! The PostgreSQL adapters against a real database, one fresh database per test.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use gallery_domain::TokenHash;
use gallery_domain::ports::{Clock, RoleRepo as _, SessionRepo as _, UserRepo as _};
use gallery_domain::{
    Conflict, Description, Email, NewRole, NewUser, PageRequest, PasswordHash, Permission, PermissionSet, Referenced,
    RepoError, RoleDescription, RoleName, RolePatch, SearchText, SessionId, Title, UserFilter, UserPatch, Username,
};
use gallery_postgres::{Db, PgRoleRepo, PgSessionRepo, PgUserRepo, PoolSettings};
use gallery_testdb::TestDb;

/// The wall clock, as the server's.
struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

struct Repos {
    _db: TestDb,
    users: PgUserRepo,
    roles: PgRoleRepo,
    sessions: PgSessionRepo,
}

async fn repos() -> Repos {
    let test_db = TestDb::create().await;
    let db = Db::new(test_db.url(), &PoolSettings::default(), Arc::new(WallClock)).unwrap();
    Repos {
        users: PgUserRepo::new(db.clone()),
        roles: PgRoleRepo::new(db.clone()),
        sessions: PgSessionRepo::new(db),
        _db: test_db,
    }
}

fn new_user(name: &str, role: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
        role: RoleName::parse(role).unwrap(),
        password_hash: PasswordHash::new("$2b$04$not-a-real-hash".into()),
        is_active: true,
    }
}

#[tokio::test]
async fn migrations_seed_the_builtin_roles_with_their_permissions() {
    let r = repos().await;
    let roles = r.roles.list().await.unwrap();
    let names: Vec<_> = roles.iter().map(|r| r.name.as_str()).collect();
    for expected in ["admin", "beta_player", "company_user", "subscriber"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let admin = roles.iter().find(|r| r.name.as_str() == "admin").unwrap();
    assert_eq!(admin.permissions, PermissionSet::all());
    assert!(admin.is_system && !admin.signup_allowed);
    let subscriber = roles.iter().find(|r| r.name.as_str() == "subscriber").unwrap();
    assert_eq!(subscriber.permissions.codes(), ["images:read", "links:create"]);
}

#[tokio::test]
async fn a_new_user_gets_the_default_plan_and_their_role() {
    let r = repos().await;
    let user = r.users.create(&new_user("alice", "beta_player")).await.unwrap();
    assert_eq!(user.role.name.as_str(), "beta_player");
    assert!(user.role.permissions.contains(Permission::ImagesUpload));
    assert_eq!(user.plan_code(Utc::now()).as_str(), "basic");
    assert_eq!(r.users.by_id(user.id).await.unwrap().unwrap(), user);
}

#[tokio::test]
async fn usernames_are_unique_ignoring_case() {
    let r = repos().await;
    r.users.create(&new_user("Alice", "subscriber")).await.unwrap();
    let err = r.users.create(&new_user("aLICE", "subscriber")).await.unwrap_err();
    assert!(matches!(err, RepoError::Conflict(Conflict::Username)), "{err:?}");
    let (found, _) = r.users.credentials(&Username::parse("ALICE").unwrap()).await.unwrap().unwrap();
    assert_eq!(found.username.as_str(), "Alice");
}

#[tokio::test]
async fn listing_filters_pages_and_counts() {
    let r = repos().await;
    for i in 0..5 {
        r.users.create(&new_user(&format!("player{i}"), "beta_player")).await.unwrap();
    }
    r.users.create(&new_user("viewer", "company_user")).await.unwrap();
    let players = UserFilter { role: Some(RoleName::parse("beta_player").unwrap()), ..UserFilter::default() };
    let (page, total) = r.users.list(&players, PageRequest::parse(Some(2), Some(2)).unwrap()).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(page.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["player2", "player3"]);
    let (past_end, total) = r.users.list(&players, PageRequest::parse(Some(9), Some(2)).unwrap()).await.unwrap();
    assert!(past_end.is_empty());
    assert_eq!(total, 5);
    let q = UserFilter { q: SearchText::parse_query(Some("VIEW")).unwrap(), ..UserFilter::default() };
    assert_eq!(r.users.list(&q, PageRequest::default()).await.unwrap().1, 1);
    let wildcard = UserFilter { q: SearchText::parse_query(Some("%")).unwrap(), ..UserFilter::default() };
    assert_eq!(r.users.list(&wildcard, PageRequest::default()).await.unwrap().1, 0);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_disabled_demoted_or_deleted() {
    let r = repos().await;
    let admin = r.users.create(&new_user("root", "admin")).await.unwrap();
    let disable = UserPatch { is_active: Some(false), ..UserPatch::default() };
    let demote = UserPatch { role: Some(RoleName::parse("subscriber").unwrap()), ..UserPatch::default() };
    assert!(matches!(r.users.update(admin.id, &disable).await, Err(RepoError::Conflict(Conflict::LastAdmin))));
    assert!(matches!(r.users.update(admin.id, &demote).await, Err(RepoError::Conflict(Conflict::LastAdmin))));
    assert!(matches!(r.users.delete(admin.id, false).await, Err(RepoError::Conflict(Conflict::LastAdmin))));
    // Nothing was half-applied.
    let still = r.users.by_id(admin.id).await.unwrap().unwrap();
    assert!(still.is_active && still.role.name.as_str() == "admin");
    // With a second admin, the first may go.
    r.users.create(&new_user("root2", "admin")).await.unwrap();
    assert!(r.users.delete(admin.id, false).await.unwrap().is_some());
}

#[tokio::test]
async fn an_admin_is_whoever_holds_every_permission_whatever_the_role_is_called() {
    let r = repos().await;
    let admin = r.users.create(&new_user("root", "admin")).await.unwrap();
    let everything = NewRole {
        name: RoleName::parse("operators").unwrap(),
        description: RoleDescription::default(),
        permissions: PermissionSet::all(),
        signup_allowed: false,
    };
    r.roles.create(&everything).await.unwrap();
    let almost = NewRole {
        name: RoleName::parse("deputies").unwrap(),
        description: RoleDescription::default(),
        permissions: PermissionSet::all().without(&[Permission::ImagesPurge].into_iter().collect()),
        signup_allowed: false,
    };
    r.roles.create(&almost).await.unwrap();
    let deputy = r.users.create(&new_user("deputy", "deputies")).await.unwrap();
    let disable = UserPatch { is_active: Some(false), ..UserPatch::default() };
    // A deputy lacks one permission: the built-in admin is still the last administrator.
    assert!(matches!(r.users.update(admin.id, &disable).await, Err(RepoError::Conflict(Conflict::LastAdmin))));
    // An operator holds every permission: the built-in admin may go, and the operator is last.
    let operator = r.users.create(&new_user("operator", "operators")).await.unwrap();
    assert!(r.users.update(admin.id, &disable).await.unwrap().is_some());
    assert!(matches!(r.users.delete(operator.id, false).await, Err(RepoError::Conflict(Conflict::LastAdmin))));
    assert!(r.users.update(deputy.id, &disable).await.unwrap().is_some());
}

#[tokio::test]
async fn concurrent_demotions_of_the_last_two_admins_leave_one() {
    let r = repos().await;
    let a = r.users.create(&new_user("admin_a", "admin")).await.unwrap();
    let b = r.users.create(&new_user("admin_b", "admin")).await.unwrap();
    let demote = UserPatch { role: Some(RoleName::parse("subscriber").unwrap()), ..UserPatch::default() };
    let (ra, rb) = tokio::join!(r.users.update(a.id, &demote), r.users.update(b.id, &demote));
    assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(), 1, "{ra:?} {rb:?}");
}

#[tokio::test]
async fn patching_a_user_changes_only_what_it_names() {
    let r = repos().await;
    let u = r.users.create(&new_user("bob", "subscriber")).await.unwrap();
    let cleared =
        r.users.update(u.id, &UserPatch { email: Some(None), ..UserPatch::default() }).await.unwrap().unwrap();
    assert_eq!(cleared.email, None);
    assert_eq!(cleared.role.name.as_str(), "subscriber");
    assert!(r.users.update(gallery_domain::UserId::generate(), &UserPatch::default()).await.unwrap().is_none());
}

#[tokio::test]
async fn custom_roles_round_trip_and_are_protected_while_held() {
    let r = repos().await;
    let perms: PermissionSet = [Permission::ImagesRead, Permission::ImagesUpload].into_iter().collect();
    let role = r
        .roles
        .create(&NewRole {
            name: RoleName::parse("uploader").unwrap(),
            description: RoleDescription::parse("uploads").unwrap(),
            permissions: perms,
            signup_allowed: true,
        })
        .await
        .unwrap();
    assert_eq!(role.permissions, perms);
    let dup = r
        .roles
        .create(&NewRole {
            name: RoleName::parse("uploader").unwrap(),
            description: RoleDescription::default(),
            permissions: perms,
            signup_allowed: false,
        })
        .await;
    assert!(matches!(dup, Err(RepoError::Conflict(Conflict::RoleName))));
    let patched = r
        .roles
        .update(
            role.id,
            &RolePatch {
                permissions: Some(PermissionSet::empty()),
                description: Some(RoleDescription::parse("none").unwrap()),
                ..RolePatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(patched.permissions.is_empty());
    assert_eq!((patched.name.as_str(), patched.description.as_str()), ("uploader", "none"));
    let holder = r.users.create(&new_user("carol", "uploader")).await.unwrap();
    assert!(matches!(r.roles.delete(role.id).await, Err(RepoError::InUse(Referenced::Role))));
    r.users.delete(holder.id, false).await.unwrap();
    assert!(r.roles.delete(role.id).await.unwrap());
    assert!(r.roles.by_id(role.id).await.unwrap().is_none());
}

#[tokio::test]
async fn refresh_tokens_rotate_once_and_old_ones_are_recognised() {
    let r = repos().await;
    let user = r.users.create(&new_user("dave", "subscriber")).await.unwrap();
    let (t1, t2, t3) = (TokenHash([1; 32]), TokenHash([2; 32]), TokenHash([3; 32]));
    let expires = Utc::now() + Duration::days(1);
    let session = r.sessions.start(user.id, &t1, expires).await.unwrap();
    let rec = r.sessions.by_refresh(&t1).await.unwrap().unwrap();
    assert!(rec.is_current && !rec.is_revoked && rec.session == session && rec.user == user.id);
    assert!(r.sessions.rotate(session, &t1, &t2, expires).await.unwrap());
    // The same old token cannot rotate twice.
    assert!(!r.sessions.rotate(session, &t1, &t3, expires).await.unwrap());
    assert!(!r.sessions.by_refresh(&t1).await.unwrap().unwrap().is_current);
    assert!(r.sessions.by_refresh(&t2).await.unwrap().unwrap().is_current);
    assert!(r.sessions.by_refresh(&t3).await.unwrap().is_none());
}

#[tokio::test]
async fn a_revoked_session_has_no_holder() {
    let r = repos().await;
    let user = r.users.create(&new_user("erin", "subscriber")).await.unwrap();
    let expires = Utc::now() + Duration::days(1);
    let s1 = r.sessions.start(user.id, &TokenHash([1; 32]), expires).await.unwrap();
    let s2 = r.sessions.start(user.id, &TokenHash([2; 32]), expires).await.unwrap();
    assert_eq!(r.sessions.holder(s1, user.id).await.unwrap().unwrap().id, user.id);
    // Another user's id with this session finds nobody.
    assert!(r.sessions.holder(s1, gallery_domain::UserId::generate()).await.unwrap().is_none());
    assert!(r.sessions.holder(SessionId::generate(), user.id).await.unwrap().is_none());
    r.sessions.revoke_all(user.id, Some(s2)).await.unwrap();
    assert!(r.sessions.holder(s1, user.id).await.unwrap().is_none());
    assert!(r.sessions.holder(s2, user.id).await.unwrap().is_some());
    r.sessions.revoke(s2).await.unwrap();
    assert!(r.sessions.holder(s2, user.id).await.unwrap().is_none());
    assert!(r.sessions.by_refresh(&TokenHash([2; 32])).await.unwrap().unwrap().is_revoked);
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_not_a_hang() {
    let settings = PoolSettings {
        max_size: 2,
        wait_timeout: std::time::Duration::from_secs(1),
        connect_timeout: std::time::Duration::from_secs(1),
    };
    // Port 1 on loopback: nothing listens there.
    let db = Db::new("postgres://postgres@127.0.0.1:1/nowhere", &settings, Arc::new(WallClock)).unwrap();
    let err = PgUserRepo::new(db).by_id(gallery_domain::UserId::generate()).await.unwrap_err();
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn a_change_to_a_role_reaches_the_next_read_of_its_users() {
    let r = repos().await;
    let perms: PermissionSet = [Permission::ImagesRead].into_iter().collect();
    let role = r
        .roles
        .create(&NewRole {
            name: RoleName::parse("viewer").unwrap(),
            description: RoleDescription::default(),
            permissions: perms,
            signup_allowed: false,
        })
        .await
        .unwrap();
    let user = r.users.create(&new_user("gail", "viewer")).await.unwrap();
    // The catalog is now cached; widen the role and read the user again.
    let widened: PermissionSet = [Permission::ImagesRead, Permission::ImagesUpload].into_iter().collect();
    r.roles.update(role.id, &RolePatch { permissions: Some(widened), ..RolePatch::default() }).await.unwrap();
    assert_eq!(r.users.by_id(user.id).await.unwrap().unwrap().role.permissions, widened);
    // Written behind the repository's back, straight in SQL: still seen at once.
    r._db.execute("DELETE FROM role_permissions WHERE permission = 'images:upload'").await;
    assert_eq!(r.users.by_id(user.id).await.unwrap().unwrap().role.permissions, perms);
}

fn image_repo(r: &Repos) -> gallery_postgres::PgImageRepo {
    gallery_postgres::PgImageRepo::new(Db::new(r._db.url(), &PoolSettings::default(), Arc::new(WallClock)).unwrap())
}

fn new_image(
    owner: gallery_domain::UserId,
    size: u64,
    status: gallery_domain::ImageStatus,
) -> gallery_domain::NewImage {
    let id = gallery_domain::ImageId::generate();
    gallery_domain::NewImage {
        id,
        title: Title::parse("sunset").unwrap(),
        description: Description::parse("over the sea").unwrap(),
        status,
        uploaded_by: owner,
        gallery_id: None,
        width: 4,
        height: 3,
        format: gallery_domain::ImageFormat::Png,
        size_bytes: size,
        sha256: [7; 32],
        storage_key: gallery_domain::BlobKey::original(id),
        shot: Default::default(),
    }
}

#[tokio::test]
async fn images_respect_quota_visibility_and_ownership() {
    use gallery_domain::ports::ImageRepo as _;
    use gallery_domain::{ImageFilter, ImageStatus, Visibility};
    let r = repos().await;
    let images = image_repo(&r);
    let owner = r.users.create(&new_user("owner", "beta_player")).await.unwrap();
    let other = r.users.create(&new_user("other", "company_user")).await.unwrap();

    let pending = images.create(&new_image(owner.id, 600, ImageStatus::Pending), 1000).await.unwrap();
    assert_eq!(pending.uploaded_by.username.as_str(), "owner");
    assert!(matches!(
        images.create(&new_image(owner.id, 500, ImageStatus::Pending), 1000).await,
        Err(RepoError::Conflict(Conflict::Quota))
    ));
    assert_eq!(images.stored_bytes(owner.id).await.unwrap(), 600);

    assert!(images.by_id(pending.id, Visibility::ApprovedOrOwnedBy(owner.id)).await.unwrap().is_some());
    assert!(images.by_id(pending.id, Visibility::ApprovedOrOwnedBy(other.id)).await.unwrap().is_none());
    let listed = images
        .list(&ImageFilter::default(), Visibility::ApprovedOrOwnedBy(other.id), PageRequest::default(), None)
        .await
        .unwrap();
    assert!(listed.items.is_empty() && listed.total == 0 && listed.exact && !listed.more);

    let approved =
        images.decide(pending.id, gallery_domain::Decision::Approved, None, owner.id).await.unwrap().unwrap();
    assert_eq!(approved.status, ImageStatus::Approved);
    assert_eq!(images.approvals(pending.id).await.unwrap().len(), 1);
    assert!(images.by_id(pending.id, Visibility::ApprovedOrOwnedBy(other.id)).await.unwrap().is_some());

    // Owning images blocks deleting the user, unless the images go too.
    assert!(matches!(r.users.delete(owner.id, false).await, Err(RepoError::InUse(Referenced::Images))));
    let keys = r.users.delete(owner.id, true).await.unwrap().unwrap();
    assert_eq!(keys, vec![pending.storage_key]);
    assert!(images.by_id(pending.id, Visibility::All).await.unwrap().is_none());
}

#[tokio::test]
async fn when_and_with_what_a_photo_was_taken_round_trips() {
    use gallery_domain::ports::ImageRepo as _;
    use gallery_domain::{Camera, ImageStatus, Shot, Visibility};
    let r = repos().await;
    let images = image_repo(&r);
    let owner = r.users.create(&new_user("shooter", "beta_player")).await.unwrap();
    let shot = Shot {
        taken_at: Some(chrono::DateTime::parse_from_rfc3339("2024-05-01T10:30:15Z").unwrap().to_utc()),
        camera: Camera::from_exif(None, Some("Pixel 8")),
    };
    let new = gallery_domain::NewImage { shot: shot.clone(), ..new_image(owner.id, 10, ImageStatus::Approved) };
    let created = images.create(&new, 1 << 20).await.unwrap();
    assert_eq!(created.shot, shot);
    let read = images.by_id(created.id, Visibility::All).await.unwrap().unwrap();
    assert_eq!(read.shot, shot);
    let bare = images.create(&new_image(owner.id, 10, ImageStatus::Approved), 1 << 20).await.unwrap();
    assert_eq!(bare.shot, Shot::default());
}

#[tokio::test]
async fn images_recorded_before_sizes_were_as_shown_are_read_again_once() {
    use gallery_domain::ports::{ImageRepo as _, Inspected};
    use gallery_domain::{Camera, ImageStatus, Shot, Visibility};
    let r = repos().await;
    let images = image_repo(&r);
    let owner = r.users.create(&new_user("early", "beta_player")).await.unwrap();
    let (turned, lost) = (
        images.create(&new_image(owner.id, 10, ImageStatus::Approved), 1 << 20).await.unwrap(),
        images.create(&new_image(owner.id, 10, ImageStatus::Approved), 1 << 20).await.unwrap(),
    );
    assert!(images.to_reinspect(10).await.unwrap().is_empty(), "new rows are read as shown already");
    // As migration 000013 leaves the rows recorded before it.
    r._db.execute("UPDATE images SET reinspect = true").await;
    let stale = images.to_reinspect(10).await.unwrap();
    let mut ids: Vec<_> = stale.iter().map(|s| s.id).collect();
    ids.sort_by_key(|id| id.as_uuid());
    let mut expected = vec![turned.id, lost.id];
    expected.sort_by_key(|id| id.as_uuid());
    assert_eq!(ids, expected, "by id");
    assert_eq!(stale[0].format, gallery_domain::ImageFormat::Png);
    assert_eq!(images.to_reinspect(1).await.unwrap().len(), 1, "at most the limit");

    let shot = Shot {
        taken_at: Some(chrono::DateTime::parse_from_rfc3339("2024-05-01T10:30:15Z").unwrap().to_utc()),
        camera: Camera::from_exif(Some("Canon"), None),
    };
    images.reinspected(turned.id, Some(Inspected { width: 3, height: 4, shot: shot.clone() })).await.unwrap();
    images.reinspected(lost.id, None).await.unwrap();
    let read = images.by_id(turned.id, Visibility::All).await.unwrap().unwrap();
    assert_eq!((read.width, read.height, &read.shot), (3, 4, &shot));
    assert_eq!(read.updated_at, turned.updated_at, "not an edit");
    let kept = images.by_id(lost.id, Visibility::All).await.unwrap().unwrap();
    assert_eq!((kept.width, kept.height), (4, 3), "an unreadable original keeps its row");
    assert!(images.to_reinspect(10).await.unwrap().is_empty(), "each is read once");
    // An image deleted meanwhile: nothing to write.
    images.reinspected(gallery_domain::ImageId::generate(), None).await.unwrap();

    let turn = images.reinspect_turn().await.unwrap().expect("nobody else reads");
    assert!(image_repo(&r).reinspect_turn().await.unwrap().is_none(), "one server at a time");
    turn.end().await;
    assert!(image_repo(&r).reinspect_turn().await.unwrap().is_some());
}

#[tokio::test]
async fn concurrent_changes_never_leave_an_administrative_role_open_to_sign_up() {
    let r = repos().await;
    // Two servers' pools: the changes really run at once.
    let other = PgRoleRepo::new(Db::new(r._db.url(), &PoolSettings::default(), Arc::new(WallClock)).unwrap());
    let viewer: PermissionSet = [Permission::ImagesRead].into_iter().collect();
    let manager: PermissionSet = [Permission::ImagesRead, Permission::UsersManage].into_iter().collect();
    for i in 0..30 {
        let role = r
            .roles
            .create(&NewRole {
                name: RoleName::parse(&format!("helper{i}")).unwrap(),
                description: RoleDescription::default(),
                permissions: viewer,
                signup_allowed: false,
            })
            .await
            .unwrap();
        // Each passes alone: opening a viewer role, giving a closed role users:manage.
        let open = RolePatch { signup_allowed: Some(true), ..RolePatch::default() };
        let widen = RolePatch { permissions: Some(manager), ..RolePatch::default() };
        let (opened, widened) = tokio::join!(r.roles.update(role.id, &open), other.update(role.id, &widen));
        let refused = [&opened, &widened]
            .iter()
            .filter(|result| matches!(result, Err(RepoError::Conflict(Conflict::OpenToSignup(_)))))
            .count();
        assert_eq!(refused, 1, "try {i}: exactly one of the two is refused: {opened:?} {widened:?}");
        let now = r.roles.by_id(role.id).await.unwrap().unwrap();
        assert!(!(now.signup_allowed && now.permissions.contains(Permission::UsersManage)), "try {i}: {now:?}");
    }
}
