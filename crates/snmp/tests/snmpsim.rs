//! Real-device recordings served by snmpsim: the generic profile decodes them and the vendor
//! profile is picked from sysObjectID. Expectations are read from the recordings themselves.

use std::collections::BTreeMap;
use std::time::Duration;

use faultline_observe::{HaRole, Signal};
use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
use faultline_testpeers::snmpsim::{Snmpsim, recording, snmpsim_data_root};

const KEEP: &[&str] = &[
    "1.3.6.1.2.1.1.",
    "1.3.6.1.2.1.2.2.1.",
    "1.3.6.1.2.1.31.1.1.1.",
    "1.0.8802.1.1.2.1.",
    "1.3.6.1.6.3.10.2.1.",
    "1.3.6.1.4.1.25461.2.1.2.1.",
    "1.3.6.1.4.1.12356.100.1.1.",
    "1.3.6.1.4.1.12356.101.13.",
    "1.3.6.1.4.1.2636.3.1.14.",
];

const RECORDINGS: &[&str] = &[
    "network/firewall/paloalto-pa-5000",
    "network/firewall/fortinet-xcu",
    "network/switch/cisco-c3560",
    "network/router/juniper-mx960-16-1r6-7-a",
];

/// OID → (type, value) of one recording, for the expectations.
fn parse(text: &str) -> BTreeMap<String, (String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut p = l.splitn(3, '|');
            Some((
                p.next()?.to_owned(),
                (p.next()?.to_owned(), p.next()?.to_owned()),
            ))
        })
        .collect()
}

fn text_value((ty, v): &(String, String)) -> String {
    if ty.ends_with('x') {
        let bytes: Vec<u8> = (0..v.len() / 2)
            .filter_map(|i| u8::from_str_radix(&v[2 * i..2 * i + 2], 16).ok())
            .collect();
        String::from_utf8_lossy(&bytes).trim().to_owned()
    } else {
        v.trim().to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_of_real_devices_decode_and_select_profiles() {
    let Some(sim) = Snmpsim::start(RECORDINGS, KEEP) else {
        return;
    };
    let Some(root) = snmpsim_data_root() else {
        return;
    };
    let poller = SnmpPoller::new(PollerConfig::default());
    let mut seen = BTreeMap::new();
    for rec in RECORDINGS {
        let want = parse(&recording(&root, rec));
        let mut t = Target::new(*rec, sim.addr, Credentials::v2c(*rec));
        t.timeout = Duration::from_secs(10);
        let out = poller.poll(&t, None).await;
        assert!(
            out.report.errors.is_empty(),
            "{rec}: {:?}",
            out.report.errors
        );
        let sys = out.report.system.as_ref().expect("system");
        assert_eq!(sys.name, text_value(&want["1.3.6.1.2.1.1.5.0"]), "{rec}");
        assert_eq!(sys.object_id, want["1.3.6.1.2.1.1.2.0"].1, "{rec}");
        // Every ifTable row of the recording is an interface in the report, with its descr.
        let rows: Vec<(String, String)> = want
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("1.3.6.1.2.1.2.2.1.2.")
                    .map(|i| (i.to_owned(), text_value(v)))
            })
            .collect();
        let mut ours: Vec<(String, String)> = out
            .report
            .interfaces
            .iter()
            .map(|i| (i.index.clone(), i.descr.clone()))
            .collect();
        ours.sort();
        let mut rows_sorted = rows.clone();
        rows_sorted.sort();
        assert_eq!(ours, rows_sorted, "{rec}");
        for i in &out.report.interfaces {
            let oper = want
                .get(&format!("1.3.6.1.2.1.2.2.1.8.{}", i.index))
                .map(|v| v.1.parse::<i64>().unwrap_or(0));
            assert_eq!(
                Some(i.oper),
                oper.map(faultline_observe::IfStatus::from_mib),
                "{rec} if {}",
                i.index
            );
        }
        let lldp_rows = want
            .keys()
            .filter(|k| k.starts_with("1.0.8802.1.1.2.1.4.1.1.9."))
            .count();
        assert_eq!(out.report.neighbors.len(), lldp_rows, "{rec}");
        seen.insert(*rec, out);
    }

    let pa = &seen["network/firewall/paloalto-pa-5000"];
    assert_eq!(pa.report.profile.as_deref(), Some("paloalto"));
    // The recording has panSysHAMode "disabled": HA not configured.
    assert_eq!(
        pa.report.ha.as_ref().map(|h| h.role),
        Some(HaRole::Standalone)
    );

    let fg = &seen["network/firewall/fortinet-xcu"];
    assert_eq!(fg.report.profile.as_deref(), Some("fortigate"));
    let ha = fg.report.ha.as_ref().expect("fortigate HA");
    // fnSysSerial equals fgHaStatsPrimarySerial in this recording; both rows synchronized with
    // equal checksums.
    assert_eq!(
        (ha.role, ha.peer, ha.in_sync),
        (HaRole::Active, Some(HaRole::Standby), Some(true))
    );
    assert!(fg.observations.iter().any(|o| matches!(
        o.signal,
        Signal::HaRole {
            role: HaRole::Active,
            ..
        }
    )));

    assert_eq!(
        seen["network/switch/cisco-c3560"].report.profile.as_deref(),
        Some("generic")
    );
    assert!(seen["network/switch/cisco-c3560"].report.ha.is_none());

    let jnx = &seen["network/router/juniper-mx960-16-1r6-7-a"];
    assert_eq!(jnx.report.profile.as_deref(), Some("juniper"));
    let ha = jnx.report.ha.as_ref().expect("juniper HA");
    assert_eq!((ha.role, ha.peer), (HaRole::Active, Some(HaRole::Standby)));
    let n = jnx
        .report
        .neighbors
        .iter()
        .find(|n| n.local_port_num == "550")
        .expect("LLDP neighbour on port 550");
    assert_eq!(n.remote_port_id, "GigabitEthernet1/0/28");
}
