//! The API client commands without a collector: documented exit codes and help, and the
//! offline `why --json` in the same shape as the live one.

use std::net::TcpListener;
use std::process::{Command, Output};

use faultline_api::{State, WhyResponse};

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .env_remove("FAULTLINE_API")
        .output()
        .expect("run faultline")
}

/// A loopback URL nothing listens on: bind a free port, then let it go.
fn closed_api() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    format!("http://127.0.0.1:{port}")
}

#[test]
fn unreachable_collector_exits_3() {
    let api = closed_api();
    for cmd in [
        vec!["status"],
        vec!["incidents", "--all"],
        vec!["timeline", "--since", "10m"],
        vec!["why", "portal"],
        vec!["lab", "status"],
        vec!["ready"],
    ] {
        let mut args = cmd.clone();
        args.extend(["--api", &api]);
        let out = faultline(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{cmd:?}: {err}");
        assert!(err.contains("cannot reach the collector"), "{err}");
    }
}

#[test]
fn usage_errors_exit_2_before_any_request() {
    let api = closed_api();
    for args in [
        ["timeline", "--since", "soon", "--api", &api],
        ["lab", "explode", "--api", &api, "--json"],
        ["lab", "fail", "--api", &api, "--json"],
        ["lab", "drift", "fw-b", "--api", &api],
    ] {
        let out = faultline(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn help_documents_the_exit_codes() {
    for cmd in ["status", "incidents", "timeline", "lab", "why", "ready"] {
        let out = faultline(&[cmd, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Exit codes:") && text.contains("3 the collector could not be"),
            "{cmd}: {text}"
        );
    }
}

#[test]
fn offline_why_json_is_the_live_shape() {
    let topology = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let out = faultline(&["why", topology, "portal", "--down", "fw-a,fw-b", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let why: WhyResponse = serde_json::from_slice(&out.stdout).expect("WhyResponse");
    assert_eq!(why.id, "portal");
    assert_eq!(why.state, State::Down);
    assert_eq!(why.down, ["fw-a", "fw-b"]);
    assert_eq!(why.failed, ["fw-a", "fw-b"]);
    assert!(why.incident.is_none());
    let service = why.service.expect("portal is a service");
    assert_eq!(
        (service.name.as_str(), service.tier.as_str()),
        ("Contractor portal", "critical")
    );
    assert_eq!(
        (service.expected, service.observed),
        (State::Down, State::Unknown)
    );
    assert!(
        why.text.starts_with("portal [service] DOWN"),
        "{}",
        why.text
    );

    // A device: no service status.
    let out = faultline(&["why", topology, "fw-a", "--json"]);
    let why: WhyResponse = serde_json::from_slice(&out.stdout).expect("WhyResponse");
    assert_eq!((why.state, why.service), (State::Up, None));
}
