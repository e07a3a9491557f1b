//! Refresh, log out, and list or end sessions.

use super::{
    now_in_micros, AuthService, Authenticated, EndSessionError, LogoutError, Principal,
    RefreshError,
};
use crate::audit::AuditKind;
use crate::ports::Rotation;
use crate::session::{ClientInfo, Session, SessionId};
use crate::user::UserId;

/// The sessions a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    /// The session of the access token used.
    Current,
    /// Every session of the user.
    All,
}

impl AuthService {
    /// Exchanges a refresh token for a new access token and refresh token,
    /// retiring the old refresh token.
    ///
    /// A retired token presented again within the grace window gets the
    /// same new pair as the first exchange; after it, the whole session is
    /// ended. `presented_user` is the owner of an access token sent along,
    /// which must match the session's user.
    pub fn refresh(
        &self,
        refresh_token: &str,
        presented_user: Option<UserId>,
        client: &ClientInfo,
    ) -> Result<Authenticated, RefreshError> {
        let now = now_in_micros();
        let digest = self.ports.refresh_tokens.digest(refresh_token);

        let Some(session) = self.ports.sessions.find_by_refresh_digest(&digest)? else {
            return self.refresh_retired(refresh_token, &digest, presented_user);
        };
        self.check_refreshable(&session, presented_user)?;

        let successor = self.ports.refresh_tokens.successor(refresh_token);
        let successor_digest = self.ports.refresh_tokens.digest(successor.expose());
        let rotated = self.ports.sessions.rotate(&Rotation {
            session_id: session.id,
            retired_digest: digest.clone(),
            new_digest: successor_digest,
            at: now,
            client: client.clone(),
        })?;
        if !rotated {
            // A concurrent request rotated this token first.
            return self.refresh_retired(refresh_token, &digest, presented_user);
        }

        self.issue_pair(&session, successor, now)
    }

    fn check_refreshable(
        &self,
        session: &Session,
        presented_user: Option<UserId>,
    ) -> Result<(), RefreshError> {
        if session.revoked_at.is_some() {
            return Err(RefreshError::SessionEnded);
        }
        if self.session_policy.is_expired(session, now_in_micros()) {
            return Err(RefreshError::Expired);
        }
        if presented_user.is_some_and(|user| user != session.user_id) {
            return Err(RefreshError::UserMismatch);
        }
        Ok(())
    }

    /// Handles a refresh token that is not current: a retry within the
    /// grace window, or reuse that ends the session.
    fn refresh_retired(
        &self,
        refresh_token: &str,
        digest: &str,
        presented_user: Option<UserId>,
    ) -> Result<Authenticated, RefreshError> {
        let retired = self
            .ports
            .sessions
            .find_retired(digest)?
            .ok_or(RefreshError::InvalidToken)?;
        let session = self
            .ports
            .sessions
            .find(retired.session_id)?
            .ok_or(RefreshError::InvalidToken)?;
        self.check_refreshable(&session, presented_user)?;

        let now = now_in_micros();
        let successor = self.ports.refresh_tokens.successor(refresh_token);
        let is_latest =
            self.ports.refresh_tokens.digest(successor.expose()) == session.refresh_digest;
        if is_latest && self.session_policy.within_grace(retired.retired_at, now) {
            // Same inputs, same tokens: the pair of the first exchange.
            return self.issue_pair(&session, successor, retired.retired_at);
        }

        self.ports
            .sessions
            .revoke(session.user_id, session.id, now)?;
        self.audit(
            AuditKind::RefreshTokenReused,
            Some(session.user_id),
            Some(session.id),
            None,
        );
        Err(RefreshError::Reused)
    }

    fn issue_pair(
        &self,
        session: &Session,
        refresh_token: crate::Secret<String>,
        issued_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Authenticated, RefreshError> {
        let user = self
            .ports
            .users
            .find_by_id(session.user_id)?
            .ok_or(RefreshError::SessionEnded)?;
        let token = self.ports.tokens.issue(&user, session.id, issued_at)?;
        Ok(Authenticated {
            user,
            session_id: session.id,
            token,
            refresh_token,
        })
    }

    /// Ends the caller's session, or all of the user's sessions. After it,
    /// the access tokens of those sessions are refused at once.
    pub fn logout(
        &self,
        principal: &Principal,
        scope: LogoutScope,
        client: &ClientInfo,
    ) -> Result<(), LogoutError> {
        let now = now_in_micros();
        let user_id = principal.user.id;
        match scope {
            LogoutScope::All => {
                self.ports.sessions.revoke_all(user_id, now)?;
                self.audit(
                    AuditKind::LoggedOutEverywhere,
                    Some(user_id),
                    principal.session_id,
                    Some(client),
                );
            }
            LogoutScope::Current => {
                let session_id = principal.session_id.ok_or(LogoutError::NoSession)?;
                self.ports.sessions.revoke(user_id, session_id, now)?;
                self.audit(
                    AuditKind::LoggedOut,
                    Some(user_id),
                    Some(session_id),
                    Some(client),
                );
            }
        }
        Ok(())
    }

    /// Deletes ended, expired and idle sessions. Ended sessions are kept for
    /// a day first, so that reuse of their refresh tokens is still reported
    /// as an ended session rather than an unknown token.
    pub fn prune_sessions(&self) -> anyhow::Result<usize> {
        let now = now_in_micros();
        let revoked_before = now - chrono::TimeDelta::days(1);
        self.ports
            .sessions
            .prune(now, self.session_policy.idle_cutoff(now), revoked_before)
    }

    /// Lists the user's live sessions, newest first.
    pub fn list_sessions(&self, principal: &Principal) -> anyhow::Result<Vec<Session>> {
        let now = now_in_micros();
        self.ports
            .sessions
            .list_live(principal.user.id, now, self.session_policy.idle_cutoff(now))
    }

    /// Ends one of the user's own sessions. Another user's session id is
    /// reported as not found.
    pub fn end_session(
        &self,
        principal: &Principal,
        session_id: SessionId,
        client: &ClientInfo,
    ) -> Result<(), EndSessionError> {
        let user_id = principal.user.id;
        let ended = self
            .ports
            .sessions
            .revoke(user_id, session_id, now_in_micros())?;
        if !ended {
            return Err(EndSessionError::NotFound);
        }
        self.audit(
            AuditKind::SessionEnded,
            Some(user_id),
            Some(session_id),
            Some(client),
        );
        Ok(())
    }
}
