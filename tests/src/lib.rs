//! End-to-end test support: the real `faultline` binary as a process ([`process`]), a signed
//! webhook receiver standing in for the pager ([`webhook`]), the collector's HTTP API read as
//! JSON ([`api`]), a loopback web service that fails on command ([`portal`]), bounded waits that explain themselves ([`wait`]) and the seed lab's scene,
//! configuration and health ([`seed`]). The labs themselves
//! (namespaces, keepalived, snmpd, web servers) are in `faultline-testpeers`.

pub mod api;
pub mod portal;
pub mod process;
pub mod seed;
pub mod wait;
pub mod webhook;

use std::path::{Path, PathBuf};

/// A fixture file under `tests/fixtures`, read whole (panics with the path when missing).
pub fn fixture(rel: &str) -> String {
    let path = fixtures_dir().join(rel);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// `tests/fixtures` of this package.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}
