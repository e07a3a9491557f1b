//! Arbitrary JSON values, strings and bytes against register and login over
//! real HTTP. No response may be a server error, and the server must keep
//! responding afterwards.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use tokio::runtime::Handle;

use crate::on_both_backends;
use crate::support::{spawn_app_with, Backend, TestApp, CHEAP_HASHING};

/// Cases per body shape and route. Each case sends one request to each
/// route, so the whole test sends a few hundred requests per backend.
const CASES: u32 = 48;

on_both_backends!(arbitrary_bodies_never_cause_server_errors);

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|number| json!(number)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("email".to_string()),
        Just("password".to_string()),
        Just("name".to_string()),
        any::<String>(),
    ]
}

/// Generates a value for one of the expected fields: mostly strings, some
/// shaped like emails or over the length limits, and some other JSON.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => any::<String>().prop_map(Value::String),
        2 => "[a-zA-Z0-9.\u{0}-\u{1f}\u{fffd}é]{1,20}@[a-z]{1,10}\\.[a-z]{2,4}".prop_map(Value::String),
        1 => "\\PC{250,300}".prop_map(Value::String),
        1 => json_value(),
    ]
}

/// Generates a body with the expected fields, each arbitrary, so most cases
/// get past JSON parsing into validation and the use cases.
fn credentials() -> impl Strategy<Value = Value> {
    (field_value(), field_value(), field_value()).prop_map(
        |(email, password, name)| json!({ "email": email, "password": password, "name": name }),
    )
}

/// One request body and the `Content-Type` it is sent with.
#[derive(Debug, Clone)]
struct Body {
    content_type: &'static str,
    bytes: Vec<u8>,
}

fn body() -> impl Strategy<Value = Body> {
    let content_type = prop_oneof![
        4 => Just("application/json"),
        1 => Just("text/plain"),
        1 => Just("application/problem+json"),
    ];
    let bytes = prop_oneof![
        3 => credentials().prop_map(|value| value.to_string().into_bytes()),
        2 => json_value().prop_map(|value| value.to_string().into_bytes()),
        1 => any::<String>().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..6000),
    ];
    (content_type, bytes).prop_map(|(content_type, bytes)| Body {
        content_type,
        bytes,
    })
}

async fn post(app: &TestApp, path: &str, body: &Body) -> StatusCode {
    app.client
        .post(app.url(path))
        .header("Content-Type", body.content_type)
        .body(body.bytes.clone())
        .send()
        .await
        .expect("the server answers")
        .status()
}

async fn arbitrary_bodies_never_cause_server_errors(backend: Backend) {
    let app = spawn_app_with(backend, &CHEAP_HASHING).await;
    let runtime = Handle::current();

    let app = tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&body(), |body| {
            for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
                let status = runtime.block_on(post(&app, path, &body));
                if status.is_server_error() {
                    return Err(TestCaseError::fail(format!("{path} returned {status}")));
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            panic!("{error}");
        }
        app
    })
    .await
    .unwrap();

    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}
