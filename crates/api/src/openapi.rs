//! The OpenAPI 3.1 document, generated from the handlers' annotations, and
//! the browsable page that renders it.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::routes::{auth, ops, sessions};

/// The path the document is served at.
pub const SPEC_PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "platform-auth",
        description = "Register, log in, and manage sessions with JWT access tokens and rotating refresh tokens. Every error body is {\"detail\", \"code\"}; unknown paths get 404 `not_found` and other methods 405 `method_not_allowed`."
    ),
    paths(
        auth::register,
        auth::login,
        auth::me,
        sessions::refresh,
        sessions::logout,
        sessions::change_password,
        sessions::list_sessions,
        sessions::end_session,
        ops::health,
        ops::ready,
        ops::metrics,
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Accounts and access tokens"),
        (name = "sessions", description = "Refresh tokens and sessions"),
        (name = "operations", description = "Probes and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Returns the document as JSON, rendered once per process.
pub async fn spec() -> HttpResponse {
    static SPEC: OnceLock<String> = OnceLock::new();
    let body = SPEC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes")
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_str())
}

/// Builds the Swagger UI page at `/api/v1/docs/`. Its assets are built
/// into the binary, so it works without internet access.
pub fn docs_page() -> SwaggerUi {
    SwaggerUi::new("/api/v1/docs/{_:.*}").config(Config::new([SPEC_PATH]))
}
