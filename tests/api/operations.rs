//! Operations: security headers, the Swagger UI, metrics, rate limits, the request timeout,
//! and faults (the database going away and coming back; an unwritable storage root).

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{TestApp, png, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let token = app.user_token("headers", "beta_player").await;
    let id = app.upload(&token, png(64, 48), "a.png", Some("a")).await.body["id"].as_str().unwrap().to_owned();
    let (_, original, _) = app.get_with(&format!("/images/{id}/original"), &token, &[]).await;
    let api = app.get("/users/me", Some(&token)).await.headers;
    let missing = app.get("/nowhere", None).await.headers;
    for headers in [&api, &original, &missing] {
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    }
}

#[tokio::test]
async fn the_swagger_ui_is_served_from_the_binary_with_no_cdn() {
    let app = spawn_app().await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirects.get(format!("{}/docs", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");

    let page = app.client.get(format!("{}/docs", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("http"), "{csp}");
    let html = page.text().await.unwrap();
    let init = app.client.get(format!("{}/docs/swagger-initializer.js", app.address)).send().await.unwrap();
    assert_eq!(init.status(), 200);
    let init = init.text().await.unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    assert!(init.contains(r#""validatorUrl": "none""#) || init.contains(r#""validatorUrl":"none""#), "{init}");
    for text in [&html, &init] {
        assert!(!text.contains("http://") && !text.contains("https://"), "an absolute URL: {text}");
    }
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"] {
        let res = app.client.get(format!("{}/docs/{asset}", app.address)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{asset}");
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    let token = app.user_token("metered", "beta_player").await;
    let id = app.upload(&token, png(400, 300), "m.png", Some("m")).await.body["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/images/{id}/thumbnails/200"), Some(&token)).await.status, 200);
    }
    let res = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    for needle in [
        r#"gallery_http_requests_total{method="GET",route="/api/v1/images/{id}/thumbnails/{height}",status="200"}"#,
        r#"gallery_http_request_duration_seconds_bucket{method="POST",route="/api/v1/images",status="201",le="0.1"}"#,
        r#"gallery_db_pool_connections{state="idle"}"#,
        "gallery_db_pool_waiting",
        r#"gallery_uploads_total{kind="upload"}"#,
        r#"gallery_upload_bytes_total{kind="upload"}"#,
        r#"gallery_thumbnails_served_total{source="rendered"}"#,
        r#"gallery_thumbnails_served_total{source="cache"}"#,
        "gallery_cache_live",
        "gallery_cache_listener_drops_total",
        "gallery_cache_lease_lapses_total",
        r#"gallery_cache_entries{kind="sessions"}"#,
        r#"gallery_cache_entries{kind="images"}"#,
    ] {
        assert!(text.contains(needle), "no {needle} in\n{text}");
    }
    assert!(!text.contains(&id), "raw paths must not become labels");
}

#[tokio::test]
async fn logins_are_limited_per_address_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.rate_limit.enabled = true;
        s.rate_limit.auth_per_minute = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.login("nobody").await.status, 401);
    }
    let limited = app.login("nobody").await;
    limited.assert_problem(429, "rate_limited");
    let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    app.register("late", None).await.assert_problem(429, "rate_limited");
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"gallery_rate_limited_total{scope="auth"}"#));
}

/// A login attempt from `forwarded_for` as a proxy would pass it on.
async fn login_via(app: &crate::helpers::TestApp, forwarded_for: &str) -> u16 {
    let res = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("x-forwarded-for", forwarded_for)
        .json(&serde_json::json!({"username": "nobody", "password": "wrong password entirely"}))
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_limited_apart_and_a_forged_header_changes_nothing() {
    let limited = |trusted: Vec<String>| {
        spawn_app_with(move |s| {
            s.rate_limit.enabled = true;
            s.rate_limit.auth_per_minute = 2;
            s.server.trusted_proxies = trusted.clone();
        })
    };
    // The test client connects from 127.0.0.1, a trusted proxy here.
    let app = limited(vec!["127.0.0.1/32".into()]).await;
    for _ in 0..2 {
        assert_eq!(login_via(&app, "198.51.100.1").await, 401);
    }
    assert_eq!(login_via(&app, "198.51.100.1").await, 429, "the first client's limit");
    assert_eq!(login_via(&app, "198.51.100.2").await, 401, "another client behind the same proxy");
    // A client that writes its own entry left of the proxy's: still the proxy's word.
    assert_eq!(login_via(&app, "203.0.113.7, 198.51.100.1").await, 429);
    // Without trust, the header is the client's own word: one address, one limit.
    let app = limited(Vec::new()).await;
    for _ in 0..2 {
        assert_eq!(login_via(&app, "198.51.100.1").await, 401);
    }
    assert_eq!(login_via(&app, "198.51.100.2").await, 429, "a made-up header does not reset the limit");
}

#[tokio::test]
async fn failed_logins_are_limited_per_username_and_address_together() {
    let app = spawn_app_with(|s| {
        s.rate_limit.enabled = true;
        s.rate_limit.auth_per_minute = 0;
        s.rate_limit.login_per_username_per_minute = 2;
    })
    .await;
    assert_eq!(app.register("victim", None).await.status, 201);
    let wrong = json!({"username": "VICTIM", "password": "not the password"});
    // Successes do not count.
    for _ in 0..3 {
        assert_eq!(app.login("victim").await.status, 200);
    }
    for _ in 0..2 {
        app.post("/auth/login", None, wrong.clone()).await.assert_problem(401, "invalid_credentials");
    }
    let locked = app.login("Victim").await;
    locked.assert_problem(429, "rate_limited");
    assert!(locked.headers.contains_key("retry-after"));
    assert_eq!(app.login("bystander").await.status, 401, "another name is not limited");

    // The owner, from another address, is not locked out by the failures from this one.
    let elsewhere =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let res = elsewhere
        .post(app.url("/auth/login"))
        .json(&json!({"username": "victim", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn link_fetches_are_limited_per_address() {
    let app = spawn_app_with(|s| {
        s.rate_limit.enabled = true;
        s.rate_limit.links_per_minute = 2;
    })
    .await;
    for _ in 0..2 {
        app.get("/l/unknown", None).await.assert_problem(404, "not_found");
    }
    app.get("/l/unknown", None).await.assert_problem(429, "rate_limited");
}

#[tokio::test]
async fn a_request_past_the_timeout_gets_503() {
    // Zero: anything that has to wait for the database is over time; a liveness answer,
    // ready on the first poll, is not.
    let app = spawn_app_with(|s| s.server.request_timeout_seconds = 0).await;
    assert_eq!(app.client.get(format!("{}/health/live", app.address)).send().await.unwrap().status(), 200);
    let reply = app.login("whoever").await;
    reply.assert_problem(503, "unavailable");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
}

/// A TCP relay in front of PostgreSQL that can be cut (every connection dropped, new ones
/// refused) and restored: the database "stops" and "starts" under a running server.
struct PgRelay {
    port: u16,
    up: watch::Sender<bool>,
}

impl PgRelay {
    /// A relay to `target`, from inside a running runtime (no await needed: it is set up
    /// from `spawn_app_with`'s settings hook).
    fn start(target: u16) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let (up, state) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*state.borrow() {
                    continue; // dropped: the connection is refused
                }
                let mut state = state.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else { return };
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

async fn app_behind_relay() -> (TestApp, PgRelay) {
    let mut relay = None;
    let mut app = spawn_app_with(|s| {
        let url = s.database.url.expose_secret().to_owned();
        let (head, tail) = url.rsplit_once('@').unwrap();
        let (host_port, name) = tail.split_once('/').unwrap();
        let target: u16 = host_port.rsplit_once(':').unwrap().1.parse().unwrap();
        let started = PgRelay::start(target);
        s.database.url = SecretString::from(format!("{head}@127.0.0.1:{}/{name}", started.port));
        s.database.acquire_timeout_seconds = 1;
        s.database.connect_timeout_seconds = 1;
        relay = Some(started);
    })
    .await;
    // A request that hangs fails the test instead of stalling it.
    app.client = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    (app, relay.unwrap())
}

#[tokio::test]
async fn the_database_going_away_gives_503_and_everything_recovers_without_a_restart() {
    let (app, relay) = app_behind_relay().await;
    let token = app.user_token("survivor", "beta_player").await;
    assert_eq!(app.get("/users/me", Some(&token)).await.status, 200);

    let drops = app.caches.drops();
    relay.cut();
    // The session is in memory; once the cache listener has noticed its connection go,
    // nothing is answered from there.
    crate::helpers::bounded("the cache listener notices", app.caches.dropped(drops)).await;
    app.get("/users/me", Some(&token)).await.assert_problem(503, "unavailable");
    app.upload(&token, png(32, 32), "x.png", Some("x")).await.assert_problem(503, "unavailable");
    let ready = app.get("/health/ready", None).await;
    ready.assert_problem(503, "unavailable");
    assert_eq!(ready.body["checks"]["database"], "unavailable");
    assert_eq!(ready.body["checks"]["storage"], "ok");
    assert!(app.stored_files().is_empty(), "a refused upload leaves no file: {:?}", app.stored_files());

    relay.restore();
    assert_eq!(app.get("/health/ready", None).await.status, 200);
    crate::helpers::bounded("the cache listener is back", app.caches.ready()).await;
    assert_eq!(app.get("/users/me", Some(&token)).await.status, 200);
    let uploaded = app.upload(&token, png(32, 32), "y.png", Some("y")).await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
}

#[tokio::test]
async fn storage_that_takes_no_file_gives_503_with_nothing_half_written() {
    let app = spawn_app().await;
    let token = app.user_token("diskless", "beta_player").await;
    // An unwritable root, or a bucket that cannot be reached.
    app.storage.break_it();

    app.upload(&token, png(32, 32), "x.png", Some("x")).await.assert_problem(503, "unavailable");
    let ready = app.get("/health/ready", None).await;
    ready.assert_problem(503, "unavailable");
    assert_eq!(ready.body["checks"]["storage"], "unavailable");
    assert_eq!(ready.body["checks"]["database"], "ok");
    assert_eq!(app.get("/images", Some(&token)).await.body["total"], 0, "no row without its file");

    app.storage.mend();
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    assert_eq!(app.get("/health/ready", None).await.status, 200);
    let uploaded = app.upload(&token, png(32, 32), "y.png", Some("y")).await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
}

#[tokio::test]
async fn metrics_label_sets_stay_bounded_whatever_clients_send() {
    let app = spawn_app().await;
    for i in 0..40 {
        let method = reqwest::Method::from_bytes(format!("BREW{i}").as_bytes()).unwrap();
        app.client.request(method, app.url("/images")).send().await.unwrap();
        app.client.get(format!("{}/made-up/{i}/path", app.address)).send().await.unwrap();
    }
    let text = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("BREW"), "a made-up method became a label");
    assert!(!text.contains("made-up"), "a raw path became a label");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    let series = text.lines().filter(|l| l.starts_with("gallery_http_requests_total{")).count();
    assert!(series <= 4, "{series} series for 80 odd requests:\n{text}");
}

#[tokio::test]
async fn metrics_need_the_metrics_token_when_one_is_set() {
    let app = spawn_app_with(|s| s.metrics.token = Some(SecretString::from("scrape-me-please"))).await;
    let url = format!("{}/metrics", app.address);
    let anonymous = crate::helpers::Reply::from(app.client.get(&url).send().await.unwrap()).await;
    anonymous.assert_problem(401, "unauthenticated");
    assert!(anonymous.headers.contains_key("www-authenticate"));
    let wrong = app.client.get(&url).bearer_auth("scrape-me").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app.client.get(&url).bearer_auth("scrape-me-please").send().await.unwrap();
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn absolute_urls_come_from_the_public_url_never_from_forwarded_headers() {
    let app = spawn_app_with(|s| s.server.public_url = Some("https://gallery.example.com/".into())).await;
    let admin = app.admin_token("root").await;
    app.post("/subscriptions", Some(&admin), json!({"plan": "enterprise"})).await;
    let id = app.upload(&admin, png(300, 200), "u.png", None).await.body["id"].as_str().unwrap().to_owned();
    let spoofed = [
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "http"),
        ("forwarded", "host=evil.example;proto=http"),
    ];
    let mut req = app.client.get(app.url(&format!("/images/{id}"))).bearer_auth(&admin);
    let mut link = app.client.post(app.url(&format!("/images/{id}/links"))).bearer_auth(&admin);
    for (k, v) in spoofed {
        req = req.header(k, v);
        link = link.header(k, v);
    }
    let image: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
    let thumb = image["links"]["thumbnails"]["200"].as_str().unwrap();
    assert_eq!(thumb, format!("https://gallery.example.com/api/v1/images/{id}/thumbnails/200"));
    let made: serde_json::Value = link.json(&json!({"expires_in": 600})).send().await.unwrap().json().await.unwrap();
    assert!(made["url"].as_str().unwrap().starts_with("https://gallery.example.com/l/"), "{made}");
}

#[tokio::test]
async fn without_a_public_url_forwarded_headers_still_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let id = app.upload(&admin, png(300, 200), "u.png", None).await.body["id"].as_str().unwrap().to_owned();
    let image: serde_json::Value = app
        .client
        .get(app.url(&format!("/images/{id}")))
        .bearer_auth(&admin)
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thumb = image["links"]["thumbnails"]["200"].as_str().unwrap();
    assert!(thumb.starts_with(&format!("{}/api/v1/images/", app.address)), "{thumb}");
}
