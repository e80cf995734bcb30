//! The HTTP API: its routes, the guard every request passes, and the server that bounds
//! connections.

pub(crate) mod actions;
pub mod auth;
pub(crate) mod console;
pub(crate) mod console_actions;
pub(crate) mod csrf;
pub(crate) mod events;
pub(crate) mod guard;
pub(crate) mod headers;
pub(crate) mod routes;
pub(crate) mod serve;
pub(crate) mod tls;
