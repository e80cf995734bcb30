//! `faultline discover` and `faultline drift` against real LLDP agents: five nodes in network
//! namespaces, each running Debian's lldpd as an AgentX subagent of its own snmpd, cabled with
//! veth pairs. lldpd announces each port as a MAC address with the interface name only in the
//! port description, so every remote end must be resolved through the neighbour's own tables.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use faultline_testpeers::lldp::LldpLab;

/// LLDP frames every second; four lost ones age a neighbour out. Comfortably more.
const SETTLE: Duration = Duration::from_secs(30);

fn faultline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .env_remove("FAULTLINE_COMMUNITY")
        .output()
        .expect("run faultline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Links of a topology file as unordered pairs of `device:if`.
fn links(path: &std::path::Path) -> BTreeSet<(String, String)> {
    let t = faultline_model::Topology::load(path).expect("topology loads");
    t.links
        .iter()
        .map(|l| {
            let (a, b) = (l.a().to_string(), l.b().to_string());
            if a <= b { (a, b) } else { (b, a) }
        })
        .collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

#[test]
fn discover_finds_every_cable_and_drift_sees_a_replugged_one() {
    // n1 - n2 - n4, n1 - n3 - n5, n4 - n5, n2 - n3 (a ring with a chord).
    let cables = [
        ((0, "swp1"), (1, "swp1")),
        ((0, "swp2"), (2, "swp1")),
        ((1, "swp2"), (3, "swp1")),
        ((2, "swp2"), (4, "swp1")),
        ((3, "swp2"), (4, "swp2")),
        ((1, "swp3"), (2, "swp3")),
    ];
    let prefix = format!("ld{}x", std::process::id() % 1000);
    let Some(lab) = LldpLab::start(&prefix, 5, &cables) else {
        return;
    };
    lab.wait_neighbours(&[2, 3, 3, 2, 2], SETTLE);
    let dir = tempfile::tempdir().expect("tempdir");
    let topo = dir.path().join("discovered.yaml");
    let seed = lab.mgmt_ip(0).to_string();
    let started = Instant::now();
    let (code, _, err) = faultline(&[
        "discover",
        &seed,
        "--depth",
        "4",
        "--timeout",
        "1",
        "-o",
        topo.to_str().expect("utf-8 path"),
    ]);
    let took = started.elapsed();
    assert_eq!(code, 0, "discover failed: {err}");
    eprintln!("discovery of the 5-node lab took {took:?}");
    let text = std::fs::read_to_string(&topo).expect("read topology");
    let (code, out, err) = faultline(&["check", topo.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "check failed: {out}{err}\n{text}");

    let name = |i: usize| lab.name(i).to_owned();
    let want: BTreeSet<_> = cables
        .iter()
        .map(|((a, ai), (b, bi))| {
            pair(&format!("{}:{ai}", name(*a)), &format!("{}:{bi}", name(*b)))
        })
        .collect();
    assert_eq!(links(&topo), want, "discovered links differ:\n{text}");
    // Every node was polled, with its management address, and every name came from the
    // neighbour's own ifName (lldpd announces MACs).
    for i in 0..5 {
        let line = format!(
            "{{id: {}, kind: host, address: {}}}",
            name(i),
            lab.mgmt_ip(i)
        );
        assert!(text.contains(&line), "no `{line}` in\n{text}");
    }
    assert_eq!(text.matches("from neighbour's ifName").count(), 6, "{text}");
    assert!(
        !text.contains("NOT POLLED") && !text.contains("UNREACHABLE"),
        "{text}"
    );

    // Declared = discovered: no drift.
    let (code, out, err) = faultline(&["drift", topo.to_str().expect("utf-8 path"), "--json"]);
    assert_eq!(code, 0, "drift before the re-plug: {out}{err}");

    // Pull n5's end of the n4 - n5 cable and plug it into n3 as swp4.
    lab.replug((4, "swp2"), (2, "swp4"));
    lab.wait_neighbours(&[2, 3, 4, 2, 1], SETTLE);
    let (code, out, err) = faultline(&["drift", topo.to_str().expect("utf-8 path"), "--json"]);
    assert_eq!(code, 1, "drift after the re-plug: {out}{err}");
    let report: faultline_api::DriftReport = serde_json::from_str(&out).expect("drift JSON");
    assert!(
        report.missing.is_empty() && report.unexpected.is_empty(),
        "{out}"
    );
    assert_eq!(report.moved.len(), 1, "{out}");
    let m = &report.moved[0];
    assert_eq!(m.end, format!("{}:swp2", name(3)), "{out}");
    assert_eq!(m.declared, format!("{}:swp2", name(4)), "{out}");
    assert_eq!(m.seen, format!("{}:swp4", name(2)), "{out}");
}
