//! Cabling drift in the running collector (issue #12): three switches in network namespaces,
//! each with Debian's lldpd as an AgentX subagent of its own snmpd, cabled as the topology
//! declares. `faultline run` reads their LLDP tables every `[drift] interval_s`; a cable
//! re-plugged to another switch becomes, within two drift intervals of LLDP showing it, one
//! `topology_drift` incident naming the move, and a line on the link in `why`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_testpeers::lldp::LldpLab;
use faultline_testpeers::ports::free_tcp_port;
use serde_json::Value;

/// LLDP frames every second; four lost ones age a neighbour out. Comfortably more.
const SETTLE: Duration = Duration::from_secs(30);
/// `[drift] interval_s` and `[poll] interval_s` of the collector under test.
const DRIFT_INTERVAL: Duration = Duration::from_secs(2);

/// The collector, killed on drop.
struct Collector(Child);

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(api: &str, path: &str) -> Option<Value> {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "5", &format!("{api}{path}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// The open `topology_drift` incidents.
fn drift_incidents(api: &str) -> Vec<Value> {
    get(api, "/api/v1/incidents")
        .and_then(|v| v["open"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i["kind"] == "topology_drift")
        .collect()
}

#[test]
fn a_replugged_cable_becomes_one_drift_incident_and_a_line_in_why() {
    // n1:swp1 - n2:swp1, n2:swp2 - n3:swp1.
    let cables = [((0, "swp1"), (1, "swp1")), ((1, "swp2"), (2, "swp1"))];
    let prefix = format!("lc{}x", std::process::id() % 1000);
    let Some(lab) = LldpLab::start(&prefix, 3, &cables) else {
        return;
    };
    lab.wait_neighbours(&[1, 2, 1], SETTLE);
    let name = |i: usize| lab.name(i).to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let devices: String = (0..3)
        .map(|i| {
            format!(
                "  - {{id: {}, kind: switch, address: {}}}\n",
                name(i),
                lab.mgmt_ip(i)
            )
        })
        .collect();
    let moved_link = format!("{}:swp2--{}:swp1", name(1), name(2));
    std::fs::write(
        dir.path().join("topology.yaml"),
        format!(
            "name: lldp-lab\ndevices:\n{devices}links:\n  - [{}:swp1, {}:swp1]\n  - [{}:swp2, {}:swp1]\n",
            name(0),
            name(1),
            name(1),
            name(2)
        ),
    )
    .expect("write topology");
    let port = free_tcp_port();
    let api = format!("http://127.0.0.1:{port}");
    let secs = DRIFT_INTERVAL.as_secs();
    std::fs::write(
        dir.path().join("faultline.toml"),
        format!(
            "topology = \"topology.yaml\"\n[api]\nlisten = \"127.0.0.1:{port}\"\n\
             [poll]\ninterval_s = {secs}\n[icmp]\nenabled = false\n[drift]\ninterval_s = {secs}\n\
             [store]\npath = \"fl.redb\"\n\
             [credentials.default]\nversion = \"v2c\"\ncommunity = \"public\"\n"
        ),
    )
    .expect("write config");
    let _collector = Collector(
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["run", "--config"])
            .arg(dir.path().join("faultline.toml"))
            .current_dir(dir.path())
            .env("FAULTLINE_LOG", "warn,faultline_collector=info")
            .stdin(Stdio::null())
            .spawn()
            .expect("start faultline run"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&api, "/api/v1/status").is_none() {
        assert!(Instant::now() < deadline, "the collector did not answer");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Three rounds as declared: nothing to report.
    std::thread::sleep(DRIFT_INTERVAL * 3);
    assert_eq!(
        drift_incidents(&api),
        Vec::<Value>::new(),
        "drift before the move"
    );

    // Pull n3's cable out of n2 and plug it into n1 as swp2.
    lab.replug((1, "swp2"), (0, "swp2"));
    lab.wait_neighbours(&[2, 1, 1], SETTLE);
    let seen_at = Instant::now();
    let found = loop {
        let open = drift_incidents(&api);
        if !open.is_empty() {
            break open;
        }
        assert!(
            seen_at.elapsed() < DRIFT_INTERVAL * 2 + Duration::from_secs(10),
            "no topology_drift incident {:?} after LLDP showed the move",
            seen_at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!(
        "drift incident {:?} after LLDP showed the move (drift interval {DRIFT_INTERVAL:?})",
        seen_at.elapsed()
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let inc = &found[0];
    let title = inc["title"].as_str().unwrap_or_default();
    assert!(
        title.contains(&format!(
            "{}:swp1 is now cabled to {}:swp2, declared {}:swp2",
            name(2),
            name(0),
            name(1)
        )),
        "{inc:#}"
    );
    assert_eq!(inc["severity"], "info", "{inc:#}");
    assert_eq!(inc["root_causes"][0], moved_link.as_str(), "{inc:#}");

    let why = get(&api, &format!("/api/v1/why/{moved_link}")).expect("why of the link");
    assert!(
        why.to_string().contains("cabling drift:"),
        "no drift line in why: {why:#}"
    );
}
