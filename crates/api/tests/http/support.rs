use std::collections::HashMap;
use std::sync::Arc;

pub use platform_auth_adapters::testing::Backend;
use platform_auth_adapters::testing::TestDatabase;
use platform_auth_api::{Application, Settings};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
pub const PASSWORD: &str = "mypassword";

/// Generates a `postgres` and a `sqlite` test for each async test body.
#[macro_export]
macro_rules! on_both_backends {
    ($($body:ident),* $(,)?) => {
        $(
            mod $body {
                use $crate::support::Backend;

                #[tokio::test]
                async fn postgres() {
                    super::$body(Backend::Postgres).await;
                }

                #[tokio::test]
                async fn sqlite() {
                    super::$body(Backend::Sqlite).await;
                }
            }
        )*
    };
}

pub struct TestApp {
    pub base_url: String,
    /// The separate metrics server's base URL, when one was configured.
    pub admin_url: Option<String>,
    pub client: reqwest::Client,
    /// Shared with every instance started on the same database.
    pub database: Arc<TestDatabase>,
}

/// Starts the application on a random port over a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the application with extra environment variables on top of the
/// test defaults.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    start_instance(Arc::new(TestDatabase::create(backend)), extra)
}

/// Starts another instance of the application on the database of `app`, as
/// several servers behind one load balancer share one database.
pub async fn spawn_instance_of(app: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    start_instance(app.database.clone(), extra)
}

/// Starts the application on `database`. The per-client limits are raised
/// far above what any test sends unless `extra` sets them, so only the
/// tests of those limits meet them.
fn start_instance(database: Arc<TestDatabase>, extra: &[(&str, &str)]) -> TestApp {
    let mut variables: HashMap<String, String> = [
        ("PLATFORM_CONFIG_DIR", "/nonexistent-platform-auth-config"),
        ("PLATFORM_PORT", "0"),
        ("PLATFORM_JWT_SECRET", SECRET),
        ("DATABASE_URL", database.url()),
        ("PLATFORM_LOGIN_LIMIT_PER_CLIENT", "1000000"),
        ("PLATFORM_REGISTER_LIMIT_PER_CLIENT", "1000000"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect();
    for (key, value) in extra {
        variables.insert(key.to_string(), value.to_string());
    }

    let settings = Settings::load_from(&variables).expect("test settings are valid");
    let application = Application::build(&settings).expect("application starts");
    let base_url = format!("http://{}", application.local_addr());
    let admin_url = application
        .admin_addr()
        .map(|address| format!("http://{address}"));
    tokio::spawn(application.run_until_stopped());

    TestApp {
        base_url,
        admin_url,
        client: reqwest::Client::new(),
        database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request is sent")
    }

    /// Posts a raw body with the given `Content-Type`, or none.
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: &str) -> Response {
        let mut request = self.client.post(self.url(path)).body(body.to_string());
        if let Some(value) = content_type {
            request = request.header("Content-Type", value);
        }
        request.send().await.expect("request is sent")
    }

    pub async fn register(&self, email: &str, password: &str, name: Option<&str>) -> Response {
        let mut body = json!({ "email": email, "password": password });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        self.post_json("/api/v1/auth/register", &body).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Sends a request with a bearer token.
    pub async fn with_token(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request is sent")
    }

    /// Returns the status of `/me` with this access token.
    pub async fn me_status(&self, token: &str) -> StatusCode {
        self.me_with_header(Some(&format!("Bearer {token}")))
            .await
            .status()
    }

    /// Registers a user and returns their token.
    pub async fn registered_token(&self, email: &str) -> String {
        let response = self.register(email, PASSWORD, None).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn me_with_header(&self, authorization: Option<&str>) -> Response {
        let mut request = self.client.get(self.url("/api/v1/auth/me"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.expect("request is sent")
    }
}

/// Reads a response's status and JSON body.
pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("body is JSON");
    (status, body)
}

pub fn error_body(detail: &str, code: &str) -> Value {
    json!({ "detail": detail, "code": code })
}

/// Argon2 settings far cheaper than the defaults, for tests that send many
/// logins. They are valid settings, not a mock.
pub const CHEAP_HASHING: [(&str, &str); 2] = [
    ("PLATFORM_ARGON2_MEMORY_KIB", "1024"),
    ("PLATFORM_ARGON2_ITERATIONS", "1"),
];

/// Returns the `Retry-After` header of `response` in whole seconds.
///
/// # Panics
/// When the header is missing or not a whole number of seconds.
pub fn retry_after_seconds(response: &Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("the response has Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds")
}
