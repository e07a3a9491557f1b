//! Logs, request ids and metrics.
//!
//! Logs go through `tracing` to standard error: human-readable in `dev`,
//! one JSON object per line elsewhere. `RUST_LOG` sets the filter (default
//! `info` for the server and `warn` for the other commands). Every request
//! gets one log line with its method, route, status, latency and request
//! id. A user is identified by id, never by email, and no password, token
//! or hash is logged.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

/// The header that carries a request's id in and out.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Latency buckets in seconds, from a cached `/me` to a slow hash.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the global subscriber, logging at `default_level` unless
/// `RUST_LOG` sets another filter. Colours are used only on a terminal.
pub fn init(json: bool, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);

    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

/// Returns the process-wide Prometheus recorder, installing it on first
/// use. Several applications in one process (as in tests) share it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("the bucket list is not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// Keeps a client's `X-Request-Id` if it is a plausible id: 1 to 128
/// characters from `[A-Za-z0-9._-]`. Any other value is replaced by a new
/// UUID, so arbitrary client text never reaches the logs.
fn request_id(request: &ServiceRequest) -> String {
    request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
        })
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_string)
}

/// Middleware: runs each request inside a span carrying its id, logs one
/// line when it completes, records the request metrics, and echoes the id
/// in the response.
pub async fn observe_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&request);
    let method = request.method().to_string();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let span = tracing::info_span!(
        "request",
        request.id = %id,
        http.method = %method,
        http.route = %route,
        user.id = tracing::field::Empty,
    );
    let started = Instant::now();

    let mut response = next.call(request).instrument(span.clone()).await?;

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            http.status = status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request completed"
        );
    });
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());

    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

/// Adds the authenticated user's id to the current request's log lines.
pub fn record_user(user_id: impl std::fmt::Display) {
    tracing::Span::current().record("user.id", tracing::field::display(user_id));
}
