//! The client against a real platform-auth server on a random port, and
//! its retry policy against a scripted server that fails on purpose.

mod support;

mod errors;
mod examples;
mod refresh_retry;
mod retries;
mod session_calls;
mod sessions;
