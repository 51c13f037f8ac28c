//! Every bad request gets a problem+json answer, never a panic or a leak.

use crate::helpers::{png, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_json_is_400_malformed_json() {
    let app = spawn_app().await;
    for body in [&b"{\"username\": "[..], b"not json", b"{\"username\": \"\\ud800\"}", b"\xff\xfe{}"] {
        let reply = app.post_raw("/api/v1/auth/register", "application/json", body.to_vec()).await;
        reply.assert_problem(400, "malformed_json");
    }
}

#[tokio::test]
async fn wrong_typed_json_is_400_malformed_json() {
    let app = spawn_app().await;
    app.post("/auth/register", None, json!({"username": 5, "password": true}))
        .await
        .assert_problem(400, "malformed_json");
    app.post("/auth/register", None, json!(["an", "array"])).await.assert_problem(400, "malformed_json");
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    app.post_raw("/api/v1/auth/login", "text/plain", b"{}".to_vec())
        .await
        .assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let app = spawn_app().await;
    let big = format!("{{\"username\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
    app.post_raw("/api/v1/auth/login", "application/json", big.into_bytes())
        .await
        .assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = spawn_app().await;
    app.get("/api/v1/nothing-here", None).await.assert_problem(404, "not_found");
    app.get("/totally/elsewhere", None).await.assert_problem(404, "not_found");
    let token = app.user_token("ivy", "subscriber").await;
    app.get("/roles/not-a-uuid", Some(&token)).await.assert_problem(404, "not_found");
    app.get(&format!("/roles/{}", uuid::Uuid::new_v4()), Some(&token)).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    let reply = app.call(Method::DELETE, "/users/me", None, None).await;
    reply.assert_problem(405, "method_not_allowed");
    assert_eq!(reply.headers.get("allow").unwrap(), "GET, PATCH");
    let reply = app.call(Method::GET, "/auth/login", None, None).await;
    assert_eq!(reply.headers.get("allow").unwrap(), "POST");
}

#[tokio::test]
async fn head_answers_wherever_get_does_without_the_body() {
    let app = spawn_app().await;
    let live = app.call(Method::HEAD, "/health/live", None, None).await;
    assert_eq!((live.status.as_u16(), &live.body), (200, &Value::Null));
    let owner = app.user_token("owner", "beta_player").await;
    let bytes = png(40, 30);
    let id = app.upload(&owner, bytes.clone(), "a.png", None).await.body["id"].as_str().unwrap().to_owned();
    let admin = app.admin_token("root").await;
    let original = app.call(Method::HEAD, &format!("/images/{id}/original"), Some(&admin), None).await;
    assert_eq!((original.status.as_u16(), &original.body), (200, &Value::Null));
    assert_eq!(original.headers["content-length"], bytes.len().to_string().as_str());
    assert_eq!(original.headers["content-type"], "image/png");
    let listed = app.call(Method::HEAD, "/images", Some(&admin), None).await;
    assert_eq!((listed.status.as_u16(), &listed.body), (200, &Value::Null));
    // Rules still hold: no token is still 401, and a POST-only path still 405.
    let anonymous = app.call(Method::HEAD, "/images", None, None).await;
    assert_eq!(anonymous.status.as_u16(), 401);
    let login = app.call(Method::HEAD, "/auth/login", None, None).await;
    assert_eq!((login.status.as_u16(), login.headers["allow"].to_str().unwrap()), (405, "POST"));
}

#[tokio::test]
async fn error_bodies_leak_nothing() {
    let app = spawn_app().await;
    let replies = [
        app.post_raw("/api/v1/auth/register", "application/json", b"{\"username\": \"\\u0000\"".to_vec()).await,
        app.post("/auth/register", None, json!({"username": "ok_name", "password": "x\u{0}yyyyyyyy", "password_confirm": "x\u{0}yyyyyyyy", "email": "a\u{0}@b.c"})).await,
    ];
    for r in replies {
        let text = r.body.to_string().to_lowercase();
        for leak in ["select", "insert", "diesel", "postgres", "/work", "panicked", "secret"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert!(r.status.is_client_error(), "{:?}", r);
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let ok = app.get("/health/live", None).await;
    let err = app.get("/api/v1/missing", None).await;
    for r in [ok, err] {
        let id = r.headers.get("x-request-id").expect("x-request-id").to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}

#[tokio::test]
async fn a_nul_byte_anywhere_is_a_4xx_never_a_500() {
    // PostgreSQL refuses NUL in text: every path that reaches it must refuse it first.
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin_token("nul_admin").await;
    let player = app.user_token("nul_player", "beta_player").await;
    let nul = "a\u{0}b";
    let mut replies = vec![
        app.get("/users?q=%00x", Some(&admin)).await,
        app.get("/users?role=%00%C3%86", Some(&admin)).await,
        app.get("/images?q=%00", Some(&player)).await,
        app.post("/auth/login", None, serde_json::json!({"username": nul, "password": "whatever-pass"})).await,
        app.post("/auth/refresh", None, serde_json::json!({"refresh_token": nul})).await,
        app.post(
            "/auth/register",
            None,
            serde_json::json!({"username": "nul_reg", "password": "long-enough", "password_confirm": "long-enough", "email": nul}),
        )
        .await,
        app.post("/subscriptions", Some(&player), serde_json::json!({"plan": nul})).await,
        app.post("/roles", Some(&admin), serde_json::json!({"name": nul, "permissions": []})).await,
        app.post("/galleries", Some(&player), serde_json::json!({"name": nul})).await,
        app.post("/plans", Some(&admin), serde_json::json!({"code": nul, "name": nul})).await,
    ];
    replies.push(app.get(&format!("/l/{}", "%00"), None).await);
    for (i, reply) in replies.iter().enumerate() {
        let status = reply.status.as_u16();
        assert!((400..500).contains(&status), "case {i}: {status} {:?}", reply.body);
        assert!(reply.content_type().starts_with("application/problem+json"), "case {i}");
    }
}
