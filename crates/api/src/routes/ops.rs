//! Operator endpoints: liveness, readiness and metrics.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;
use platform_auth_adapters::db::{check_ready, record_pool_state, NotReady};
use platform_auth_adapters::DbPool;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// The body of a liveness or readiness response.
#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    #[schema(example = "ok")]
    pub status: String,
}

/// How long readiness waits for a database connection.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// State of the operator endpoints.
#[derive(Clone)]
pub struct OpsState {
    pub pool: DbPool,
    pub metrics: PrometheusHandle,
}

/// Returns 200 as long as the process serves HTTP. It does not touch the
/// database, so it is a liveness check only.
#[utoipa::path(
    get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process serves HTTP.", body = StatusBody))
)]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Returns 200 when a database query succeeds and every migration is applied,
/// else 503 with the reason.
#[utoipa::path(
    get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "The database accepts queries and is migrated.", body = StatusBody),
        (status = 503, description = "Not ready; `detail` gives the reason.", body = crate::error::ErrorBody, headers(("Retry-After" = u32, description = "Seconds"))),
    )
)]
pub async fn ready(state: web::Data<OpsState>) -> HttpResponse {
    let pool = state.pool.clone();
    let result = web::block(move || check_ready(&pool, READY_TIMEOUT)).await;

    let reason = match result {
        Ok(Ok(())) => return HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(Err(NotReady::Unreachable(error))) => {
            tracing::warn!(error = format!("{error:#}"), "readiness check failed");
            "The database is unreachable."
        }
        Ok(Err(NotReady::MigrationsPending)) => {
            tracing::warn!("readiness check failed: migrations are pending");
            "Database migrations are pending; run `platform-auth migrate`."
        }
        Err(error) => {
            tracing::error!(error = %error, "readiness check could not run");
            "The readiness check could not run."
        }
    };
    HttpResponse::ServiceUnavailable()
        .insert_header(("Retry-After", "5"))
        .json(json!({ "detail": reason, "code": "not_ready" }))
}

/// Returns every metric in the Prometheus text format.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format; served on PLATFORM_METRICS_ADDR instead when that is set.", body = String, content_type = "text/plain"))
)]
pub async fn metrics(state: web::Data<OpsState>) -> HttpResponse {
    record_pool_state(&state.pool);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
