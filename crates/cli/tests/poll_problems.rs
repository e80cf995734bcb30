//! Silent failures made loud (issue #9 item 8), on the `faultline` binary against real snmpd:
//! a device polled with a wrong SNMPv3 pass phrase while ICMP answers gets one log line (not
//! one per poll), a problem on its component in `status` and `/api/v1/components`, and a
//! per-device, per-reason count in `/metrics`, all without the pass phrase.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_api::{self as api, path};
use faultline_testpeers::ports::free_tcp_port;
use faultline_testpeers::snmpd::{self, Snmpd};

const WRONG: &str = "not-the-passphrase-42";

/// Kills the collector even when an assertion fails.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn get<T: serde::de::DeserializeOwned>(api: &str, route: &str) -> Option<T> {
    let r = reqwest::get(format!("{api}{route}")).await.ok()?;
    r.error_for_status().ok()?.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_v3_passphrase_is_logged_once_shown_and_counted() {
    let Some(agent) = Snmpd::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.yaml"),
        "name: t\ndevices:\n  - {id: dev, kind: switch, address: 127.0.0.1}\n",
    )
    .unwrap();
    let port = free_tcp_port();
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(
        &cfg,
        format!(
            "topology = \"t.yaml\"\n[api]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"fl.redb\"\n\
             [icmp]\nenabled = true\ninterval_s = 1.0\n\
             [poll]\ninterval_s = 1.0\nport = {}\ntimeout_ms = 300\nretries = 0\njitter = 0.0\n\
             [credentials.default]\nversion = \"v3\"\nuser = \"{}\"\n\
             auth = {{ proto = \"sha\", pass = \"{WRONG}\" }}\n\
             privacy = {{ proto = \"aes\", pass = \"{}\" }}\n",
            agent.addr.port(),
            snmpd::V3_USER,
            snmpd::V3_PRIV,
        ),
    )
    .unwrap();
    let log = dir.path().join("run.log");
    let _collector = Proc(
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["run", "--config"])
            .arg(&cfg)
            .env("FAULTLINE_LOG", "warn,faultline_collector=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn faultline run"),
    );
    let api = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    let problem = loop {
        let s: Option<api::StatusResponse> = get(&api, &path::v1(path::STATUS)).await;
        if let Some(p) = s.and_then(|s| s.problems.get("dev").cloned())
            && p.contains("(5 failed polls)")
        {
            break p;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no problem shown for dev: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(problem.starts_with("SNMP auth failure"), "{problem}");

    let components: api::ComponentsResponse = get(&api, &path::v1(path::COMPONENTS))
        .await
        .expect("components");
    let dev = components
        .components
        .iter()
        .find(|c| c.id == "dev")
        .expect("dev");
    assert!(
        dev.problem
            .as_deref()
            .is_some_and(|p| p.starts_with("SNMP auth failure")),
        "{dev:?}"
    );

    let metrics = reqwest::get(format!("{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let failures: u64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("faultline_poll_failures_total{device=\"dev\",reason=\"authfailure\"} ")
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no auth failure count for dev:\n{metrics}"));
    assert!(failures >= 5, "{failures}");

    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        text.matches("SNMP poll failed: SNMP auth failure").count(),
        1,
        "one line, not one per poll:\n{text}"
    );
    assert!(!text.contains(WRONG), "the pass phrase leaked:\n{text}");
    assert!(!problem.contains(WRONG) && !metrics.contains(WRONG));
}
