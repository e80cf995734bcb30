//! A real link event: snmpd inside a network namespace, an interface taken down with
//! `ip link set ... down`, and the next poll shows it (oper down, ifLastChange advanced).

use std::time::{Duration, Instant};

use faultline_observe::{IfStatus, Signal, Subject};
use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
use faultline_testpeers::snmpd::Snmpd;
use faultline_testpeers::{Netns, cmd, have, root};

#[tokio::test]
async fn link_down_in_namespace_shows_in_next_poll() {
    if !have("ip") || !root() {
        return;
    }
    // The namespace comes with a host<->namespace veth pair (a unique /30) so that the poller,
    // in the host namespace, reaches the agent.
    let ns = Netns::new("if");
    // The interface under test: a veth pair inside the namespace.
    let ip_ns = |args: &[&str]| {
        let mut a = vec!["ip", "-n", ns.name.as_str()];
        a.extend_from_slice(args);
        cmd::ok(&a);
    };
    ip_ns(&[
        "link", "add", "data0", "type", "veth", "peer", "name", "data1",
    ]);
    ip_ns(&["link", "set", "data0", "up"]);
    ip_ns(&["link", "set", "data1", "up"]);

    let Some(agent) = Snmpd::start_in(Some(&ns.name), &ns.ns_ip) else {
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

    ip_ns(&["link", "set", "data0", "down"]);
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
