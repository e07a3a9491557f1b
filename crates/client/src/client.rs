//! [`PlatformClient`] and its builder.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::error::{BuildError, Error, FieldError};
use crate::model::{AuthBody, AuthResponse, User};
use crate::retry::{parse_retry_after, Backoff, Failure, RetryPolicy};

/// The attempts per call when the builder sets none.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The time one attempt may take when the builder sets none, from sending
/// the request to reading the whole body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest `Retry-After` waited out when the builder sets none.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// An async client of the platform-auth API that keeps one session's token.
///
/// [`register`](Self::register) and [`login`](Self::login) store the token
/// they receive, and [`current_user`](Self::current_user) sends it.
///
/// # Sharing
///
/// Cloning is cheap. **Clones share the session**: a login, or a
/// [`set_token`](Self::set_token), through any clone is seen by all of
/// them, so one signed-in client can be handed to many tasks. For another
/// user, call [`new_session`](Self::new_session), which shares the
/// connection pool and settings but starts with no token. One process can
/// so hold many users' sessions at once.
///
/// # Retries
///
/// `GET` calls ([`current_user`](Self::current_user) and
/// [`health`](Self::health)) are retried after a connection failure, a 503
/// or a 429, up to the builder's attempt count, waiting out `Retry-After`
/// when the server sends it and the [`Backoff`] otherwise. Register and login
/// are never retried, because the server may have acted on a request whose
/// response was lost. Timeouts are not retried either.
///
/// ```no_run
/// use platform_auth_client::PlatformClient;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = PlatformClient::new("http://127.0.0.1:8000")?;
/// let registered = client
///     .register("user@example.com", "mypassword", Some("John Doe"))
///     .await?;
/// println!("registered user {}", registered.user.id);
///
/// let me = client.current_user().await?;
/// assert_eq!(me.email, "user@example.com");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PlatformClient {
    shared: Arc<Shared>,
    session: Arc<RwLock<Session>>,
}

/// The connection pool and settings that every session of one client shares.
struct Shared {
    http: reqwest::Client,
    /// The base URL without a trailing slash, so paths append to it.
    base_url: String,
    timeout: Duration,
    retry: RetryPolicy,
}

/// The tokens of one signed-in user.
#[derive(Default)]
struct Session {
    access_token: Option<String>,
    /// Kept from auth responses that carry one, for session calls to use.
    refresh_token: Option<String>,
}

/// Settings of a [`PlatformClient`], from [`PlatformClient::builder`].
///
/// ```
/// use std::time::Duration;
/// use platform_auth_client::{Backoff, PlatformClient};
///
/// let client = PlatformClient::builder("http://127.0.0.1:8000")
///     .max_attempts(5)
///     .timeout(Duration::from_secs(3))
///     .backoff(Backoff::new(Duration::from_millis(100), Duration::from_secs(2)))
///     .max_retry_after(Duration::from_secs(10))
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "http://127.0.0.1:8000");
/// assert_eq!(client.token(), None);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PlatformClientBuilder {
    base_url: String,
    http: Option<reqwest::Client>,
    timeout: Duration,
    retry: RetryPolicy,
}

impl PlatformClientBuilder {
    /// Sets the attempts per call, the first one included. Values below 1
    /// count as 1, which turns retries off. Default: 3.
    ///
    /// ```
    /// let builder = platform_auth_client::PlatformClient::builder("http://127.0.0.1:8000")
    ///     .max_attempts(5);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts.max(1);
        self
    }

    /// Sets the time one attempt may take, from sending the request to
    /// reading the whole body. Default: 10 s.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = platform_auth_client::PlatformClient::builder("http://127.0.0.1:8000")
    ///     .timeout(Duration::from_secs(3));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the waits between retries that have no `Retry-After`.
    /// Default: [`Backoff::default`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use platform_auth_client::{Backoff, PlatformClient};
    ///
    /// let builder = PlatformClient::builder("http://127.0.0.1:8000")
    ///     .backoff(Backoff::new(Duration::from_millis(50), Duration::from_secs(1)));
    /// ```
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.retry.backoff = backoff;
        self
    }

    /// Sets the longest `Retry-After` the client waits out before a retry.
    /// A response asking for a longer wait ends the call with its error.
    /// Default: 30 s.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = platform_auth_client::PlatformClient::builder("http://127.0.0.1:8000")
    ///     .max_retry_after(Duration::from_secs(5));
    /// ```
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.retry.max_retry_after = wait;
        self
    }

    /// Sends requests through `http` instead of a new `reqwest::Client`, to
    /// share its connection pool or its TLS and proxy settings.
    ///
    /// ```
    /// use platform_auth_client::{reqwest, PlatformClient};
    ///
    /// let shared = reqwest::Client::new();
    /// let client = PlatformClient::builder("http://127.0.0.1:8000")
    ///     .http_client(shared.clone())
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`BuildError::InvalidBaseUrl`] when the base URL does not parse or is
    /// not `http` or `https`, and [`BuildError::Http`] when the HTTP client
    /// cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::builder("https://auth.example.com/")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.base_url(), "https://auth.example.com");
    /// ```
    pub fn build(self) -> Result<PlatformClient, BuildError> {
        let base_url = validated_base_url(&self.base_url)?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .user_agent(concat!("platform-auth-client/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(BuildError::Http)?,
        };

        Ok(PlatformClient {
            shared: Arc::new(Shared {
                http,
                base_url,
                timeout: self.timeout,
                retry: self.retry,
            }),
            session: Arc::default(),
        })
    }
}

fn validated_base_url(raw: &str) -> Result<String, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidBaseUrl {
        url: raw.to_string(),
        reason: reason.to_string(),
    };

    let url = Url::parse(raw).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL has no query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

impl PlatformClient {
    /// Builds a client with the default settings.
    ///
    /// # Errors
    /// As [`PlatformClientBuilder::build`].
    ///
    /// # Examples
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// assert_eq!(client.token(), None);
    /// ```
    pub fn new(base_url: impl Into<String>) -> Result<Self, BuildError> {
        Self::builder(base_url).build()
    }

    /// Starts a builder for a client of the server at `base_url`, such as
    /// `http://127.0.0.1:8000`.
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::builder("http://127.0.0.1:8000")
    ///     .max_attempts(1)
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn builder(base_url: impl Into<String>) -> PlatformClientBuilder {
        PlatformClientBuilder {
            base_url: base_url.into(),
            http: None,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy {
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                backoff: Backoff::default(),
                max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            },
        }
    }

    /// Returns a client that shares this one's connection pool and settings
    /// but has a session of its own, with no token.
    ///
    /// ```
    /// let admin = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// admin.set_token("admin-token");
    ///
    /// let member = admin.new_session();
    /// assert_eq!(member.token(), None);
    /// assert_eq!(admin.token().as_deref(), Some("admin-token"));
    /// ```
    #[must_use]
    pub fn new_session(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            session: Arc::default(),
        }
    }

    /// Returns the base URL, without a trailing slash.
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000/").unwrap();
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8000");
    /// ```
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// Returns the access token of this session, if there is one.
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// assert_eq!(client.token(), None);
    /// client.set_token("saved-token");
    /// assert_eq!(client.token().as_deref(), Some("saved-token"));
    /// ```
    pub fn token(&self) -> Option<String> {
        self.read_session().access_token.clone()
    }

    /// Makes `token` the access token of this session, for example one
    /// saved from an earlier login. A refresh token from an earlier login
    /// is dropped, because it may belong to another session.
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// let clone = client.clone();
    /// client.set_token(std::env::var("PLATFORM_AUTH_TOKEN").unwrap_or_default());
    /// assert_eq!(clone.token(), client.token());
    /// ```
    pub fn set_token(&self, token: impl Into<String>) {
        let mut session = self.write_session();
        session.access_token = Some(token.into());
        session.refresh_token = None;
    }

    /// Creates an account and stores the returned token in this session.
    /// The server derives the name from the email when `name` is `None`.
    ///
    /// Never retried.
    ///
    /// # Errors
    /// [`Error::Validation`] for an invalid email, password or name,
    /// [`Error::EmailTaken`] when the account exists, and the other variants
    /// as for any call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// let result = client.register("user@example.com", "mypassword", Some("John Doe")).await?;
    /// println!("User registered with ID: {}", result.user.id);
    /// assert_eq!(client.token(), Some(result.token));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        name: Option<&str>,
    ) -> Result<AuthResponse, Error> {
        let mut body = json!({ "email": email, "password": password });
        if let Some(name) = name {
            body["name"] = json!(name);
        }

        let auth: AuthBody = self
            .call(Method::POST, "/api/v1/auth/register", Some(&body), false)
            .await?;
        Ok(self.start_session(auth))
    }

    /// Checks an email and password and stores the returned token in this
    /// session.
    ///
    /// Never retried.
    ///
    /// # Errors
    /// [`Error::InvalidCredentials`] for a wrong password or an unknown
    /// email, [`Error::RateLimited`] when the server throttles logins, and
    /// the other variants as for any call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// let result = client.login("user@example.com", "mypassword").await?;
    /// println!("Logged in as {}", result.user.name);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn login(&self, email: &str, password: &str) -> Result<AuthResponse, Error> {
        let body = json!({ "email": email, "password": password });

        let auth: AuthBody = self
            .call(Method::POST, "/api/v1/auth/login", Some(&body), false)
            .await?;
        Ok(self.start_session(auth))
    }

    /// Returns the user of this session's token (`GET /api/v1/auth/me`).
    /// Without a token the request goes out without one, and the server's
    /// `missing_token` error comes back.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] when the token is missing, invalid or
    /// expired, and the other variants as for any call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// client.set_token(std::env::var("PLATFORM_AUTH_TOKEN").unwrap_or_default());
    /// let user = client.current_user().await?;
    /// println!("Authenticated as: {}", user.name);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn current_user(&self) -> Result<User, Error> {
        self.call(Method::GET, "/api/v1/auth/me", None, true).await
    }

    /// Checks that the server is up (`GET /health`).
    ///
    /// # Errors
    /// [`Error::Transport`] when the server cannot be reached, and
    /// [`Error::Server`] when it returns an error response.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// client.health().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn health(&self) -> Result<(), Error> {
        let _: Value = self.call(Method::GET, "/health", None, false).await?;
        Ok(())
    }

    fn start_session(&self, auth: AuthBody) -> AuthResponse {
        let mut session = self.write_session();
        session.access_token = Some(auth.response.token.clone());
        session.refresh_token = auth.refresh_token;
        auth.response
    }

    // A panic while the lock was held cannot leave the two optional strings
    // half-written, so a poisoned lock is used as it is.
    fn read_session(&self) -> std::sync::RwLockReadGuard<'_, Session> {
        self.session.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_session(&self) -> std::sync::RwLockWriteGuard<'_, Session> {
        self.session.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends one call, retrying idempotent ones as the policy allows, and
    /// reads the success body as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        authenticated: bool,
    ) -> Result<T, Error> {
        let url = format!("{}{}", self.shared.base_url, path);
        let token = if authenticated { self.token() } else { None };
        let idempotent = method == Method::GET;

        let mut attempt = 1;
        loop {
            let outcome = self.send(&method, &url, body, token.as_deref()).await;
            let failure = match &outcome {
                Ok(reply) if reply.status.is_success() => return reply.parse(),
                Ok(reply) => Failure::Status {
                    status: reply.status,
                    retry_after: reply.retry_after,
                },
                Err(error) if error.is_connect() => Failure::Connect,
                Err(_) => Failure::OtherTransport,
            };

            let Some(delay) = self.shared.retry.delay_after(attempt, idempotent, failure) else {
                return Err(match outcome {
                    Ok(reply) => reply.into_error(path),
                    Err(error) => Error::Transport(error),
                });
            };
            tracing::warn!(
                http.method = %method,
                url.path = path,
                attempt,
                delay_ms = delay.as_millis() as u64,
                failure = ?failure,
                "platform-auth request failed; retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn send(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self
            .shared
            .http
            .request(method.clone(), url)
            .timeout(self.shared.timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }

        let response = request.send().await?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await?.to_vec();
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }
}

impl fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let session = self.read_session();
        f.debug_struct("PlatformClient")
            .field("base_url", &self.shared.base_url)
            .field("has_token", &session.access_token.is_some())
            .field("has_refresh_token", &session.refresh_token.is_some())
            .field("timeout", &self.shared.timeout)
            .field("retry", &self.shared.retry)
            .finish()
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()
        .and_then(parse_retry_after)
}

/// A whole response.
struct Reply {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

impl Reply {
    fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::InvalidResponse {
            status: self.status,
            source,
        })
    }

    /// Maps an error response to its variant. A body without a `code`, as
    /// other servers of this API send, gets the platform-auth code for the
    /// status and path.
    fn into_error(self, path: &str) -> Error {
        let body: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        let detail = match &body["detail"] {
            Value::String(detail) => detail.clone(),
            Value::Null => self.fallback_detail(),
            other => other.to_string(),
        };
        let code = body["code"].as_str().map(str::to_string);
        let is_login = path.ends_with("/login");

        match self.status {
            StatusCode::UNAUTHORIZED => {
                let code = code.unwrap_or_else(|| {
                    if is_login {
                        "invalid_credentials"
                    } else {
                        "invalid_token"
                    }
                    .to_string()
                });
                if code == "invalid_credentials" {
                    Error::InvalidCredentials { detail, code }
                } else {
                    Error::Unauthorized { detail, code }
                }
            }
            StatusCode::CONFLICT if code.as_deref().is_none_or(|code| code == "email_taken") => {
                Error::EmailTaken {
                    detail,
                    code: code.unwrap_or_else(|| "email_taken".to_string()),
                }
            }
            StatusCode::UNPROCESSABLE_ENTITY => Error::Validation {
                detail,
                code: code.unwrap_or_else(|| "validation_failed".to_string()),
                errors: serde_json::from_value::<Vec<FieldError>>(body["errors"].clone())
                    .unwrap_or_default(),
            },
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
                detail,
                code: code.unwrap_or_else(|| "rate_limited".to_string()),
                retry_after: self.retry_after,
            },
            status => Error::Server {
                status,
                detail,
                code,
                retry_after: self.retry_after,
            },
        }
    }

    /// Returns the body as text when it is short, as a proxy's plain error
    /// page is, and the status's reason phrase otherwise.
    fn fallback_detail(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if !text.is_empty() && text.len() <= 200 && !text.starts_with('{') {
            return text.to_string();
        }
        self.status
            .canonical_reason()
            .unwrap_or("error response")
            .to_string()
    }
}
