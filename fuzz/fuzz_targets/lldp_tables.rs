//! A device's LLDP-MIB and CISCO-CDP-MIB answers as discovery reads them: BER decode
//! (async-snmp), value conversion, the pure table decoder (`faultline_discover::mib::decode`),
//! then what `faultline discover` makes of them: every announced neighbour a node, ids, port
//! resolution and cabling, the topology YAML.
//!
//! Beyond "never panics": the written topology loads, whatever the neighbours announced
//! (names, ports and chassis ids are the network's, not ours).
#![no_main]

use faultline_discover::mib::{self, LldpView};
use faultline_discover::render::render_new;
use faultline_discover::walk::Interface;
use faultline_discover::{Discovered, Discovery, Node, NodeStatus};
use faultline_model::Topology;
use libfuzzer_sys::fuzz_target;

#[path = "support/raw_poll.rs"]
mod support;

/// ifName (IF-MIB ifXTable), which port resolution matches announced ports against.
const IF_NAME: &str = "1.3.6.1.2.1.31.1.1.1.1";

fn node(sys_name: String, status: NodeStatus, lldp: LldpView) -> Node {
    Node {
        sys_name,
        address: None,
        port: 161,
        status,
        depth: 0,
        object_id: None,
        profile: None,
        caps: lldp.caps,
        chassis: lldp.chassis.clone(),
        interfaces: vec![],
        lldp,
        errors: vec![],
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(raw) = support::answer(data) else {
        return;
    };
    let view = mib::decode(&raw);

    // The polled device, then each neighbour it announces as a not-polled node, as the walk
    // keeps them when it does not go further.
    let name = view.sys_name.clone().unwrap_or_else(|| "seed".to_owned());
    let mut seed = node(name, NodeStatus::Polled, view);
    seed.address = Some([192, 0, 2, 1].into());
    seed.interfaces = raw
        .column(IF_NAME)
        .into_iter()
        .flatten()
        .map(|(index, v)| Interface {
            index: index.clone(),
            name: v.text(),
            descr: v.text(),
        })
        .collect();
    let mut discovery = Discovery { nodes: vec![seed] };
    for r in discovery.nodes[0].lldp.remotes.clone() {
        if discovery.find(&r).is_some() {
            continue;
        }
        let mut n = node(
            r.sys_name.clone(),
            NodeStatus::NotPolled("fuzz".to_owned()),
            LldpView::default(),
        );
        n.address = r.mgmt.first().copied();
        n.caps = r.caps;
        n.chassis = Some(r.chassis.clone()).filter(|c| !c.is_empty());
        n.depth = 1;
        discovery.nodes.push(n);
    }

    let found = Discovered::new(discovery, None);
    let yaml = render_new(&found, "fuzz", "fuzz");
    if let Err(e) = Topology::from_yaml_str(&yaml, "fuzz.yaml") {
        panic!("the discovered topology does not load: {e}\n{yaml}");
    }
});
