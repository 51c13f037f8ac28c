//! Upload edges: a stalled body is answered 408 and leaves nothing; one user's uploads in
//! progress are bounded, and never hold back another user's.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, png, spawn_app_with};

const BOUNDARY: &str = "gallery-test-boundary";

/// Opens an upload of `png` whose head and first `sent` bytes of body arrive, and whose
/// remaining bytes never do. The connection is returned open.
pub(crate) async fn stalled_upload(app: &TestApp, token: &str, sent: usize) -> TcpStream {
    stalled_upload_of(app, token, &png(400, 300), sent).await
}

/// The same with `file` for the image.
async fn stalled_upload_of(app: &TestApp, token: &str, file: &[u8], sent: usize) -> TcpStream {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let head = format!(
        "POST /api/v1/images HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..sent]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

async fn image_count(app: &TestApp) -> i64 {
    app._db.scalar("SELECT count(*) FROM images").await
}

#[tokio::test]
async fn a_stalled_upload_body_is_answered_408_and_leaves_nothing() {
    let app = spawn_app_with(|s| s.server.body_idle_timeout_seconds = 1).await;
    let token = app.user_token("slow", "beta_player").await;
    let mut stream = stalled_upload(&app, &token, 600).await;
    let mut answer = Vec::new();
    // The server answers, then closes: read to the end (bounded, in case it never does).
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
    assert_eq!(image_count(&app).await, 0);
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}

#[tokio::test]
async fn a_body_that_crawls_is_answered_408_and_leaves_nothing() {
    // A byte every 100 ms never leaves the body idle for a second, but averages 10 B/s.
    let app = spawn_app_with(|s| {
        s.server.body_idle_timeout_seconds = 1;
        s.server.body_min_bytes_per_second = 1024;
    })
    .await;
    let token = app.user_token("crawler", "beta_player").await;
    let file = png(400, 300);
    let mut stream = stalled_upload_of(&app, &token, &file, 200).await;
    let crawl = async {
        for byte in &file[200..] {
            if stream.write_all(&[*byte]).await.is_err() {
                break; // the server has answered and closed
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    // The crawl is what the client does; the server must cut it short long before it ends.
    let _ = tokio::time::timeout(Duration::from_secs(5), crawl).await;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert_eq!(image_count(&app).await, 0);
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    // The crawler's slot is given back (by a task of its own, just after the answer).
    crate::helpers::bounded("the crawler's slot comes back", async {
        while app.upload(&token, png(8, 8), "fast.png", None).await.status == 429 {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

#[tokio::test]
async fn one_users_uploads_in_progress_are_bounded_and_never_hold_back_anyone_else() {
    let app = spawn_app_with(|s| {
        s.server.max_uploads_per_user = 1;
        s.server.body_idle_timeout_seconds = 60;
    })
    .await;
    let slow = app.user_token("slow", "beta_player").await;
    let other = app.user_token("other", "beta_player").await;
    let _held = stalled_upload(&app, &slow, 600).await;
    // Wait until the server has taken the stalled upload's slot (it says so in /metrics).
    let metrics = format!("{}/metrics", app.address);
    let mut taken = false;
    for _ in 0..500 {
        let text = app.client.get(&metrics).send().await.unwrap().text().await.unwrap();
        if text.lines().any(|l| l == "gallery_uploads_in_progress 1") {
            taken = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(taken, "the stalled upload never took its slot");
    let refused = app.upload(&slow, png(40, 30), "b.png", None).await;

    refused.assert_problem(429, "rate_limited");
    // When the held slot is free at the latest: its lease, the request timeout, from when
    // it was taken (a server that dies holding it frees it then).
    let wait: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    let timeout = app.settings.server.request_timeout_seconds;
    assert!(timeout - 30 < wait && wait <= timeout, "Retry-After {wait} for a lease of {timeout} s");
    let import = app.post("/images/import", Some(&slow), serde_json::json!({"url": "http://example.com/x.png"})).await;
    import.assert_problem(429, "rate_limited");
    // Another user's upload goes through meanwhile.
    assert_eq!(app.upload(&other, png(40, 30), "c.png", None).await.status, 201);
}

#[tokio::test]
async fn a_stalled_json_body_is_answered_408_too() {
    let app = spawn_app_with(|s| s.server.body_idle_timeout_seconds = 1).await;
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let head = "POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"username\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}

/// A PNG of noise, stored with the least compression: `w * h * 3` bytes and a little more.
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    use image::ImageEncoder as _;
    let mut state = 0x2545_f491_u32;
    let pixels: Vec<u8> = (0..w * h * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
    .expect("encode a PNG");
    out
}

#[tokio::test]
async fn an_upload_of_several_parts_is_stored_whole_and_served_back_exactly() {
    // Over 5 MiB: on s3 it goes up as a multipart upload, and is checked from its spool.
    let app = spawn_app_with(|_| {}).await;
    let token = app.admin_token("root").await;
    let enterprise = serde_json::json!({"plan": "enterprise"});
    assert_eq!(app.post("/subscriptions", Some(&token), enterprise).await.status, 201);
    let file = noise_png(1400, 1400);
    assert!(file.len() > 5 << 20, "{} bytes", file.len());
    let stored = app.upload(&token, file.clone(), "big.png", None).await;
    assert_eq!(stored.status, 201, "{:?}", stored.body);
    let id = stored.body["id"].as_str().unwrap();
    let (status, _, body) = app.get_with(&format!("/images/{id}/original"), &token, &[]).await;
    assert_eq!(status, 200);
    assert!(body == file, "the original comes back byte for byte");
    let (status, headers, part) =
        app.get_with(&format!("/images/{id}/original"), &token, &[("range", "bytes=5242870-5242889")]).await;
    assert_eq!(status, 206, "{headers:?}");
    assert!(part == file[5_242_870..5_242_890]);
}

#[tokio::test]
async fn an_upload_cut_off_past_its_first_part_leaves_nothing_in_the_store() {
    // Over 5 MiB sent, then silence: on s3 a multipart upload is under way, and the 408
    // must abort it.
    let app = spawn_app_with(|s| s.server.body_idle_timeout_seconds = 1).await;
    let token = app.admin_token("root").await;
    let enterprise = serde_json::json!({"plan": "enterprise"});
    assert_eq!(app.post("/subscriptions", Some(&token), enterprise).await.status, 201);
    let file = noise_png(1400, 1400);
    let mut stream = stalled_upload_of(&app, &token, &file, (5 << 20) + 300_000).await;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"));
    assert_eq!(image_count(&app).await, 0);
    // The abort runs once the upload is dropped, just after the answer.
    crate::helpers::bounded("the unfinished upload is aborted", async {
        while !app.stored_files().is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

#[tokio::test]
async fn clients_learn_the_upload_slots_and_page_sizes_without_signing_in() {
    let app = spawn_app_with(|s| s.server.max_uploads_per_user = 3).await;
    let limits = app.get("/limits", None).await;
    assert_eq!(limits.status, 200, "{:?}", limits.body);
    assert_eq!(
        limits.body,
        serde_json::json!({"max_uploads_per_user": 3, "default_per_page": 20, "max_per_page": 100})
    );
    // A list past the size it names is refused: the web app pages by what it was told.
    let token = app.user_token("pager", "beta_player").await;
    app.get("/images?per_page=101", Some(&token)).await.assert_problem(400, "bad_request");
    assert_eq!(app.get("/images?per_page=100", Some(&token)).await.status, 200);
}
