//! Register, log in and change password.

use super::{
    now_in_micros, AuthService, Authenticated, ChangePasswordError, LoginError, Principal,
    RegisterError,
};
use crate::audit::AuditKind;
use crate::ports::InsertUserError;
use crate::session::ClientInfo;
use crate::user::{User, UserId};
use crate::values::{DisplayName, Email, Password};

impl AuthService {
    /// Creates an account and starts its first session. The caller has
    /// already checked the password against the policy.
    pub fn register(
        &self,
        email: Email,
        password: &Password,
        name: Option<DisplayName>,
        client: &ClientInfo,
    ) -> Result<Authenticated, RegisterError> {
        let name = name.unwrap_or_else(|| DisplayName::from_email(&email));
        let user = User {
            id: UserId::new_random(),
            email,
            name,
            created_at: now_in_micros(),
        };
        let hash = self.ports.hasher.hash(password)?;

        match self.ports.users.insert(&user, &hash) {
            Ok(()) => {}
            Err(InsertUserError::EmailTaken) => return Err(RegisterError::EmailTaken),
            Err(InsertUserError::Unexpected(error)) => return Err(error.into()),
        }

        let authenticated = self.start_session(user, client)?;
        self.audit(
            AuditKind::Registered,
            Some(authenticated.user.id),
            Some(authenticated.session_id),
            Some(client),
        );
        Ok(authenticated)
    }

    /// Checks an email and password and starts a session. The email is
    /// normalised here. One that does not parse is treated as unknown, and
    /// unknown emails cost a full hash verification like known ones.
    pub fn login(
        &self,
        email: &str,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<Authenticated, LoginError> {
        let credentials = match Email::parse(email) {
            Ok(email) => self.ports.users.find_credentials_by_email(&email)?,
            Err(_) => None,
        };

        let Some(credentials) = credentials else {
            self.ports.hasher.verify_dummy(password);
            self.audit(AuditKind::LoginFailed, None, None, Some(client));
            return Err(LoginError::InvalidCredentials);
        };
        let user_id = credentials.user.id;
        if !self
            .ports
            .hasher
            .verify(password, &credentials.password_hash)?
        {
            self.audit(AuditKind::LoginFailed, Some(user_id), None, Some(client));
            return Err(LoginError::InvalidCredentials);
        }
        if credentials.disabled_at.is_some() {
            self.audit(AuditKind::LoginRefused, Some(user_id), None, Some(client));
            return Err(LoginError::Disabled);
        }
        if self.ports.hasher.needs_rehash(&credentials.password_hash) {
            self.rehash(&credentials.user, password);
        }

        let authenticated = self.start_session(credentials.user, client)?;
        self.audit(
            AuditKind::LoginSucceeded,
            Some(user_id),
            Some(authenticated.session_id),
            Some(client),
        );
        Ok(authenticated)
    }

    /// Writes the audit record of a login refused because the account
    /// `email` is locked. The lock is keyed by email, so the user id is
    /// looked up, and an unknown email is recorded without one.
    pub fn note_locked_login(&self, email: &str, client: &ClientInfo) {
        let user_id = Email::parse(email)
            .ok()
            .and_then(|email| {
                self.ports
                    .users
                    .find_credentials_by_email(&email)
                    .ok()
                    .flatten()
            })
            .map(|credentials| credentials.user.id);
        self.audit(AuditKind::AccountLocked, user_id, None, Some(client));
    }

    /// Replaces a user's hash made at an outdated cost with one at the
    /// current cost. The login has already succeeded, so a failure here is
    /// logged and the old hash stays in use.
    fn rehash(&self, user: &User, password: &Password) {
        let result = self
            .ports
            .hasher
            .hash(password)
            .and_then(|hash| self.ports.users.update_password_hash(user.id, &hash));
        match result {
            Ok(()) => tracing::info!(user.id = %user.id, "password rehashed at the current cost"),
            Err(error) => tracing::warn!(
                user.id = %user.id,
                error = format!("{error:#}"),
                "failed to rehash a password; the old hash stays in use"
            ),
        }
    }

    /// Replaces the password of the signed-in user. Every session of the
    /// user ends, including the caller's, which is replaced by a new one
    /// whose tokens are returned.
    pub fn change_password(
        &self,
        principal: &Principal,
        current: &Password,
        new: &Password,
        client: &ClientInfo,
    ) -> Result<Authenticated, ChangePasswordError> {
        let user_id = principal.user.id;
        let credentials = self
            .ports
            .users
            .find_credentials_by_id(user_id)?
            .ok_or_else(|| {
                anyhow::anyhow!("authenticated user {user_id} has no stored credentials")
            })?;

        if !self
            .ports
            .hasher
            .verify(current, &credentials.password_hash)?
        {
            return Err(ChangePasswordError::InvalidCurrentPassword);
        }
        self.password_policy
            .check_new(new, &credentials.user.email)
            .map_err(ChangePasswordError::WeakPassword)?;

        let hash = self.ports.hasher.hash(new)?;
        self.ports.users.update_password_hash(user_id, &hash)?;
        self.ports.sessions.revoke_all(user_id, now_in_micros())?;

        let authenticated = self.start_session(credentials.user, client)?;
        self.audit(
            AuditKind::PasswordChanged,
            Some(user_id),
            Some(authenticated.session_id),
            Some(client),
        );
        Ok(authenticated)
    }
}
