//! `/api/v1/auth`: register, login and me.

use actix_web::{web, HttpRequest, HttpResponse};
use platform_auth_domain::{
    DisplayName, Email, FieldError, LockoutError, LoginError, Password, PasswordPolicy,
    RegisterError,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::client_ip::ClientAddress;
use crate::error::ApiError;
use crate::extract::{client_info, optional_string, required_string, BearerToken};
use crate::limits::{check_client_limit, LimitState};
use crate::routes::{AuthBody, AuthState, UserBody};
use crate::telemetry::record_user;

/// Counts a login attempt in `auth_logins_total` by its outcome.
pub fn record_login(outcome: &'static str) {
    metrics::counter!("auth_logins_total", "outcome" => outcome).increment(1);
}

/// The register body. Fields are read as raw JSON values so that a wrong
/// type is reported per field, like any other invalid value.
#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(value_type = String, required = true, format = Email, max_length = 254, example = "user@example.com")]
    email: Option<Value>,
    #[schema(value_type = String, required = true, min_length = 8, max_length = 256, example = "mypassword")]
    password: Option<Value>,
    /// Defaults to the part of the email before the `@`.
    #[schema(value_type = Option<String>, max_length = 100, example = "John Doe")]
    name: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(value_type = String, required = true, example = "user@example.com")]
    email: Option<Value>,
    #[schema(value_type = String, required = true, max_length = 256, example = "mypassword")]
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

#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in.", body = crate::routes::AuthBody),
        (status = 409, description = "An account with this email exists.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts from this client, or the account is locked.", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Too many password hashes in progress.", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 400, description = "The body is not valid JSON.", body = crate::error::ErrorBody),
        (status = 413, description = "The body is over 4 KiB.", body = crate::error::ErrorBody),
        (status = 415, description = "The Content-Type is not JSON.", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields, listed in `errors`.", body = crate::error::ErrorBody),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
pub async fn register(
    state: web::Data<AuthState>,
    limits: web::Data<LimitState>,
    request: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let registration = body.validate(state.service.password_policy())?;
    check_client_limit(
        &limits.limits.register_per_client,
        ClientAddress::of(&request),
    )
    .await?;
    let client = client_info(&request);
    let service = state.service.clone();

    let result = limits
        .hash_gate
        .run(move || {
            service.register(
                registration.email,
                &registration.password,
                registration.name,
                &client,
            )
        })
        .await?;

    match result {
        Ok(authenticated) => {
            record_user(authenticated.user.id);
            tracing::info!(user.id = %authenticated.user.id, "user registered");
            Ok(HttpResponse::Created().json(AuthBody::from(authenticated)))
        }
        Err(RegisterError::EmailTaken) => Err(ApiError::EmailTaken),
        Err(RegisterError::Unexpected(error)) => Err(ApiError::Internal(error)),
    }
}

#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = crate::routes::AuthBody),
        (status = 401, description = "Wrong password or unknown email.", body = crate::error::ErrorBody),
        (status = 403, description = "The account is disabled.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts from this client, or the account is locked.", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Too many password hashes in progress.", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 400, description = "The body is not valid JSON.", body = crate::error::ErrorBody),
        (status = 413, description = "The body is over 4 KiB.", body = crate::error::ErrorBody),
        (status = 415, description = "The Content-Type is not JSON.", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid fields, listed in `errors`.", body = crate::error::ErrorBody),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
/// Logs a user in. Per-client limits apply first, then the hash gate, then
/// the account lockout, which is checked just before the password so that
/// as few attempts as possible pass it together.
pub async fn login(
    state: web::Data<AuthState>,
    limits: web::Data<LimitState>,
    request: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (email, password) = body.validate(state.service.password_policy())?;
    if let Err(error) =
        check_client_limit(&limits.limits.login_per_client, ClientAddress::of(&request)).await
    {
        record_login("rate_limited");
        return Err(error);
    }
    let client = client_info(&request);
    let service = state.service.clone();
    let lockout = limits.limits.lockout.clone();

    let result = limits
        .hash_gate
        .run(move || {
            let result = lockout.guard(&email, || service.login(&email, &password, &client));
            if matches!(result, Err(LockoutError::Locked { .. })) {
                service.note_locked_login(&email, &client);
            }
            result
        })
        .await;

    let result = match result {
        Ok(result) => result,
        Err(error) => {
            record_login("overloaded");
            return Err(error);
        }
    };
    match result {
        Ok(authenticated) => {
            record_user(authenticated.user.id);
            record_login("success");
            tracing::info!(user.id = %authenticated.user.id, "user logged in");
            Ok(HttpResponse::Ok().json(AuthBody::from(authenticated)))
        }
        Err(LockoutError::Locked { retry_after }) => {
            record_login("locked");
            tracing::info!("login rejected: account locked after failed logins");
            Err(ApiError::AccountLocked { retry_after })
        }
        Err(LockoutError::Login(LoginError::InvalidCredentials)) => {
            record_login("invalid_credentials");
            tracing::info!("login rejected: invalid credentials");
            Err(ApiError::InvalidCredentials)
        }
        Err(LockoutError::Login(LoginError::Disabled)) => {
            record_login("disabled");
            tracing::info!("login rejected: account disabled");
            Err(ApiError::AccountDisabled)
        }
        Err(LockoutError::Login(LoginError::Unexpected(error))) => {
            record_login("error");
            Err(ApiError::Internal(error))
        }
    }
}

#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user.", body = UserBody),
        (status = 401, description = "Missing, invalid or expired access token, or ended session.", body = crate::error::ErrorBody, headers(("WWW-Authenticate" = String, description = "Bearer challenge"))),
        (status = 500, description = "Unexpected failure; the cause is logged.", body = crate::error::ErrorBody),
    )
)]
pub async fn me(state: web::Data<AuthState>, token: BearerToken) -> Result<HttpResponse, ApiError> {
    let service = state.service.clone();

    let user = web::block(move || service.current_user(token.0.expose())).await??;
    record_user(user.id);

    Ok(HttpResponse::Ok().json(UserBody::from(&user)))
}
