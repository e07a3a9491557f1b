//! A login flood against one instance. Timing depends on the machine, so
//! this test checks only what is true under any load: every response is a
//! success or a 503 with `Retry-After`, and `/me` answers mid-flood.
//! `make flood` measures memory and latency against the release binary.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;

use crate::support::{spawn_app_with, status_and_json, Backend, PASSWORD};

const LOGINS: usize = 500;

#[tokio::test]
async fn login_flood_sheds_load_and_keeps_me_answering() {
    // One hash at a time, a short queue and 4 MiB per hash make the flood
    // outrun the gate, so requests are shed with 503.
    let app = spawn_app_with(
        Backend::Postgres,
        &[
            ("PLATFORM_HASH_CONCURRENCY", "1"),
            ("PLATFORM_HASH_QUEUE_LENGTH", "16"),
            ("PLATFORM_HASH_QUEUE_TIMEOUT_MS", "500"),
            ("PLATFORM_ARGON2_MEMORY_KIB", "4096"),
            ("PLATFORM_ARGON2_ITERATIONS", "1"),
        ],
    )
    .await;
    let token = app.registered_token("user@example.com").await;

    let flood = {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/login");
        tokio::spawn(async move {
            let logins = (0..LOGINS).map(|_| {
                client
                    .post(&url)
                    .json(&serde_json::json!({ "email": "user@example.com", "password": PASSWORD }))
                    .send()
            });
            join_all(logins).await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let me = app.me_with_header(Some(&format!("Bearer {token}"))).await;
    let health = app.client.get(app.url("/health")).send().await.unwrap();

    assert_eq!(me.status(), StatusCode::OK, "/me answers mid-flood");
    assert_eq!(health.status(), StatusCode::OK, "/health answers mid-flood");
    let mut succeeded = 0;
    for response in flood.await.unwrap() {
        let response = response.expect("every login gets a response");
        if response.status() == StatusCode::OK {
            succeeded += 1;
            continue;
        }
        assert!(
            response.headers().contains_key("retry-after"),
            "{} without Retry-After",
            response.status()
        );
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], "overloaded");
    }
    assert!(succeeded > 0, "the gate lets some logins through");
}
