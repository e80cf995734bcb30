//! Discovery parses the neighbour tables of real devices: snmpsim serving snmpsim-data's
//! recordings of a Cisco Nexus 5000 (LLDP-MIB) and a Catalyst 3750 (CISCO-CDP-MIB).

use std::time::Duration;

use faultline_discover::links::PortSource;
use faultline_discover::mib::Protocol;
use faultline_discover::render::render_new;
use faultline_discover::{Discovered, NodeStatus, WalkOptions, walk};
use faultline_snmp::{Credentials, Profiles};
use faultline_testpeers::snmpsim::Snmpsim;

const N5000: &str = "network/switch/cisco-n5000";
const C3750: &str = "network/switch/cisco-c3750";
/// system, ifTable, ifXTable, LLDP-MIB, CISCO-CDP-MIB: all discovery reads.
const KEEP: [&str; 5] = [
    "1.3.6.1.2.1.1.",
    "1.3.6.1.2.1.2.",
    "1.3.6.1.2.1.31.",
    "1.0.8802.1.1.2.",
    "1.3.6.1.4.1.9.9.23.",
];

fn discover(sim: &Snmpsim, community: &str) -> Discovered {
    let opts = WalkOptions {
        seeds: vec![sim.addr],
        credentials: Credentials::v2c(community),
        port: 161,
        max_depth: 0,
        max_devices: 10,
        timeout: Duration::from_secs(5),
        retries: 1,
        max_repetitions: 25,
        profiles: Profiles::embedded(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    Discovered::new(rt.block_on(walk(&opts, &mut |_| {})), None)
}

/// Neighbours become not-polled nodes (depth 0), every cable's local end is one of the
/// device's own interfaces, and the rendering validates.
fn check(d: &Discovered, protocol: Protocol, neighbours: usize) {
    let seed = &d.discovery.nodes[0];
    assert_eq!(seed.status, NodeStatus::Polled, "{:?}", seed.errors);
    let entries = seed
        .lldp
        .remotes
        .iter()
        .filter(|r| r.protocol == protocol)
        .count();
    assert_eq!(entries, neighbours);
    assert!(!d.cabling.links.is_empty());
    let names: Vec<&str> = seed.interfaces.iter().map(|i| i.name.as_str()).collect();
    for l in &d.cabling.links {
        assert!(
            names.contains(&l.a.interface.as_str()),
            "{} not an ifName",
            l.a
        );
        assert!(matches!(
            l.a_source,
            PortSource::IfName | PortSource::IfIndex
        ));
        assert!(!l.b.interface.is_empty() && l.b.interface != "?");
    }
    assert!(
        d.discovery.nodes[1..]
            .iter()
            .all(|n| matches!(n.status, NodeStatus::NotPolled(_)))
    );
    let text = render_new(d, "rec", "recording");
    faultline_model::Topology::from_yaml_str(&text, "rec.yaml").expect(&text);
}

#[test]
fn lldp_and_cdp_tables_of_recorded_switches() {
    let Some(sim) = Snmpsim::start(&[N5000, C3750], &KEEP) else {
        return;
    };
    let nexus = discover(&sim, N5000);
    check(&nexus, Protocol::Lldp, 9);
    let catalyst = discover(&sim, C3750);
    check(&catalyst, Protocol::Cdp, 125);
}
