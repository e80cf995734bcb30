//! The pure half of discovery on fixtures: MIB decoding, port resolution in each announced
//! form, rendering that validates, merging, and drift classification.

use faultline_discover::Discovered;
use faultline_discover::drift::{Judge, compare, compare_with};
use faultline_discover::links::PortSource;
use faultline_discover::mib::{self, oids};
use faultline_discover::render::{render_merged, render_new};
use faultline_discover::walk::{Discovery, Interface, Node, NodeStatus};
use faultline_model::Topology;
use faultline_snmp::decode::{RawPoll, SnmpValue};

fn set(raw: &mut RawPoll, column: &str, index: &str, v: SnmpValue) {
    raw.columns
        .entry(column.to_owned())
        .or_default()
        .insert(index.to_owned(), v);
}

fn bytes(s: &str) -> SnmpValue {
    SnmpValue::Bytes(s.as_bytes().to_vec())
}

/// An lldpd-style agent: ports announced as MACs, the name in the description; one neighbour
/// on local port 2 with management address `mgmt`.
fn lldpd_raw(chassis: u8, port_mac: u8, desc: &str, peer: (&str, u8, &str, [u8; 4])) -> RawPoll {
    let mut raw = RawPoll::default();
    raw.scalars
        .insert(oids::LOC_CHASSIS_SUBTYPE.into(), SnmpValue::Int(4));
    raw.scalars.insert(
        oids::LOC_CHASSIS_ID.into(),
        SnmpValue::Bytes(vec![2, 0, 0, 0, 0, chassis]),
    );
    raw.scalars.insert(
        oids::LOC_SYS_CAP_ENABLED.into(),
        SnmpValue::Bytes(vec![0x01]),
    );
    set(&mut raw, oids::LOC_PORT_SUBTYPE, "2", SnmpValue::Int(3));
    set(
        &mut raw,
        oids::LOC_PORT_ID,
        "2",
        SnmpValue::Bytes(vec![2, 0, 0, 0, 1, port_mac]),
    );
    set(&mut raw, oids::LOC_PORT_DESC, "2", bytes(desc));
    let (name, peer_chassis, peer_desc, ip) = peer;
    let idx = "100.2.1";
    set(&mut raw, oids::REM_CHASSIS_SUBTYPE, idx, SnmpValue::Int(4));
    set(
        &mut raw,
        oids::REM_CHASSIS_ID,
        idx,
        SnmpValue::Bytes(vec![2, 0, 0, 0, 0, peer_chassis]),
    );
    set(&mut raw, oids::REM_PORT_SUBTYPE, idx, SnmpValue::Int(3));
    set(
        &mut raw,
        oids::REM_PORT_ID,
        idx,
        SnmpValue::Bytes(vec![2, 0, 0, 0, 1, peer_chassis]),
    );
    set(&mut raw, oids::REM_PORT_DESC, idx, bytes(peer_desc));
    set(&mut raw, oids::REM_SYS_NAME, idx, bytes(name));
    set(
        &mut raw,
        oids::REM_SYS_CAP_ENABLED,
        idx,
        SnmpValue::Bytes(vec![0x28]),
    );
    let man = format!("{idx}.1.4.{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
    set(
        &mut raw,
        oids::REM_MAN_ADDR_IF_SUBTYPE,
        &man,
        SnmpValue::Int(2),
    );
    raw
}

fn node(name: &str, ip: [u8; 4], raw: &RawPoll, ifname: &str, polled: bool) -> Node {
    let lldp = mib::decode(raw);
    Node {
        sys_name: name.into(),
        address: Some(ip.into()),
        port: 161,
        status: if polled {
            NodeStatus::Polled
        } else {
            NodeStatus::Unreachable("timeout".into())
        },
        depth: 0,
        object_id: Some("1.3.6.1.4.1.8072.3.2.10".into()),
        profile: Some("generic".into()),
        caps: lldp.caps,
        chassis: lldp.chassis.clone(),
        // ifName differs from the description on purpose: the own ifName must win.
        interfaces: vec![Interface {
            index: "2".into(),
            name: ifname.into(),
            descr: ifname.into(),
        }],
        lldp: if polled { lldp } else { Default::default() },
        errors: vec![],
    }
}

fn pair_lab(b_polled: bool) -> Discovery {
    let a = lldpd_raw(0xa, 0xa, "eth-a", ("sw b", 0xb, "desc-b", [10, 0, 0, 2]));
    let b = lldpd_raw(0xb, 0xb, "eth-b", ("sw-a", 0xa, "desc-a", [10, 0, 0, 1]));
    Discovery {
        nodes: vec![
            node("sw-a", [10, 0, 0, 1], &a, "eth-a", true),
            node("sw b", [10, 0, 0, 2], &b, "swp7", b_polled),
        ],
    }
}

#[test]
fn decode_reads_ports_neighbours_addresses_and_capabilities() {
    let raw = lldpd_raw(0xa, 0xa, "eth-a", ("sw-b", 0xb, "desc-b", [10, 0, 0, 2]));
    let v = mib::decode(&raw);
    assert_eq!(v.chassis.as_deref(), Some("4:02:00:00:00:00:0a"));
    assert!(v.caps.station && !v.caps.router);
    assert_eq!(v.local_ports["2"].id.id, "02:00:00:00:01:0a");
    assert_eq!(v.remotes.len(), 1);
    let r = &v.remotes[0];
    assert_eq!(r.local, mib::LocalRef::LldpPort("2".into()));
    assert_eq!(r.sys_name, "sw-b");
    assert_eq!(r.port_desc, "desc-b");
    assert!(r.caps.bridge && r.caps.router, "0x28 = bridge + router");
    assert_eq!(r.mgmt, vec![std::net::IpAddr::from([10, 0, 0, 2])]);
}

#[test]
fn both_ends_polled_resolve_to_each_sides_own_ifname() {
    let d = Discovered::new(pair_lab(true), None);
    assert_eq!(d.ids, ["sw-a", "sw-b"]);
    assert_eq!(d.cabling.links.len(), 1, "one cable seen from both ends");
    let l = &d.cabling.links[0];
    assert_eq!(l.id(), "sw-a:eth-a--sw-b:swp7");
    assert_eq!(l.a_source, PortSource::IfName);
    assert_eq!(l.b_source, PortSource::NeighbourIfName);
    assert!(l.both_ends);
    let text = render_new(&d, "lab", "test");
    let t = Topology::from_yaml_str(&text, "new.yaml").expect(&text);
    assert_eq!(t.links.len(), 1);
    assert!(text.contains("# LLDP, seen from both ends"), "{text}");
}

#[test]
fn an_unreachable_neighbour_is_kept_and_named_from_the_port_description() {
    let d = Discovered::new(pair_lab(false), None);
    let l = &d.cabling.links[0];
    assert_eq!(l.id(), "sw-a:eth-a--sw-b:desc-b");
    assert_eq!(l.b_source, PortSource::PortDescription);
    assert_eq!(
        d.unreachable(),
        vec![("sw-b".into(), "unreachable: timeout".into())]
    );
    let text = render_new(&d, "lab", "test");
    assert!(text.contains("UNREACHABLE 10.0.0.2:161"), "{text}");
    Topology::from_yaml_str(&text, "new.yaml").expect(&text);
}

const DECLARED: &str = "name: lab
collector: a
zone_collectors: {dmz: b}
devices:
  - {id: a, kind: switch, address: 10.0.0.1}
  - {id: b, kind: switch, address: 10.0.0.2, requires: [a], zone: dmz}
  - {id: c, kind: switch, address: 10.0.0.3}
links:
  - [a:eth-a, b:eth-old]
  - [a:eth-x, c:eth-c]
groups:
  - {id: ab, mode: any, members: [a, b]}
services:
  - {id: web, name: Web, tier: high, requires: [ab]}
";

#[test]
fn drift_and_merge_against_a_declared_topology() {
    let t = Topology::from_yaml_str(DECLARED, "declared.yaml").expect("declared");
    let d = Discovered::new(pair_lab(true), Some(&t));
    assert_eq!(d.ids, ["a", "b"], "matched by address");
    let r = compare(&t, &d);
    assert_eq!(r.moved.len(), 1, "{r:?}");
    assert_eq!(r.moved[0].end, "a:eth-a");
    assert_eq!(r.moved[0].declared, "b:eth-old");
    assert_eq!(r.moved[0].seen, "b:swp7");
    assert_eq!(r.missing.len(), 1, "a polled, a:eth-x unseen: {r:?}");
    assert!(r.unexpected.is_empty() && r.drifted());
    // The collector's strict judgement: c was never read, so a:eth-x--c:eth-c is not known
    // to be missing; the move is a sighting and still counts.
    let strict = compare_with(&t, &d, Judge::Both);
    assert!(strict.missing.is_empty(), "{strict:?}");
    assert_eq!(strict.moved, r.moved);
    assert!(
        strict
            .unverified
            .iter()
            .any(|u| u.link == "a:eth-x--c:eth-c"),
        "{strict:?}"
    );

    let merged = render_merged(&d, &t, "merged");
    let m = Topology::from_yaml_str(&merged, "merged.yaml").expect(&merged);
    assert_eq!(m.groups.len(), 1);
    assert_eq!(m.services.len(), 1);
    assert_eq!(m.collector, t.collector, "{merged}");
    assert_eq!(m.zone_collectors, t.zone_collectors, "{merged}");
    assert_eq!(
        m.device("b").map(|d| d.requires.clone()),
        Some(vec!["a".to_owned()])
    );
    assert!(
        merged.contains("SEEN, CONFLICTS with a declared link"),
        "{merged}"
    );
    assert!(merged.contains("declared; NOT seen"), "{merged}");
}

/// Found by the lldp_tables fuzz target: a device that hears its own announcement (same
/// chassis: a loop, a hub) gets no link to itself, which the schema refuses, but a note; and
/// names with characters YAML does not allow (DEL, C1 controls) still render a topology that
/// loads.
#[test]
fn a_device_hearing_itself_and_unprintable_names_still_render_a_topology_that_loads() {
    let own = lldpd_raw(0xa, 0xa, "eth-a", ("sw-a", 0xa, "desc-a", [10, 0, 0, 1]));
    let odd = lldpd_raw(
        0xa,
        0xa,
        "eth-a",
        ("odd\u{7f}\u{85}name", 0xc, "p\u{7f}rt\u{9f}", [10, 0, 0, 3]),
    );
    for raw in [own, odd] {
        let mut d = Discovery {
            nodes: vec![node("sw-a", [10, 0, 0, 1], &raw, "eth-a", true)],
        };
        let r = d.nodes[0].lldp.remotes[0].clone();
        if d.find(&r).is_none() {
            let mut n = node(&r.sys_name, [10, 0, 0, 3], &RawPoll::default(), "x", false);
            n.chassis = Some(r.chassis.clone());
            d.nodes.push(n);
        }
        let found = Discovered::new(d, None);
        assert!(
            found.cabling.links.iter().all(|l| l.a.device != l.b.device),
            "{:?}",
            found.cabling.links
        );
        let text = render_new(&found, "t", "test");
        Topology::from_yaml_str(&text, "t.yaml").expect(&text);
    }
}
