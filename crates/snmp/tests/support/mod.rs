//! Kept only for the crates that include this file by path (faultline-cli's `poll` tests,
//! faultline-agent-sim's fidelity test): the real-peer helpers live in `faultline-testpeers`
//! now. New code uses that crate directly; this shim goes when those two do.
#![allow(dead_code, unused_imports)]

pub use faultline_testpeers::free_udp_port;
pub use faultline_testpeers::snmpd::{
    Snmpd, V3_AUTH, V3_PRIV, V3_SHA256_AUTH, V3_SHA256_USER, V3_USER,
};

/// Run `cmd` with `args` and return its stdout; panics with its output when it fails.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let mut all = vec![cmd];
    all.extend_from_slice(args);
    faultline_testpeers::cmd::ok(&all)
}
