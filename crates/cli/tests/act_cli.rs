//! End to end: `faultline run` (the embedded demo lab) and the operators' commands against it:
//! `lab fail fw-a` → `ack ID --comment` shows the acknowledgement, `unack`, `maintenance add
//! fw-b --for 2h` / `list --json` / `end`, and unknown ids exit 1 with a clear message.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use faultline_api::{IncidentsResponse, MaintenanceResponse, WindowSource};

/// The collector; killed on drop.
struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn faultline(api: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .env("FAULTLINE_API", api)
        .env("USER", "carol")
        .output()
        .expect("run faultline")
}

fn ok(api: &str, args: &[&str]) -> String {
    let out = faultline(api, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn ack_and_maintenance_from_the_command_line() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let listen = format!("127.0.0.1:{port}");
    let api = format!("http://{listen}");
    let _run = Run(Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("faultline run"));
    until("the collector", || {
        faultline(&api, &["status"]).status.success().then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    ok(&api, &["lab", "fail", "fw-a"]);
    let id = until("the incident", || {
        let out = faultline(&api, &["incidents", "--json"]);
        let r: IncidentsResponse = serde_json::from_slice(&out.stdout).ok()?;
        r.open
            .into_iter()
            .find(|i| i.root_causes == ["fw-a"])
            .map(|i| i.id)
    });

    let text = ok(&api, &["ack", &id, "--comment", "NAT rule on fw-b"]);
    assert!(
        text.contains("acknowledged by carol") && text.contains("NAT rule on fw-b"),
        "{text}"
    );
    let out = faultline(&api, &["incidents", "--json"]);
    let r: IncidentsResponse = serde_json::from_slice(&out.stdout).expect("incidents");
    let inc = r.open.iter().find(|i| i.id == id).expect("still open");
    assert_eq!(
        inc.acknowledged.as_ref().map(|a| a.by.as_str()),
        Some("carol")
    );
    let text = ok(&api, &["unack", &id]);
    assert!(!text.contains("acknowledged by"), "{text}");

    let text = ok(
        &api,
        &[
            "maintenance",
            "add",
            "fw-b",
            "--for",
            "2h",
            "--reason",
            "firmware",
        ],
    );
    assert!(text.contains("fw-b") && text.contains("firmware"), "{text}");
    let out = faultline(&api, &["maintenance", "list", "--json"]);
    let m: MaintenanceResponse = serde_json::from_slice(&out.stdout).expect("windows");
    let [w] = m.windows.as_slice() else {
        panic!("one window: {m:?}")
    };
    assert_eq!(
        (w.source, w.active, w.by.as_str()),
        (WindowSource::Runtime, true, "carol")
    );
    assert_eq!(w.to.0 - w.from.0, 7_200_000);
    let text = ok(&api, &["maintenance", "end", &w.id]);
    assert!(text.contains("ended by carol"), "{text}");

    for (args, says) in [
        (vec!["ack", "nope@1"], "no open incident `nope@1`"),
        (
            vec!["maintenance", "end", "mw-nope"],
            "no run-time maintenance window",
        ),
        (
            vec!["maintenance", "add", "no-such-box", "--for", "1h"],
            "no-such-box",
        ),
    ] {
        let out = faultline(&api, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = faultline(&api, &["maintenance", "add", "fw-b", "--reason", "x"]);
    assert_eq!(out.status.code(), Some(2), "no duration is a usage error");
}
