//! Subscriptions: subscribing, the plan taking effect at once, cancellation at period end,
//! expiry, and admin assignment.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_plan_change_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let token = app.user_token("sam", "beta_player").await;
    let me = app.get("/subscriptions/me", Some(&token)).await;
    assert_eq!((me.body["plan"].as_str(), me.body["status"].as_str()), (Some("basic"), Some("active")));
    app.post("/subscriptions", Some(&token), json!({"plan": "platinum"}))
        .await
        .assert_problem(422, "validation_failed");
    app.post("/subscriptions", Some(&token), json!({})).await.assert_problem(422, "validation_failed");

    let subscribed = app.post("/subscriptions", Some(&token), json!({"plan": "growth"})).await;
    assert_eq!(subscribed.status, 201, "{:?}", subscribed.body);
    assert_eq!(
        (subscribed.body["plan"].as_str(), subscribed.body["status"].as_str()),
        (Some("growth"), Some("active"))
    );
    assert!(subscribed.body["current_period_end"].is_string());
    assert_eq!(app.get("/users/me", Some(&token)).await.body["plan"], "growth");

    // Growth: originals and 200 + 400 px thumbnails in every image's links.
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(4, 4).write_to(&mut png, image::ImageFormat::Png).unwrap();
    let image = app.upload(&token, png.into_inner(), "a.png", None).await;
    assert!(image.body["links"]["original"].is_string());
    let heights: Vec<&String> = image.body["links"]["thumbnails"].as_object().unwrap().keys().collect();
    assert_eq!(heights, ["200", "400"]);
}

#[tokio::test]
async fn a_canceled_subscription_runs_to_its_period_end_then_falls_back() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let token = app.user_token("tess", "subscriber").await;
    let id = app.user_id(&token).await;
    app.delete("/subscriptions/me", Some(&token)).await.assert_problem(404, "not_found");
    app.post("/subscriptions", Some(&token), json!({"plan": "enterprise"})).await;
    let canceled = app.delete("/subscriptions/me", Some(&token)).await;
    assert_eq!(canceled.status, 200);
    assert_eq!(
        (canceled.body["status"].as_str(), canceled.body["cancel_at_period_end"].as_bool()),
        (Some("canceled"), Some(true))
    );
    assert_eq!(app.get("/users/me", Some(&token)).await.body["plan"], "enterprise");

    // The period ends (set by an admin to a moment past): the default plan applies.
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    let put = app
        .call(
            reqwest::Method::PUT,
            &format!("/users/{id}/subscription"),
            Some(&admin),
            Some(json!({"plan": "enterprise", "current_period_end": past})),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["status"], "expired");
    assert_eq!(app.get("/users/me", Some(&token)).await.body["plan"], "basic");
    assert_eq!(app.get("/subscriptions/me", Some(&token)).await.body["status"], "expired");
}

#[tokio::test]
async fn admins_see_and_assign_subscriptions() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let token = app.user_token("uma", "subscriber").await;
    let id = app.user_id(&token).await;
    app.get("/subscriptions", Some(&token)).await.assert_problem(403, "forbidden");
    let path = format!("/users/{id}/subscription");
    let put = |plan: &str| app.call(reqwest::Method::PUT, &path, Some(&admin), Some(json!({"plan": plan})));
    assert_eq!(put("growth").await.status, 200);
    assert_eq!(app.get("/users/me", Some(&token)).await.body["plan"], "growth");
    put("nothing").await.assert_problem(422, "validation_failed");
    let missing = app
        .call(
            reqwest::Method::PUT,
            &format!("/users/{}/subscription", uuid::Uuid::new_v4()),
            Some(&admin),
            Some(json!({"plan": "growth"})),
        )
        .await;
    missing.assert_problem(404, "not_found");
    let listed = app.get("/subscriptions", Some(&admin)).await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["user"]["username"], "uma");

    // A plan somebody is subscribed to cannot be deleted.
    let plans = app.get("/plans", None).await;
    let growth = plans.body.as_array().unwrap().iter().find(|p| p["code"] == "growth").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/plans/{growth}"), Some(&admin)).await.assert_problem(409, "in_use");
}
