//! Roles, permissions and user administration, and how changes reach live tokens.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn permissions_and_roles_are_listed_for_any_user() {
    let app = spawn_app().await;
    let token = app.user_token("viewer", "company_user").await;
    let perms = app.get("/permissions", Some(&token)).await;
    assert_eq!(perms.status, 200);
    let codes: Vec<&str> = perms.body.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 12);
    assert!(codes.contains(&"subscriptions:manage"));
    let roles = app.get("/roles", Some(&token)).await;
    let admin = roles.body.as_array().unwrap().iter().find(|r| r["name"] == "admin").unwrap().clone();
    assert_eq!(admin["system"], true);
    assert_eq!(admin["signup_allowed"], false);
    assert_eq!(admin["permissions"].as_array().unwrap().len(), 12);
    let one = app.get(&format!("/roles/{}", admin["id"].as_str().unwrap()), Some(&token)).await;
    assert_eq!(one.body, admin);
    app.get("/permissions", None).await.assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn builtin_roles_are_immutable_and_win_over_in_use() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let roles = app.get("/roles", Some(&admin)).await;
    for role in roles.body.as_array().unwrap() {
        let path = format!("/roles/{}", role["id"].as_str().unwrap());
        app.patch(&path, Some(&admin), json!({"description": "changed"})).await.assert_problem(409, "system_role");
        // `admin` is held by root: system_role still wins over in_use.
        app.delete(&path, Some(&admin)).await.assert_problem(409, "system_role");
    }
}

#[tokio::test]
async fn custom_roles_can_be_made_changed_and_deleted_when_free() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let bad =
        app.post("/roles", Some(&admin), json!({"name": "editor", "permissions": ["images:read", "images:fly"]})).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["permissions"]);
    let made = app
        .post(
            "/roles",
            Some(&admin),
            json!({"name": "editor", "permissions": ["images:read", "images:update"], "signup_allowed": true}),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["permissions"], json!(["images:read", "images:update"]));
    assert_eq!(made.body["system"], false);
    app.post("/roles", Some(&admin), json!({"name": "editor"})).await.assert_problem(409, "conflict");
    let path = format!("/roles/{}", made.body["id"].as_str().unwrap());
    let patched = app.patch(&path, Some(&admin), json!({"permissions": ["images:read"]})).await;
    assert_eq!(patched.body["permissions"], json!(["images:read"]));

    // Held by a user: in use. Freed: deleted.
    assert_eq!(app.register("eddie", Some("editor")).await.status, 201);
    app.delete(&path, Some(&admin)).await.assert_problem(409, "in_use");
    let ed = app.get("/users?q=eddie", Some(&admin)).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/users/{ed}"), Some(&admin)).await.status, 204);
    assert_eq!(app.delete(&path, Some(&admin)).await.status, 204);
    app.get(&path, Some(&admin)).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn only_role_managers_may_change_roles() {
    let app = spawn_app().await;
    let player = app.user_token("player", "beta_player").await;
    app.post("/roles", Some(&player), json!({"name": "mine", "permissions": []}))
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn user_admin_creates_lists_and_pages() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    for i in 0..3 {
        let made = app
            .post(
                "/users",
                Some(&admin),
                json!({"username": format!("staff{i}"), "password": "a long password", "role": "company_user"}),
            )
            .await;
        assert_eq!(made.status, 201, "{:?}", made.body);
    }
    app.post(
        "/users",
        Some(&admin),
        json!({"username": "staff0", "password": "a long password", "role": "company_user"}),
    )
    .await
    .assert_problem(409, "username_taken");
    app.post("/users", Some(&admin), json!({"username": "x1", "password": "a long password", "role": "wizard"}))
        .await
        .assert_problem(422, "validation_failed");

    let page = app.get("/users?role=company_user&per_page=2&page=2", Some(&admin)).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        (page.body["page"].clone(), page.body["per_page"].clone(), page.body["total"].clone()),
        (json!(2), json!(2), json!(3))
    );
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let past = app.get("/users?page=50", Some(&admin)).await;
    assert_eq!(past.status, 200);
    assert_eq!(past.body["items"], json!([]));
    for bad in ["per_page=0", "per_page=101", "page=0", "page=abc", "is_active=maybe"] {
        app.get(&format!("/users?{bad}"), Some(&admin)).await.assert_problem(400, "bad_request");
    }
    let inactive = app.get("/users?is_active=false", Some(&admin)).await;
    assert_eq!(inactive.body["total"], 0);
}

#[tokio::test]
async fn non_admins_cannot_manage_users() {
    let app = spawn_app().await;
    let player = app.user_token("player", "beta_player").await;
    app.get("/users", Some(&player)).await.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn an_admin_cannot_disable_demote_or_delete_themself() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let me = app.user_id(&admin).await;
    let path = format!("/users/{me}");
    app.patch(&path, Some(&admin), json!({"is_active": false})).await.assert_problem(409, "conflict");
    app.patch(&path, Some(&admin), json!({"role": "subscriber"})).await.assert_problem(409, "conflict");
    app.delete(&path, Some(&admin)).await.assert_problem(409, "conflict");
    assert_eq!(app.get("/users/me", Some(&admin)).await.body["role"], "admin");
}

#[tokio::test]
async fn a_disabled_user_loses_access_on_the_next_request() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let token = app.user_token("gina", "beta_player").await;
    let id = app.user_id(&token).await;
    let off = app.patch(&format!("/users/{id}"), Some(&admin), json!({"is_active": false})).await;
    assert_eq!(off.body["is_active"], false);
    app.get("/users/me", Some(&token)).await.assert_problem(403, "account_disabled");
    app.login("gina").await.assert_problem(403, "account_disabled");
}

#[tokio::test]
async fn a_demoted_admin_loses_admin_powers_on_the_next_request() {
    let app = spawn_app().await;
    let root = app.admin_token("root").await;
    let second = app.admin_token("second").await;
    assert_eq!(app.get("/users", Some(&second)).await.status, 200);
    let id = app.user_id(&second).await;
    let demoted = app.patch(&format!("/users/{id}"), Some(&root), json!({"role": "company_user"})).await;
    assert_eq!(demoted.body["role"], "company_user");
    app.get("/users", Some(&second)).await.assert_problem(403, "forbidden");
    assert_eq!(app.get("/users/me", Some(&second)).await.body["permissions"], json!(["images:read"]));
}

#[tokio::test]
async fn a_deleted_users_token_stops_working() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let token = app.user_token("hank", "subscriber").await;
    let id = app.user_id(&token).await;
    assert_eq!(app.delete(&format!("/users/{id}"), Some(&admin)).await.status, 204);
    app.get("/users/me", Some(&token)).await.assert_problem(401, "invalid_token");
    app.delete(&format!("/users/{id}"), Some(&admin)).await.assert_problem(404, "not_found");
}
