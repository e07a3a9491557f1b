use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use platform_auth_adapters::testing::TestDatabase;
use platform_auth_api::testing::{spawn_server_with, TestServer};
use platform_auth_client::{reqwest, AuthResponse, Backoff, Error, PlatformClient};
use serde_json::{json, Value};

pub const SECRET: &str = "client-test-secret-0123456789abcdef-0123";
pub const EMAIL: &str = "user@example.com";
pub const PASSWORD: &str = "mypassword";

/// A platform-auth server on a random port over a fresh SQLite file.
pub struct AuthServer {
    pub base_url: String,
    server: TestServer,
}

impl AuthServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with `settings` over the test defaults, for example
    /// `[("PLATFORM_JWT_TTL", "1")]`.
    pub async fn start_with(settings: &[(&str, &str)]) -> Self {
        let server = spawn_server_with(TestDatabase::sqlite(), SECRET, settings);
        Self {
            base_url: server.base_url.clone(),
            server,
        }
    }

    pub fn client(&self) -> PlatformClient {
        PlatformClient::new(&self.base_url).expect("base URL is valid")
    }

    pub fn database(&self) -> &TestDatabase {
        &self.server.database
    }

    /// Registers `user@example.com` and returns the client that did, with
    /// the new session's tokens stored.
    pub async fn registered_client(&self) -> PlatformClient {
        let client = self.client();
        client
            .register(EMAIL, PASSWORD, None)
            .await
            .expect("registration succeeds");
        client
    }

    /// Logs `user@example.com` in on a new client, which starts another
    /// session of that user.
    pub async fn logged_in_client(&self) -> PlatformClient {
        let client = self.client();
        client.login(EMAIL, PASSWORD).await.expect("login succeeds");
        client
    }

    /// Registers `user@example.com` from a client of its own and returns
    /// the response, leaving every other client without a token.
    pub async fn register_user(&self) -> AuthResponse {
        self.client()
            .register(EMAIL, PASSWORD, None)
            .await
            .expect("registration succeeds")
    }
}

/// One scripted response of a [`ScriptedServer`].
#[derive(Clone)]
pub struct Scripted {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub body: Body,
    pub delay: Duration,
}

#[derive(Clone)]
pub enum Body {
    Json(Value),
    Text(&'static str),
}

impl Scripted {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            retry_after: None,
            body: Body::Json(body),
            delay: Duration::ZERO,
        }
    }

    pub fn text(status: u16, body: &'static str) -> Self {
        Self {
            body: Body::Text(body),
            ..Self::json(status, Value::Null)
        }
    }

    pub fn error(status: u16, detail: &str, code: &str) -> Self {
        Self::json(status, json!({ "detail": detail, "code": code }))
    }

    pub fn overloaded() -> Self {
        Self::error(
            503,
            "The server is overloaded; try again later.",
            "overloaded",
        )
        .with_retry_after("0")
    }

    /// A token pair as refresh and password change return it.
    pub fn pair(token: &str, refresh_token: &str) -> Self {
        Self::json(
            200,
            json!({
                "token": token,
                "refresh_token": refresh_token,
                "token_type": "Bearer",
                "expires_in": 900,
                "user": user_body(),
            }),
        )
    }

    pub fn token_expired() -> Self {
        Self::error(401, "The token has expired; log in again.", "token_expired")
    }

    pub fn user() -> Self {
        Self::json(200, user_body())
    }

    pub fn with_retry_after(mut self, seconds: &'static str) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

fn user_body() -> Value {
    json!({
        "id": "0b6f7a7e-7c1d-4d0a-9a43-3f2d7f0d6f11",
        "name": "John Doe",
        "email": "user@example.com",
        "created_at": "2025-01-01T00:00:00.000000Z",
    })
}

/// A loopback HTTP server that sends the next scripted response to each
/// request, repeating the last one, and records the requests.
pub struct ScriptedServer {
    pub base_url: String,
    state: web::Data<ScriptState>,
}

struct ScriptState {
    responses: Mutex<VecDeque<Scripted>>,
    requests: Mutex<Vec<String>>,
}

impl ScriptedServer {
    pub fn start(responses: Vec<Scripted>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
        Self::start_on(listener, responses)
    }

    pub fn start_on(listener: TcpListener, responses: Vec<Scripted>) -> Self {
        assert!(!responses.is_empty(), "a script needs a response");
        let state = web::Data::new(ScriptState {
            responses: Mutex::new(responses.into()),
            requests: Mutex::new(Vec::new()),
        });

        let base_url = serve(listener, state.clone(), respond);
        Self { base_url, state }
    }

    /// Returns each request received so far as `METHOD /path`.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Builds a client of this server that retries quickly, with the
    /// tokens `old-token` and `old-refresh-token` stored.
    pub fn signed_in_client(&self) -> PlatformClient {
        let client = self.client(3);
        client.set_token("old-token");
        client.set_refresh_token("old-refresh-token");
        client
    }

    /// Builds a client of this server that retries quickly.
    pub fn client(&self, max_attempts: u32) -> PlatformClient {
        PlatformClient::builder(&self.base_url)
            .max_attempts(max_attempts)
            .backoff(Backoff::new(
                Duration::from_millis(10),
                Duration::from_millis(50),
            ))
            .build()
            .expect("base URL is valid")
    }
}

/// Serves `handler` for every request on `listener`, with `state` as app
/// data, in a task of the test's runtime, and returns the base URL.
fn serve<State, Handler, Args>(
    listener: TcpListener,
    state: web::Data<State>,
    handler: Handler,
) -> String
where
    State: Send + Sync + 'static,
    Handler: actix_web::Handler<Args> + Send,
    Args: actix_web::FromRequest + 'static,
    Handler::Output: actix_web::Responder + 'static,
{
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .default_service(web::to(handler.clone()))
    })
    .workers(1)
    .listen(listener)
    .expect("test server listens")
    .run();
    tokio::spawn(server);
    base_url
}

/// Appends `request` to `requests` as `METHOD /path`.
fn record(requests: &Mutex<Vec<String>>, request: &HttpRequest) {
    requests
        .lock()
        .unwrap()
        .push(format!("{} {}", request.method(), request.path()));
}

async fn respond(request: HttpRequest, state: web::Data<ScriptState>) -> HttpResponse {
    record(&state.requests, &request);
    let scripted = {
        let mut responses = state.responses.lock().unwrap();
        if responses.len() > 1 {
            responses.pop_front().unwrap()
        } else {
            responses[0].clone()
        }
    };

    tokio::time::sleep(scripted.delay).await;
    let mut response = HttpResponse::build(StatusCode::from_u16(scripted.status).unwrap());
    if let Some(seconds) = scripted.retry_after {
        response.insert_header(("Retry-After", seconds));
    }
    match scripted.body {
        Body::Json(body) => response.json(body),
        Body::Text(body) => response.content_type("text/plain").body(body),
    }
}

/// A loopback reverse proxy in front of another server that records each
/// request as `METHOD /path`, to count what a client sends to a real server.
pub struct RecordingProxy {
    pub base_url: String,
    state: web::Data<ProxyState>,
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    requests: Mutex<Vec<String>>,
}

impl RecordingProxy {
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
        let state = web::Data::new(ProxyState {
            upstream: upstream.to_string(),
            http: reqwest::Client::new(),
            requests: Mutex::new(Vec::new()),
        });

        let base_url = serve(listener, state.clone(), forward);
        Self { base_url, state }
    }

    pub fn client(&self) -> PlatformClient {
        PlatformClient::new(&self.base_url).expect("base URL is valid")
    }

    /// Returns each request received so far as `METHOD /path`.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Counts the requests received so far that match `request`, such as
    /// `POST /api/v1/auth/refresh`.
    pub fn count(&self, request: &str) -> usize {
        self.requests()
            .iter()
            .filter(|received| *received == request)
            .count()
    }
}

/// The request and response headers the client and server rely on.
const FORWARDED_REQUEST_HEADERS: [&str; 3] = ["authorization", "content-type", "user-agent"];
const FORWARDED_RESPONSE_HEADERS: [&str; 3] = ["content-type", "retry-after", "www-authenticate"];

async fn forward(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<ProxyState>,
) -> HttpResponse {
    record(&state.requests, &request);

    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).unwrap();
    let url = format!("{}{}", state.upstream, request.uri());
    let mut upstream = state.http.request(method, url).body(body.to_vec());
    for name in FORWARDED_REQUEST_HEADERS {
        if let Some(value) = request.headers().get(name) {
            upstream = upstream.header(name, value.to_str().unwrap());
        }
    }
    let response = upstream.send().await.expect("the upstream server responds");

    let mut reply = HttpResponse::build(StatusCode::from_u16(response.status().as_u16()).unwrap());
    for name in FORWARDED_RESPONSE_HEADERS {
        if let Some(value) = response.headers().get(name) {
            reply.insert_header((name, value.to_str().unwrap().to_string()));
        }
    }
    reply.body(
        response
            .bytes()
            .await
            .expect("the upstream body is readable"),
    )
}

/// Asserts that `error` is [`Error::RefreshTokenRejected`] with
/// `expected_code`.
#[track_caller]
pub fn assert_refresh_rejected(error: &Error, expected_code: &str) {
    let Error::RefreshTokenRejected { code, .. } = error else {
        panic!("expected RefreshTokenRejected with {expected_code}, got {error:?}");
    };
    assert_eq!(code, expected_code);
}
