//! Wiring: adapters into the use cases, the use cases into routes, and
//! routes into a listening server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::Logger;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use platform_auth_adapters::{Argon2Hasher, DieselUserRepo, JwtIssuer};
use platform_auth_domain::{AbuseLimits, AuthService};

use crate::extract::json_config;
use crate::limits::{purge_expired_counters, LimitState};
use crate::routes::auth::{self, AuthState};
use crate::routes::{health, not_found, single_method_resource};
use crate::settings::Settings;

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    local_addr: SocketAddr,
    abuse_limits: AbuseLimits,
}

impl Application {
    /// Opens and migrates the database, builds the adapters and binds the
    /// listening socket. Blocks while it connects and migrates.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let pool = settings.database.open(&settings.pool)?;
        let limits = web::Data::new(LimitState::new(&settings.limits, pool.clone()));
        let proxies = web::Data::new(settings.limits.proxies.clone());
        let users = Arc::new(DieselUserRepo::new(pool));
        let tokens = Arc::new(JwtIssuer::new(&settings.jwt_secret, settings.jwt_ttl)?);
        let hasher = Arc::new(Argon2Hasher::new(settings.argon2)?);
        let state = web::Data::new(AuthState {
            service: AuthService::new(users, tokens, hasher),
            password_policy: settings.password_policy.clone(),
        });

        let address = (settings.host.as_str(), settings.port);
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "failed to listen on {}:{}; set PLATFORM_HOST and PLATFORM_PORT to a free address",
                settings.host, settings.port
            )
        })?;
        let local_addr = listener.local_addr()?;
        let abuse_limits = limits.limits.clone();

        let server = HttpServer::new(move || {
            App::new()
                .wrap(request_logger())
                .app_data(json_config())
                .app_data(state.clone())
                .app_data(limits.clone())
                .app_data(proxies.clone())
                .configure(routes)
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        .run();

        Ok(Self {
            server,
            local_addr,
            abuse_limits,
        })
    }

    /// Returns the address actually bound, which includes the chosen port
    /// when port 0 was requested.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until the server stops, deleting expired limit counters
    /// meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let purge = purge_expired_counters(self.abuse_limits);
        tokio::select! {
            result = self.server => result,
            () = purge => Ok(()),
        }
    }
}

/// Mounts every route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(single_method_resource(
            "/health",
            "GET",
            web::get().to(health::health),
        ))
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
                )),
        );
}

/// One log line per request: method, path without query string (which
/// could carry a secret), status and duration.
fn request_logger() -> Logger {
    Logger::new("%{method}xi %U %s %Dms")
        .custom_request_replace("method", |request| request.method().to_string())
        .log_target("platform_auth::http")
}
