//! `faultline run`, `run --check` and SIGHUP share one construction (issue #9 items 1 and 2):
//! `--check` refuses what `run` refuses, lists every problem at once and creates no file; a
//! reload whose configuration cannot be built is logged and the running collector keeps going.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use faultline_testpeers::cmd;
use faultline_testpeers::ports::free_tcp_port;

/// Three devices: `a` polled with the default set, `b` naming a set and `c` a profile.
fn topology(b_snmp: &str, c_profile: &str) -> String {
    format!(
        "name: t\ndevices:\n  - {{id: a, kind: switch}}\n  \
         - {{id: b, kind: switch, snmp: {b_snmp}}}\n  \
         - {{id: c, kind: firewall, profile: {c_profile}}}\n"
    )
}

/// A collector configuration on `topology.yaml`, with `extra` appended.
fn config(api_port: u16, extra: &str) -> String {
    format!(
        "topology = \"topology.yaml\"\n[api]\nlisten = \"127.0.0.1:{api_port}\"\n\
         [icmp]\nenabled = false\n[store]\npath = \"fl.redb\"\n\
         [credentials.default]\nversion = \"v2c\"\ncommunity = \"public\"\n\
         [credentials.core]\nversion = \"v2c\"\ncommunity = \"public\"\n{extra}"
    )
}

/// Everything wrong at once: an unset pager secret, a 5-character PagerDuty key, an undefined
/// credential set, a misspelled profile, an unset SNMP community variable.
const BROKEN: &str = "[credentials.lab]\nversion = \"v2c\"\ncommunity_env = \"FL_TEST_UNSET_COMMUNITY\"\n\
    [[notify.receivers]]\nname = \"oncall\"\nkind = \"pagerduty\"\nrouting_key_env = \"FL_TEST_UNSET_PD_KEY\"\n\
    [[notify.receivers]]\nname = \"short\"\nkind = \"pagerduty\"\nrouting_key = \"abcde\"\n";

fn write_broken(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("topology.yaml"), topology("nosuch", "keepalivd")).unwrap();
    let cfg = dir.join("faultline.toml");
    std::fs::write(&cfg, config(free_tcp_port(), BROKEN)).unwrap();
    cfg
}

fn faultline(args: &[&str], cfg: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .arg("--config")
        .arg(cfg)
        .env_remove("FL_TEST_UNSET_COMMUNITY")
        .env_remove("FL_TEST_UNSET_PD_KEY")
        .env("FAULTLINE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run faultline")
}

fn assert_every_problem(what: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    for expected in [
        "5 problems",
        "receiver oncall, routing_key_env: environment variable FL_TEST_UNSET_PD_KEY is not set",
        "receiver short, routing_key: has 5 characters, PagerDuty integration keys have 32",
        "[credentials.lab] community_env: environment variable FL_TEST_UNSET_COMMUNITY is not set",
        "device `b`: credential set `nosuch`",
        "device `c`: unknown profile `keepalivd`",
    ] {
        assert!(err.contains(expected), "{what}: no {expected:?} in:\n{err}");
    }
    assert!(!err.contains("TOML parse error"), "{what}: {err}");
}

#[test]
fn check_and_run_refuse_the_same_problems_all_at_once_and_create_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_broken(dir.path());
    assert_every_problem("run --check", &faultline(&["run", "--check"], &cfg));
    assert_every_problem("run", &faultline(&["run"], &cfg));
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!files.iter().any(|f| f.contains("redb")), "{files:?}");
}

#[test]
fn check_passes_a_valid_configuration_with_a_summary_and_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("topology.yaml"),
        topology("core", "keepalived"),
    )
    .unwrap();
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(&cfg, config(free_tcp_port(), "")).unwrap();
    let out = faultline(&["run", "--check"], &cfg);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("configuration ok: topology t (3 devices, 0 services"),
        "{stdout}"
    );
    assert!(
        stdout.contains("credential sets: core, default"),
        "{stdout}"
    );
    assert!(!dir.path().join("fl.redb").exists());
}

/// Kills the collector even when an assertion fails.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, log: &Path, needle: &str, count: usize) {
    let t = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches(needle).count() >= count {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn api_answers(port: u16) -> bool {
    let url = format!("http://127.0.0.1:{port}/api/v1/status");
    Command::new("curl")
        .args(["-sf", "--max-time", "5", &url])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Issue #9 item 1: a SIGHUP to a configuration whose receiver secret or credential set cannot
/// be read is logged with the reason, and the collector keeps running the old configuration;
/// a valid one is then taken.
#[test]
fn a_reload_that_cannot_be_built_keeps_the_running_collector() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("topology.yaml"),
        topology("core", "keepalived"),
    )
    .unwrap();
    let port = free_tcp_port();
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(&cfg, config(port, "")).unwrap();
    let log = dir.path().join("run.log");
    let child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--config"])
        .arg(&cfg)
        .env_remove("FL_TEST_UNSET_COMMUNITY")
        .env_remove("FL_TEST_UNSET_PD_KEY")
        .env("FAULTLINE_LOG", "warn,faultline_collector=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn faultline run");
    let mut proc = Proc(child);
    let pid = proc.0.id();
    wait_for("the collector", &log, "collector running", 1);

    let bad_receiver = "[[notify.receivers]]\nname = \"oncall\"\nkind = \"pagerduty\"\n\
        routing_key_env = \"FL_TEST_UNSET_PD_KEY\"\n";
    let bad_credentials =
        "[credentials.extra]\nversion = \"v2c\"\ncommunity_env = \"FL_TEST_UNSET_COMMUNITY\"\n";
    for (n, (extra, reason)) in [
        (bad_receiver, "FL_TEST_UNSET_PD_KEY is not set"),
        (bad_credentials, "FL_TEST_UNSET_COMMUNITY is not set"),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(&cfg, config(port, extra)).unwrap();
        assert!(cmd::signal(pid, "HUP"));
        wait_for("the refused reload", &log, "not reloading", n + 1);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains(reason), "{text}");
        assert!(
            proc.0.try_wait().unwrap().is_none(),
            "the collector exited:\n{text}"
        );
        assert!(api_answers(port), "the API stopped answering:\n{text}");
    }
    assert_eq!(
        std::fs::read_to_string(&log)
            .unwrap()
            .matches("collector running")
            .count(),
        1,
        "a refused reload restarts nothing"
    );

    std::fs::write(&cfg, config(port, "")).unwrap();
    assert!(cmd::signal(pid, "HUP"));
    wait_for("the reload", &log, "collector running", 2);
    assert!(api_answers(port));
    assert!(proc.0.try_wait().unwrap().is_none());
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "5"])
        .args(args)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A SIGHUP to a lab configuration on the same topology keeps the running lab (same agents,
/// injected failures kept) instead of starting a second one.
#[test]
fn a_reload_of_the_lab_keeps_the_running_lab() {
    let dir = tempfile::tempdir().unwrap();
    let topology = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let port = free_tcp_port();
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(
        &cfg,
        format!(
            "topology = \"{topology}\"\nlab = true\n[api]\nlisten = \"127.0.0.1:{port}\"\n\
             [icmp]\nenabled = false\n[store]\npath = \"fl.redb\"\n"
        ),
    )
    .unwrap();
    let log = dir.path().join("run.log");
    let child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--config"])
        .arg(&cfg)
        .env("FAULTLINE_LOG", "warn,faultline_collector=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn faultline run");
    let proc = Proc(child);
    wait_for("the collector", &log, "collector running", 1);
    let lab = format!("http://127.0.0.1:{port}/api/v1/lab");
    curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        &format!("{lab}/fail/fw-a"),
    ]);
    let before: serde_json::Value = serde_json::from_str(&curl(&[&lab])).unwrap();
    assert!(cmd::signal(proc.0.id(), "HUP"));
    wait_for("the reload", &log, "collector running", 2);
    let after: serde_json::Value = serde_json::from_str(&curl(&[&lab])).unwrap();
    assert_eq!(after["failed"], serde_json::json!(["fw-a"]));
    assert_eq!(
        after["agents"], before["agents"],
        "a second lab was started"
    );
}

/// A receiver's authentication and TLS problems come out of `run --check` with the receiver's
/// name, every one of them, and never with the password.
#[test]
fn check_lists_receiver_auth_and_tls_problems_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("topology.yaml"),
        "name: t\ndevices:\n  - {id: a, kind: switch}\n",
    )
    .unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let receivers = format!(
        "[[notify.receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"https://am.example:9093\"\n\
         basic_auth = {{ username = \"faultline\", password = \"pw-never-shown-61c2\" }}\n\
         bearer_token_env = \"FL_TEST_UNSET_TOKEN\"\n\
         tls = {{ ca_file = \"{}\" }}\n",
        missing.display()
    );
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(&cfg, config(free_tcp_port(), &receivers)).unwrap();
    let out = faultline(&["run", "--check"], &cfg);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "receiver am, bearer_token_env: environment variable FL_TEST_UNSET_TOKEN is not set",
        "receiver am, basic_auth: give only one of `basic_auth` and `bearer_token`",
        &format!(
            "receiver am, tls.ca_file: {}: No such file",
            missing.display()
        ),
    ] {
        assert!(err.contains(expected), "no {expected:?} in:\n{err}");
    }
    assert!(!err.contains("pw-never-shown-61c2"), "{err}");
}
