use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use mockall::predicate::eq;

use super::*;
use crate::TokenHash;
use crate::ports::{
    AccessClaims, MockClock, MockPasswordHasher, MockRoleRepo, MockSessionRepo, MockTokenService, MockUserRepo,
    RefreshRecord,
};
use crate::testing::{actor_with_role, builtin_role, user_with_role};
use crate::{Conflict, PasswordHash, RepoError, SessionId};

struct Mocks {
    users: MockUserRepo,
    roles: MockRoleRepo,
    sessions: MockSessionRepo,
    hasher: MockPasswordHasher,
    tokens: MockTokenService,
}

impl Mocks {
    fn new() -> Self {
        Self {
            users: MockUserRepo::new(),
            roles: MockRoleRepo::new(),
            sessions: MockSessionRepo::new(),
            hasher: MockPasswordHasher::new(),
            tokens: MockTokenService::new(),
        }
    }

    fn build(self) -> Auth {
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap());
        Auth::new(
            Arc::new(self.users),
            Arc::new(self.roles),
            Arc::new(self.sessions),
            Arc::new(self.hasher),
            Arc::new(self.tokens),
            Arc::new(clock),
            RoleName::parse("subscriber").unwrap(),
        )
    }
}

fn registration(role: Option<&str>) -> Registration {
    Registration {
        username: Username::parse("alice").unwrap(),
        password: Password::parse("correct horse").unwrap(),
        email: None,
        role: role.map(|r| RoleName::parse(r).unwrap()),
    }
}

fn hash(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

#[tokio::test]
async fn register_uses_the_configured_default_role() {
    let mut m = Mocks::new();
    m.roles.expect_by_name().withf(|n| n.as_str() == "subscriber").returning(|_| Ok(Some(builtin_role("subscriber"))));
    m.hasher.expect_hash().returning(|_| Ok(PasswordHash::new("h".into())));
    m.users
        .expect_create()
        .withf(|u| u.role.as_str() == "subscriber" && u.is_active)
        .returning(|_| Ok(user_with_role(builtin_role("subscriber"))));
    assert!(m.build().register(registration(None)).await.is_ok());
}

#[tokio::test]
async fn register_refuses_roles_closed_to_signup() {
    let mut m = Mocks::new();
    m.roles.expect_by_name().returning(|_| Ok(Some(builtin_role("admin"))));
    m.users.expect_create().never();
    let err = m.build().register(registration(Some("admin"))).await.unwrap_err();
    assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "role"), "{err:?}");
}

#[tokio::test]
async fn register_refuses_unknown_roles() {
    let mut m = Mocks::new();
    m.roles.expect_by_name().returning(|_| Ok(None));
    let err = m.build().register(registration(Some("wizard"))).await.unwrap_err();
    assert!(matches!(err, DomainError::Validation(_)));
}

#[tokio::test]
async fn register_reports_a_taken_name() {
    let mut m = Mocks::new();
    m.roles.expect_by_name().returning(|_| Ok(Some(builtin_role("beta_player"))));
    m.hasher.expect_hash().returning(|_| Ok(PasswordHash::new("h".into())));
    m.users.expect_create().returning(|_| Err(RepoError::Conflict(Conflict::Username)));
    let err = m.build().register(registration(Some("beta_player"))).await.unwrap_err();
    assert!(matches!(err, DomainError::UsernameTaken));
}

#[tokio::test]
async fn login_for_an_unknown_user_still_checks_a_dummy_hash() {
    let mut m = Mocks::new();
    m.users.expect_credentials().returning(|_| Ok(None));
    m.hasher.expect_verify().withf(|_, hash| hash.is_none()).times(1).returning(|_, _| Ok(false));
    let err = m.build().login("ghost", "whatever1").await.unwrap_err();
    assert!(matches!(err, DomainError::InvalidCredentials));
}

#[tokio::test]
async fn a_name_that_cannot_exist_is_not_looked_up_but_costs_the_same_hash() {
    for name in ["a\u{0}b", "x", "has space"] {
        let mut m = Mocks::new();
        m.users.expect_credentials().never();
        m.hasher.expect_verify().withf(|_, hash| hash.is_none()).times(1).returning(|_, _| Ok(false));
        let err = m.build().login(name, "whatever1").await.unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials), "{name:?}");
    }
}

#[tokio::test]
async fn a_password_past_72_bytes_never_matches_even_if_its_prefix_would() {
    let mut m = Mocks::new();
    m.users
        .expect_credentials()
        .returning(|_| Ok(Some((user_with_role(builtin_role("subscriber")), PasswordHash::new("h".into())))));
    // bcrypt reads 72 bytes: the stored hash is never consulted for a longer password.
    m.hasher.expect_verify().withf(|_, hash| hash.is_none()).times(1).returning(|_, _| Ok(true));
    m.sessions.expect_start().never();
    let overlong = format!("{}b", "a".repeat(72));
    assert!(matches!(m.build().login("someone", &overlong).await, Err(DomainError::InvalidCredentials)));
}

#[tokio::test]
async fn login_with_a_wrong_password_is_invalid_credentials() {
    let mut m = Mocks::new();
    m.users
        .expect_credentials()
        .returning(|_| Ok(Some((user_with_role(builtin_role("subscriber")), PasswordHash::new("h".into())))));
    m.hasher.expect_verify().withf(|_, hash| hash.is_some()).returning(|_, _| Ok(false));
    m.sessions.expect_start().never();
    assert!(matches!(m.build().login("someone", "wrong-pass").await, Err(DomainError::InvalidCredentials)));
}

#[tokio::test]
async fn login_of_a_disabled_account_is_refused_after_the_password_check() {
    let mut m = Mocks::new();
    let mut user = user_with_role(builtin_role("subscriber"));
    user.is_active = false;
    m.users.expect_credentials().returning(move |_| Ok(Some((user.clone(), PasswordHash::new("h".into())))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.sessions.expect_start().never();
    assert!(matches!(m.build().login("someone", "right-pass").await, Err(DomainError::AccountDisabled)));
}

#[tokio::test]
async fn login_opens_a_session_and_issues_both_tokens() {
    let mut m = Mocks::new();
    let user = user_with_role(builtin_role("beta_player"));
    let id = user.id;
    let session = SessionId::generate();
    m.users.expect_credentials().returning(move |_| Ok(Some((user.clone(), PasswordHash::new("h".into())))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.tokens.expect_new_refresh().returning(|| ("refresh-1".into(), hash(1)));
    m.tokens.expect_refresh_ttl().returning(|| Duration::days(30));
    let expected_expiry = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
    m.sessions.expect_start().with(eq(id), eq(hash(1)), eq(expected_expiry)).returning(move |_, _, _| Ok(session));
    m.tokens
        .expect_issue_access()
        .with(eq(id), eq(session))
        .returning(|_, _| Ok(AccessToken { token: "jwt".into(), expires_in: 900 }));
    let (pair, who) = m.build().login("someone", "right-pass").await.unwrap();
    assert_eq!((pair.access.token.as_str(), pair.refresh_token.as_str(), who.user.id), ("jwt", "refresh-1", id));
    assert_eq!(pair.refresh_expires_in, 30 * 86_400, "a browser keeps the cookie as long as the session lasts");
}

fn record(is_current: bool, is_revoked: bool) -> RefreshRecord {
    RefreshRecord {
        session: SessionId::generate(),
        user: crate::UserId::generate(),
        is_current,
        is_revoked,
        expires_at: Utc.with_ymd_and_hms(2026, 6, 30, 0, 0, 0).unwrap(),
    }
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_session() {
    let mut m = Mocks::new();
    let rec = record(false, false);
    let session = rec.session;
    m.tokens.expect_hash_refresh().returning(|_| hash(1));
    m.sessions.expect_by_refresh().returning(move |_| Ok(Some(rec.clone())));
    m.sessions.expect_revoke().with(eq(session)).times(1).returning(|_| Ok(()));
    m.sessions.expect_rotate().never();
    assert!(matches!(m.build().refresh(&"old".into()).await, Err(DomainError::InvalidToken)));
}

#[tokio::test]
async fn losing_a_rotation_race_counts_as_reuse() {
    let mut m = Mocks::new();
    let rec = record(true, false);
    let (session, user_id) = (rec.session, rec.user);
    m.tokens.expect_hash_refresh().returning(|_| hash(1));
    m.tokens.expect_new_refresh().returning(|| ("new".into(), hash(2)));
    m.tokens.expect_refresh_ttl().returning(|| Duration::days(30));
    m.sessions.expect_by_refresh().returning(move |_| Ok(Some(rec.clone())));
    m.sessions.expect_holder().returning(move |_, _| {
        let mut u = user_with_role(builtin_role("subscriber"));
        u.id = user_id;
        Ok(Some(u))
    });
    m.sessions.expect_rotate().returning(|_, _, _, _| Ok(false));
    m.sessions.expect_revoke().with(eq(session)).times(1).returning(|_| Ok(()));
    assert!(matches!(m.build().refresh(&"old".into()).await, Err(DomainError::InvalidToken)));
}

#[tokio::test]
async fn a_current_refresh_token_rotates() {
    let mut m = Mocks::new();
    let rec = record(true, false);
    let (session, user_id) = (rec.session, rec.user);
    m.tokens.expect_hash_refresh().returning(|_| hash(1));
    m.tokens.expect_new_refresh().returning(|| ("new".into(), hash(2)));
    m.tokens.expect_refresh_ttl().returning(|| Duration::days(30));
    m.sessions.expect_by_refresh().returning(move |_| Ok(Some(rec.clone())));
    m.sessions.expect_holder().returning(move |_, _| {
        let mut u = user_with_role(builtin_role("subscriber"));
        u.id = user_id;
        Ok(Some(u))
    });
    m.sessions
        .expect_rotate()
        .withf(move |s, old, new, _| *s == session && *old == hash(1) && *new == hash(2))
        .returning(|_, _, _, _| Ok(true));
    m.tokens
        .expect_issue_access()
        .with(eq(user_id), eq(session))
        .returning(|_, _| Ok(AccessToken { token: "jwt2".into(), expires_in: 900 }));
    let pair = m.build().refresh(&"old".into()).await.unwrap();
    assert_eq!((pair.refresh_token.as_str(), pair.refresh_expires_in), ("new", 30 * 86_400));
}

#[tokio::test]
async fn revoked_and_expired_refresh_tokens_are_invalid() {
    for (rec, expired) in [(record(true, true), false), (record(true, false), true)] {
        let mut m = Mocks::new();
        let mut rec = rec;
        if expired {
            rec.expires_at = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        }
        m.tokens.expect_hash_refresh().returning(|_| hash(1));
        m.sessions.expect_by_refresh().returning(move |_| Ok(Some(rec.clone())));
        m.sessions.expect_rotate().never();
        assert!(matches!(m.build().refresh(&"x".into()).await, Err(DomainError::InvalidToken)));
    }
}

#[tokio::test]
async fn authenticate_refuses_revoked_sessions_and_disabled_users() {
    let claims = AccessClaims { user: crate::UserId::generate(), session: SessionId::generate() };
    for (holder, expected) in [(None, "invalid"), (Some(false), "disabled"), (Some(true), "ok")] {
        let mut m = Mocks::new();
        let c = claims.clone();
        m.tokens.expect_verify_access().returning(move |_| Ok(c.clone()));
        m.sessions.expect_holder().returning(move |_, _| {
            Ok(holder.map(|active| {
                let mut u = user_with_role(builtin_role("company_user"));
                u.is_active = active;
                u
            }))
        });
        let got = m.build().authenticate(&"t".into()).await;
        let outcome = match got {
            Err(DomainError::InvalidToken) => "invalid",
            Err(DomainError::AccountDisabled) => "disabled",
            Ok(_) => "ok",
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(outcome, expected);
    }
}

#[tokio::test]
async fn a_new_password_needs_the_current_one() {
    let m = Mocks::new();
    let actor = actor_with_role(builtin_role("subscriber"));
    let changes = OwnChanges { new_password: Some(Password::parse("new secret").unwrap()), ..OwnChanges::default() };
    let err = m.build().update_me(&actor, changes).await.unwrap_err();
    assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "current_password"));
}

#[tokio::test]
async fn a_new_password_ends_every_other_session() {
    let mut m = Mocks::new();
    let actor = actor_with_role(builtin_role("subscriber"));
    let (id, session) = (actor.id(), actor.session);
    let user = actor.user.clone();
    m.users.expect_password_hash().returning(|_| Ok(Some(PasswordHash::new("h".into()))));
    m.hasher.expect_verify().returning(|_, _| Ok(true));
    m.hasher.expect_hash().returning(|_| Ok(PasswordHash::new("h2".into())));
    m.users.expect_update().withf(|_, p| p.password_hash.is_some()).returning(move |_, _| Ok(Some(user.clone())));
    m.sessions.expect_revoke_all().with(eq(id), eq(Some(session))).times(1).returning(|_, _| Ok(()));
    let changes = OwnChanges {
        current_password: Some("old secret".into()),
        new_password: Some(Password::parse("new secret").unwrap()),
        ..OwnChanges::default()
    };
    assert!(m.build().update_me(&actor, changes).await.is_ok());
}

#[tokio::test]
async fn logout_revokes_the_callers_session() {
    let mut m = Mocks::new();
    let actor = actor_with_role(builtin_role("subscriber"));
    m.sessions.expect_revoke().with(eq(actor.session)).times(1).returning(|_| Ok(()));
    assert!(m.build().logout(&actor, None).await.is_ok());
}
