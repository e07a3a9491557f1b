use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mockall::predicate::eq;

use super::*;
use crate::audit::AuditKind;
use crate::ports::InsertUserError;
use crate::ports::{
    MockAuditLog, MockPasswordHasher, MockRefreshTokenMinter, MockSessionRepo, MockTokenIssuer,
    MockUserRepo, TokenClaims, UserCredentials,
};
use crate::session::{RetiredRefreshToken, Session};
use crate::values::{DisplayName, Email, Password, PasswordHash};

const USER_ID: &str = "7b0b7f3e-4d7e-4c0c-9a43-2d8f0e6f7a11";
const OTHER_USER_ID: &str = "1d6a3f52-9a0e-4a7f-8d64-0b9b2f7c3e55";
const SESSION_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";

fn sample_user() -> User {
    User {
        id: USER_ID.parse().unwrap(),
        email: Email::parse("user@example.com").unwrap(),
        name: DisplayName::parse("John Doe").unwrap(),
        created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn session_id() -> SessionId {
    SESSION_ID.parse().unwrap()
}

fn password(raw: &str) -> Password {
    Password::new(raw.to_string())
}

fn credentials() -> UserCredentials {
    UserCredentials {
        user: sample_user(),
        password_hash: PasswordHash::new("stored".into()),
        disabled_at: None,
    }
}

/// Builds a live session whose current refresh token is `current`.
fn live_session(current: &str) -> Session {
    let now = Utc::now();
    Session {
        id: session_id(),
        user_id: USER_ID.parse().unwrap(),
        created_at: now - TimeDelta::hours(1),
        last_used_at: now - TimeDelta::minutes(5),
        expires_at: now + TimeDelta::days(29),
        revoked_at: None,
        client: ClientInfo::default(),
        refresh_digest: digest(current),
    }
}

fn digest(token: &str) -> String {
    format!("digest:{token}")
}

/// The mocks, with a deterministic refresh-token minter: tokens start as
/// `fresh`, each rotation appends `+`, and digests are prefixed.
struct Fixture {
    users: MockUserRepo,
    sessions: MockSessionRepo,
    tokens: MockTokenIssuer,
    minter: MockRefreshTokenMinter,
    hasher: MockPasswordHasher,
    audit: MockAuditLog,
}

impl Fixture {
    fn new() -> Self {
        let mut minter = MockRefreshTokenMinter::new();
        minter
            .expect_generate()
            .returning(|| Secret::new("fresh".to_string()));
        minter
            .expect_successor()
            .returning(|token| Secret::new(format!("{token}+")));
        minter.expect_digest().returning(digest);
        let mut tokens = MockTokenIssuer::new();
        tokens.expect_issue().returning(|user, session, issued_at| {
            Ok(IssuedToken {
                token: Secret::new(format!(
                    "jwt:{}:{session}:{}",
                    user.id,
                    issued_at.timestamp()
                )),
                expires_at: issued_at + TimeDelta::minutes(15),
                expires_in: 900,
            })
        });
        Self {
            users: MockUserRepo::new(),
            sessions: MockSessionRepo::new(),
            tokens,
            minter,
            hasher: MockPasswordHasher::new(),
            audit: {
                let mut audit = MockAuditLog::new();
                audit.expect_record().returning(|_| Ok(()));
                audit
            },
        }
    }

    fn service(self) -> AuthService {
        let ports = Ports {
            users: Arc::new(self.users),
            sessions: Arc::new(self.sessions),
            tokens: Arc::new(self.tokens),
            refresh_tokens: Arc::new(self.minter),
            hasher: Arc::new(self.hasher),
            audit: Arc::new(self.audit),
        };
        AuthService::new(ports, SessionPolicy::default(), PasswordPolicy::default())
    }

    fn with_token_claims(mut self, subject: &str, session: Option<&str>) -> Self {
        let claims = TokenClaims {
            subject: subject.to_string(),
            session_id: session.map(str::to_string),
            issued_at: Some(Utc::now() - TimeDelta::minutes(1)),
            expires_at: Utc::now() + TimeDelta::minutes(14),
        };
        self.tokens = MockTokenIssuer::new();
        self.tokens
            .expect_verify()
            .returning(move |_| Ok(claims.clone()));
        self
    }
}

fn principal(session: Option<SessionId>) -> Principal {
    Principal {
        user: sample_user(),
        session_id: session,
    }
}

// Register and login.

#[test]
fn register_starts_session_and_issues_pair() {
    let mut fixture = Fixture::new();
    fixture
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::new("$argon2id$fake".into())));
    fixture
        .users
        .expect_insert()
        .withf(|user, hash| {
            user.email.as_str() == "user@example.com"
                && user.name.as_str() == "user"
                && hash.expose() == "$argon2id$fake"
        })
        .times(1)
        .returning(|_, _| Ok(()));
    fixture
        .sessions
        .expect_create()
        .withf(|session| {
            session.refresh_digest == "digest:fresh"
                && session.client.user_agent.as_deref() == Some("curl/8")
                && session.expires_at - session.started_at == TimeDelta::days(30)
        })
        .times(1)
        .returning(|_| Ok(()));

    let client = ClientInfo::new(Some("curl/8"), Some("192.0.2.1".into()));
    let email = Email::parse("User@Example.com").unwrap();
    let result = fixture
        .service()
        .register(email, &password("mypassword"), None, &client)
        .unwrap();

    assert_eq!(result.user.name.as_str(), "user");
    assert_eq!(result.refresh_token.expose(), "fresh");
    assert!(result.token.token.expose().starts_with("jwt:"));
}

#[test]
fn register_reports_taken_email() {
    let mut fixture = Fixture::new();
    fixture
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::new("h".into())));
    fixture
        .users
        .expect_insert()
        .returning(|_, _| Err(InsertUserError::EmailTaken));

    let email = Email::parse("user@example.com").unwrap();
    let result =
        fixture
            .service()
            .register(email, &password("mypassword"), None, &ClientInfo::default());

    assert!(matches!(result, Err(RegisterError::EmailTaken)));
}

#[test]
fn register_passes_storage_failure_on() {
    let mut fixture = Fixture::new();
    fixture
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::new("h".into())));
    fixture
        .users
        .expect_insert()
        .returning(|_, _| Err(InsertUserError::Unexpected(anyhow::anyhow!("disk full"))));

    let email = Email::parse("user@example.com").unwrap();
    let result =
        fixture
            .service()
            .register(email, &password("mypassword"), None, &ClientInfo::default());

    assert!(matches!(result, Err(RegisterError::Unexpected(_))));
}

#[test]
fn register_passes_hashing_failure_on() {
    let mut fixture = Fixture::new();
    fixture
        .hasher
        .expect_hash()
        .returning(|_| Err(anyhow::anyhow!("out of memory")));

    let email = Email::parse("user@example.com").unwrap();
    let result =
        fixture
            .service()
            .register(email, &password("mypassword"), None, &ClientInfo::default());

    assert!(matches!(result, Err(RegisterError::Unexpected(_))));
}

#[test]
fn login_starts_session_with_right_password() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_email()
        .withf(|email| email.as_str() == "user@example.com")
        .returning(|_| Ok(Some(credentials())));
    fixture
        .hasher
        .expect_verify()
        .withf(|password, hash| password.expose() == "mypassword" && hash.expose() == "stored")
        .returning(|_, _| Ok(true));
    fixture.hasher.expect_needs_rehash().returning(|_| false);
    fixture
        .sessions
        .expect_create()
        .times(1)
        .returning(|_| Ok(()));

    let result = fixture
        .service()
        .login(
            " USER@example.com ",
            &password("mypassword"),
            &ClientInfo::default(),
        )
        .unwrap();

    assert_eq!(result.user, sample_user());
}

#[test]
fn login_rejects_wrong_password() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    fixture.hasher.expect_verify().returning(|_, _| Ok(false));
    fixture.sessions.expect_create().never();

    let result = fixture.service().login(
        "user@example.com",
        &password("wrong-password"),
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(LoginError::InvalidCredentials)));
}

#[test]
fn login_unknown_email_verifies_dummy_hash() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(None));
    fixture
        .hasher
        .expect_verify_dummy()
        .times(1)
        .return_const(());

    let result = fixture.service().login(
        "nobody@example.com",
        &password("mypassword"),
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(LoginError::InvalidCredentials)));
}

#[test]
fn login_malformed_email_verifies_dummy_hash() {
    let mut fixture = Fixture::new();
    fixture
        .hasher
        .expect_verify_dummy()
        .times(1)
        .return_const(());

    let result = fixture.service().login(
        "not an email",
        &password("mypassword"),
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(LoginError::InvalidCredentials)));
}

#[test]
fn login_passes_storage_failure_on() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Err(anyhow::anyhow!("connection refused")));

    let result = fixture.service().login(
        "user@example.com",
        &password("mypassword"),
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(LoginError::Unexpected(_))));
}

// Authentication of access tokens.

#[test]
fn session_token_needs_live_session() {
    let mut fixture = Fixture::new().with_token_claims(USER_ID, Some(SESSION_ID));
    fixture
        .sessions
        .expect_find_session_user()
        .with(
            eq(sample_user().id),
            eq(session_id()),
            mockall::predicate::always(),
        )
        .returning(|_, _, _| Ok(Some(sample_user())));

    let found = fixture.service().authenticate("jwt").unwrap();

    assert_eq!(found, principal(Some(session_id())));
}

#[test]
fn ended_session_token_is_refused() {
    let mut fixture = Fixture::new().with_token_claims(USER_ID, Some(SESSION_ID));
    fixture
        .sessions
        .expect_find_session_user()
        .returning(|_, _, _| Ok(None));

    let result = fixture.service().authenticate("jwt");

    assert!(matches!(result, Err(CurrentUserError::SessionEnded)));
}

#[test]
fn sessionless_token_checks_user_cutoff() {
    let mut fixture = Fixture::new().with_token_claims(USER_ID, None);
    fixture
        .users
        .expect_find_for_sessionless_token()
        .withf(|id, issued_at| *id == sample_user().id && issued_at.is_some())
        .returning(|_, _| Ok(Some(sample_user())));

    let found = fixture.service().authenticate("jwt").unwrap();

    assert_eq!(found, principal(None));
}

#[test]
fn sessionless_token_after_cutoff_is_refused() {
    let mut fixture = Fixture::new().with_token_claims(USER_ID, None);
    fixture
        .users
        .expect_find_for_sessionless_token()
        .returning(|_, _| Ok(None));

    let result = fixture.service().authenticate("jwt");

    assert!(matches!(result, Err(CurrentUserError::UserNotFound)));
}

#[test]
fn token_errors_map_to_current_user_errors() {
    for token_error in [TokenError::Expired, TokenError::Invalid] {
        let mut fixture = Fixture::new();
        let returned = token_error.clone();
        fixture.tokens = MockTokenIssuer::new();
        fixture
            .tokens
            .expect_verify()
            .returning(move |_| Err(returned.clone()));

        let result = fixture.service().authenticate("jwt");

        match (&token_error, result) {
            (TokenError::Expired, Err(CurrentUserError::TokenExpired)) => {}
            (TokenError::Invalid, Err(CurrentUserError::InvalidToken)) => {}
            (_, other) => panic!("{token_error:?} gave {other:?}"),
        }
    }
}

#[test]
fn malformed_claims_are_invalid() {
    let cases = [("abc123", None), (USER_ID, Some("not-a-uuid"))];
    for (subject, session) in cases {
        let fixture = Fixture::new().with_token_claims(subject, session);

        let result = fixture.service().authenticate("jwt");

        assert!(
            matches!(result, Err(CurrentUserError::InvalidToken)),
            "{subject} {session:?}"
        );
    }
}

#[test]
fn authenticate_passes_storage_failure_on() {
    let mut fixture = Fixture::new().with_token_claims(USER_ID, Some(SESSION_ID));
    fixture
        .sessions
        .expect_find_session_user()
        .returning(|_, _, _| Err(anyhow::anyhow!("pool timed out")));

    let result = fixture.service().authenticate("jwt");

    assert!(matches!(result, Err(CurrentUserError::Unexpected(_))));
}

// Refresh.

#[test]
fn refresh_rotates_current_token() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_find_by_refresh_digest()
        .with(eq("digest:r1"))
        .returning(|_| Ok(Some(live_session("r1"))));
    fixture
        .sessions
        .expect_rotate()
        .withf(|rotation| {
            rotation.retired_digest == "digest:r1" && rotation.new_digest == "digest:r1+"
        })
        .times(1)
        .returning(|_| Ok(true));
    fixture
        .users
        .expect_find_by_id()
        .returning(|_| Ok(Some(sample_user())));

    let result = fixture
        .service()
        .refresh("r1", None, &ClientInfo::default())
        .unwrap();

    assert_eq!(result.refresh_token.expose(), "r1+");
    assert_eq!(result.session_id, session_id());
}

#[test]
fn refresh_unknown_token_is_invalid() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_find_by_refresh_digest()
        .returning(|_| Ok(None));
    fixture
        .sessions
        .expect_find_retired()
        .returning(|_| Ok(None));

    let result = fixture
        .service()
        .refresh("unknown", None, &ClientInfo::default());

    assert!(matches!(result, Err(RefreshError::InvalidToken)));
}

fn retired_at(seconds_ago: i64) -> RetiredRefreshToken {
    RetiredRefreshToken {
        session_id: session_id(),
        retired_at: Utc::now() - TimeDelta::seconds(seconds_ago),
    }
}

#[test]
fn refresh_retry_in_grace_gets_same_pair() {
    let retired = retired_at(2);
    let retired_time = retired.retired_at;
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_find_by_refresh_digest()
        .returning(|_| Ok(None));
    fixture
        .sessions
        .expect_find_retired()
        .with(eq("digest:r1"))
        .returning(move |_| Ok(Some(retired.clone())));
    fixture
        .sessions
        .expect_find()
        .returning(|_| Ok(Some(live_session("r1+"))));
    fixture
        .users
        .expect_find_by_id()
        .returning(|_| Ok(Some(sample_user())));
    fixture.sessions.expect_revoke().never();

    let result = fixture
        .service()
        .refresh("r1", None, &ClientInfo::default())
        .unwrap();

    assert_eq!(result.refresh_token.expose(), "r1+");
    let expected = format!("jwt:{USER_ID}:{SESSION_ID}:{}", retired_time.timestamp());
    assert_eq!(result.token.token.expose(), &expected);
}

#[test]
fn refresh_lost_race_gets_same_pair() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_find_by_refresh_digest()
        .returning(|_| Ok(Some(live_session("r1"))));
    fixture.sessions.expect_rotate().returning(|_| Ok(false));
    fixture
        .sessions
        .expect_find_retired()
        .returning(|_| Ok(Some(retired_at(0))));
    fixture
        .sessions
        .expect_find()
        .returning(|_| Ok(Some(live_session("r1+"))));
    fixture
        .users
        .expect_find_by_id()
        .returning(|_| Ok(Some(sample_user())));

    let result = fixture
        .service()
        .refresh("r1", None, &ClientInfo::default())
        .unwrap();

    assert_eq!(result.refresh_token.expose(), "r1+");
}

/// Reuse after the grace window, or of a token older than the last
/// rotation, ends the session.
#[test]
fn refresh_reuse_revokes_session() {
    let cases = [(retired_at(60), "r1+"), (retired_at(1), "r1++")];
    for (retired, current) in cases {
        let mut fixture = Fixture::new();
        fixture
            .sessions
            .expect_find_by_refresh_digest()
            .returning(|_| Ok(None));
        fixture
            .sessions
            .expect_find_retired()
            .returning(move |_| Ok(Some(retired.clone())));
        let session = live_session(current);
        fixture
            .sessions
            .expect_find()
            .returning(move |_| Ok(Some(session.clone())));
        fixture
            .sessions
            .expect_revoke()
            .with(
                eq(sample_user().id),
                eq(session_id()),
                mockall::predicate::always(),
            )
            .times(1)
            .returning(|_, _, _| Ok(true));

        let result = fixture
            .service()
            .refresh("r1", None, &ClientInfo::default());

        assert!(
            matches!(result, Err(RefreshError::Reused)),
            "current {current}"
        );
    }
}

#[test]
fn refresh_of_unusable_session_is_refused() {
    let now = Utc::now();
    let mut expired = live_session("r1");
    expired.expires_at = now - TimeDelta::seconds(1);
    let mut idle = live_session("r1");
    idle.last_used_at = now - TimeDelta::days(15);
    let mut revoked = live_session("r1");
    revoked.revoked_at = Some(now - TimeDelta::minutes(1));
    let cases = [(expired, "expired"), (idle, "idle"), (revoked, "revoked")];

    for (session, label) in cases {
        let mut fixture = Fixture::new();
        fixture
            .sessions
            .expect_find_by_refresh_digest()
            .returning(move |_| Ok(Some(session.clone())));
        fixture.sessions.expect_rotate().never();

        let result = fixture
            .service()
            .refresh("r1", None, &ClientInfo::default());

        match (label, result) {
            ("expired" | "idle", Err(RefreshError::Expired)) => {}
            ("revoked", Err(RefreshError::SessionEnded)) => {}
            (_, other) => panic!("{label}: {other:?}"),
        }
    }
}

#[test]
fn refresh_with_other_users_token_is_refused() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_find_by_refresh_digest()
        .returning(|_| Ok(Some(live_session("r1"))));
    fixture.sessions.expect_rotate().never();

    let other: UserId = OTHER_USER_ID.parse().unwrap();
    let result = fixture
        .service()
        .refresh("r1", Some(other), &ClientInfo::default());

    assert!(matches!(result, Err(RefreshError::UserMismatch)));
}

// Logout, sessions and password change.

#[test]
fn logout_current_revokes_its_session() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_revoke()
        .with(
            eq(sample_user().id),
            eq(session_id()),
            mockall::predicate::always(),
        )
        .times(1)
        .returning(|_, _, _| Ok(true));

    let result = fixture.service().logout(
        &principal(Some(session_id())),
        LogoutScope::Current,
        &ClientInfo::default(),
    );

    assert!(result.is_ok());
}

#[test]
fn logout_current_without_session_fails() {
    let result = Fixture::new().service().logout(
        &principal(None),
        LogoutScope::Current,
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(LogoutError::NoSession)));
}

#[test]
fn logout_all_revokes_every_session() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_revoke_all()
        .withf(|user, _| *user == sample_user().id)
        .times(1)
        .returning(|_, _| Ok(()));

    let result =
        fixture
            .service()
            .logout(&principal(None), LogoutScope::All, &ClientInfo::default());

    assert!(result.is_ok());
}

#[test]
fn end_session_of_unknown_id_is_not_found() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_revoke()
        .returning(|_, _, _| Ok(false));

    let result = fixture.service().end_session(
        &principal(None),
        SessionId::new_random(),
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(EndSessionError::NotFound)));
}

#[test]
fn change_password_replaces_hash_and_sessions() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_id()
        .returning(|_| Ok(Some(credentials())));
    fixture
        .hasher
        .expect_verify()
        .withf(|password, _| password.expose() == "old-password")
        .returning(|_, _| Ok(true));
    fixture
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::new("new-hash".into())));
    fixture
        .users
        .expect_update_password_hash()
        .withf(|_, hash| hash.expose() == "new-hash")
        .times(1)
        .returning(|_, _| Ok(()));
    fixture
        .sessions
        .expect_revoke_all()
        .times(1)
        .returning(|_, _| Ok(()));
    fixture
        .sessions
        .expect_create()
        .times(1)
        .returning(|_| Ok(()));

    let result = fixture.service().change_password(
        &principal(Some(session_id())),
        &password("old-password"),
        &password("new-password"),
        &ClientInfo::default(),
    );

    let authenticated = result.unwrap();
    assert_ne!(authenticated.session_id, session_id());
}

#[test]
fn change_password_checks_current_password() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_id()
        .returning(|_| Ok(Some(credentials())));
    fixture.hasher.expect_verify().returning(|_, _| Ok(false));
    fixture.users.expect_update_password_hash().never();

    let result = fixture.service().change_password(
        &principal(Some(session_id())),
        &password("wrong-password"),
        &password("new-password"),
        &ClientInfo::default(),
    );

    assert!(matches!(
        result,
        Err(ChangePasswordError::InvalidCurrentPassword)
    ));
}

#[test]
fn change_password_applies_policy() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_id()
        .returning(|_| Ok(Some(credentials())));
    fixture.hasher.expect_verify().returning(|_, _| Ok(true));
    fixture.users.expect_update_password_hash().never();

    let result = fixture.service().change_password(
        &principal(Some(session_id())),
        &password("old-password"),
        &password("short"),
        &ClientInfo::default(),
    );

    assert!(matches!(
        result,
        Err(ChangePasswordError::WeakPassword(PasswordError::TooShort {
            min: 8
        }))
    ));
}

#[test]
fn prune_keeps_ended_sessions_a_day() {
    let mut fixture = Fixture::new();
    fixture
        .sessions
        .expect_prune()
        .withf(|now, idle_cutoff, revoked_before| {
            *now - *revoked_before == TimeDelta::days(1)
                && *now - *idle_cutoff == TimeDelta::days(14)
        })
        .times(1)
        .returning(|_, _, _| Ok(3));

    let pruned = fixture.service().prune_sessions().unwrap();

    assert_eq!(pruned, 3);
}

#[test]
fn session_policy_grace_window() {
    let policy = SessionPolicy {
        reuse_grace: Duration::from_secs(10),
        ..SessionPolicy::default()
    };
    let now: DateTime<Utc> = Utc::now();

    assert!(policy.within_grace(now - TimeDelta::seconds(10), now));
    assert!(!policy.within_grace(now - TimeDelta::seconds(11), now));
}

#[test]
fn login_of_disabled_user_is_refused() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_email()
        .returning(|_| {
            let mut disabled = credentials();
            disabled.disabled_at = Some(Utc::now());
            Ok(Some(disabled))
        });
    fixture.hasher.expect_verify().returning(|_, _| Ok(true));
    fixture.sessions.expect_create().never();

    let result = fixture.service().login(
        "user@example.com",
        &password("mypassword"),
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(LoginError::Disabled)));
}

#[test]
fn login_outcomes_are_audited() {
    let cases = [
        (true, AuditKind::LoginSucceeded),
        (false, AuditKind::LoginFailed),
    ];
    for (password_ok, expected) in cases {
        let mut fixture = Fixture::new();
        fixture
            .users
            .expect_find_credentials_by_email()
            .returning(|_| Ok(Some(credentials())));
        fixture
            .hasher
            .expect_verify()
            .returning(move |_, _| Ok(password_ok));
        fixture.hasher.expect_needs_rehash().returning(|_| false);
        fixture.sessions.expect_create().returning(|_| Ok(()));
        fixture.audit = MockAuditLog::new();
        fixture
            .audit
            .expect_record()
            .withf(move |event| {
                event.kind == expected
                    && event.user_id == Some(sample_user().id)
                    && event.ip.as_deref() == Some("192.0.2.9")
            })
            .times(1)
            .returning(|_| Ok(()));

        let client = ClientInfo::new(None, Some("192.0.2.9".into()));
        let _ = fixture
            .service()
            .login("user@example.com", &password("mypassword"), &client);
    }
}

#[test]
fn audit_failure_does_not_fail_request() {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    fixture.hasher.expect_verify().returning(|_, _| Ok(true));
    fixture.hasher.expect_needs_rehash().returning(|_| false);
    fixture.sessions.expect_create().returning(|_| Ok(()));
    fixture.audit = MockAuditLog::new();
    fixture
        .audit
        .expect_record()
        .returning(|_| Err(anyhow::anyhow!("audit table is missing")));

    let result = fixture.service().login(
        "user@example.com",
        &password("mypassword"),
        &ClientInfo::default(),
    );

    assert!(result.is_ok());
}

/// A fixture whose user has a hash made at an outdated cost.
fn fixture_with_outdated_hash() -> Fixture {
    let mut fixture = Fixture::new();
    fixture
        .users
        .expect_find_credentials_by_email()
        .returning(|_| {
            Ok(Some(UserCredentials {
                user: sample_user(),
                password_hash: PasswordHash::new("$argon2id$v=19$m=64,t=1,p=1$old".into()),
                disabled_at: None,
            }))
        });
    fixture.sessions.expect_create().returning(|_| Ok(()));
    fixture
}

#[test]
fn login_rehashes_outdated_hash() {
    let mut fixture = fixture_with_outdated_hash();
    fixture.hasher.expect_verify().returning(|_, _| Ok(true));
    fixture.hasher.expect_needs_rehash().returning(|_| true);
    fixture
        .hasher
        .expect_hash()
        .withf(|password| password.expose() == "mypassword")
        .times(1)
        .returning(|_| Ok(PasswordHash::new("$argon2id$new".into())));
    fixture
        .users
        .expect_update_password_hash()
        .withf(|id, hash| *id == sample_user().id && hash.expose() == "$argon2id$new")
        .times(1)
        .returning(|_, _| Ok(()));

    let result = fixture.service().login(
        "user@example.com",
        &password("mypassword"),
        &ClientInfo::default(),
    );

    assert!(result.is_ok());
}

#[test]
fn login_survives_failed_rehash() {
    let mut fixture = fixture_with_outdated_hash();
    fixture.hasher.expect_verify().returning(|_, _| Ok(true));
    fixture.hasher.expect_needs_rehash().returning(|_| true);
    fixture
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::new("$argon2id$new".into())));
    fixture
        .users
        .expect_update_password_hash()
        .returning(|_, _| Err(anyhow::anyhow!("database is read-only")));

    let result = fixture.service().login(
        "user@example.com",
        &password("mypassword"),
        &ClientInfo::default(),
    );

    assert_eq!(result.unwrap().user, sample_user());
}

#[test]
fn login_with_wrong_password_never_rehashes() {
    let mut fixture = fixture_with_outdated_hash();
    fixture.hasher.expect_verify().returning(|_, _| Ok(false));
    fixture.hasher.expect_needs_rehash().never();
    fixture.hasher.expect_hash().never();

    let result = fixture.service().login(
        "user@example.com",
        &password("wrong-password"),
        &ClientInfo::default(),
    );

    assert!(matches!(result, Err(LoginError::InvalidCredentials)));
}
