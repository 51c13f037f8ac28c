//! The web app as the server hands it out, and the browser's session: the refresh token in
//! an `HttpOnly` cookie that only the auth paths see.

use std::io::Read as _;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Vec<u8>) {
    let mut req = app.client.get(format!("{}{path}", app.address));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, res.bytes().await.expect("body").to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The asset URLs the page names (`/assets/{version}/...`).
fn assets_of(page: &str) -> Vec<String> {
    page.split('"').filter(|s| s.starts_with("/assets/")).map(str::to_owned).collect()
}

#[tokio::test]
async fn every_app_path_serves_the_page_with_a_strict_policy() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/images/0b7c5d1e-0000-4000-8000-000000000000", "/admin/plans", "/galleries/x"] {
        let (status, headers, body) = fetch(&app, path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&headers, "cache-control"), "no-cache");
        let csp = header(&headers, "content-security-policy");
        for rule in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"] {
            assert!(csp.contains(rule), "{csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        let page = String::from_utf8(body).unwrap();
        assert!(page.contains(r#"<script type="module" src="/assets/"#), "{page}");
        assert!(
            !page.contains(" style=") && !page.contains("<style") && !page.contains("<script>"),
            "inline code: {page}"
        );
    }
    // Paths the app does not route to stay the API's 404.
    let (status, headers, _) = fetch(&app, "/nowhere", &[]).await;
    assert_eq!((status, header(&headers, "content-type")), (404, "application/problem+json"));
}

#[tokio::test]
async fn assets_are_versioned_immutable_gzipped_and_revalidated_by_etag() {
    let app = spawn_app().await;
    let (_, _, page) = fetch(&app, "/", &[]).await;
    let assets = assets_of(&String::from_utf8(page).unwrap());
    let script = assets.iter().find(|a| a.ends_with("/js/main.js")).expect("the entry module");
    assert!(assets.iter().any(|a| a.ends_with("/app.css")), "{assets:?}");

    let (status, headers, plain) = fetch(&app, script, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&headers, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(header(&headers, "vary"), "Accept-Encoding");
    assert!(headers.get("content-encoding").is_none());

    let (status, zipped_headers, zipped) = fetch(&app, script, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!((status, header(&zipped_headers, "content-encoding")), (200, "gzip"));
    assert!(zipped.len() < plain.len() / 2, "{} of {}", zipped.len(), plain.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain);
    assert_ne!(header(&zipped_headers, "etag"), header(&headers, "etag"), "two representations, two tags");

    let etag = header(&headers, "etag").to_owned();
    let (status, again, body) = fetch(&app, script, &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.len()), (304, 0));
    assert_eq!(header(&again, "etag"), etag);
    let (status, _, _) = fetch(&app, script, &[("if-none-match", "\"something-else\"")]).await;
    assert_eq!(status, 200);

    // Another release's URL still gets the file, but never to keep; a missing file is 404.
    let (status, headers, _) = fetch(&app, "/assets/0000000000000000/js/main.js", &[]).await;
    assert_eq!((status, header(&headers, "cache-control")), (200, "no-cache"));
    let version = script.split('/').nth(2).unwrap();
    for missing in [format!("/assets/{version}/js/nope.js"), format!("/assets/{version}/index.html")] {
        let (status, headers, _) = fetch(&app, &missing, &[]).await;
        assert_eq!((status, header(&headers, "content-type")), (404, "application/problem+json"), "{missing}");
    }
}

#[tokio::test]
async fn the_service_worker_is_served_at_the_root_under_the_pages_policy() {
    let app = spawn_app().await;
    let (status, headers, body) = fetch(&app, "/sw.js", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    // A worker runs under the policy its script came with: it must be allowed to fetch.
    assert!(header(&headers, "content-security-policy").contains("connect-src 'self'"));
    assert!(String::from_utf8(body).unwrap().contains("addEventListener(\"fetch\""));
}

/// The `gallery_refresh` cookie a response sets: its value and attributes.
fn set_cookie(headers: &HeaderMap) -> Option<(String, String)> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        let (pair, attributes) = c.split_once(';').unwrap_or((c, ""));
        let value = pair.strip_prefix("gallery_refresh=")?;
        Some((value.to_owned(), attributes.to_owned()))
    })
}

async fn post_with_cookie(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    token: Option<&str>,
    body: Value,
) -> (u16, HeaderMap, Value) {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(c) = cookie {
        req = req.header("cookie", HeaderValue::from_str(&format!("gallery_refresh={c}")).unwrap());
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let text = res.text().await.unwrap();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn cookie_login(app: &TestApp, username: &str) -> (String, String, String) {
    let body = json!({"username": username, "password": PASSWORD, "refresh_cookie": true});
    let (status, headers, body) = post_with_cookie(app, "/auth/login", None, None, body).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "the body must not carry it: {body}");
    assert_eq!(body["user"]["username"], username);
    let (cookie, attributes) = set_cookie(&headers).expect("a refresh cookie");
    (body["access_token"].as_str().unwrap().to_owned(), cookie, attributes)
}

#[tokio::test]
async fn a_browser_login_keeps_the_refresh_token_in_an_http_only_cookie() {
    let app = spawn_app().await;
    assert_eq!(app.register("carol", None).await.status, 201);
    let (access, cookie, attributes) = cookie_login(&app, "carol").await;
    let lifetime = format!("Max-Age={}", app.settings.auth.refresh_ttl_seconds);
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/v1/auth", &lifetime] {
        assert!(attributes.contains(attribute), "{attribute} in {attributes}");
    }
    assert!(!attributes.contains("Secure"), "plain http without an https public URL: {attributes}");
    assert_eq!(app.get("/users/me", Some(&access)).await.status, 200);

    // The cookie alone refreshes, and is replaced; the body names no refresh token.
    let (status, headers, body) = post_with_cookie(&app, "/auth/refresh", Some(&cookie), None, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none() && body["access_token"].is_string(), "{body}");
    let (next, _) = set_cookie(&headers).expect("a new cookie");
    assert_ne!(next, cookie);

    // The spent one is refused, removed, and ends the session (its family).
    let (status, headers, body) = post_with_cookie(&app, "/auth/refresh", Some(&cookie), None, json!({})).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("invalid_token")));
    let (value, attributes) = set_cookie(&headers).expect("a removal");
    assert!(value.is_empty() && attributes.contains("Max-Age=0"), "{attributes}");
    let (status, _, _) = post_with_cookie(&app, "/auth/refresh", Some(&next), None, json!({})).await;
    assert_eq!(status, 401, "reuse revokes the family");
}

#[tokio::test]
async fn logout_ends_the_cookies_session_and_removes_it() {
    let app = spawn_app().await;
    assert_eq!(app.register("dave", None).await.status, 201);
    let (access, cookie, _) = cookie_login(&app, "dave").await;
    let (status, headers, _) = post_with_cookie(&app, "/auth/logout", Some(&cookie), Some(&access), json!({})).await;
    assert_eq!(status, 204);
    let (value, attributes) = set_cookie(&headers).expect("a removal");
    assert!(value.is_empty() && attributes.contains("Max-Age=0") && attributes.contains("Path=/api/v1/auth"));
    let (status, _, _) = post_with_cookie(&app, "/auth/refresh", Some(&cookie), None, json!({})).await;
    assert_eq!(status, 401);
    app.get("/users/me", Some(&access)).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn json_clients_are_unchanged_and_a_refresh_with_neither_is_a_422() {
    let app = spawn_app().await;
    assert_eq!(app.register("erin", None).await.status, 201);
    let login = app.login("erin").await;
    assert!(login.body["refresh_token"].is_string());
    assert!(set_cookie(&login.headers).is_none(), "no cookie unless asked for");
    let refresh = login.body["refresh_token"].as_str().unwrap();
    let reply = app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body["refresh_token"].is_string() && set_cookie(&reply.headers).is_none());

    let reply = app.post("/auth/refresh", None, json!({})).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["refresh_token"]);
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_public_address_is_https() {
    let app = spawn_app_with(|s| s.server.public_url = Some("https://gallery.example".into())).await;
    assert_eq!(app.register("frank", None).await.status, 201);
    let (_, _, attributes) = cookie_login(&app, "frank").await;
    assert!(attributes.contains("Secure"), "{attributes}");
}

#[tokio::test]
async fn every_answer_carries_hsts_when_the_public_address_is_https_and_none_otherwise() {
    let app = spawn_app_with(|s| s.server.public_url = Some("https://gallery.example".into())).await;
    let client = reqwest::Client::new();
    for path in ["/api/v1/health/live", "/api/v1/users/me", "/api/v1/nowhere", "/", "/api/v1/openapi.json"] {
        let res = client.get(format!("{}{path}", app.address)).send().await.unwrap();
        let hsts = res.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(hsts.as_deref(), Some("max-age=31536000"), "{path}: {}", res.status());
    }
    let plain = spawn_app().await;
    let res = client.get(format!("{}/api/v1/health/live", plain.address)).send().await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
}
