//! Request extraction: the JSON body rules and the bearer token.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use platform_auth_domain::{FieldError, Secret};
use serde_json::Value;

use crate::error::ApiError;

/// The largest request body accepted. The auth routes take three short
/// fields, so 4 KiB leaves ample room and bounds what one request costs.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024;

/// JSON body settings: the size limit, `application/json` (or any
/// `+json` type) required, and failures in the API's error envelope.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT_BYTES)
        .content_type_required(true)
        .content_type(|mime| mime.suffix() == Some(mime::JSON))
        .error_handler(|error, _request| json_error(error).into())
}

fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge { limit },
        JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::PayloadTooLarge { limit },
        JsonPayloadError::Deserialize(error) if error.is_data() => ApiError::NotAnObject,
        JsonPayloadError::Deserialize(error) => ApiError::InvalidJson(error.to_string()),
        _ => ApiError::UnreadableBody,
    }
}

/// Reads a required string field, recording a field error when it is
/// missing, null or not a string.
pub fn required_string<'a>(
    value: &'a Option<Value>,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    if matches!(value, None | Some(Value::Null)) {
        errors.push(FieldError::new(
            field,
            "required",
            "This field is required.",
        ));
        return None;
    }
    optional_string(value, field, errors)
}

/// Reads an optional string field, where `null` counts as absent, and
/// records a field error when it is present but not a string.
pub fn optional_string<'a>(
    value: &'a Option<Value>,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            errors.push(FieldError::new(
                field,
                "invalid_type",
                "This field must be a string.",
            ));
            None
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is
/// matched case-insensitively.
pub struct BearerToken(pub Secret<String>);

impl FromRequest for BearerToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(parse_authorization(request))
    }
}

fn parse_authorization(request: &HttpRequest) -> Result<BearerToken, ApiError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::MissingToken(
            "Authorization header is missing; send Authorization: Bearer <token>.",
        ));
    };
    let value = value.to_str().map_err(|_| {
        ApiError::InvalidToken(
            "Authorization header contains characters that are not visible ASCII.",
        )
    })?;

    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingToken(
            "Authorization header must use the Bearer scheme.",
        ));
    }

    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(ApiError::InvalidToken(
            "Authorization header must be Bearer followed by one token.",
        ));
    }
    Ok(BearerToken(Secret::new(token.to_string())))
}
