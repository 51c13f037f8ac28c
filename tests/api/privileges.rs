//! Nobody gets more than they were given: user and role managers stay within their own
//! permissions, administrative roles stay closed to sign-up, and a caller without a route's
//! permission gets 403 whatever it sent.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// Creates a custom role holding `permissions` (as an admin), and a user holding it;
/// returns the role's id and the user's token.
async fn holder_of(app: &TestApp, admin: &str, name: &str, permissions: &[&str]) -> (String, String) {
    let role = app.post("/roles", Some(admin), json!({"name": name, "permissions": permissions})).await;
    assert_eq!(role.status, 201, "{:?}", role.body);
    let user = format!("{name}_user");
    let made = app.post("/users", Some(admin), json!({"username": user, "password": PASSWORD, "role": name})).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    (role.body["id"].as_str().unwrap().to_owned(), app.token_of(&user).await)
}

#[tokio::test]
async fn a_user_manager_cannot_mint_admins_or_touch_one() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let root_id = app.user_id(&admin).await;
    let (_, manager) = holder_of(&app, &admin, "user_admin", &["users:manage", "images:read"]).await;
    let viewer = app.user_token("viewer", "company_user").await;
    let viewer_id = app.user_id(&viewer).await;

    let minted =
        app.post("/users", Some(&manager), json!({"username": "mallory", "password": PASSWORD, "role": "admin"})).await;
    minted.assert_problem(403, "forbidden");
    let promoted = app.patch(&format!("/users/{viewer_id}"), Some(&manager), json!({"role": "admin"})).await;
    promoted.assert_problem(403, "forbidden");
    // Nor themself: a role they may not give, not a self-demotion (was 409).
    let manager_id = app.user_id(&manager).await;
    let itself = app.patch(&format!("/users/{manager_id}"), Some(&manager), json!({"role": "admin"})).await;
    itself.assert_problem(403, "forbidden");
    let root = format!("/users/{root_id}");
    app.patch(&root, Some(&manager), json!({"is_active": false})).await.assert_problem(403, "forbidden");
    app.patch(&root, Some(&manager), json!({"email": "x@example.com"})).await.assert_problem(403, "forbidden");
    app.delete(&root, Some(&manager)).await.assert_problem(403, "forbidden");
    assert_eq!(app.get("/users/me", Some(&admin)).await.body["is_active"], true);

    // Within their own permissions they manage users as before.
    let made = app
        .post("/users", Some(&manager), json!({"username": "newbie", "password": PASSWORD, "role": "company_user"}))
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let disabled = app.patch(&format!("/users/{viewer_id}"), Some(&manager), json!({"is_active": false})).await;
    assert_eq!(disabled.status, 200, "{:?}", disabled.body);
}

#[tokio::test]
async fn a_role_manager_cannot_widen_roles_or_open_admin_power_to_sign_up() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let (own, manager) = holder_of(&app, &admin, "role_admin", &["roles:manage", "images:read"]).await;
    let own = format!("/roles/{own}");
    let every: Vec<&str> = vec![
        "images:read",
        "images:upload",
        "images:update",
        "images:delete",
        "images:moderate",
        "images:purge",
        "links:create",
        "galleries:manage",
        "users:manage",
        "roles:manage",
        "plans:manage",
        "subscriptions:manage",
    ];
    app.patch(&own, Some(&manager), json!({"permissions": every})).await.assert_problem(403, "forbidden");
    app.patch(&own, Some(&manager), json!({"signup_allowed": true})).await.assert_problem(403, "forbidden");
    app.delete(&own, Some(&manager)).await.assert_problem(403, "forbidden");
    app.post("/roles", Some(&manager), json!({"name": "sneaky", "permissions": every}))
        .await
        .assert_problem(403, "forbidden");
    let open = app
        .post(
            "/roles",
            Some(&manager),
            json!({"name": "sneaky", "permissions": ["roles:manage"], "signup_allowed": true}),
        )
        .await;
    open.assert_problem(422, "validation_failed");
    assert_eq!(open.error_fields(), ["signup_allowed"]);
    app.register("anon", Some("role_admin")).await.assert_problem(422, "validation_failed");

    // A role within the manager's own permissions is fine, and may be open to sign-up.
    let fine = app
        .post(
            "/roles",
            Some(&manager),
            json!({"name": "viewers", "permissions": ["images:read"], "signup_allowed": true}),
        )
        .await;
    assert_eq!(fine.status, 201, "{:?}", fine.body);
}

#[tokio::test]
async fn administrative_roles_are_never_open_to_sign_up_even_for_admins() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    for permission in
        ["users:manage", "roles:manage", "plans:manage", "subscriptions:manage", "images:moderate", "images:purge"]
    {
        let made = app
            .post(
                "/roles",
                Some(&admin),
                json!({"name": "helpers", "permissions": ["images:read", permission], "signup_allowed": true}),
            )
            .await;
        made.assert_problem(422, "validation_failed");
        assert_eq!(made.error_fields(), ["signup_allowed"], "{permission}");
    }
    let open = app
        .post(
            "/roles",
            Some(&admin),
            json!({"name": "helpers", "permissions": ["images:read"], "signup_allowed": true}),
        )
        .await;
    assert_eq!(open.status, 201);
    let path = format!("/roles/{}", open.body["id"].as_str().unwrap());
    let widened = app.patch(&path, Some(&admin), json!({"permissions": ["images:read", "users:manage"]})).await;
    widened.assert_problem(422, "validation_failed");
    assert_eq!(widened.error_fields(), ["signup_allowed"]);
    let closed_and_widened =
        app.patch(&path, Some(&admin), json!({"permissions": ["users:manage"], "signup_allowed": false})).await;
    assert_eq!(closed_and_widened.status, 200, "{:?}", closed_and_widened.body);
    app.register("anon", Some("helpers")).await.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn a_caller_without_the_routes_permission_gets_403_whatever_it_sent() {
    let app = spawn_app().await;
    let viewer = app.user_token("viewer", "company_user").await;
    let some_id = uuid::Uuid::new_v4();
    let bodies: [Value; 3] = [json!({}), json!({"code": 5, "features": "x"}), json!([1, 2])];
    let routes = [
        (Method::POST, "/plans".to_owned()),
        (Method::PATCH, format!("/plans/{some_id}")),
        (Method::POST, "/roles".to_owned()),
        (Method::PATCH, format!("/roles/{some_id}")),
        (Method::POST, "/users".to_owned()),
        (Method::PATCH, format!("/users/{some_id}")),
        (Method::PUT, format!("/users/{some_id}/subscription")),
        (Method::POST, "/galleries".to_owned()),
        (Method::PATCH, format!("/images/{some_id}")),
        (Method::PUT, format!("/images/{some_id}")),
        (Method::POST, format!("/images/{some_id}/approval")),
        (Method::POST, "/images/import".to_owned()),
    ];
    for (method, path) in &routes {
        for body in &bodies {
            let reply = app.call(method.clone(), path, Some(&viewer), Some(body.clone())).await;
            reply.assert_problem(403, "forbidden");
            for header in ["x-request-id", "x-content-type-options", "content-security-policy"] {
                assert!(reply.headers.contains_key(header), "{method} {path}: no {header}");
            }
            assert_eq!(reply.headers["cache-control"], "no-store");
            assert!(reply.body.get("errors").is_none(), "{method} {path}: {:?}", reply.body);
        }
        // Not even JSON.
        let res = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth(&viewer)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{method} {path}");
        let anonymous = app.client.request(method.clone(), app.url(path)).body("{not json").send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{method} {path}");
    }
    // A query the route would refuse is not looked at either.
    app.get("/users?is_active=maybe", Some(&viewer)).await.assert_problem(403, "forbidden");
    app.delete("/images", Some(&viewer)).await.assert_problem(403, "forbidden");
}
