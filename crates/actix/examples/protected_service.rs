//! A service that trusts platform-auth tokens. `GET /profile` returns the
//! token's user, and `GET /greeting` serves anonymous callers too.
//!
//! ```bash
//! PLATFORM_JWT_SECRET=<the auth server's secret> \
//!     cargo run -p platform-auth-actix --example protected_service
//! curl -s http://127.0.0.1:8080/profile -H "Authorization: Bearer <token>"
//! ```
//!
//! `PORT` sets the port (default 8080; 0 picks a free one).

use actix_web::{web, App, HttpResponse, HttpServer};
use platform_auth_actix::{AuthenticatedUser, TokenVerifier};
use serde_json::json;

/// Mounts the example's routes. The verifier must be in the app data.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/profile", web::get().to(profile))
        .route("/greeting", web::get().to(greeting));
}

async fn profile(user: AuthenticatedUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": user.id.to_string(),
        "email": user.email,
        "name": user.name,
        "session_id": user.session_id,
        "expires_at": user.expires_at.to_rfc3339(),
    }))
}

/// Greets the token's user by name, or a guest when the token is missing or
/// invalid, instead of failing the request.
async fn greeting(user: Option<AuthenticatedUser>) -> HttpResponse {
    let name = user.map_or_else(|| "guest".to_string(), |user| user.name);
    HttpResponse::Ok().json(json!({ "greeting": format!("Hello, {name}!") }))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let Ok(secret) = std::env::var("PLATFORM_JWT_SECRET") else {
        eprintln!("PLATFORM_JWT_SECRET is not set; set it to the auth server's signing secret");
        std::process::exit(2);
    };
    let port: u16 = match std::env::var("PORT").map(|port| port.parse()) {
        Err(_) => 8080,
        Ok(Ok(port)) => port,
        Ok(Err(_)) => {
            eprintln!("PORT is not a port number; set it to 0 to 65535");
            std::process::exit(2);
        }
    };
    if secret.is_empty() {
        eprintln!("PLATFORM_JWT_SECRET is empty; set it to the auth server's signing secret");
        std::process::exit(2);
    }

    let verifier = TokenVerifier::new(secret);
    let server = HttpServer::new(move || App::new().app_data(verifier.clone()).configure(routes))
        .bind(("127.0.0.1", port))?;
    for address in server.addrs() {
        println!("listening on http://{address}");
    }
    server.run().await
}
