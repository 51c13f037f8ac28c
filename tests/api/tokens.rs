//! Forged, tampered, expired and revoked access tokens.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64url_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let vals: Vec<u32> = s.bytes().map(|c| ALPHABET.iter().position(|a| *a == c).unwrap() as u32).collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, v)| acc | (v << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The claims of a real token of `app`'s user, to forge variants of.
async fn real_claims(app: &TestApp) -> (String, Value) {
    let token = app.user_token("victim", "subscriber").await;
    let payload = token.split('.').nth(1).unwrap();
    (token.clone(), serde_json::from_slice(&b64url_decode(payload)).unwrap())
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn a_token_with_alg_none_is_refused() {
    let app = spawn_app().await;
    let (_, claims) = real_claims(&app).await;
    let token = format!("{}.{}.", b64url(br#"{"alg":"none","typ":"JWT"}"#), b64url(claims.to_string().as_bytes()));
    app.get("/users/me", Some(&token)).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let app = spawn_app().await;
    let (_, claims) = real_claims(&app).await;
    let forged = sign(&claims, "some-other-secret-some-other-secret-123");
    app.get("/users/me", Some(&forged)).await.assert_problem(401, "invalid_token");
    // The same claims with the real secret do work: the test would notice a broken check.
    assert_eq!(app.get("/users/me", Some(&sign(&claims, TEST_SECRET))).await.status, 200);
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let app = spawn_app().await;
    let (token, mut claims) = real_claims(&app).await;
    claims["sub"] = json!(uuid::Uuid::new_v4());
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64url(claims.to_string().as_bytes()), parts[2]);
    app.get("/users/me", Some(&tampered)).await.assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn an_expired_token_says_token_expired() {
    let app = spawn_app().await;
    let (_, mut claims) = real_claims(&app).await;
    let now = Utc::now().timestamp();
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 60);
    let reply = app.get("/users/me", Some(&sign(&claims, TEST_SECRET))).await;
    reply.assert_problem(401, "token_expired");
    assert!(reply.headers.get("www-authenticate").unwrap().to_str().unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn wrong_audience_or_issuer_is_refused() {
    let app = spawn_app().await;
    let (_, claims) = real_claims(&app).await;
    for (key, value) in [("aud", "someone-else"), ("iss", "someone-else")] {
        let mut c = claims.clone();
        c[key] = json!(value);
        app.get("/users/me", Some(&sign(&c, TEST_SECRET))).await.assert_problem(401, "invalid_token");
    }
}

#[tokio::test]
async fn malformed_authorization_headers_are_invalid_tokens() {
    let app = spawn_app().await;
    for header in ["Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer \u{7f}"] {
        let res = app.client.get(app.url("/users/me")).header("authorization", header).send().await;
        let Ok(res) = res else { continue }; // the client may refuse an illegal header itself
        let reply = crate::helpers::Reply::from(res).await;
        reply.assert_problem(401, "invalid_token");
    }
}
