//! The session calls of [`PlatformClient`]: refresh, logout, password
//! change and the session list, and the refresh that follows a 401.

use reqwest::{Method, Url};
use serde_json::json;

use super::{PlatformClient, Tokens};
use crate::error::Error;
use crate::model::{AuthBody, AuthResponse, Session, SessionList};

/// The refresh route, whose 401 responses the error mapping reads apart
/// from those of other routes.
pub(super) const REFRESH_PATH: &str = "/api/v1/auth/refresh";

impl PlatformClient {
    /// Returns the refresh token of this session, if there is one, for
    /// example to save it for a later [`set_refresh_token`](Self::set_refresh_token).
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// assert_eq!(client.refresh_token(), None);
    /// client.set_refresh_token("saved-refresh-token");
    /// assert_eq!(client.refresh_token().as_deref(), Some("saved-refresh-token"));
    /// ```
    pub fn refresh_token(&self) -> Option<String> {
        self.read_tokens().refresh_token.clone()
    }

    /// Makes `token` the refresh token of this session, for example one
    /// saved from an earlier login. The access token stays as it is.
    /// Because [`set_token`](Self::set_token) drops the refresh token,
    /// restore a saved pair with `set_token` first and this second.
    ///
    /// ```
    /// let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// client.set_token("saved-access-token");
    /// client.set_refresh_token("saved-refresh-token");
    /// assert_eq!(client.token().as_deref(), Some("saved-access-token"));
    /// assert_eq!(client.refresh_token().as_deref(), Some("saved-refresh-token"));
    /// ```
    pub fn set_refresh_token(&self, token: impl Into<String>) {
        self.write_tokens().refresh_token = Some(token.into());
    }

    /// Exchanges the stored refresh token for a new token pair
    /// (`POST /api/v1/auth/refresh`) and stores the pair in this session,
    /// unless a login, logout or `set_token` on a clone replaced the
    /// session's tokens while the request was in flight.
    ///
    /// The stored access token goes along, even when it has expired, so the
    /// server checks that both tokens belong to one user. The server retires
    /// the old refresh token, so this waits for any refresh in progress on a
    /// clone and then refreshes with the token that refresh stored. Calls
    /// that get a 401 refresh by themselves (see
    /// [Refreshing](Self#refreshing)), so most programs never call this.
    /// Never retried.
    ///
    /// # Errors
    /// [`Error::NoRefreshToken`] when the session has none, and no request
    /// is sent. [`Error::RefreshTokenRejected`] when the server no longer
    /// accepts the refresh token, which the client then drops.
    /// [`Error::Unauthorized`] when the server rejects the access token sent
    /// along. The other variants as for any call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// client.login("user@example.com", "mypassword").await?;
    /// let before = client.refresh_token();
    ///
    /// let pair = client.refresh().await?;
    /// assert_eq!(client.token(), Some(pair.token));
    /// assert_ne!(client.refresh_token(), before);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn refresh(&self) -> Result<AuthResponse, Error> {
        let _refreshing = self.session.refresh_lock.lock().await;
        self.refresh_holding_lock().await
    }

    /// Ends this session on the server (`POST /api/v1/auth/logout` with
    /// `{"scope": "current"}`) and clears the stored tokens. Other sessions
    /// of the user stay signed in.
    ///
    /// Never retried, except once after a refresh.
    ///
    /// # Errors
    /// [`Error::Server`] with status 400 and code `no_session` when the
    /// access token belongs to no session, as tokens issued by the Python
    /// platform do, and [`logout_all`](Self::logout_all) is then the way
    /// out. The errors of an authenticated call otherwise, as for
    /// [`current_user`](Self::current_user). On an error the tokens stay
    /// stored.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// client.login("user@example.com", "mypassword").await?;
    /// client.logout().await?;
    /// assert_eq!(client.token(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn logout(&self) -> Result<(), Error> {
        self.log_out("current").await
    }

    /// Ends every session of the user (`POST /api/v1/auth/logout` with
    /// `{"scope": "all"}`), on every device, and clears the stored tokens.
    /// Access tokens without a session claim are rejected from then on too.
    ///
    /// Never retried, except once after a refresh.
    ///
    /// # Errors
    /// The errors of an authenticated call, as for
    /// [`current_user`](Self::current_user). On an error the tokens stay
    /// stored.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// client.login("user@example.com", "mypassword").await?;
    /// client.logout_all().await?;
    /// assert_eq!(client.refresh_token(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn logout_all(&self) -> Result<(), Error> {
        self.log_out("all").await
    }

    /// Replaces the user's password (`POST /api/v1/auth/password`). The
    /// server ends every session of the user, this one included, and
    /// returns a pair for a new session, which this client stores.
    ///
    /// Never retried, except once after a refresh.
    ///
    /// # Errors
    /// [`Error::Forbidden`] (`invalid_current_password`) when
    /// `current_password` is wrong. [`Error::Validation`] when
    /// `new_password` breaks the password rules, with the field
    /// `new_password` and a code such as `too_short` or `common_password`.
    /// [`Error::RateLimited`] (`rate_limited` or `account_locked`), because
    /// the server counts password changes as logins. [`Error::Server`]
    /// (503 `overloaded`) when the server has too many password hashes
    /// queued. The errors of an authenticated call otherwise, as for
    /// [`current_user`](Self::current_user).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use platform_auth_client::Error;
    ///
    /// # async fn run() -> Result<(), Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// match client.change_password("mypassword", "a-longer-passphrase").await {
    ///     Ok(pair) => println!("password changed for {}", pair.user.email),
    ///     Err(Error::Forbidden { detail, .. }) => eprintln!("{detail}"),
    ///     Err(error) => return Err(error),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn change_password(
        &self,
        current_password: &str,
        new_password: &str,
    ) -> Result<AuthResponse, Error> {
        let body = json!({
            "current_password": current_password,
            "new_password": new_password,
        });

        let auth: AuthBody = self
            .authenticated(Method::POST, "/api/v1/auth/password", Some(&body))
            .await?
            .parse()?;
        Ok(self.start_session(auth))
    }

    /// Returns the user's live sessions, newest first
    /// (`GET /api/v1/auth/sessions`). The one this client uses has
    /// [`current`](Session::current) set.
    ///
    /// # Errors
    /// The errors of an authenticated call, as for
    /// [`current_user`](Self::current_user).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// for session in client.sessions().await? {
    ///     let marker = if session.current { " (this one)" } else { "" };
    ///     println!("{} since {}{marker}", session.id, session.created_at);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn sessions(&self) -> Result<Vec<Session>, Error> {
        let list: SessionList = self
            .authenticated(Method::GET, "/api/v1/auth/sessions", None)
            .await?
            .parse()?;
        Ok(list.sessions)
    }

    /// Ends one of the user's sessions (`DELETE /api/v1/auth/sessions/{id}`),
    /// for example a lost phone's. `id` is a [`Session::id`] from
    /// [`sessions`](Self::sessions). Ending this client's own session keeps
    /// the stored tokens until the server rejects them on a later call.
    ///
    /// Never retried, except once after a refresh.
    ///
    /// # Errors
    /// [`Error::NotFound`] (`session_not_found`) when no live session with
    /// this id belongs to the user, including ended sessions and other
    /// users' sessions. The errors of an authenticated call otherwise, as
    /// for [`current_user`](Self::current_user).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), platform_auth_client::Error> {
    /// # let client = platform_auth_client::PlatformClient::new("http://127.0.0.1:8000").unwrap();
    /// for session in client.sessions().await? {
    ///     if !session.current {
    ///         client.end_session(&session.id).await?;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn end_session(&self, id: &str) -> Result<(), Error> {
        let path = format!("/api/v1/auth/sessions/{}", path_segment(id));

        self.authenticated(Method::DELETE, &path, None).await?;
        Ok(())
    }

    async fn log_out(&self, scope: &str) -> Result<(), Error> {
        let body = json!({ "scope": scope });

        self.authenticated(Method::POST, "/api/v1/auth/logout", Some(&body))
            .await?;
        *self.write_tokens() = Tokens::default();
        Ok(())
    }

    /// Replaces the access token `rejected` after the server returned
    /// `rejection`, a 401, to a call sent with it, and returns the token to
    /// send the call again with. Of the callers rejected with the same
    /// token, only the first sends a refresh. The others wait for it and
    /// take the token it stored.
    pub(super) async fn renew_access_token(
        &self,
        rejected: Option<String>,
        rejection: Error,
    ) -> Result<String, Error> {
        let _refreshing = self.session.refresh_lock.lock().await;

        let (current, has_refresh_token) = {
            let tokens = self.read_tokens();
            (tokens.access_token.clone(), tokens.refresh_token.is_some())
        };
        if current != rejected {
            // While this call waited, a refresh or login on a clone replaced
            // the token, or a logout cleared it.
            return current.ok_or(rejection);
        }
        if !has_refresh_token {
            // The refresh this call waited for failed and dropped the token.
            return Err(rejection);
        }

        self.refresh_holding_lock()
            .await
            .map(|response| response.token)
    }

    /// Sends the refresh. The caller holds the session's refresh lock, so
    /// no clone sends the same refresh token at the same time.
    async fn refresh_holding_lock(&self) -> Result<AuthResponse, Error> {
        let (access_token, refresh_token) = {
            let tokens = self.read_tokens();
            (tokens.access_token.clone(), tokens.refresh_token.clone())
        };
        let refresh_token = refresh_token.ok_or(Error::NoRefreshToken)?;
        let body = json!({ "refresh_token": refresh_token });

        let result = self
            .request(
                Method::POST,
                REFRESH_PATH,
                Some(&body),
                access_token.as_deref(),
            )
            .await
            .and_then(|reply| reply.parse::<AuthBody>());
        match result {
            Ok(auth) => Ok(self.store_refreshed_pair(auth, &refresh_token)),
            Err(error) => {
                if matches!(error, Error::RefreshTokenRejected { .. }) {
                    self.drop_refresh_token(&refresh_token);
                }
                Err(error)
            }
        }
    }

    /// Stores the pair a refresh of `sent` returned. A login, logout or
    /// `set_token` on a clone while the refresh was in flight replaced or
    /// cleared `sent`, and what it stored is newer, so the pair is then
    /// only returned.
    fn store_refreshed_pair(&self, auth: AuthBody, sent: &str) -> AuthResponse {
        let mut tokens = self.write_tokens();
        if tokens.refresh_token.as_deref() == Some(sent) {
            tokens.access_token = Some(auth.response.token.clone());
            tokens.refresh_token = auth.refresh_token;
        }
        auth.response
    }

    /// Drops `rejected`, unless a login or `set_refresh_token` stored
    /// another refresh token since it was sent.
    fn drop_refresh_token(&self, rejected: &str) {
        let mut tokens = self.write_tokens();
        if tokens.refresh_token.as_deref() == Some(rejected) {
            tokens.refresh_token = None;
        }
    }
}

/// Percent-encodes `segment` as one URL path segment, so that a `/`, `?` or
/// `#` in it cannot change the route. The dot segments `.` and `..` come
/// out empty, because a URL cannot carry them as data.
fn path_segment(segment: &str) -> String {
    let mut url = Url::parse("http://localhost/").expect("the URL is valid");
    url.path_segments_mut()
        .expect("an http URL has a path")
        .push(segment);
    url.path()[1..].to_string()
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn path_segment_encodes_separators() {
        assert_eq!(
            path_segment("5d0c1a52-3b8e-4a57-9f0e-1c2d3e4f5a6b"),
            "5d0c1a52-3b8e-4a57-9f0e-1c2d3e4f5a6b"
        );
        assert_eq!(path_segment("a/b"), "a%2Fb");
        assert_eq!(path_segment("a?b#c"), "a%3Fb%23c");
        assert_eq!(path_segment("50%"), "50%25");
    }

    #[test]
    fn path_segment_drops_dot_segments() {
        assert_eq!(path_segment(".."), "");
        assert_eq!(path_segment("."), "");
    }
}
