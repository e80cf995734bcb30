//! `/metrics` as Prometheus users expect it (issue #14), on the `faultline` binary running the
//! demo lab: `promtool check metrics` (Debian's prometheus package) accepts the classic text
//! format, Prometheus's own Accept header gets OpenMetrics, every counter ends in `_total`,
//! per-service and per-component state series follow a failure, `faultline_build_info` and
//! `process_*` are there; `/-/healthy` and `/-/ready` answer.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_api::{LabAction, path};
use faultline_testpeers::ports::free_tcp_port;

/// Kills the collector even when an assertion fails.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const OPENMETRICS_ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

async fn text(url: &str, accept: Option<&str>) -> Option<(String, String)> {
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let resp = req.send().await.ok()?;
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Some((ctype, resp.text().await.ok()?))
}

/// `promtool check metrics` on `body`: its complaints, empty when clean.
fn promtool(body: &str) -> String {
    faultline_testpeers::cmd::promtool_check_metrics(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_and_follow_a_failure() {
    if !faultline_testpeers::have("promtool") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_tcp_port();
    let api = format!("http://127.0.0.1:{port}");
    let _collector = Proc(
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["run", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn faultline run"),
    );
    let t = Instant::now();
    while text(&format!("{api}{}", path::HEALTHY), None)
        .await
        .is_none()
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the collector never came up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, healthy) = text(&format!("{api}{}", path::HEALTHY), None)
        .await
        .expect("healthy");
    assert!(healthy.contains("healthy"), "{healthy}");
    let ready = reqwest::get(format!("{api}{}", path::READY_PROBE))
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);

    let url = format!("{api}{}", path::METRICS);
    let fail = format!("{api}{}", path::lab_action(LabAction::Fail, Some("fw-a")));
    let posted = reqwest::Client::new()
        .post(&fail)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("lab fail fw-a");
    assert!(posted.status().is_success(), "{}", posted.status());
    let down = "faultline_component_state{id=\"fw-a\",kind=\"device\"} 3";
    let t = Instant::now();
    let body = loop {
        let (ctype, body) = text(&url, None).await.expect("metrics");
        if body.contains(down) {
            assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
            break body;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "fw-a never down:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let complaints = promtool(&body);
    assert!(
        complaints.is_empty(),
        "promtool check metrics:\n{complaints}"
    );
    for series in [
        "faultline_service_state{service=\"portal\",tier=\"critical\"} ",
        "faultline_build_info{version=\"",
        "faultline_observations_total ",
        "faultline_notify_delivered_total ",
        "faultline_store_failed_operations_total ",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
    ] {
        assert!(body.contains(series), "no {series} in\n{body}");
    }
    // Every counter's samples end in _total.
    for line in body.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        if let Some(name) = line.strip_suffix(" counter") {
            assert!(name.ends_with("_total"), "counter {name}");
        }
    }
    let (ctype, om) = text(&url, Some(OPENMETRICS_ACCEPT))
        .await
        .expect("openmetrics");
    assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
    assert!(om.trim_end().ends_with("# EOF"), "{om}");
}
