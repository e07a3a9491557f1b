//! The HTTP API against the application on a random port, over real HTTP,
//! on a fresh database per test.

mod support;

mod auth_header;
mod body;
mod client_limits;
mod flood;
mod fuzz;
mod lockout;
mod login;
mod me;
mod openapi;
mod ops;
mod register;
mod routing;
mod sessions;
