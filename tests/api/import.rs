//! Import by URL: from a local server when private networks are allowed, refused otherwise.

use std::net::SocketAddr;

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{spawn_app, spawn_app_with};

/// A request's head, up to its blank line; `None` when the client leaves first.
async fn read_head(sock: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).await.unwrap_or(0) == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}

/// Serves `body` as `content_type` to every request, HEAD included (headers only).
async fn image_server(body: Vec<u8>, content_type: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut sock).await else { return };
                let is_head = head.starts_with(b"HEAD");
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                if !is_head {
                    out.extend_from_slice(&body);
                }
                let _ = sock.write_all(&out).await;
            });
        }
    });
    addr
}

fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(12, 9).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn an_image_is_imported_from_a_url_when_private_networks_are_allowed() {
    let app = spawn_app_with(|s| s.import.allow_private_networks = true).await;
    let token = app.user_token("player", "beta_player").await;
    let addr = image_server(png(), "image/png").await;
    let made = app
        .post("/images/import", Some(&token), json!({"url": format!("http://{addr}/cat.png"), "title": "cat"}))
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(
        (made.body["format"].as_str(), made.body["width"].as_u64(), made.body["title"].as_str()),
        (Some("png"), Some(12), Some("cat"))
    );
    assert_eq!(app.stored_files().len(), 1);

    let text = image_server(b"hello".to_vec(), "image/png").await;
    app.post("/images/import", Some(&token), json!({"url": format!("http://{text}/x")}))
        .await
        .assert_problem(415, "unsupported_media_type");
    for (body, kind) in [(&b"<html></html>"[..], "text/html"), (b"just words", "text/plain")] {
        let page = image_server(body.to_vec(), kind).await;
        let reply = app.post("/images/import", Some(&token), json!({"url": format!("http://{page}/x")})).await;
        reply.assert_problem(415, "unsupported_media_type");
    }
    assert_eq!(app.stored_files().len(), 1);
}

#[tokio::test]
async fn private_addresses_and_other_schemes_are_refused_by_default() {
    let app = spawn_app().await;
    let token = app.user_token("player", "beta_player").await;
    let addr = image_server(png(), "image/png").await;
    for url in [
        format!("http://{addr}/cat.png"),
        format!("http://[::1]:{}/cat.png", addr.port()),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "file:///etc/passwd".to_owned(),
        "not even a url".to_owned(),
    ] {
        let reply = app.post("/images/import", Some(&token), json!({"url": url})).await;
        reply.assert_problem(422, "validation_failed");
        assert_eq!(reply.error_fields(), ["url"], "{url}");
    }
    app.post("/images/import", Some(&token), json!({})).await.assert_problem(422, "validation_failed");
    let viewer = app.user_token("viewer", "company_user").await;
    app.post("/images/import", Some(&viewer), json!({"url": "https://example.com/a.png"}))
        .await
        .assert_problem(403, "forbidden");
    assert!(app.stored_files().is_empty());
}

/// A server that answers a PNG's head and first bytes at once, then drips the rest a byte
/// at a time, never finishing. Says on `hung_up` when its client closes the connection.
async fn dripping_server(hung_up: tokio::sync::mpsc::UnboundedSender<()>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let hung_up = hung_up.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut sock).await else { return };
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 1000000\r\n\r\n";
                if sock.write_all(answer.as_bytes()).await.is_err() || head.starts_with(b"HEAD") {
                    return;
                }
                let _ = sock.write_all(&png()[..16]).await;
                loop {
                    // The server's own pace (a drip), not the test waiting for something.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    if sock.write_all(b"x").await.is_err() {
                        let _ = hung_up.send(());
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_dripping_import_is_cut_off_at_its_deadline_and_creates_nothing_ever() {
    let app = spawn_app_with(|s| {
        s.import.allow_private_networks = true;
        s.import.timeout_seconds = 2;
    })
    .await;
    let token = app.user_token("player", "beta_player").await;
    let (tx, mut hung_up) = tokio::sync::mpsc::unbounded_channel();
    let addr = dripping_server(tx).await;
    let started = std::time::Instant::now();
    let reply = app.post("/images/import", Some(&token), json!({"url": format!("http://{addr}/drip.png")})).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["url"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    // The fetch was stopped, not left running: the server sees its client hang up...
    tokio::time::timeout(std::time::Duration::from_secs(10), hung_up.recv()).await.unwrap().unwrap();
    // ...and then no image exists, nor any file, and none can appear later.
    assert_eq!(app._db.scalar("SELECT count(*) FROM images").await, 0);
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}
