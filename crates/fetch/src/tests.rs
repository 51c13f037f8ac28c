use std::collections::HashMap;
use std::sync::Arc;

use futures_util::TryStreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

/// One canned answer: path, status line, headers, body.
type Route = (&'static str, &'static str, Vec<(&'static str, String)>, Vec<u8>);

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

/// A canned HTTP/1.1 server on loopback.
async fn serve(routes: Vec<Route>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes: Arc<HashMap<_, _>> =
        Arc::new(routes.into_iter().map(|(p, s, h, b)| (p.to_owned(), (s, h, b))).collect());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let routes = routes.clone();
            tokio::spawn(async move {
                let Some(buf) = read_head(&mut sock).await else { return };
                let head = String::from_utf8_lossy(&buf);
                let mut words = head.split_whitespace();
                let (method, path) =
                    (words.next().unwrap_or_default().to_owned(), words.next().unwrap_or_default().to_owned());
                let (status, headers, body) = routes.get(&path).cloned().unwrap_or(("404 Not Found", vec![], vec![]));
                let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                if method != "HEAD" {
                    bytes.extend_from_slice(&body);
                }
                let _ = sock.write_all(&bytes).await;
            });
        }
    });
    addr
}

fn fetcher(allow_private: bool) -> HttpFetcher {
    HttpFetcher::new(FetchSettings { allow_private_networks: allow_private, ..FetchSettings::default() })
}

fn web(raw: &str) -> WebUrl {
    WebUrl::parse(raw).unwrap()
}

async fn body(f: Fetched) -> Vec<u8> {
    f.stream.try_collect::<Vec<_>>().await.unwrap().concat()
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-not-really";

#[tokio::test]
async fn private_addresses_are_refused_before_any_connection() {
    for url in [
        "http://127.0.0.1/a.png",
        "http://[::1]/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://localhost/a.png",
        "http://0.0.0.0/a.png",
    ] {
        let err = fetcher(false).fetch(&web(url), 1 << 20).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused(_)), "{url}: {err:?}");
    }
}

#[tokio::test]
async fn an_image_is_fetched_with_head_then_get() {
    let addr = serve(vec![("/a.png", "200 OK", vec![("content-type", "image/png".into())], PNG.to_vec())]).await;
    let got = fetcher(true).fetch(&web(&format!("http://{addr}/a.png")), 1 << 20).await.unwrap();
    assert_eq!(body(got).await, PNG);
}

#[tokio::test]
async fn a_page_that_is_not_an_image_fails_the_head_check() {
    let addr = serve(vec![("/page", "200 OK", vec![("content-type", "text/html".into())], b"<html>".to_vec())]).await;
    let err = fetcher(true).fetch(&web(&format!("http://{addr}/page")), 1 << 20).await.unwrap_err();
    assert!(matches!(err, FetchError::NotAnImage(ref m) if m.contains("text/html")), "{err:?}");
}

/// A server that answers every request's head at once, then sends one byte of body every
/// `pace` (or, with `pace` `None`, never answers at all).
async fn drip(pace: Option<std::time::Duration>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some(buf) = read_head(&mut sock).await else { return };
                let Some(pace) = pace else {
                    let _ = sock.read(&mut [0u8; 1]).await; // holds the connection, says nothing
                    return;
                };
                let head = "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 100000\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() || buf.starts_with(b"HEAD") {
                    return;
                }
                loop {
                    tokio::time::sleep(pace).await; // the server's own pace, not a test's wait
                    if sock.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn with_deadline(deadline: std::time::Duration) -> HttpFetcher {
    HttpFetcher::new(FetchSettings { allow_private_networks: true, deadline, ..FetchSettings::default() })
}

#[tokio::test]
async fn a_dripping_body_fails_at_the_deadline_though_every_read_is_quick() {
    let addr = drip(Some(std::time::Duration::from_millis(50))).await;
    let fetcher = with_deadline(std::time::Duration::from_secs(1));
    let fetched = fetcher.fetch(&web(&format!("http://{addr}/a.png")), 1 << 20).await.unwrap();
    let err = fetched.stream.try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, FetchError::Failed(ref m) if m.contains("deadline")), "{err:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_fails_at_the_deadline() {
    let addr = drip(None).await;
    let err =
        with_deadline(std::time::Duration::from_secs(1)).fetch(&web(&format!("http://{addr}/a.png")), 1 << 20).await;
    assert!(matches!(err, Err(FetchError::Failed(ref m)) if m.contains("deadline")), "{err:?}");
}

#[tokio::test]
async fn an_announced_size_over_the_limit_is_too_large() {
    let addr = serve(vec![("/big.png", "200 OK", vec![("content-type", "image/png".into())], vec![0; 4096])]).await;
    assert_eq!(
        fetcher(true).fetch(&web(&format!("http://{addr}/big.png")), 1000).await.err(),
        Some(FetchError::TooLarge(1000))
    );
}

#[tokio::test]
async fn redirects_are_followed_up_to_three_and_each_hop_rechecked() {
    let addr = serve(vec![
        ("/r1", "302 Found", vec![("location", "/r2".into())], vec![]),
        ("/r2", "302 Found", vec![("location", "/r3".into())], vec![]),
        ("/r3", "302 Found", vec![("location", "/a.png".into())], vec![]),
        ("/a.png", "200 OK", vec![("content-type", "image/png".into())], PNG.to_vec()),
        ("/r0", "302 Found", vec![("location", "/r1".into())], vec![]),
        ("/away", "302 Found", vec![("location", "file:///etc/passwd".into())], vec![]),
    ])
    .await;
    let ok = fetcher(true).fetch(&web(&format!("http://{addr}/r1")), 1 << 20).await.unwrap();
    assert_eq!(body(ok).await, PNG);
    let too_many = fetcher(true).fetch(&web(&format!("http://{addr}/r0")), 1 << 20).await.unwrap_err();
    assert!(matches!(too_many, FetchError::Failed(ref m) if m.contains("redirects")), "{too_many:?}");
    let away = fetcher(true).fetch(&web(&format!("http://{addr}/away")), 1 << 20).await.unwrap_err();
    assert!(matches!(away, FetchError::Refused(ref m) if m.contains("scheme `file`")), "{away:?}");
}
