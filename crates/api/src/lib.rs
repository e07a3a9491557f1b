//! The platform-auth HTTP service: settings, routes and server start-up.

pub mod cli;
pub mod client_ip;
pub mod error;
pub mod extract;
pub mod hash_gate;
pub mod limits;
pub mod openapi;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use settings::Settings;
pub use startup::Application;
