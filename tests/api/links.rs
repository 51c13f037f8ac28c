//! Expiring share links: plan rules, the public fetch, revocation and expiry.

use serde_json::json;

use crate::helpers::spawn_app;

fn png() -> Vec<u8> {
    crate::helpers::png(600, 400)
}

#[tokio::test]
async fn a_link_lives_until_revoked_or_expired_and_needs_no_token() {
    let app = spawn_app().await;
    let token = app.user_token("lena", "beta_player").await;
    let bytes = png();
    let id = app.upload(&token, bytes.clone(), "l.png", None).await.body["id"].as_str().unwrap().to_owned();
    let links = format!("/images/{id}/links");
    let admin = app.admin_token("root").await;
    app.post(&format!("/images/{id}/approval"), Some(&admin), json!({"decision": "approved"})).await;

    // Basic plan: no expiring links.
    app.post(&links, Some(&token), json!({"expires_in": 600})).await.assert_problem(403, "plan_forbids");
    app.post("/subscriptions", Some(&token), json!({"plan": "enterprise"})).await;

    for (ttl, why) in [(100, "under the plan's minimum"), (30001, "over its maximum")] {
        let reply = app.post(&links, Some(&token), json!({"expires_in": ttl})).await;
        reply.assert_problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), ["expires_in"], "{why}");
    }
    app.post(&links, Some(&token), json!({"expires_in": 600, "variant": "thumbnail:999"}))
        .await
        .assert_problem(403, "plan_forbids");
    app.post(&links, Some(&token), json!({"expires_in": 600, "variant": "poster"}))
        .await
        .assert_problem(422, "validation_failed");

    let made = app.post(&links, Some(&token), json!({"expires_in": 300})).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["variant"], "original");
    let url = made.body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://") && url.contains("/l/"));
    let secret = url.rsplit('/').next().unwrap();
    assert!(secret.len() >= 32, "at least 128 bits");

    // Anyone may fetch it: a fresh client with no token.
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);

    let thumb = app.post(&links, Some(&token), json!({"expires_in": 300, "variant": "thumbnail:200"})).await;
    let res = reqwest::get(thumb.body["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(image::load_from_memory(&res.bytes().await.unwrap()).unwrap().height(), 200);

    let live = app.get(&links, Some(&token)).await;
    assert_eq!(live.body.as_array().unwrap().len(), 2);
    assert!(live.body[0].get("url").is_none(), "the token is never shown again");

    // Revoked: 410. Someone else cannot revoke it.
    let link_id = made.body["id"].as_str().unwrap();
    let other = app.user_token("mallory", "beta_player").await;
    app.delete(&format!("/links/{link_id}"), Some(&other)).await.assert_problem(404, "not_found");
    assert_eq!(app.delete(&format!("/links/{link_id}"), Some(&token)).await.status, 204);
    let gone = crate::helpers::Reply::from(reqwest::get(&url).await.unwrap()).await;
    gone.assert_problem(410, "link_expired");
    assert_eq!(app.get(&links, Some(&token)).await.body.as_array().unwrap().len(), 1);

    // Expired: the clock passes `expires_at` (moved into the past rather than waited for).
    let thumb_url = thumb.body["url"].as_str().unwrap().to_owned();
    app._db.execute("UPDATE share_links SET expires_at = now() - interval '1 second'").await;
    crate::helpers::Reply::from(reqwest::get(&thumb_url).await.unwrap()).await.assert_problem(410, "link_expired");

    // Unknown tokens are 404; deleting the image takes its links with it.
    let unknown = format!("{}/l/{}", app.address, "0".repeat(64));
    crate::helpers::Reply::from(reqwest::get(&unknown).await.unwrap()).await.assert_problem(404, "not_found");
    let fresh =
        app.post(&links, Some(&token), json!({"expires_in": 300})).await.body["url"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/images/{id}"), Some(&token)).await.status, 204);
    assert_eq!(reqwest::get(&fresh).await.unwrap().status(), 404);
}

#[tokio::test]
async fn viewers_without_links_create_cannot_share() {
    let app = spawn_app().await;
    let owner = app.admin_token("root").await;
    let id = app.upload(&owner, png(), "a.png", None).await.body["id"].as_str().unwrap().to_owned();
    let viewer = app.user_token("carl", "company_user").await;
    app.post(&format!("/images/{id}/links"), Some(&viewer), json!({"expires_in": 600}))
        .await
        .assert_problem(403, "forbidden");
}

/// A fetch of a share link's URL, by anyone.
async fn fetch(url: &str) -> crate::helpers::Reply {
    crate::helpers::Reply::from(reqwest::get(url).await.unwrap()).await
}

#[tokio::test]
async fn links_serve_only_what_moderation_the_creator_and_their_plan_still_allow() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let token = app.user_token("lena", "beta_player").await;
    let lena = app.user_id(&token).await;
    app.post("/subscriptions", Some(&token), json!({"plan": "enterprise"})).await;
    let id = app.upload(&token, png(), "l.png", None).await.body["id"].as_str().unwrap().to_owned();
    let links = format!("/images/{id}/links");
    let approval = format!("/images/{id}/approval");

    // Pending: cannot be shared at all.
    app.post(&links, Some(&token), json!({"expires_in": 600})).await.assert_problem(409, "not_approved");
    app.post(&approval, Some(&admin), json!({"decision": "approved"})).await;
    let original = app.post(&links, Some(&token), json!({"expires_in": 600})).await;
    assert_eq!(original.status, 201, "{:?}", original.body);
    let original = original.body["url"].as_str().unwrap().to_owned();
    let thumb = app.post(&links, Some(&token), json!({"expires_in": 600, "variant": "thumbnail:400"})).await;
    let thumb = thumb.body["url"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&original).await.status, 200);

    // Rejected after sharing: the link is gone; approved again, it serves again.
    app.post(&approval, Some(&admin), json!({"decision": "rejected", "reason": "no"})).await;
    fetch(&original).await.assert_problem(410, "link_expired");
    app.post(&approval, Some(&admin), json!({"decision": "approved"})).await;
    assert_eq!(fetch(&original).await.status, 200);

    // The creator disabled: gone; enabled again: back.
    app.patch(&format!("/users/{lena}"), Some(&admin), json!({"is_active": false})).await;
    fetch(&original).await.assert_problem(410, "link_expired");
    app.patch(&format!("/users/{lena}"), Some(&admin), json!({"is_active": true})).await;
    assert_eq!(fetch(&thumb).await.status, 200);

    // The creator's plan loses 400 px thumbnails but keeps links: only that link goes.
    let plans = app.get("/plans", Some(&admin)).await;
    let enterprise = plans.body.as_array().unwrap().iter().find(|p| p["code"] == "enterprise").unwrap().clone();
    let plan = format!("/plans/{}", enterprise["id"].as_str().unwrap());
    app.patch(&plan, Some(&admin), json!({"features": {"thumbnail_heights": [200]}})).await;
    fetch(&thumb).await.assert_problem(410, "link_expired");
    assert_eq!(fetch(&original).await.status, 200);

    // The plan loses expiring links: every link of its subscribers goes.
    app.patch(&plan, Some(&admin), json!({"features": {"expiring_links": false}})).await;
    fetch(&original).await.assert_problem(410, "link_expired");
}
