//! Wiring: adapters into the use cases, the use cases into routes, and
//! routes into a listening server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use platform_auth_adapters::{
    Argon2Hasher, DieselAuditLog, DieselSessionRepo, DieselUserRepo, HmacRefreshTokens, JwtIssuer,
};
use platform_auth_domain::{AbuseLimits, AuthService, Ports};
use tokio::task::JoinHandle;

use crate::extract::json_config;
use crate::limits::{purge_expired_counters, LimitState};
use crate::openapi;
use crate::routes::ops::{self, OpsState};
use crate::routes::{auth, not_found, sessions, single_method_resource, AuthState};
use crate::settings::Settings;
use crate::telemetry::{metrics_handle, observe_requests};

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    local_addr: SocketAddr,
    admin: Option<(Server, SocketAddr)>,
    pruner: JoinHandle<()>,
    abuse_limits: AbuseLimits,
}

impl Application {
    /// Opens and migrates the database, builds the adapters and binds the
    /// listening socket. Blocks while it connects and migrates.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let pool = settings.database.open(&settings.pool)?;
        let limits = web::Data::new(LimitState::new(&settings.limits, pool.clone()));
        let proxies = web::Data::new(settings.limits.proxies.clone());
        let abuse_limits = limits.limits.clone();
        let ops_state = web::Data::new(OpsState {
            pool: pool.clone(),
            metrics: metrics_handle(),
        });
        let ports = Ports {
            users: Arc::new(DieselUserRepo::new(pool.clone())),
            sessions: Arc::new(DieselSessionRepo::new(pool.clone())),
            audit: Arc::new(DieselAuditLog::new(pool)),
            tokens: Arc::new(JwtIssuer::new(&settings.jwt_secret, settings.jwt_ttl)?),
            refresh_tokens: Arc::new(HmacRefreshTokens::new(&settings.jwt_secret)),
            hasher: Arc::new(Argon2Hasher::new(settings.argon2)?),
        };
        let service = AuthService::new(
            ports,
            settings.sessions.clone(),
            settings.password_policy.clone(),
        );
        let pruner = spawn_session_pruner(service.clone(), settings.session_prune_interval);
        let state = web::Data::new(AuthState { service });

        let address = (settings.host.as_str(), settings.port);
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "failed to listen on {}:{}; set PLATFORM_HOST and PLATFORM_PORT to a free address",
                settings.host, settings.port
            )
        })?;
        let local_addr = listener.local_addr()?;
        let admin = match &settings.metrics_addr {
            Some(address) => Some(admin_server(address, ops_state.clone(), settings)?),
            None => None,
        };
        let serve_metrics = admin.is_none();

        let main_ops = ops_state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(observe_requests))
                .app_data(json_config())
                .app_data(state.clone())
                .app_data(main_ops.clone())
                .app_data(limits.clone())
                .app_data(proxies.clone())
                .configure(routes)
                .configure(|config| {
                    if serve_metrics {
                        config.service(metrics_resource());
                    }
                })
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)?
        .run();

        Ok(Self {
            server,
            local_addr,
            admin,
            pruner,
            abuse_limits,
        })
    }

    /// Returns the address actually bound, which includes the chosen port
    /// when port 0 was requested.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Returns the address of the separate metrics server, if configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, address)| *address)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections and
    /// lets in-flight requests finish within the shutdown timeout. Expired
    /// limit counters are deleted meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let servers = async {
            match self.admin {
                Some((admin, _)) => futures_util::future::try_join(self.server, admin)
                    .await
                    .map(|_| ()),
                None => self.server.await,
            }
        };
        let purge = purge_expired_counters(self.abuse_limits);
        let result = tokio::select! {
            result = servers => result,
            () = purge => Ok(()),
        };
        self.pruner.abort();
        result
    }
}

/// Mounts every route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(single_method_resource(
            "/health",
            "GET",
            web::get().to(ops::health),
        ))
        .service(single_method_resource(
            "/ready",
            "GET",
            web::get().to(ops::ready),
        ))
        .service(single_method_resource(
            openapi::SPEC_PATH,
            "GET",
            web::get().to(openapi::spec),
        ))
        .service(openapi::docs_page())
        .service(
            web::scope("/api/v1/auth")
                .service(single_method_resource(
                    "/register",
                    "POST",
                    web::post().to(auth::register),
                ))
                .service(single_method_resource(
                    "/login",
                    "POST",
                    web::post().to(auth::login),
                ))
                .service(single_method_resource(
                    "/me",
                    "GET",
                    web::get().to(auth::me),
                ))
                .service(single_method_resource(
                    "/refresh",
                    "POST",
                    web::post().to(sessions::refresh),
                ))
                .service(single_method_resource(
                    "/logout",
                    "POST",
                    web::post().to(sessions::logout),
                ))
                .service(single_method_resource(
                    "/password",
                    "POST",
                    web::post().to(sessions::change_password),
                ))
                .service(single_method_resource(
                    "/sessions",
                    "GET",
                    web::get().to(sessions::list_sessions),
                ))
                .service(single_method_resource(
                    "/sessions/{id}",
                    "DELETE",
                    web::delete().to(sessions::end_session),
                )),
        );
}

fn metrics_resource() -> actix_web::Resource {
    single_method_resource("/metrics", "GET", web::get().to(ops::metrics))
}

/// Binds the metrics-only server on its own address.
fn admin_server(
    address: &str,
    ops_state: web::Data<OpsState>,
    settings: &Settings,
) -> anyhow::Result<(Server, SocketAddr)> {
    let listener = TcpListener::bind(address).with_context(|| {
        format!("failed to listen on {address}; set PLATFORM_METRICS_ADDR to a free address")
    })?;
    let local_addr = listener.local_addr()?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(ops_state.clone())
            .service(metrics_resource())
            .default_service(web::to(not_found))
    })
    .workers(1)
    .shutdown_timeout(settings.shutdown_timeout.as_secs())
    .listen(listener)?
    .run();
    Ok((server, local_addr))
}

/// Deletes finished sessions every `interval` on a blocking thread, so
/// requests never wait for it. A failed run is logged and retried at the
/// next tick.
fn spawn_session_pruner(service: AuthService, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let service = service.clone();
            match tokio::task::spawn_blocking(move || service.prune_sessions()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(pruned)) => {
                    tracing::info!(sessions.pruned = pruned, "pruned finished sessions")
                }
                Ok(Err(error)) => {
                    tracing::error!(error = format!("{error:#}"), "failed to prune sessions")
                }
                Err(error) => tracing::error!(error = %error, "session pruning task failed"),
            }
        }
    })
}
