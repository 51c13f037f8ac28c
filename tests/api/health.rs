//! Liveness and readiness, including a database that is not there yet.

use gallery_server::Application;
use gallery_testdb::TestDb;

use crate::helpers::{Reply, TestStorage, spawn_app, test_settings};

#[tokio::test]
async fn live_and_ready_with_a_database() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/live", None).await.status, 200);
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["checks"]["database"], "ok");
}

#[tokio::test]
async fn ready_is_503_while_the_database_is_missing_and_recovers_without_a_restart() {
    // A database that does not exist yet: connections fail until it is created.
    let cluster = TestDb::create().await;
    let name = format!("late_{}", uuid::Uuid::new_v4().simple());
    let url = cluster.url().rsplit_once('/').map(|(root, _)| format!("{root}/{name}")).unwrap();
    let storage = TestStorage::from_env().await;
    let app = Application::build(&test_settings(&url, &storage)).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    let down = Reply::from(client.get(format!("{base}/health/ready")).send().await.unwrap()).await;
    down.assert_problem(503, "unavailable");
    assert_eq!(down.body["checks"]["database"], "unavailable");
    assert_eq!(client.get(format!("{base}/health/live")).send().await.unwrap().status(), 200);
    let login = Reply::from(
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "someone", "password": "whatever1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    login.assert_problem(503, "unavailable");

    cluster.execute(&format!("CREATE DATABASE {name} TEMPLATE gallery_tpl")).await;
    let up = Reply::from(client.get(format!("{base}/health/ready")).send().await.unwrap()).await;
    assert_eq!(up.status, 200, "{:?}", up.body);
    cluster.execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await;
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = crate::helpers::spawn_app().await;
    let spec = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec.body["paths"]["/api/v1/auth/register"]["post"].is_object());
}
