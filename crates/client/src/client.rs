//! [`PlatformClient`] and its builder.

mod sessions;

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
use sessions::REFRESH_PATH;

/// The attempts per call when the builder sets none.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The time one attempt may take when the builder sets none, from sending
/// the request to reading the whole body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest `Retry-After` waited out when the builder sets none.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// An async client of the platform-auth API that keeps one session's
/// tokens.
///
/// [`register`](Self::register), [`login`](Self::login),
/// [`refresh`](Self::refresh) and
/// [`change_password`](Self::change_password) store the access token and
/// refresh token they receive. [`current_user`](Self::current_user),
/// [`sessions`](Self::sessions), [`end_session`](Self::end_session),
/// [`logout`](Self::logout), [`logout_all`](Self::logout_all) and
/// `change_password` send the access token.
///
/// # Sharing
///
/// Cloning is cheap. **Clones share the session**: a login, a refresh, or a
/// [`set_token`](Self::set_token), through any clone is seen by all of
/// them, so one signed-in client can be handed to many tasks. For another
/// user, call [`new_session`](Self::new_session), which shares the
/// connection pool and settings but starts with no token. One process can
/// so hold many users' sessions at once.
///
/// # Refreshing
///
/// When the session has a refresh token, a 401 on a call that sends the
/// access token makes the client refresh the session once and send the call
/// once more with the new access token. A second 401 is returned as it is,
/// so a call sends at most one refresh. When the refresh itself fails, the
/// call returns the refresh's error rather than the first 401, because it
/// says why the session cannot go on: [`Error::RefreshTokenRejected`] when
/// the server no longer accepts the refresh token (the client then drops
/// it), or a transport or server error after which the caller may try again.
///
/// The clones of one session refresh one at a time. A call that got a 401
/// waits for a refresh in progress on any clone, and if that refresh
/// replaced the access token the server rejected, the call is sent
/// again with the new token and sends no refresh of its own. So any number
/// of clones whose access token expired together rotate the refresh token
/// once. If the refresh they waited for failed, they return their own 401.
///
/// # Retries
///
/// `GET` calls ([`current_user`](Self::current_user),
/// [`sessions`](Self::sessions) and [`health`](Self::health)) are retried
/// after a connection failure, a 503 or a 429, up to the builder's attempt
/// count, waiting out `Retry-After` when the server sends it and the
/// [`Backoff`] otherwise. `POST` and `DELETE` calls are never retried,
/// because the server may have acted on a request whose response was lost.
/// The one exception is the resend after a refresh above, which follows a
/// 401 the server sent before acting. Timeouts are not retried either.
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
    session: Arc<SessionState>,
}

/// The connection pool and settings that every session of one client shares.
struct Shared {
    http: reqwest::Client,
    /// The base URL without a trailing slash, so paths append to it.
    base_url: String,
    timeout: Duration,
    retry: RetryPolicy,
}

/// The tokens of one signed-in user, shared by the clones of a client.
#[derive(Default)]
struct SessionState {
    tokens: RwLock<Tokens>,
    /// Held for the whole of a refresh, so that the clones of one session
    /// send one refresh at a time.
    refresh_lock: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Tokens {
    access_token: Option<String>,
    /// Kept from auth responses that carry one, for refreshes to send.
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
        self.read_tokens().access_token.clone()
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
        let mut tokens = self.write_tokens();
        tokens.access_token = Some(token.into());
        tokens.refresh_token = None;
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
            .call(Method::POST, "/api/v1/auth/register", Some(&body))
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
    /// email, and [`Error::Forbidden`] (`account_disabled`) when an operator
    /// disabled the account. [`Error::RateLimited`] (`rate_limited` or
    /// `account_locked`) when the server throttles logins, and
    /// [`Error::Server`] (503 `overloaded`) when it has too many password
    /// hashes queued. The other variants as for any call.
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
            .call(Method::POST, "/api/v1/auth/login", Some(&body))
            .await?;
        Ok(self.start_session(auth))
    }

    /// Returns the user of this session's token (`GET /api/v1/auth/me`).
    /// Without a token the request goes out without one, and the server's
    /// `missing_token` error comes back unless a refresh replaces it (see
    /// [Refreshing](Self#refreshing)).
    ///
    /// # Errors
    /// [`Error::Unauthorized`] when the token is missing, invalid or
    /// expired and no refresh token is held, the refresh's errors when one
    /// is, and the other variants as for any call.
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
        self.authenticated(Method::GET, "/api/v1/auth/me", None)
            .await?
            .parse()
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
        let _: Value = self.call(Method::GET, "/health", None).await?;
        Ok(())
    }

    fn start_session(&self, auth: AuthBody) -> AuthResponse {
        let mut tokens = self.write_tokens();
        tokens.access_token = Some(auth.response.token.clone());
        tokens.refresh_token = auth.refresh_token;
        auth.response
    }

    // A panic while the lock was held cannot leave the two optional strings
    // half-written, so a poisoned lock is used as it is.
    fn read_tokens(&self) -> std::sync::RwLockReadGuard<'_, Tokens> {
        self.session
            .tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_tokens(&self) -> std::sync::RwLockWriteGuard<'_, Tokens> {
        self.session
            .tokens
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends a call without the access token and reads the success body as
    /// `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, Error> {
        self.request(method, path, body, None).await?.parse()
    }

    /// Sends a call with the access token. After a 401, when the session
    /// has a refresh token, refreshes it and sends the call once more, as
    /// the type's documentation describes under "Refreshing".
    async fn authenticated(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Error> {
        let token = self.token();
        let first = self
            .request(method.clone(), path, body, token.as_deref())
            .await;
        let rejection = match first {
            Err(error @ Error::Unauthorized { .. }) if self.refresh_token().is_some() => error,
            outcome => return outcome,
        };

        tracing::debug!(
            http.method = %method,
            url.path = path,
            code = rejection.code(),
            "access token rejected; refreshing the session"
        );
        let token = self.renew_access_token(token, rejection).await?;
        self.request(method, path, body, Some(&token)).await
    }

    /// Sends one request, retrying idempotent ones as the policy allows, and
    /// returns the success response.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<Reply, Error> {
        let url = format!("{}{}", self.shared.base_url, path);
        let idempotent = method == Method::GET;

        let mut attempt = 1;
        loop {
            let outcome = self.send(&method, &url, body, token).await;
            let failure = match &outcome {
                Ok(reply) if reply.status.is_success() => None,
                Ok(reply) => Some(Failure::Status {
                    status: reply.status,
                    retry_after: reply.retry_after,
                }),
                Err(error) if error.is_connect() => Some(Failure::Connect),
                Err(_) => Some(Failure::OtherTransport),
            };
            let Some(failure) = failure else {
                return outcome.map_err(Error::Transport);
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
        let tokens = self.read_tokens();
        f.debug_struct("PlatformClient")
            .field("base_url", &self.shared.base_url)
            .field("has_token", &tokens.access_token.is_some())
            .field("has_refresh_token", &tokens.refresh_token.is_some())
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

        match (self.status, code) {
            (StatusCode::UNAUTHORIZED, code) => unauthorized_error(path, detail, code),
            (StatusCode::FORBIDDEN, Some(code)) => Error::Forbidden { detail, code },
            (StatusCode::NOT_FOUND, Some(code)) if code == "session_not_found" => {
                Error::NotFound { detail, code }
            }
            (StatusCode::CONFLICT, code)
                if code.as_deref().is_none_or(|code| code == "email_taken") =>
            {
                Error::EmailTaken {
                    detail,
                    code: code.unwrap_or_else(|| "email_taken".to_string()),
                }
            }
            (StatusCode::UNPROCESSABLE_ENTITY, code) => Error::Validation {
                detail,
                code: code.unwrap_or_else(|| "validation_failed".to_string()),
                errors: serde_json::from_value::<Vec<FieldError>>(body["errors"].clone())
                    .unwrap_or_default(),
            },
            (StatusCode::TOO_MANY_REQUESTS, code) => Error::RateLimited {
                detail,
                code: code.unwrap_or_else(|| "rate_limited".to_string()),
                retry_after: self.retry_after,
            },
            (status, code) => Error::Server {
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

/// The 401 codes about the access token, as opposed to the refresh token,
/// that the refresh route can send when an access token goes along.
const ACCESS_TOKEN_CODES: [&str; 3] = ["missing_token", "invalid_token", "token_expired"];

/// Maps a 401 to its variant by route: login rejects the credentials,
/// refresh rejects the refresh token unless the code names the access token
/// sent along, and every other route rejects the access token. A body
/// without a `code`, as other servers of this API send, gets the
/// platform-auth code for the route.
fn unauthorized_error(path: &str, detail: String, code: Option<String>) -> Error {
    let is_login = path.ends_with("/login");
    let is_refresh = path == REFRESH_PATH;
    let code = code.unwrap_or_else(|| {
        if is_login {
            "invalid_credentials"
        } else if is_refresh {
            "invalid_refresh_token"
        } else {
            "invalid_token"
        }
        .to_string()
    });

    if code == "invalid_credentials" {
        Error::InvalidCredentials { detail, code }
    } else if is_refresh && !ACCESS_TOKEN_CODES.contains(&code.as_str()) {
        Error::RefreshTokenRejected { detail, code }
    } else {
        Error::Unauthorized { detail, code }
    }
}
