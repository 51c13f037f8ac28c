//! Thumbnails: plan heights, aspect, caching, concurrency and deletion.

use serde_json::json;

use crate::helpers::{png, spawn_app};

fn thumbnail_files(app: &crate::helpers::TestApp) -> usize {
    app.stored_files().iter().filter(|k| k.starts_with("thumbnails/")).count()
}

#[tokio::test]
async fn a_held_thumbnail_is_answered_304_without_reading_or_rendering_it() {
    let app = spawn_app().await;
    let token = app.user_token("hana", "beta_player").await;
    let made = app.upload(&token, png(400, 300), "h.png", None).await;
    let (id, sha) = (made.body["id"].as_str().unwrap(), made.body["sha256"].as_str().unwrap());
    // The tag names the original's bytes and the height: a client that holds it is
    // answered from the image row, before any thumbnail exists.
    let etag = format!("\"{sha}-200\"");
    let path = format!("/images/{id}/thumbnails/200");
    let (status, headers, body) = app.get_with(&path, &token, &[("if-none-match", &etag)]).await;
    assert_eq!((status.as_u16(), body.is_empty()), (304, true));
    assert_eq!(headers["etag"].to_str().unwrap(), etag);
    assert_eq!(thumbnail_files(&app), 0, "nothing was rendered");
    // Another tag is not held: the thumbnail is made and sent with this one.
    let (status, headers, _) = app.get_with(&path, &token, &[("if-none-match", "\"other-200\"")]).await;
    assert_eq!((status.as_u16(), headers["etag"].to_str().unwrap()), (200, etag.as_str()));
    assert_eq!(thumbnail_files(&app), 1);
}

#[tokio::test]
async fn the_plans_heights_are_served_cached_and_removed_with_the_image() {
    let app = spawn_app().await;
    let token = app.user_token("tina", "beta_player").await;
    let made = app.upload(&token, png(400, 300), "t.png", None).await;
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/images/{id}/thumbnails/200");

    let (status, headers, body) = app.get_with(&path, &token, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&body).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (267, 200));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(headers["cache-control"].to_str().unwrap().contains("max-age"));
    assert_eq!(thumbnail_files(&app), 1);

    let (again, _, same) = app.get_with(&path, &token, &[]).await;
    assert_eq!((again.as_u16(), same == body), (200, true));
    let (not_modified, _, _) = app.get_with(&path, &token, &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified, 304);

    // Basic: no 400 px; a height no plan has is refused the same way.
    for h in [400, 123] {
        let (status, _, body) = app.get_with(&format!("/images/{id}/thumbnails/{h}"), &token, &[]).await;
        assert_eq!(status, 403);
        assert!(String::from_utf8_lossy(&body).contains("plan_forbids"));
    }
    let (status, _, _) = app.get_with(&format!("/images/{id}/thumbnails/abc"), &token, &[]).await;
    assert_eq!(status, 404);

    // Growth: 400 px, and a thumbnail is rebuilt if its file goes missing.
    app.post("/subscriptions", Some(&token), json!({"plan": "growth"})).await;
    let (status, _, body) = app.get_with(&format!("/images/{id}/thumbnails/400"), &token, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(image::load_from_memory(&body).unwrap().height(), 300, "never upscaled past the original");
    for key in app.stored_files().iter().filter(|k| k.starts_with("thumbnails/")) {
        app.storage.remove(key);
    }
    assert_eq!(app.get_with(&path, &token, &[]).await.0, 200);

    assert_eq!(app.delete(&format!("/images/{id}"), Some(&token)).await.status, 204);
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}

#[tokio::test]
async fn concurrent_first_requests_render_the_thumbnail_once() {
    let app = spawn_app().await;
    let token = app.user_token("ursula", "beta_player").await;
    let id = app.upload(&token, png(1200, 900), "c.png", None).await.body["id"].as_str().unwrap().to_owned();
    let path = format!("/images/{id}/thumbnails/200");
    let requests = (0..32).map(|_| app.get_with(&path, &token, &[]));
    let replies = futures_util::future::join_all(requests).await;
    assert!(replies.iter().all(|(status, _, _)| *status == 200));
    let first = &replies[0].2;
    assert!(replies.iter().all(|(_, _, body)| body == first));
    assert_eq!(thumbnail_files(&app), 1);
}

#[tokio::test]
async fn hidden_images_have_no_thumbnails_for_others() {
    let app = spawn_app().await;
    let owner = app.user_token("owner", "beta_player").await;
    let viewer = app.user_token("viewer", "company_user").await;
    let id = app.upload(&owner, png(50, 50), "p.png", None).await.body["id"].as_str().unwrap().to_owned();
    let (status, _, _) = app.get_with(&format!("/images/{id}/thumbnails/200"), &viewer, &[]).await;
    assert_eq!(status, 404);
}
