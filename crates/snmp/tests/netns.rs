//! A real link event: snmpd inside a network namespace, an interface taken down with
//! `ip link set ... down`, and the next poll shows it (oper down, ifLastChange advanced).

mod support;

use std::time::{Duration, Instant};

use faultline_observe::{IfStatus, Signal, Subject};
use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
use support::*;

#[tokio::test]
async fn link_down_in_namespace_shows_in_next_poll() {
    if !require("ip") {
        return;
    }
    if !is_root() {
        if std::env::var_os("CI").is_some() {
            panic!("netns test needs root under CI");
        }
        eprintln!("\n!!!!! SKIPPING: netns test needs root !!!!!\n");
        return;
    }
    let ns = Netns::new("if");
    // A host<->namespace link so the poller (in the host namespace) can reach the agent. A
    // unique /30 in 10.213/16 per test run keeps parallel runs apart.
    let id = free_udp_port() % 16_000;
    let (a, b) = (id / 64, (id % 64) * 4);
    let host_ip = format!("10.213.{a}.{}", b + 1);
    let ns_ip = format!("10.213.{a}.{}", b + 2);
    let host_if = format!("flh{id}");
    run(
        "ip",
        &[
            "link", "add", &host_if, "type", "veth", "peer", "name", "mgmt0", "netns", &ns.name,
        ],
    );
    run(
        "ip",
        &["addr", "add", &format!("{host_ip}/30"), "dev", &host_if],
    );
    run("ip", &["link", "set", &host_if, "up"]);
    ns.ip(&["addr", "add", &format!("{ns_ip}/30"), "dev", "mgmt0"]);
    ns.ip(&["link", "set", "mgmt0", "up"]);
    // The interface under test: a veth pair inside the namespace.
    ns.ip(&[
        "link", "add", "data0", "type", "veth", "peer", "name", "data1",
    ]);
    ns.ip(&["link", "set", "data0", "up"]);
    ns.ip(&["link", "set", "data1", "up"]);

    let Some(agent) = Snmpd::start_in(Some(&ns.name), &ns_ip) else {
        return;
    };
    let poller = SnmpPoller::new(PollerConfig::default());
    let mut t = Target::new("sw-1", agent.addr, Credentials::v2c("public"));
    t.timeout = Duration::from_secs(1);

    let data0 = |out: &faultline_snmp::PollOutcome| {
        out.report
            .interfaces
            .iter()
            .find(|i| i.name == "data0")
            .cloned()
    };
    // veth carrier comes up asynchronously: wait for the agent to report data0 up.
    let deadline = Instant::now() + Duration::from_secs(20);
    let before = loop {
        let out = poller.poll(&t, None).await;
        assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
        if data0(&out).is_some_and(|i| i.oper == IfStatus::Up) {
            break out;
        }
        assert!(
            Instant::now() < deadline,
            "data0 never came up: {:?}",
            data0(&out)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let up = data0(&before).expect("data0");

    ns.ip(&["link", "set", "data0", "down"]);
    // net-snmp caches the interface table for a few seconds: poll until it notices.
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let out = poller.poll(&t, Some(&before.state)).await;
        if data0(&out).is_some_and(|i| i.oper != IfStatus::Up) {
            break out;
        }
        assert!(
            Instant::now() < deadline,
            "data0 never went down: {:?}",
            data0(&out)
        );
    };
    let down = data0(&after).expect("data0");
    assert_eq!(down.oper, IfStatus::Down);
    assert_eq!(down.admin, IfStatus::Down);
    assert!(
        down.last_change_cs > up.last_change_cs,
        "ifLastChange {:?} -> {:?}",
        up.last_change_cs,
        down.last_change_cs
    );
    assert!(down.changed_since_last_poll);
    // The observation the engine gets for it.
    assert!(
        after
            .observations
            .iter()
            .any(|o| o.subject == Subject::interface("sw-1", "data0")
                && matches!(
                    o.signal,
                    Signal::Interface {
                        oper: IfStatus::Down,
                        ..
                    }
                ))
    );
    drop(agent);
}
