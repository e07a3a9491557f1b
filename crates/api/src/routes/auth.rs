//! `/api/v1/auth`: register, login and me.

use actix_web::{web, HttpResponse};
use platform_auth_domain::{
    AuthService, CurrentUserError, DisplayName, Email, FieldError, LockoutError, LoginError,
    Password, PasswordPolicy, RegisterError,
};
use serde::Deserialize;
use serde_json::Value;

use crate::client_ip::ClientAddress;
use crate::error::ApiError;
use crate::extract::{optional_string, required_string, BearerToken};
use crate::limits::{check_client_limit, LimitState};
use crate::routes::{AuthBody, UserBody};

/// State shared by the handlers.
#[derive(Clone)]
pub struct AuthState {
    pub service: AuthService,
    pub password_policy: PasswordPolicy,
}

/// The register body. Fields are read as raw JSON values so that a wrong
/// type is reported per field, like any other invalid value.
#[derive(Deserialize)]
pub struct RegisterRequest {
    email: Option<Value>,
    password: Option<Value>,
    name: Option<Value>,
}

#[derive(Deserialize)]
pub struct LoginRequest {
    email: Option<Value>,
    password: Option<Value>,
}

struct Registration {
    email: Email,
    password: Password,
    name: Option<DisplayName>,
}

impl RegisterRequest {
    fn validate(&self, policy: &PasswordPolicy) -> Result<Registration, ApiError> {
        let mut errors = Vec::new();

        let email = required_string(&self.email, "email", &mut errors).and_then(|raw| {
            Email::parse(raw)
                .map_err(|error| {
                    errors.push(FieldError::new("email", error.code(), error.to_string()))
                })
                .ok()
        });
        let password = required_string(&self.password, "password", &mut errors)
            .map(|raw| Password::new(raw.to_string()));
        let name = optional_string(&self.name, "name", &mut errors).and_then(|raw| {
            DisplayName::parse(raw)
                .map_err(|error| {
                    errors.push(FieldError::new("name", error.code(), error.to_string()))
                })
                .ok()
        });

        if let (Some(email), Some(password)) = (&email, &password) {
            if let Err(error) = policy.check_new(password, email) {
                errors.push(FieldError::new("password", error.code(), error.to_string()));
            }
        }

        match (email, password) {
            (Some(email), Some(password)) if errors.is_empty() => Ok(Registration {
                email,
                password,
                name,
            }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

impl LoginRequest {
    /// Checks shape only. The email's format is not checked here, because an
    /// unparseable email is treated as an unknown one and gets the same 401.
    fn validate(&self, policy: &PasswordPolicy) -> Result<(String, Password), ApiError> {
        let mut errors = Vec::new();

        let email = required_string(&self.email, "email", &mut errors);
        let password = required_string(&self.password, "password", &mut errors)
            .map(|raw| Password::new(raw.to_string()));
        if let Some(password) = &password {
            if let Err(error) = policy.check_length(password) {
                errors.push(FieldError::new("password", error.code(), error.to_string()));
            }
        }

        match (email, password) {
            (Some(email), Some(password)) if errors.is_empty() => Ok((email.to_string(), password)),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

pub async fn register(
    state: web::Data<AuthState>,
    limits: web::Data<LimitState>,
    client: ClientAddress,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let registration = body.validate(&state.password_policy)?;
    check_client_limit(&limits.limits.register_per_client, client).await?;
    let service = state.service.clone();

    let result = limits
        .hash_gate
        .run(move || {
            service.register(
                registration.email,
                &registration.password,
                registration.name,
            )
        })
        .await?;

    match result {
        Ok(authenticated) => {
            tracing::info!(user.id = %authenticated.user.id, "user registered");
            Ok(HttpResponse::Created().json(AuthBody::from(authenticated)))
        }
        Err(RegisterError::EmailTaken) => Err(ApiError::EmailTaken),
        Err(RegisterError::Unexpected(error)) => Err(ApiError::Internal(error)),
    }
}

/// Logs a user in. Per-client limits apply first, then the hash gate, then
/// the account lockout, which is checked just before the password so that
/// as few attempts as possible pass it together.
pub async fn login(
    state: web::Data<AuthState>,
    limits: web::Data<LimitState>,
    client: ClientAddress,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (email, password) = body.validate(&state.password_policy)?;
    check_client_limit(&limits.limits.login_per_client, client).await?;
    let service = state.service.clone();
    let lockout = limits.limits.lockout.clone();

    let result = limits
        .hash_gate
        .run(move || lockout.guard(&email, || service.login(&email, &password)))
        .await?;

    match result {
        Ok(authenticated) => {
            tracing::info!(user.id = %authenticated.user.id, "user logged in");
            Ok(HttpResponse::Ok().json(AuthBody::from(authenticated)))
        }
        Err(LockoutError::Locked { retry_after }) => {
            tracing::info!("login rejected: account locked after failed logins");
            Err(ApiError::AccountLocked { retry_after })
        }
        Err(LockoutError::Login(LoginError::InvalidCredentials)) => {
            tracing::info!("login rejected: invalid credentials");
            Err(ApiError::InvalidCredentials)
        }
        Err(LockoutError::Login(LoginError::Unexpected(error))) => Err(ApiError::Internal(error)),
    }
}

pub async fn me(state: web::Data<AuthState>, token: BearerToken) -> Result<HttpResponse, ApiError> {
    let service = state.service.clone();

    let result = web::block(move || service.current_user(token.0.expose())).await?;

    match result {
        Ok(user) => Ok(HttpResponse::Ok().json(UserBody::from(&user))),
        Err(CurrentUserError::TokenExpired) => Err(ApiError::TokenExpired),
        Err(CurrentUserError::InvalidToken) => Err(ApiError::InvalidToken(
            "The token is invalid; log in again to get a new one.",
        )),
        Err(CurrentUserError::UserNotFound) => {
            Err(ApiError::InvalidToken("The token's user no longer exists."))
        }
        Err(CurrentUserError::Unexpected(error)) => Err(ApiError::Internal(error)),
    }
}
