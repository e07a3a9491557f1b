//! Request extraction: the JSON body rules and the bearer token.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use platform_auth_domain::{ClientInfo, FieldError, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client_ip::ClientAddress;
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

/// A JSON body that may be left out: `None` when the request has no body,
/// otherwise parsed with the same rules and errors as `web::Json`.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !has_body(request) {
            return Box::pin(ready(Ok(Self(None))));
        }
        let json = web::Json::<T>::from_request(request, payload);
        Box::pin(async move { Ok(Self(Some(json.await?.into_inner()))) })
    }
}

fn has_body(request: &HttpRequest) -> bool {
    let headers = request.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|length| length.trim() != "0")
}

/// Returns the client's user agent and address, as trusted proxies forward
/// it, for recording on its sessions.
pub fn client_info(request: &HttpRequest) -> ClientInfo {
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    let ip = ClientAddress::of(request).0.to_string();
    ClientInfo::new(user_agent, Some(ip))
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

impl BearerToken {
    /// Reads the header if one is sent at all: `None` when it is absent,
    /// an error when it is present but not a Bearer token.
    pub fn optional(request: &HttpRequest) -> Result<Option<Self>, ApiError> {
        if request.headers().contains_key(header::AUTHORIZATION) {
            parse_authorization(request).map(Some)
        } else {
            Ok(None)
        }
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
