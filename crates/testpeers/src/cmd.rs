//! Running the tools the labs are built with (`ip`, `sysctl`, `snmpget`): a failed step is a
//! broken test environment, so these helpers panic with the tool's own words.

use std::process::{Command, Stdio};

/// Run `args[0]` with the rest as arguments; panic with its output unless it succeeds. Returns
/// stdout.
pub fn ok(args: &[&str]) -> String {
    let Some((bin, rest)) = args.split_first() else {
        panic!("cmd::ok needs a program");
    };
    let out = Command::new(bin)
        .args(rest)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `promtool check metrics` (Debian's `prometheus` package) on a `/metrics` body: its
/// complaints, empty when the body is clean. Panics when promtool cannot be run.
pub fn promtool_check_metrics(body: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run promtool: {e}"));
    child
        .stdin
        .take()
        .expect("promtool stdin")
        .write_all(body.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool output");
    if out.status.success() {
        String::new()
    } else {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// Like [`ok`], but a failure is only reported (cleanup paths: the thing may already be gone).
pub fn quiet(args: &[&str]) -> bool {
    let Some((bin, rest)) = args.split_first() else {
        return false;
    };
    Command::new(bin)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Send `signal` (`TERM`, `KILL`) to a process by id, through kill(1).
pub fn signal(pid: u32, signal: &str) -> bool {
    quiet(&["kill", &format!("-{signal}"), &pid.to_string()])
}
