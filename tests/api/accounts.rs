//! Sign-up, login, refresh, logout and the caller's own account.

use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn register_login_and_me_round_trip() {
    let app = spawn_app().await;
    let reg = app.register("Alice", None).await;
    assert_eq!(reg.status, 201, "{:?}", reg.body);
    assert_eq!(reg.body["username"], "Alice");
    assert_eq!(reg.body["role"], "subscriber");
    assert_eq!(reg.body["plan"], "basic");
    assert_eq!(reg.body["permissions"], json!(["images:read", "links:create"]));
    assert_eq!(reg.body["is_active"], true);
    assert!(reg.body.get("password_hash").is_none());

    let login = app.login("alice").await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert_eq!(login.body["user"]["id"], reg.body["id"]);
    let token = login.body["access_token"].as_str().unwrap();
    let me = app.get("/users/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], reg.body["id"]);
}

#[tokio::test]
async fn signup_may_choose_an_open_role_but_never_admin() {
    let app = spawn_app().await;
    assert_eq!(app.register("player", Some("beta_player")).await.body["role"], "beta_player");
    let admin = app.register("sneaky", Some("admin")).await;
    admin.assert_problem(422, "validation_failed");
    assert_eq!(admin.error_fields(), ["role"]);
    app.register("ghost", Some("no_such_role")).await.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn usernames_differing_only_in_case_collide() {
    let app = spawn_app().await;
    assert_eq!(app.register("Bob", None).await.status, 201);
    app.register("bOB", None).await.assert_problem(409, "username_taken");
}

#[tokio::test]
async fn concurrent_registrations_of_one_name_have_exactly_one_winner() {
    let app = spawn_app().await;
    let attempts = (0..12).map(|i| {
        let name = if i % 2 == 0 { "racer" } else { "RACER" };
        app.register(name, None)
    });
    let replies = futures_util::future::join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1);
    for r in replies.iter().filter(|r| r.status != 201) {
        r.assert_problem(409, "username_taken");
    }
}

#[tokio::test]
async fn register_reports_every_field_problem_at_once() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/auth/register",
            None,
            json!({"username": "x", "password": "short", "password_confirm": "other", "email": "nope"}),
        )
        .await;
    reply.assert_problem(422, "validation_failed");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "password", "password_confirm", "username"]);
    let missing = app.post("/auth/register", None, json!({})).await;
    missing.assert_problem(422, "validation_failed");
    let mut fields = missing.error_fields();
    fields.sort();
    assert_eq!(fields, ["password", "password_confirm", "username"]);
}

#[tokio::test]
async fn passwords_past_72_bytes_are_refused_not_truncated() {
    let app = spawn_app().await;
    let long = "pq".repeat(36) + "r";
    let reply = app
        .post("/auth/register", None, json!({"username": "longpw", "password": long, "password_confirm": long}))
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["password"]);
    // A 72-byte password works, and its 73-byte extension does not log in.
    let max = "pq".repeat(36);
    let ok =
        app.post("/auth/register", None, json!({"username": "maxpw", "password": max, "password_confirm": max})).await;
    assert_eq!(ok.status, 201);
    assert_eq!(app.post("/auth/login", None, json!({"username": "maxpw", "password": max})).await.status, 200);
    app.post("/auth/login", None, json!({"username": "maxpw", "password": long}))
        .await
        .assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn overlong_and_odd_usernames_are_validation_errors() {
    let app = spawn_app().await;
    for name in ["x".repeat(33), "émile".into(), "a b c".into(), "nul\u{0}byte".into(), "../etc".into()] {
        let reply = app
            .post("/auth/register", None, json!({"username": name, "password": PASSWORD, "password_confirm": PASSWORD}))
            .await;
        reply.assert_problem(422, "validation_failed");
    }
}

#[tokio::test]
async fn unknown_user_and_wrong_password_answer_alike() {
    let app = spawn_app().await;
    app.register("carol", None).await;
    let wrong = app.post("/auth/login", None, json!({"username": "carol", "password": "wrong password"})).await;
    let unknown = app.post("/auth/login", None, json!({"username": "nobody", "password": "wrong password"})).await;
    wrong.assert_problem(401, "invalid_credentials");
    unknown.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.headers.get("www-authenticate").is_some());
}

#[tokio::test]
async fn a_refresh_token_works_once_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    app.register("dave", None).await;
    let login = app.login("dave").await;
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();

    let rotated = app.post("/auth/refresh", None, json!({"refresh_token": first})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    let access = rotated.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(app.get("/users/me", Some(&access)).await.status, 200);

    // Reusing the first token is theft: it fails and takes the whole family down.
    app.post("/auth/refresh", None, json!({"refresh_token": first})).await.assert_problem(401, "invalid_token");
    app.post("/auth/refresh", None, json!({"refresh_token": second})).await.assert_problem(401, "invalid_token");
    app.get("/users/me", Some(&access)).await.assert_problem(401, "invalid_token");
    // Another login is unaffected.
    assert_eq!(app.login("dave").await.status, 200);
}

#[tokio::test]
async fn unknown_refresh_tokens_are_invalid() {
    let app = spawn_app().await;
    app.post("/auth/refresh", None, json!({"refresh_token": "0".repeat(64)}))
        .await
        .assert_problem(401, "invalid_token");
    app.post("/auth/refresh", None, json!({})).await.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn logout_kills_the_access_token_at_once() {
    let app = spawn_app().await;
    app.register("erin", None).await;
    let login = app.login("erin").await;
    let access = login.body["access_token"].as_str().unwrap();
    let refresh = login.body["refresh_token"].as_str().unwrap();
    let out = app.post("/auth/logout", Some(access), json!({"refresh_token": refresh})).await;
    assert_eq!(out.status, 204);
    app.get("/users/me", Some(access)).await.assert_problem(401, "invalid_token");
    app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn logout_needs_a_token() {
    let app = spawn_app().await;
    let reply = app.post("/auth/logout", None, json!({})).await;
    reply.assert_problem(401, "unauthenticated");
    assert!(reply.headers.get("www-authenticate").unwrap().to_str().unwrap().starts_with("Bearer"));
}

#[tokio::test]
async fn a_new_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    app.register("frank", None).await;
    let here = app.token_of("frank").await;
    let elsewhere = app.token_of("frank").await;

    let wrong = app
        .patch(
            "/users/me",
            Some(&here),
            json!({"current_password": "not it at all", "new_password": "brand new secret"}),
        )
        .await;
    wrong.assert_problem(422, "validation_failed");
    assert_eq!(wrong.error_fields(), ["current_password"]);
    app.patch("/users/me", Some(&here), json!({"new_password": "brand new secret"}))
        .await
        .assert_problem(422, "validation_failed");

    let ok = app
        .patch(
            "/users/me",
            Some(&here),
            json!({"current_password": PASSWORD, "new_password": "brand new secret", "email": "f@example.com"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["email"], "f@example.com");
    assert_eq!(app.get("/users/me", Some(&here)).await.status, 200);
    app.get("/users/me", Some(&elsewhere)).await.assert_problem(401, "invalid_token");
    app.login("frank").await.assert_problem(401, "invalid_credentials");
    assert_eq!(
        app.post("/auth/login", None, json!({"username": "frank", "password": "brand new secret"})).await.status,
        200
    );

    let cleared = app.patch("/users/me", Some(&here), json!({"email": null})).await;
    assert_eq!(cleared.body["email"], serde_json::Value::Null);
}

#[tokio::test]
async fn guessable_passwords_are_refused_wherever_a_password_is_set() {
    let app = spawn_app().await;
    for bad in ["12345678", "password", "PASSWORD1", "        ", "xxxxxxxxxxxx", "I-am-Eve-2026"] {
        let reply = app
            .post("/auth/register", None, json!({"username": "eve", "password": bad, "password_confirm": bad}))
            .await;
        reply.assert_problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), ["password"], "{bad:?}");
    }
    let admin = app.admin_token("root").await;
    let made = app
        .post("/users", Some(&admin), json!({"username": "eve", "password": "qwertyuiop", "role": "subscriber"}))
        .await;
    made.assert_problem(422, "validation_failed");
    assert_eq!(made.error_fields(), ["password"]);

    app.register("frank", None).await;
    let token = app.token_of("frank").await;
    let changed =
        app.patch("/users/me", Some(&token), json!({"current_password": PASSWORD, "new_password": "iloveyou1"})).await;
    changed.assert_problem(422, "validation_failed");
    assert_eq!(changed.error_fields(), ["new_password"]);
    let with_name = app
        .patch("/users/me", Some(&token), json!({"current_password": PASSWORD, "new_password": "FRANK and beans"}))
        .await;
    assert_eq!(with_name.error_fields(), ["new_password"]);
}

#[tokio::test]
async fn answers_that_carry_tokens_or_a_callers_data_are_not_stored() {
    let app = spawn_app().await;
    app.register("nia", None).await;
    let login = app.login("nia").await;
    assert_eq!(login.headers["cache-control"], "no-store");
    let token = login.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/users/me", Some(token)).await.headers["cache-control"], "no-store");
    assert_eq!(
        app.get("/images/00000000-0000-0000-0000-000000000000", Some(token)).await.headers["cache-control"],
        "no-store"
    );
}
