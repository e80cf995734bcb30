//! The offline topology commands as an operator meets them: usage errors exit 2 with a message
//! that says what is missing, schema errors come all at once with one position each, every
//! command answers `--json`, and logs carry no colour codes when nobody is looking.

use std::io::Read;
use std::net::UdpSocket;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const TOPOLOGY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../topology/contractor-portal.yaml"
);

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        // Nothing listens here: a command that wrongly asks the live API fails fast.
        .env("FAULTLINE_API", "http://127.0.0.1:9")
        .env_remove("FAULTLINE_LOG")
        .output()
        .expect("run faultline")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_stdout(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

#[test]
fn down_naming_no_component_is_a_usage_error() {
    for args in [
        vec!["impact", TOPOLOGY, "--down", ""],
        vec!["impact", TOPOLOGY, "--down", " , ,"],
        vec!["impact", TOPOLOGY, "--down", "fw-a", "--down", ","],
        vec!["why", TOPOLOGY, "portal", "--down", ""],
        vec!["graph", TOPOLOGY, "--down", " "],
    ] {
        let o = faultline(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?} answered anyway");
        assert!(stderr(&o).contains("names no component"), "{}", stderr(&o));
    }
    // Stray commas around real ids are fine.
    let o = faultline(&["impact", TOPOLOGY, "--down", "fw-a,,fw-b,", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json_stdout(&o)["down"], serde_json::json!(["fw-a", "fw-b"]));
}

#[test]
fn why_with_a_topology_but_no_service_is_a_usage_error() {
    for args in [
        vec!["why", TOPOLOGY],
        vec!["why", "topology/missing.yaml"],
        vec!["why", TOPOLOGY, "--json"],
    ] {
        let o = faultline(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("topology file") && err.contains("SERVICE"),
            "{err}"
        );
        assert!(
            !err.contains("collector is not"),
            "asked the live API: {err}"
        );
    }
    // A what-if needs a topology: `--down` with a lone service is no live query either.
    let o = faultline(&["why", "portal", "--down", "fw-a"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--down"), "{}", stderr(&o));
}

#[test]
fn schema_errors_of_a_file_come_in_one_run_one_position_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("four.yaml");
    std::fs::write(
        &path,
        "name: four\ndevices:\n  - {id: fw-a, kind: firewall, adress: 10.0.1.1}\n  - {id: fw-b, kind: firewall, requires: fw-a}\n  - {id: sw-1}\nservices:\n  - {id: portal, tier: urgent, requires: [fw-a]}\n",
    )
    .expect("write topology");
    let file = path.display().to_string();
    let o = faultline(&["check", &file]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    for (line, (at, what)) in lines.iter().zip([
        ("3:32", "unknown field `adress`"),
        ("4:42", "invalid type"),
        ("5:5", "missing field `kind`"),
        ("7:24", "unknown variant `urgent`"),
    ]) {
        assert!(line.starts_with(&format!("{file}:{at}: ")), "{line}");
        assert!(line.contains(what), "{line}");
        assert!(
            !line.contains(" line ") && !line.contains("column"),
            "{line}"
        );
    }
    let o = faultline(&["check", &file, "--json"]);
    let v = json_stdout(&o);
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(4), "{v}");
    assert_eq!(v["errors"][3]["line"], 7);
    assert_eq!(v["errors"][3]["column"], 24);
}

#[test]
fn graph_and_generate_take_json() {
    let o = faultline(&["graph", TOPOLOGY, "--json", "--down", "fw-a,fw-b"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_stdout(&o);
    assert_eq!(v["name"], "contractor-portal");
    let nodes = v["nodes"].as_array().expect("nodes");
    let portal = nodes.iter().find(|n| n["id"] == "portal").expect("portal");
    assert_eq!(portal["kind"], "service");
    assert_eq!(portal["state"], "down");
    let edges = v["edges"].as_array().expect("edges");
    assert!(
        edges
            .iter()
            .any(|e| e["from"] == "fw-pair" && e["to"] == "fw-a" && e["kind"] == "member"),
        "{v}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("dc.json");
    let out_s = out.display().to_string();
    let o = faultline(&["generate", "--devices", "60", "-o", &out_s, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_stdout(&o);
    let check = json_stdout(&faultline(&["check", &out_s, "--json"]));
    for k in ["devices", "links", "groups", "services"] {
        assert_eq!(v[k], check[k], "{k}: {v} vs {check}");
    }
    assert_eq!(
        v["bytes"].as_u64(),
        std::fs::metadata(&out).ok().map(|m| m.len())
    );
    // The topology itself goes to stdout without -o: a summary there would corrupt it.
    let o = faultline(&["generate", "--devices", "60", "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Runs `faultline traps` with stderr to a pipe, sends it garbage until it logs a rejection,
/// and returns what it logged.
fn traps_log(extra_args: &[&str], env: &[(&str, &str)]) -> String {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faultline"));
    cmd.args(["traps", "--listen", &listen])
        .args(extra_args)
        .env_remove("FAULTLINE_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn faultline traps");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("sender");
    let start = Instant::now();
    // The first rejection is logged at warn; later ones only at powers of two.
    while start.elapsed() < Duration::from_secs(3) {
        let _ = sender.send_to(b"not snmp at all", &listen);
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let mut log = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    let _ = child.wait();
    log
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes_and_can_be_json() {
    let log = traps_log(&[], &[]);
    assert!(log.contains("trap rejected"), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI escape in piped log: {log:?}");

    let log = traps_log(&["--log-format", "json"], &[]);
    let line = log
        .lines()
        .find(|l| l.contains("trap rejected"))
        .unwrap_or_else(|| panic!("{log}"));
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(v["level"], "WARN", "{v}");
    assert!(!line.contains('\u{1b}'), "{line:?}");
}

/// An imported Nagios topology (no services) answers what-if questions: `impact --json` lists
/// every device that is not up, a host whose parents all failed as `unreachable`.
#[test]
fn impact_lists_components_with_nagios_unreachable_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("hosts.cfg");
    std::fs::write(
        &cfg,
        "define host {\n host_name core1\n address 10.0.0.1\n}\n\
         define host {\n host_name core2\n address 10.0.0.2\n}\n\
         define host {\n host_name edge\n address 10.0.0.3\n parents core1,core2\n}\n\
         define host {\n host_name leaf\n address 10.0.0.4\n parents edge\n}\n",
    )
    .expect("write cfg");
    let topo = dir.path().join("t.yaml");
    let o = faultline(&[
        "import",
        "nagios",
        cfg.to_str().expect("utf-8"),
        "-o",
        topo.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = topo.to_str().expect("utf-8");
    let one = json_stdout(&faultline(&["impact", t, "--down", "core1", "--json"]));
    assert_eq!(
        one["components"],
        serde_json::json!([
            {"id": "core1", "state": "down"},
            {"id": "edge", "state": "degraded"},
            {"id": "leaf", "state": "degraded"}
        ]),
        "{one}"
    );
    let both = json_stdout(&faultline(&[
        "impact",
        t,
        "--down",
        "core1,core2",
        "--json",
    ]));
    assert_eq!(
        both["components"],
        serde_json::json!([
            {"id": "core1", "state": "down"},
            {"id": "core2", "state": "down"},
            {"id": "edge", "state": "unreachable"},
            {"id": "leaf", "state": "unreachable"}
        ]),
        "{both}"
    );
}
