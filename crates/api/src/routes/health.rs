use actix_web::HttpResponse;
use serde_json::json;

/// Returns 200 as long as the process serves HTTP. It does not touch the
/// database, so it is a liveness check only.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}
