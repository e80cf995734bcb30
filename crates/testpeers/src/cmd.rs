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
