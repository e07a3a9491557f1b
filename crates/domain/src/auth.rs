//! The use cases: register, log in, and read the current user.

use std::sync::Arc;

use chrono::{DurationRound, TimeDelta, Utc};

use crate::ports::{
    InsertUserError, IssuedToken, PasswordHasher, TokenError, TokenIssuer, UserRepo,
};
use crate::user::{User, UserId};
use crate::values::{DisplayName, Email, Password};

/// A user together with a fresh access token for them.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token: IssuedToken,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("the email address is already registered")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password: callers must not tell them apart.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CurrentUserError {
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token is invalid")]
    InvalidToken,
    /// The token verified, but its user has since been deleted.
    #[error("the token's user no longer exists")]
    UserNotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The authentication use cases, written against the ports only.
///
/// Every method blocks: it hashes passwords or waits on storage.
#[derive(Clone)]
pub struct AuthService {
    users: Arc<dyn UserRepo>,
    tokens: Arc<dyn TokenIssuer>,
    hasher: Arc<dyn PasswordHasher>,
}

impl AuthService {
    pub fn new(
        users: Arc<dyn UserRepo>,
        tokens: Arc<dyn TokenIssuer>,
        hasher: Arc<dyn PasswordHasher>,
    ) -> Self {
        Self {
            users,
            tokens,
            hasher,
        }
    }

    /// Creates an account and signs it in. The caller has already checked
    /// the password against the policy.
    pub fn register(
        &self,
        email: Email,
        password: &Password,
        name: Option<DisplayName>,
    ) -> Result<Authenticated, RegisterError> {
        let name = name.unwrap_or_else(|| DisplayName::from_email(&email));
        let user = User {
            id: UserId::new_random(),
            email,
            name,
            created_at: now_in_micros(),
        };
        let hash = self.hasher.hash(password)?;

        match self.users.insert(&user, &hash) {
            Ok(()) => {}
            Err(InsertUserError::EmailTaken) => return Err(RegisterError::EmailTaken),
            Err(InsertUserError::Unexpected(error)) => return Err(error.into()),
        }

        let token = self.tokens.issue(&user)?;
        Ok(Authenticated { user, token })
    }

    /// Checks an email and password. The email is normalised here; one that
    /// does not parse is treated as unknown, and unknown emails cost a full
    /// hash verification like known ones.
    pub fn login(&self, email: &str, password: &Password) -> Result<Authenticated, LoginError> {
        let credentials = match Email::parse(email) {
            Ok(email) => self.users.find_credentials_by_email(&email)?,
            Err(_) => None,
        };

        let Some(credentials) = credentials else {
            self.hasher.verify_dummy(password);
            return Err(LoginError::InvalidCredentials);
        };
        if !self.hasher.verify(password, &credentials.password_hash)? {
            return Err(LoginError::InvalidCredentials);
        }
        if self.hasher.needs_rehash(&credentials.password_hash) {
            self.rehash(&credentials.user, password);
        }

        let token = self.tokens.issue(&credentials.user)?;
        Ok(Authenticated {
            user: credentials.user,
            token,
        })
    }

    /// Replaces a user's hash made at an outdated cost with one at the
    /// current cost. The login has already succeeded, so a failure here is
    /// logged and the old hash stays in use.
    fn rehash(&self, user: &User, password: &Password) {
        let result = self
            .hasher
            .hash(password)
            .and_then(|hash| self.users.update_password_hash(user.id, &hash));
        match result {
            Ok(()) => tracing::info!(user.id = %user.id, "password rehashed at the current cost"),
            Err(error) => tracing::warn!(
                user.id = %user.id,
                error = format!("{error:#}"),
                "failed to rehash a password; the old hash stays in use"
            ),
        }
    }

    /// Verifies a bearer token and loads its user from storage, so a token
    /// of a deleted user stops working at once.
    pub fn current_user(&self, token: &str) -> Result<User, CurrentUserError> {
        let claims = self.tokens.verify(token).map_err(|error| match error {
            TokenError::Expired => CurrentUserError::TokenExpired,
            TokenError::Invalid => CurrentUserError::InvalidToken,
        })?;
        let user_id: UserId = claims
            .subject
            .parse()
            .map_err(|_| CurrentUserError::InvalidToken)?;

        self.users
            .find_by_id(user_id)?
            .ok_or(CurrentUserError::UserNotFound)
    }
}

fn now_in_micros() -> chrono::DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mockall::predicate::eq;

    use super::*;
    use crate::ports::{
        MockPasswordHasher, MockTokenIssuer, MockUserRepo, TokenClaims, UserCredentials,
    };
    use crate::secret::Secret;
    use crate::values::PasswordHash;

    fn sample_user() -> User {
        User {
            id: "7b0b7f3e-4d7e-4c0c-9a43-2d8f0e6f7a11".parse().unwrap(),
            email: Email::parse("user@example.com").unwrap(),
            name: DisplayName::parse("John Doe").unwrap(),
            created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn issued(token: &str) -> IssuedToken {
        IssuedToken {
            token: Secret::new(token.to_string()),
            expires_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn password(raw: &str) -> Password {
        Password::new(raw.to_string())
    }

    fn service(
        users: MockUserRepo,
        tokens: MockTokenIssuer,
        hasher: MockPasswordHasher,
    ) -> AuthService {
        AuthService::new(Arc::new(users), Arc::new(tokens), Arc::new(hasher))
    }

    #[test]
    fn register_stores_user_and_issues_token() {
        let mut users = MockUserRepo::new();
        let mut tokens = MockTokenIssuer::new();
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .returning(|_| Ok(PasswordHash::new("$argon2id$fake".into())));
        users
            .expect_insert()
            .withf(|user, hash| {
                user.email.as_str() == "user@example.com"
                    && user.name.as_str() == "user"
                    && hash.expose() == "$argon2id$fake"
            })
            .times(1)
            .returning(|_, _| Ok(()));
        tokens.expect_issue().returning(|_| Ok(issued("jwt")));

        let email = Email::parse("User@Example.com").unwrap();
        let result = service(users, tokens, hasher)
            .register(email, &password("mypassword"), None)
            .unwrap();

        assert_eq!(result.user.name.as_str(), "user");
        assert_eq!(result.token.token.expose(), "jwt");
    }

    #[test]
    fn register_reports_taken_email() {
        let mut users = MockUserRepo::new();
        let tokens = MockTokenIssuer::new();
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .returning(|_| Ok(PasswordHash::new("h".into())));
        users
            .expect_insert()
            .returning(|_, _| Err(InsertUserError::EmailTaken));

        let email = Email::parse("user@example.com").unwrap();
        let result = service(users, tokens, hasher).register(email, &password("mypassword"), None);

        assert!(matches!(result, Err(RegisterError::EmailTaken)));
    }

    #[test]
    fn register_passes_storage_failure_on() {
        let mut users = MockUserRepo::new();
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .returning(|_| Ok(PasswordHash::new("h".into())));
        users
            .expect_insert()
            .returning(|_, _| Err(InsertUserError::Unexpected(anyhow::anyhow!("disk full"))));

        let email = Email::parse("user@example.com").unwrap();
        let result = service(users, MockTokenIssuer::new(), hasher).register(
            email,
            &password("mypassword"),
            None,
        );

        assert!(matches!(result, Err(RegisterError::Unexpected(_))));
    }

    #[test]
    fn register_passes_hashing_failure_on() {
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .returning(|_| Err(anyhow::anyhow!("out of memory")));

        let email = Email::parse("user@example.com").unwrap();
        let result = service(MockUserRepo::new(), MockTokenIssuer::new(), hasher).register(
            email,
            &password("mypassword"),
            None,
        );

        assert!(matches!(result, Err(RegisterError::Unexpected(_))));
    }

    #[test]
    fn login_succeeds_with_right_password() {
        let mut users = MockUserRepo::new();
        let mut tokens = MockTokenIssuer::new();
        let mut hasher = MockPasswordHasher::new();
        users
            .expect_find_credentials_by_email()
            .withf(|email| email.as_str() == "user@example.com")
            .returning(|_| {
                Ok(Some(UserCredentials {
                    user: sample_user(),
                    password_hash: PasswordHash::new("stored".into()),
                }))
            });
        hasher
            .expect_verify()
            .withf(|password, hash| password.expose() == "mypassword" && hash.expose() == "stored")
            .returning(|_, _| Ok(true));
        hasher.expect_needs_rehash().returning(|_| false);
        hasher.expect_hash().never();
        tokens.expect_issue().returning(|_| Ok(issued("jwt")));

        let result = service(users, tokens, hasher)
            .login(" USER@example.com ", &password("mypassword"))
            .unwrap();

        assert_eq!(result.user, sample_user());
    }

    fn users_with_stored_hash() -> MockUserRepo {
        let mut users = MockUserRepo::new();
        users.expect_find_credentials_by_email().returning(|_| {
            Ok(Some(UserCredentials {
                user: sample_user(),
                password_hash: PasswordHash::new("$argon2id$v=19$m=64,t=1,p=1$old".into()),
            }))
        });
        users
    }

    /// Returns a hasher that accepts the password and finds the stored
    /// hash outdated, and an issuer of one token: a login that must rehash.
    fn rehashing_login() -> (MockPasswordHasher, MockTokenIssuer) {
        let mut hasher = MockPasswordHasher::new();
        let mut tokens = MockTokenIssuer::new();
        hasher.expect_verify().returning(|_, _| Ok(true));
        hasher.expect_needs_rehash().returning(|_| true);
        hasher
            .expect_hash()
            .withf(|password| password.expose() == "mypassword")
            .times(1)
            .returning(|_| Ok(PasswordHash::new("$argon2id$new".into())));
        tokens.expect_issue().returning(|_| Ok(issued("jwt")));
        (hasher, tokens)
    }

    #[test]
    fn login_rehashes_outdated_hash() {
        let mut users = users_with_stored_hash();
        let (hasher, tokens) = rehashing_login();
        users
            .expect_update_password_hash()
            .withf(|id, hash| *id == sample_user().id && hash.expose() == "$argon2id$new")
            .times(1)
            .returning(|_, _| Ok(()));

        let result =
            service(users, tokens, hasher).login("user@example.com", &password("mypassword"));

        assert!(result.is_ok());
    }

    #[test]
    fn login_survives_failed_rehash() {
        let mut users = users_with_stored_hash();
        let (hasher, tokens) = rehashing_login();
        users
            .expect_update_password_hash()
            .returning(|_, _| Err(anyhow::anyhow!("database is read-only")));

        let result =
            service(users, tokens, hasher).login("user@example.com", &password("mypassword"));

        assert_eq!(result.unwrap().user, sample_user());
    }

    #[test]
    fn login_with_wrong_password_never_rehashes() {
        let users = users_with_stored_hash();
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|_, _| Ok(false));
        hasher.expect_needs_rehash().never();
        hasher.expect_hash().never();

        let result = service(users, MockTokenIssuer::new(), hasher)
            .login("user@example.com", &password("wrong-password"));

        assert!(matches!(result, Err(LoginError::InvalidCredentials)));
    }

    #[test]
    fn login_rejects_wrong_password() {
        let mut users = MockUserRepo::new();
        let mut hasher = MockPasswordHasher::new();
        users.expect_find_credentials_by_email().returning(|_| {
            Ok(Some(UserCredentials {
                user: sample_user(),
                password_hash: PasswordHash::new("stored".into()),
            }))
        });
        hasher.expect_verify().returning(|_, _| Ok(false));

        let result = service(users, MockTokenIssuer::new(), hasher)
            .login("user@example.com", &password("wrong-password"));

        assert!(matches!(result, Err(LoginError::InvalidCredentials)));
    }

    #[test]
    fn login_unknown_email_verifies_dummy_hash() {
        let mut users = MockUserRepo::new();
        let mut hasher = MockPasswordHasher::new();
        users
            .expect_find_credentials_by_email()
            .returning(|_| Ok(None));
        hasher.expect_verify_dummy().times(1).return_const(());

        let result = service(users, MockTokenIssuer::new(), hasher)
            .login("nobody@example.com", &password("mypassword"));

        assert!(matches!(result, Err(LoginError::InvalidCredentials)));
    }

    #[test]
    fn login_malformed_email_verifies_dummy_hash() {
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify_dummy().times(1).return_const(());

        let result = service(MockUserRepo::new(), MockTokenIssuer::new(), hasher)
            .login("not an email", &password("mypassword"));

        assert!(matches!(result, Err(LoginError::InvalidCredentials)));
    }

    #[test]
    fn login_passes_storage_failure_on() {
        let mut users = MockUserRepo::new();
        users
            .expect_find_credentials_by_email()
            .returning(|_| Err(anyhow::anyhow!("connection refused")));

        let result = service(users, MockTokenIssuer::new(), MockPasswordHasher::new())
            .login("user@example.com", &password("mypassword"));

        assert!(matches!(result, Err(LoginError::Unexpected(_))));
    }

    fn claims_for(subject: &str) -> TokenClaims {
        TokenClaims {
            subject: subject.to_string(),
            issued_at: None,
            expires_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn current_user_loads_user_by_subject() {
        let user = sample_user();
        let mut users = MockUserRepo::new();
        let mut tokens = MockTokenIssuer::new();
        let subject = user.id.to_string();
        tokens
            .expect_verify()
            .with(eq("jwt"))
            .returning(move |_| Ok(claims_for(&subject)));
        users
            .expect_find_by_id()
            .with(eq(user.id))
            .returning(|_| Ok(Some(sample_user())));

        let found = service(users, tokens, MockPasswordHasher::new())
            .current_user("jwt")
            .unwrap();

        assert_eq!(found, user);
    }

    #[test]
    fn current_user_maps_token_errors() {
        let cases = [
            (TokenError::Expired, "expired"),
            (TokenError::Invalid, "invalid"),
        ];
        for (token_error, label) in cases {
            let mut tokens = MockTokenIssuer::new();
            let returned = token_error.clone();
            tokens
                .expect_verify()
                .returning(move |_| Err(returned.clone()));

            let result =
                service(MockUserRepo::new(), tokens, MockPasswordHasher::new()).current_user("jwt");

            match (token_error, result) {
                (TokenError::Expired, Err(CurrentUserError::TokenExpired)) => {}
                (TokenError::Invalid, Err(CurrentUserError::InvalidToken)) => {}
                (_, other) => panic!("{label}: unexpected result {other:?}"),
            }
        }
    }

    #[test]
    fn current_user_rejects_non_uuid_subject() {
        let mut tokens = MockTokenIssuer::new();
        tokens
            .expect_verify()
            .returning(|_| Ok(claims_for("abc123")));

        let result =
            service(MockUserRepo::new(), tokens, MockPasswordHasher::new()).current_user("jwt");

        assert!(matches!(result, Err(CurrentUserError::InvalidToken)));
    }

    #[test]
    fn current_user_of_deleted_user_is_not_found() {
        let mut users = MockUserRepo::new();
        let mut tokens = MockTokenIssuer::new();
        tokens
            .expect_verify()
            .returning(|_| Ok(claims_for("7b0b7f3e-4d7e-4c0c-9a43-2d8f0e6f7a11")));
        users.expect_find_by_id().returning(|_| Ok(None));

        let result = service(users, tokens, MockPasswordHasher::new()).current_user("jwt");

        assert!(matches!(result, Err(CurrentUserError::UserNotFound)));
    }

    #[test]
    fn current_user_passes_storage_failure_on() {
        let mut users = MockUserRepo::new();
        let mut tokens = MockTokenIssuer::new();
        tokens
            .expect_verify()
            .returning(|_| Ok(claims_for("7b0b7f3e-4d7e-4c0c-9a43-2d8f0e6f7a11")));
        users
            .expect_find_by_id()
            .returning(|_| Err(anyhow::anyhow!("pool timed out")));

        let result = service(users, tokens, MockPasswordHasher::new()).current_user("jwt");

        assert!(matches!(result, Err(CurrentUserError::Unexpected(_))));
    }
}
