//! Uploads, visibility, approval, originals and deletion, end to end.

use std::io::Cursor;

use image::{DynamicImage, RgbImage, RgbaImage};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

fn encoded(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = if format == image::ImageFormat::WebP {
        DynamicImage::ImageRgba8(RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 9, 255])))
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 9])))
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    encoded(image::ImageFormat::Png, w, h)
}

/// A PNG header claiming `w`×`h` over a 1×1 image's data.
fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = png(1, 1);
    out[16..20].copy_from_slice(&w.to_be_bytes());
    out[20..24].copy_from_slice(&h.to_be_bytes());
    let mut crc = 0xFFFF_FFFFu32;
    for &b in &out[12..29] {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    out[29..33].copy_from_slice(&(!crc).to_be_bytes());
    out
}

async fn player(app: &TestApp) -> String {
    app.user_token("player", "beta_player").await
}

#[tokio::test]
async fn each_format_is_stored_with_its_dimensions_and_the_plans_links() {
    let app = spawn_app().await;
    let token = player(&app).await;
    for (format, name) in [
        (image::ImageFormat::Jpeg, "jpeg"),
        (image::ImageFormat::Png, "png"),
        (image::ImageFormat::Gif, "gif"),
        (image::ImageFormat::WebP, "webp"),
    ] {
        let reply = app.upload(&token, encoded(format, 40, 30), "whatever.bin", Some(name)).await;
        assert_eq!(reply.status, 201, "{name}: {:?}", reply.body);
        let b = &reply.body;
        assert_eq!((b["format"].as_str(), b["width"].as_u64(), b["height"].as_u64()), (Some(name), Some(40), Some(30)));
        assert_eq!(b["status"], "pending");
        assert_eq!(b["title"], name);
        assert_eq!(b["uploaded_by"]["username"], "player");
        assert_eq!(b["sha256"].as_str().unwrap().len(), 64);
        // Basic plan: the 200 px thumbnail, no original.
        assert_eq!(b["links"]["original"], serde_json::Value::Null);
        let thumbs = b["links"]["thumbnails"].as_object().unwrap();
        assert_eq!(thumbs.keys().collect::<Vec<_>>(), ["200"]);
        assert!(thumbs["200"].as_str().unwrap().starts_with("http://"));
    }
    assert_eq!(app.stored_files().len(), 4);
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_and_the_filename_never_touches_the_disk() {
    let app = spawn_app().await;
    let token = player(&app).await;
    let reply = app.upload(&token, png(8, 8), "../../../../etc/evil.jpg", None).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["format"], "png");
    let files = app.stored_files();
    assert_eq!(files.len(), 1);
    let name = &files[0];
    assert!(!name.contains("evil") && !name.contains(".jpg") && !name.contains(".."), "{name}");
    assert!(name.starts_with("originals/"), "{name}");
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_no_file() {
    let app = spawn_app().await;
    let token = player(&app).await;
    let text = app.upload(&token, b"just some text, not an image at all".to_vec(), "a.png", None).await;
    text.assert_problem(415, "unsupported_media_type");
    let jpeg = encoded(image::ImageFormat::Jpeg, 256, 256);
    let truncated = app.upload(&token, jpeg[..jpeg.len() / 2].to_vec(), "t.jpg", None).await;
    truncated.assert_problem(422, "invalid_image");
    let bomb = app.upload(&token, bomb_png(30_000, 30_000), "bomb.png", None).await;
    bomb.assert_problem(422, "image_too_large");
    let empty = reqwest::multipart::Form::new().text("title", "no file");
    let res = app.client.post(app.url("/images")).bearer_auth(&token).multipart(empty).send().await.unwrap();
    let reply = crate::helpers::Reply::from(res).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["file"]);
    let long_title = app.upload(&token, png(2, 2), "x.png", Some(&"t".repeat(201))).await;
    long_title.assert_problem(422, "validation_failed");
    // Basic plan: 5 MiB. The server answers before reading the rest and closes the
    // connection, so this one goes on a client of its own.
    let mut big = png(4, 4);
    big.resize(6 << 20, 0);
    let own = reqwest::Client::new();
    app.upload_with(&own, &token, big, "big.png", None).await.assert_problem(413, "payload_too_large");
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    // Still healthy after the bomb.
    assert_eq!(app.get("/health/live", None).await.status, 200);
}

#[tokio::test]
async fn viewers_cannot_upload_and_json_is_not_a_form() {
    let app = spawn_app().await;
    let token = app.user_token("viewer", "company_user").await;
    app.upload(&token, png(2, 2), "x.png", None).await.assert_problem(403, "forbidden");
    let player = app.user_token("player", "beta_player").await;
    let res = app.client.post(app.url("/images")).bearer_auth(&player).json(&json!({})).send().await.unwrap();
    crate::helpers::Reply::from(res).await.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn fifty_concurrent_uploads_are_all_stored_and_counted() {
    // One user with fifty at once: the per-user bound is raised for this.
    let app = crate::helpers::spawn_app_with(|s| s.server.max_uploads_per_user = 50).await;
    let token = player(&app).await;
    let uploads = (0..50).map(|i| app.upload(&token, png(10 + i, 10), "c.png", None));
    let replies = futures_util::future::join_all(uploads).await;
    assert!(replies.iter().all(|r| r.status == 201), "{:?}", replies.iter().find(|r| r.status != 201));
    assert_eq!(app.stored_files().len(), 50);
    let listed = app.get("/images?per_page=100", Some(&token)).await;
    assert_eq!(listed.body["total"], 50);
}

#[tokio::test]
async fn pending_images_are_hidden_until_approved_and_the_history_is_kept() {
    let app = spawn_app().await;
    let owner = player(&app).await;
    let viewer = app.user_token("viewer", "company_user").await;
    let admin = app.admin_token("root").await;
    let id = app.upload(&owner, png(5, 5), "p.png", Some("mine")).await.body["id"].as_str().unwrap().to_owned();
    let path = format!("/images/{id}");

    assert_eq!(app.get(&path, Some(&owner)).await.status, 200);
    app.get(&path, Some(&viewer)).await.assert_problem(404, "not_found");
    assert_eq!(app.get("/images", Some(&viewer)).await.body["total"], 0);
    let queue = app.get("/images?status=pending", Some(&admin)).await;
    assert_eq!(queue.body["total"], 1);

    let approval = format!("{path}/approval");
    app.post(&approval, Some(&owner), json!({"decision": "approved"})).await.assert_problem(403, "forbidden");
    let no_reason = app.post(&approval, Some(&admin), json!({"decision": "rejected"})).await;
    no_reason.assert_problem(422, "validation_failed");
    assert_eq!(no_reason.error_fields(), ["reason"]);
    app.post(&approval, Some(&admin), json!({"decision": "maybe"})).await.assert_problem(422, "validation_failed");
    let rejected = app.post(&approval, Some(&admin), json!({"decision": "rejected", "reason": "blurry"})).await;
    assert_eq!(rejected.body["status"], "rejected");
    app.get(&path, Some(&viewer)).await.assert_problem(404, "not_found");
    let approved = app.post(&approval, Some(&admin), json!({"decision": "approved"})).await;
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(app.get(&path, Some(&viewer)).await.status, 200);

    let history = app.get(&format!("{path}/approvals"), Some(&admin)).await;
    let decisions: Vec<&str> =
        history.body.as_array().unwrap().iter().map(|a| a["decision"].as_str().unwrap()).collect();
    assert_eq!(decisions, ["rejected", "approved"]);
    assert_eq!(history.body[0]["reason"], "blurry");
    assert_eq!(history.body[0]["decided_by"]["username"], "root");
}

#[tokio::test]
async fn admins_uploads_are_approved_at_once_and_editable() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let made = app.upload(&admin, png(5, 5), "a.png", Some("first")).await;
    assert_eq!(made.body["status"], "approved");
    assert_eq!(made.body["links"]["original"].as_str().map(|u| u.ends_with("/original")), Some(true));
    let path = format!("/images/{}", made.body["id"].as_str().unwrap());
    let patched = app.patch(&path, Some(&admin), json!({"description": "a red square"})).await;
    assert_eq!(
        (patched.body["title"].as_str(), patched.body["description"].as_str()),
        (Some("first"), Some("a red square"))
    );
    app.call(reqwest::Method::PUT, &path, Some(&admin), Some(json!({"title": "only title"})))
        .await
        .assert_problem(422, "validation_failed");
    let put =
        app.call(reqwest::Method::PUT, &path, Some(&admin), Some(json!({"title": "t", "description": "d"}))).await;
    assert_eq!((put.body["title"].as_str(), put.body["description"].as_str()), (Some("t"), Some("d")));
    let gallery = uuid::Uuid::new_v4().to_string();
    app.patch(&path, Some(&admin), json!({"gallery_id": gallery})).await.assert_problem(422, "validation_failed");
    let found = app.get("/images?q=T&sort=title", Some(&admin)).await;
    assert_eq!(found.body["total"], 1);
    app.get("/images?sort=sideways", Some(&admin)).await.assert_problem(400, "bad_request");
    app.get("/images?status=lost", Some(&admin)).await.assert_problem(400, "bad_request");
}

#[tokio::test]
async fn originals_follow_the_plan_and_speak_http_caching_and_ranges() {
    let app = spawn_app().await;
    let owner = player(&app).await;
    let admin = app.admin_token("root").await;
    let bytes = png(30, 20);
    let made = app.upload(&owner, bytes.clone(), "o.png", None).await;
    let path = format!("/images/{}/original", made.body["id"].as_str().unwrap());

    let (status, _, body) = app.get_with(&path, &owner, &[]).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("plan_forbids"));

    let (status, headers, body) = app.get_with(&path, &admin, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
    assert!(headers["cache-control"].to_str().unwrap().starts_with("private"));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", made.body["sha256"].as_str().unwrap()));

    let (status, _, body) = app.get_with(&path, &admin, &[("if-none-match", &etag)]).await;
    assert_eq!((status.as_u16(), body.len()), (304, 0));

    let (status, headers, body) = app.get_with(&path, &admin, &[("range", "bytes=0-7")]).await;
    assert_eq!(status, 206);
    assert_eq!(body, bytes[..8]);
    assert_eq!(headers["content-range"], format!("bytes 0-7/{}", bytes.len()).as_str());

    let (status, headers, _) = app.get_with(&path, &admin, &[("range", &format!("bytes={}-", bytes.len()))]).await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], format!("bytes */{}", bytes.len()).as_str());
}

#[tokio::test]
async fn deleting_removes_the_row_then_the_file_and_purge_takes_everything() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let owner = player(&app).await;
    let one = app.upload(&owner, png(3, 3), "1.png", None).await.body["id"].as_str().unwrap().to_owned();
    app.upload(&owner, png(4, 4), "2.png", None).await;
    app.upload(&admin, png(5, 5), "3.png", None).await;
    assert_eq!(app.stored_files().len(), 3);

    let viewer = app.user_token("viewer", "company_user").await;
    app.delete(&format!("/images/{one}"), Some(&viewer)).await.assert_problem(403, "forbidden");
    assert_eq!(app.delete(&format!("/images/{one}"), Some(&owner)).await.status, 204);
    assert_eq!(app.stored_files().len(), 2);
    app.get(&format!("/images/{one}"), Some(&owner)).await.assert_problem(404, "not_found");

    app.delete("/images", Some(&admin)).await.assert_problem(400, "bad_request");
    app.delete("/images?confirm=true", Some(&owner)).await.assert_problem(403, "forbidden");
    let purged = app.delete("/images?confirm=true", Some(&admin)).await;
    assert_eq!(purged.status, 200);
    assert_eq!(purged.body, json!({"deleted": 2}));
    assert!(app.stored_files().is_empty());
}

#[tokio::test]
async fn a_user_who_owns_images_is_deleted_only_with_them() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let owner = player(&app).await;
    let id = app.user_id(&owner).await;
    app.upload(&owner, png(3, 3), "1.png", None).await;
    app.delete(&format!("/users/{id}"), Some(&admin)).await.assert_problem(409, "in_use");
    assert_eq!(app.stored_files().len(), 1);
    assert_eq!(app.delete(&format!("/users/{id}?delete_images=true"), Some(&admin)).await.status, 204);
    assert!(app.stored_files().is_empty());
}

#[tokio::test]
async fn the_plans_storage_quota_is_enforced() {
    let app = spawn_app().await;
    let token = player(&app).await;
    // Shrink the basic plan's quota to fit one small image, straight in the database: the
    // plan cache sees the change on the next request.
    let first = png(20, 20);
    let quota = first.len() + 10;
    app._db
        .execute(&format!(
            "UPDATE plans SET features = jsonb_set(features, '{{storage_quota_bytes}}', '{quota}') WHERE code = 'basic'"
        ))
        .await;
    assert_eq!(app.upload(&token, first, "1.png", None).await.status, 201);
    app.upload(&token, png(20, 20), "2.png", None).await.assert_problem(403, "quota_exceeded");
    assert_eq!(app.stored_files().len(), 1);
}

#[tokio::test]
async fn a_list_is_read_to_its_end_by_cursor_and_a_cursor_fits_only_its_list() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    for i in 0..5 {
        let title = format!("pic {}", i % 3);
        assert_eq!(app.upload(&admin, png(3 + i, 3), "c.png", Some(&title)).await.status, 201);
    }
    for sort in ["-uploaded_at", "uploaded_at", "title", "-title"] {
        let whole = app.get(&format!("/images?sort={sort}&per_page=100"), Some(&admin)).await;
        assert_eq!((whole.body["total"].as_u64(), whole.body["total_exact"].as_bool()), (Some(5), Some(true)));
        assert!(whole.body["next"].is_null(), "one page holds them all");
        let expected: Vec<_> = whole.body["items"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect();
        let mut walked = Vec::new();
        let mut path = format!("/images?sort={sort}&per_page=2");
        loop {
            let page = app.get(&path, Some(&admin)).await;
            assert_eq!(page.status, 200, "{}", page.body);
            assert_eq!(page.body["total"], 5);
            walked.extend(page.body["items"].as_array().unwrap().iter().map(|i| i["id"].clone()));
            let Some(next) = page.body["next"].as_str() else { break };
            // `page` is ignored once there is a cursor.
            path = format!("/images?sort={sort}&per_page=2&page=7&cursor={next}");
        }
        assert_eq!(walked, expected, "{sort}");
    }
    let first = app.get("/images?per_page=2", Some(&admin)).await;
    let next = first.body["next"].as_str().unwrap().to_owned();
    let other_sort = app.get(&format!("/images?per_page=2&sort=title&cursor={next}"), Some(&admin)).await;
    other_sort.assert_problem(400, "bad_request");
    let other_filter = app.get(&format!("/images?per_page=2&status=approved&cursor={next}"), Some(&admin)).await;
    other_filter.assert_problem(400, "bad_request");
    app.get("/images?cursor=not-a-cursor", Some(&admin)).await.assert_problem(400, "bad_request");
    app.get(&format!("/images?cursor={}", &next[..next.len() - 3]), Some(&admin))
        .await
        .assert_problem(400, "bad_request");
}

#[tokio::test]
async fn a_cursor_altered_in_any_byte_or_forged_is_a_400_never_a_500() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    for title in ["a", "b", "c"] {
        assert_eq!(app.upload(&admin, png(3, 3), "c.png", Some(title)).await.status, 201);
    }
    let first = app.get("/images?sort=title&per_page=1", Some(&admin)).await;
    let next = first.body["next"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/images?sort=title&per_page=1&cursor={next}"), Some(&admin)).await.status, 200);
    let bytes = b64.decode(&next).unwrap();
    for i in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[i] ^= 0x01;
        let reply =
            app.get(&format!("/images?sort=title&per_page=1&cursor={}", b64.encode(&altered)), Some(&admin)).await;
        reply.assert_problem(400, "bad_request");
    }
    // The layout of an unsigned title cursor, with NUL in the title (what gave a 500 once).
    let mut forged = bytes[..26].to_vec();
    forged.extend_from_slice(b"a\0b");
    forged.extend_from_slice(&[0; 16]);
    let reply = app.get(&format!("/images?sort=title&cursor={}", b64.encode(&forged)), Some(&admin)).await;
    reply.assert_problem(400, "bad_request");
}

/// `bytes` with `insert` put in just before the first `0xFF m` marker.
fn spliced_before(bytes: &[u8], m: u8, insert: &[u8]) -> Vec<u8> {
    let at = bytes.windows(2).position(|w| w == [0xFF, m]).unwrap();
    [&bytes[..at], insert, &bytes[at..]].concat()
}

#[tokio::test]
async fn what_browsers_show_is_taken_and_gets_its_thumbnail() {
    let app = spawn_app().await;
    let token = player(&app).await;
    let jpeg = encoded(image::ImageFormat::Jpeg, 256, 128);
    // Stray bytes between header segments, and an APP14 cut after its name.
    let stray = spliced_before(&jpeg, 0xDB, &[0x00, 0x12, 0x34]);
    let cut_app14 = [&jpeg[..2], &[0xFF, 0xEE, 0x00, 0x07][..], b"Adobe", &jpeg[2..]].concat();
    // A 1×1 GIF with no colour table at all (browsers use one of their own).
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3B";
    for (name, bytes, size) in
        [("stray.jpg", stray, (256, 128)), ("app14.jpg", cut_app14, (256, 128)), ("bare.gif", gif.to_vec(), (1, 1))]
    {
        let uploaded = app.upload(&token, bytes, name, None).await;
        assert_eq!(uploaded.status, 201, "{name}: {:?}", uploaded.body);
        assert_eq!(
            (uploaded.body["width"].as_u64(), uploaded.body["height"].as_u64()),
            (Some(size.0), Some(size.1)),
            "{name}"
        );
        let id = uploaded.body["id"].as_str().unwrap();
        let (status, headers, thumbnail) = app.get_with(&format!("/images/{id}/thumbnails/200"), &token, &[]).await;
        assert_eq!(status, 200, "{name}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("image/"), "{name}");
        assert!(image::load_from_memory(&thumbnail).is_ok(), "{name}: the thumbnail decodes");
    }
}

/// `bytes` with `writes` applied by exiftool (`make test` installs it).
fn with_exiftool(bytes: &[u8], ext: &str, writes: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("photo.{ext}"));
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("exiftool")
        .args(["-q", "-overwrite_original"])
        .args(writes)
        .arg(&file)
        .output()
        .expect("exiftool is missing: `make test` installs it (apt-get install libimage-exiftool-perl)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&file).unwrap()
}

#[tokio::test]
async fn an_image_says_when_and_with_what_it_was_taken() {
    let app = spawn_app().await;
    let token = player(&app).await;
    let photo = with_exiftool(
        &encoded(image::ImageFormat::Jpeg, 64, 48),
        "jpg",
        &[
            "-EXIF:DateTimeOriginal=2024:05:01 12:30:15",
            "-EXIF:OffsetTimeOriginal=+02:00",
            "-EXIF:Make=Canon",
            "-EXIF:Model=Canon EOS R5",
            "-GPSLatitude=48.8566",
            "-GPSLatitudeRef=N",
        ],
    );
    let uploaded = app.upload(&token, photo, "shot.jpg", None).await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
    assert_eq!(uploaded.body["taken_at"], "2024-05-01T10:30:15Z");
    assert_eq!(uploaded.body["camera"], json!({"make": "Canon", "model": "Canon EOS R5"}));
    let id = uploaded.body["id"].as_str().unwrap();
    let read = app.get(&format!("/images/{id}"), Some(&token)).await;
    assert_eq!((&read.body["taken_at"], &read.body["camera"]), (&uploaded.body["taken_at"], &uploaded.body["camera"]));
    // A file without EXIF: both are null, and present.
    let plain = app.upload(&token, png(8, 8), "plain.png", None).await;
    assert_eq!((&plain.body["taken_at"], &plain.body["camera"]), (&serde_json::Value::Null, &serde_json::Value::Null));
    assert!(plain.body.as_object().unwrap().contains_key("taken_at"));
    // Sorted by when they were taken, either way: the one that does not say comes last.
    for sort in ["taken_at", "-taken_at"] {
        let listed = app.get(&format!("/images?sort={sort}&per_page=1"), Some(&token)).await;
        assert_eq!(listed.body["items"][0]["id"], id, "{sort}");
        let next = listed.body["next"].as_str().unwrap();
        let rest = app.get(&format!("/images?sort={sort}&per_page=1&cursor={next}"), Some(&token)).await;
        assert_eq!(rest.body["items"][0]["id"], plain.body["id"], "{sort}");
        assert_eq!(rest.body["next"], serde_json::Value::Null, "{sort}");
    }
}
