//! Plans: public reads, admin changes with every validation rule, and a change reaching
//! users on their next request.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn features() -> Value {
    json!({"thumbnail_heights": [100, 300], "original_access": true, "expiring_links": false,
           "link_ttl_min": 60, "link_ttl_max": 600, "max_upload_bytes": 1048576, "storage_quota_bytes": 10485760})
}

#[tokio::test]
async fn the_builtin_plans_are_public_and_need_no_token() {
    let app = spawn_app().await;
    let plans = app.get("/plans", None).await;
    assert_eq!(plans.status, 200);
    let codes: Vec<&str> = plans.body.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["basic", "growth", "enterprise"]);
    let basic = &plans.body[0];
    assert_eq!(basic["is_default"], true);
    assert_eq!(basic["features"]["thumbnail_heights"], json!([200]));
    assert_eq!(basic["features"]["max_upload_bytes"], 5 * 1024 * 1024);
    let enterprise = &plans.body[2];
    assert_eq!(
        (enterprise["features"]["expiring_links"].as_bool(), enterprise["features"]["link_ttl_max"].as_u64()),
        (Some(true), Some(30000))
    );
    let one = app.get(&format!("/plans/{}", basic["id"].as_str().unwrap()), None).await;
    assert_eq!(one.body, *basic);
    app.get(&format!("/plans/{}", uuid::Uuid::new_v4()), None).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn admins_manage_plans_under_every_rule() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let player = app.user_token("player", "beta_player").await;
    app.post("/plans", Some(&player), json!({"code": "x1", "name": "X", "features": features()}))
        .await
        .assert_problem(403, "forbidden");

    let mut bad = features();
    bad["thumbnail_heights"] = json!([8, 100, 100, 5000]);
    bad["link_ttl_min"] = json!(700);
    let reply = app.post("/plans", Some(&admin), json!({"code": "Bad Code", "name": "", "features": bad})).await;
    reply.assert_problem(422, "validation_failed");
    let mut fields = reply.error_fields();
    fields.dedup();
    assert_eq!(fields, ["code", "name", "features.thumbnail_heights", "features.link_ttl_min"]);
    let too_many: Vec<u32> = (1..=11).map(|i| 100 + i).collect();
    let mut eleven = features();
    eleven["thumbnail_heights"] = json!(too_many);
    app.post("/plans", Some(&admin), json!({"code": "many", "name": "Many", "features": eleven}))
        .await
        .assert_problem(422, "validation_failed");
    app.post("/plans", Some(&admin), json!({"code": "basic", "name": "Again", "features": features()}))
        .await
        .assert_problem(409, "conflict");

    let hidden = app
        .post(
            "/plans",
            Some(&admin),
            json!({"code": "staff", "name": "Staff", "is_public": false, "features": features()}),
        )
        .await;
    assert_eq!(hidden.status, 201, "{:?}", hidden.body);
    let id = hidden.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/plans", None).await.body.as_array().unwrap().len(), 3);
    assert_eq!(app.get("/plans", Some(&admin)).await.body.as_array().unwrap().len(), 4);
    app.get(&format!("/plans/{id}"), None).await.assert_problem(404, "not_found");

    let patched =
        app.patch(&format!("/plans/{id}"), Some(&admin), json!({"price_cents": 1500, "is_public": true})).await;
    assert_eq!((patched.body["price_cents"].as_i64(), patched.body["is_public"].as_bool()), (Some(1500), Some(true)));
    app.patch(&format!("/plans/{id}"), Some(&admin), json!({"code": "renamed"}))
        .await
        .assert_problem(422, "validation_failed");

    // A new default takes the place of the old one; the default cannot be deleted.
    let defaulted = app.patch(&format!("/plans/{id}"), Some(&admin), json!({"is_default": true})).await;
    assert_eq!(defaulted.body["is_default"], true);
    let plans = app.get("/plans", None).await;
    assert_eq!(plans.body.as_array().unwrap().iter().filter(|p| p["is_default"] == true).count(), 1);
    app.delete(&format!("/plans/{id}"), Some(&admin)).await.assert_problem(409, "in_use");
    app.patch(&format!("/plans/{id}"), Some(&admin), json!({"is_default": false}))
        .await
        .assert_problem(422, "validation_failed");
    let basic = plans.body.as_array().unwrap().iter().find(|p| p["code"] == "basic").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("/plans/{basic}"), Some(&admin), json!({"is_default": true})).await;
    assert_eq!(app.delete(&format!("/plans/{id}"), Some(&admin)).await.status, 204);
}

#[tokio::test]
async fn plan_features_left_out_take_defaults_on_create_and_keep_their_values_on_change() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    // A new plan's unsaid features are the free plan's.
    let created = app.post("/plans", Some(&admin), json!({"code": "pro", "name": "Pro"})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let basic = &app.get("/plans", None).await.body[0];
    assert_eq!(created.body["features"], basic["features"]);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let linked = app
        .post("/plans", Some(&admin), json!({"code": "pro-links", "name": "Pro", "features": {"expiring_links": true}}))
        .await;
    assert_eq!(
        (linked.body["features"]["expiring_links"].as_bool(), linked.body["features"]["link_ttl_max"].as_u64()),
        (Some(true), Some(30000))
    );

    // A change names only what changes; the rest of the features stay.
    let patched =
        app.patch(&format!("/plans/{id}"), Some(&admin), json!({"features": {"thumbnail_heights": [120, 480]}})).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    let mut expected = basic["features"].clone();
    expected["thumbnail_heights"] = json!([120, 480]);
    assert_eq!(patched.body["features"], expected);
    assert_eq!(app.get(&format!("/plans/{id}"), None).await.body["features"], expected);

    // The merged result must obey every rule: a minimum past the plan's maximum is refused.
    let reply = app.patch(&format!("/plans/{id}"), Some(&admin), json!({"features": {"link_ttl_min": 40000}})).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["features.link_ttl_min"]);
    app.patch(&format!("/plans/{id}"), Some(&admin), json!({"features": {"original_access": "yes"}}))
        .await
        .assert_problem(400, "malformed_json");
}

#[tokio::test]
async fn a_plan_change_reaches_its_users_on_the_next_request() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let viewer = app.user_token("viewer", "subscriber").await;
    assert_eq!(app.get("/users/me", Some(&viewer)).await.body["plan"], "basic");
    let plans = app.get("/plans", None).await;
    let growth = plans.body.as_array().unwrap().iter().find(|p| p["code"] == "growth").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("/plans/{growth}"), Some(&admin), json!({"is_default": true})).await;
    assert_eq!(app.get("/users/me", Some(&viewer)).await.body["plan"], "growth");
}
