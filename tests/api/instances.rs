//! Two servers on one database and one store (a folder, or with `GALLERY_TEST_STORAGE=s3`
//! a bucket), as several instances behind one address run: what one of them changes, the
//! other knows as soon as the news is in (`settle`), though both answer sessions, users and
//! image rows from memory; limits are counted for both together.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, bounded, png, spawn_app, spawn_app_with};
use crate::uploads::stalled_upload;

fn text(body: &Value, key: &str) -> String {
    body[key].as_str().unwrap_or_else(|| panic!("{key} in {body}")).to_owned()
}

/// Both servers answer `token` with `status` on `/users/me` (so both hold it in memory).
async fn both_answer(a: &TestApp, b: &TestApp, token: &str, status: u16) {
    for server in [a, b] {
        assert_eq!(server.get("/users/me", Some(token)).await.status, status);
    }
}

#[tokio::test]
async fn a_session_ended_on_one_server_is_refused_by_the_other() {
    let a = spawn_app().await;
    let b = a.beside().await;
    assert_eq!(a.register("hana", Some("beta_player")).await.status, 201);

    // Login on A, refresh on B, the old refresh token reused on A: the whole session
    // ends, on B too.
    let first = a.login("hana").await.body;
    both_answer(&a, &b, &text(&first, "access_token"), 200).await;
    let rotated = b.post("/auth/refresh", None, json!({"refresh_token": text(&first, "refresh_token")})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let access = text(&rotated.body, "access_token");
    both_answer(&a, &b, &access, 200).await;
    let reused = a.post("/auth/refresh", None, json!({"refresh_token": text(&first, "refresh_token")})).await;
    reused.assert_problem(401, "invalid_token");
    b.settle().await;
    b.get("/users/me", Some(&access)).await.assert_problem(401, "invalid_token");
    a.get("/users/me", Some(&access)).await.assert_problem(401, "invalid_token");

    // Logout on B.
    let token = a.token_of("hana").await;
    both_answer(&a, &b, &token, 200).await;
    assert_eq!(b.post("/auth/logout", Some(&token), json!({})).await.status, 204);
    a.settle().await;
    a.get("/users/me", Some(&token)).await.assert_problem(401, "invalid_token");

    // A password change on B ends every other session, on A too.
    let (kept, ended) = (a.token_of("hana").await, a.token_of("hana").await);
    both_answer(&a, &b, &ended, 200).await;
    let change = json!({"current_password": PASSWORD, "new_password": "a brand new secret"});
    assert_eq!(b.patch("/users/me", Some(&kept), change).await.status, 200);
    a.settle().await;
    a.get("/users/me", Some(&ended)).await.assert_problem(401, "invalid_token");
    assert_eq!(a.get("/users/me", Some(&kept)).await.status, 200);
}

#[tokio::test]
async fn an_admin_on_one_server_disables_re_roles_re_plans_and_deletes_on_both() {
    let a = spawn_app().await;
    let b = a.beside().await;
    let admin = b.admin_token("root").await;
    let token = a.user_token("ivan", "beta_player").await;
    let id = a.user_id(&token).await;
    let user = format!("/users/{id}");
    let image = format!("/images/{}", text(&a.upload(&token, png(64, 48), "i.png", None).await.body, "id"));
    both_answer(&a, &b, &token, 200).await;

    assert_eq!(b.patch(&user, Some(&admin), json!({"role": "company_user"})).await.status, 200);
    a.settle().await;
    assert_eq!(a.get("/users/me", Some(&token)).await.body["role"], "company_user");

    let subscription = format!("{user}/subscription");
    let put = b.call(reqwest::Method::PUT, &subscription, Some(&admin), Some(json!({"plan": "growth"}))).await;
    assert!(put.status.is_success(), "{:?}", put.body);
    a.settle().await;
    assert_eq!(a.get("/users/me", Some(&token)).await.body["plan"], "growth");

    // The plan itself changes: its new heights apply on A.
    let heights = async || {
        let links = a.get(&image, Some(&token)).await.body["links"]["thumbnails"].clone();
        let mut heights: Vec<String> = links.as_object().unwrap().keys().cloned().collect();
        heights.sort_by_key(|h| h.parse::<u32>().unwrap());
        heights
    };
    assert_eq!(heights().await, ["200", "400"]);
    let plans = b.get("/plans", Some(&admin)).await.body;
    let growth = plans.as_array().unwrap().iter().find(|p| p["code"] == "growth").unwrap().clone();
    let features = json!({"features": {"thumbnail_heights": [200, 400, 800]}});
    assert_eq!(b.patch(&format!("/plans/{}", text(&growth, "id")), Some(&admin), features).await.status, 200);
    a.settle().await;
    assert_eq!(heights().await, ["200", "400", "800"]);

    assert_eq!(b.patch(&user, Some(&admin), json!({"is_active": false})).await.status, 200);
    a.settle().await;
    a.get("/users/me", Some(&token)).await.assert_problem(403, "account_disabled");

    let with_images = format!("{user}?delete_images=true");
    assert_eq!(b.delete(&with_images, Some(&admin)).await.status, 204);
    a.settle().await;
    a.get("/users/me", Some(&token)).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn an_image_changed_on_one_server_is_changed_on_the_other() {
    let a = spawn_app().await;
    let b = a.beside().await;
    let admin = b.admin_token("root").await;
    let owner = a.user_token("jane", "beta_player").await;
    let viewer = a.user_token("kurt", "company_user").await;
    let id = text(&a.upload(&owner, png(64, 48), "j.png", Some("first")).await.body, "id");
    let (image, thumbnail) = (format!("/images/{id}"), format!("/images/{id}/thumbnails/200"));

    // Pending: the viewer does not see it; approved on B, A shows it at once.
    a.get(&image, Some(&viewer)).await.assert_problem(404, "not_found");
    let approval = json!({"decision": "approved"});
    assert_eq!(b.post(&format!("{image}/approval"), Some(&admin), approval).await.status, 200);
    a.settle().await;
    assert_eq!(a.get(&image, Some(&viewer)).await.body["title"], "first");

    // Upload on A, thumbnail on B: one render serves both.
    assert_eq!(b.get_with(&thumbnail, &viewer, &[]).await.0, 200);
    assert_eq!(a.get_with(&thumbnail, &viewer, &[]).await.0, 200);

    assert_eq!(b.patch(&image, Some(&owner), json!({"title": "second"})).await.status, 200);
    a.settle().await;
    assert_eq!(a.get(&image, Some(&viewer)).await.body["title"], "second");

    // Delete on A: gone on B, thumbnail and all, and from the store.
    assert_eq!(a.delete(&image, Some(&owner)).await.status, 204);
    b.settle().await;
    b.get(&image, Some(&viewer)).await.assert_problem(404, "not_found");
    assert_eq!(b.get_with(&thumbnail, &viewer, &[]).await.0, 404);
    assert!(a.stored_files().is_empty(), "{:?}", a.stored_files());
}

#[tokio::test]
async fn rate_limits_are_reached_across_both_servers() {
    let a = spawn_app_with(|s| {
        s.rate_limit.enabled = true;
        s.rate_limit.auth_per_minute = 4;
        s.rate_limit.login_per_username_per_minute = 100;
    })
    .await;
    let b = a.beside().await;
    assert_eq!(a.register("mona", Some("beta_player")).await.status, 201);
    // The registration was one attempt; three logins, on either server, are the rest.
    assert_eq!(b.login("mona").await.status, 200);
    assert_eq!(a.login("mona").await.status, 200);
    assert_eq!(b.login("mona").await.status, 200);
    for server in [&a, &b] {
        let refused = server.login("mona").await;
        refused.assert_problem(429, "rate_limited");
        assert!(refused.headers.contains_key("retry-after"));
    }
}

#[tokio::test]
async fn failed_logins_lock_a_username_on_both_servers() {
    let a = spawn_app_with(|s| {
        s.rate_limit.enabled = true;
        s.rate_limit.auth_per_minute = 100;
        s.rate_limit.login_per_username_per_minute = 2;
    })
    .await;
    let b = a.beside().await;
    assert_eq!(a.register("nico", Some("beta_player")).await.status, 201);
    let wrong = json!({"username": "nico", "password": "not the password"});
    assert_eq!(a.post("/auth/login", None, wrong.clone()).await.status, 401);
    assert_eq!(b.post("/auth/login", None, wrong.clone()).await.status, 401);
    // Even the right password waits now, on either server.
    a.login("nico").await.assert_problem(429, "rate_limited");
    b.login("nico").await.assert_problem(429, "rate_limited");
}

#[tokio::test]
async fn one_users_uploads_in_progress_are_bounded_across_servers() {
    let a = spawn_app_with(|s| {
        s.server.max_uploads_per_user = 1;
        s.server.body_idle_timeout_seconds = 60;
    })
    .await;
    let b = a.beside().await;
    let slow = a.user_token("oskar", "beta_player").await;
    let other = a.user_token("petra", "beta_player").await;
    let _held = stalled_upload(&a, &slow, 600).await;
    // Wait until A has taken the stalled upload's slot (a row every server counts).
    bounded("the stalled upload takes its slot", async {
        while a._db.scalar("SELECT count(*) FROM upload_slots").await == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    b.upload(&slow, png(40, 30), "b.png", None).await.assert_problem(429, "rate_limited");
    assert_eq!(b.upload(&other, png(40, 30), "c.png", None).await.status, 201, "another user's goes through");
}

#[tokio::test]
async fn a_link_revoked_on_one_server_is_gone_on_the_other() {
    let a = spawn_app().await;
    let b = a.beside().await;
    let token = a.user_token("lena", "beta_player").await;
    assert_eq!(a.post("/subscriptions", Some(&token), json!({"plan": "enterprise"})).await.status, 201);
    let id = text(&a.upload(&token, png(64, 48), "l.png", None).await.body, "id");
    let admin = a.admin_token("root").await;
    let approval = json!({"decision": "approved"});
    assert_eq!(a.post(&format!("/images/{id}/approval"), Some(&admin), approval).await.status, 200);
    let made = b.post(&format!("/images/{id}/links"), Some(&token), json!({"expires_in": 300})).await;
    let url = text(&made.body, "url");
    let on_a = format!("{}/l/{}", a.address, url.rsplit('/').next().unwrap());
    assert_eq!(reqwest::get(&on_a).await.unwrap().status(), 200);
    assert_eq!(b.delete(&format!("/links/{}", text(&made.body, "id")), Some(&token)).await.status, 204);
    assert_eq!(reqwest::get(&on_a).await.unwrap().status(), 410, "links are read from the database: at once");
}
