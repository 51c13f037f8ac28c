//! Galleries: CRUD, visibility of their images, and deletion keeping the images.

use serde_json::json;

use crate::helpers::spawn_app;

fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(6, 4).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn galleries_hold_images_show_only_visible_ones_and_leave_them_when_deleted() {
    let app = spawn_app().await;
    let player = app.user_token("player", "beta_player").await;
    let viewer = app.user_token("viewer", "company_user").await;
    let admin = app.admin_token("root").await;

    app.post("/galleries", Some(&viewer), json!({"name": "nope"})).await.assert_problem(403, "forbidden");
    let bad = app.post("/galleries", Some(&player), json!({"name": "   "})).await;
    bad.assert_problem(422, "validation_failed");
    app.post("/galleries", Some(&player), json!({})).await.assert_problem(422, "validation_failed");
    let made = app.post("/galleries", Some(&player), json!({"name": "Holidays", "description": "2026"})).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let gid = made.body["id"].as_str().unwrap().to_owned();

    // Two images in it: one approved (by the admin), one still pending.
    let form = |title: &str| {
        let part = reqwest::multipart::Part::bytes(png()).file_name("g.png");
        reqwest::multipart::Form::new()
            .part("file", part)
            .text("title", title.to_owned())
            .text("gallery_id", gid.clone())
    };
    for (token, title) in [(&admin, "approved one"), (&player, "pending one")] {
        let res = app.client.post(app.url("/images")).bearer_auth(token).multipart(form(title)).send().await.unwrap();
        let reply = crate::helpers::Reply::from(res).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        assert_eq!(reply.body["gallery_id"], gid.as_str());
    }

    let seen_by_viewer = app.get(&format!("/galleries/{gid}"), Some(&viewer)).await;
    assert_eq!(seen_by_viewer.body["name"], "Holidays");
    assert_eq!(seen_by_viewer.body["images"]["total"], 1);
    assert_eq!(seen_by_viewer.body["images"]["items"][0]["title"], "approved one");
    assert_eq!(app.get(&format!("/galleries/{gid}"), Some(&player)).await.body["images"]["total"], 2);
    // A gallery's images are read on by cursor too, the same images in the same order.
    let first = app.get(&format!("/galleries/{gid}?per_page=1"), Some(&player)).await.body["images"].clone();
    assert_eq!(first["total_exact"], true);
    let next = first["next"].as_str().expect("a second page").to_owned();
    let second = app.get(&format!("/galleries/{gid}?per_page=1&cursor={next}"), Some(&player)).await;
    assert!(second.body["images"]["next"].is_null());
    let both = app.get(&format!("/galleries/{gid}"), Some(&player)).await.body["images"]["items"].clone();
    assert_eq!(
        [first["items"][0]["id"].clone(), second.body["images"]["items"][0]["id"].clone()],
        [both[0]["id"].clone(), both[1]["id"].clone()]
    );
    app.get(&format!("/galleries/{gid}?cursor=nope"), Some(&player)).await.assert_problem(400, "bad_request");
    assert_eq!(app.get("/galleries", Some(&viewer)).await.body["total"], 1);

    let renamed = app.patch(&format!("/galleries/{gid}"), Some(&player), json!({"name": "Summer"})).await;
    assert_eq!((renamed.body["name"].as_str(), renamed.body["description"].as_str()), (Some("Summer"), Some("2026")));

    assert_eq!(app.delete(&format!("/galleries/{gid}"), Some(&player)).await.status, 204);
    app.get(&format!("/galleries/{gid}"), Some(&player)).await.assert_problem(404, "not_found");
    let images = app.get("/images", Some(&player)).await;
    assert_eq!(images.body["total"], 2);
    assert!(images.body["items"].as_array().unwrap().iter().all(|i| i["gallery_id"].is_null()));
    assert_eq!(app.stored_files().len(), 2);
}
