//! Protocol fidelity: a walk of net-snmp's snmpd, served by the simulated agent, decodes
//! through the same faultline poller to the same report as snmpd itself (v1 and v2c).

#[path = "../../snmp/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use faultline_agent_sim::{SimAgent, Table};
use faultline_snmp::{Credentials, DeviceReport, PollerConfig, Secret, SnmpPoller, Target};
use support::*;

/// Convert `snmpbulkwalk -On -Oe -Ox` output to snmprec lines.
fn to_snmprec(walk: &str) -> String {
    // Hex-STRING values continue on following lines; join them first.
    let mut entries: Vec<String> = vec![];
    for line in walk.lines() {
        if line.starts_with('.') {
            entries.push(line.to_owned());
        } else if let Some(last) = entries.last_mut() {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    let mut out = String::new();
    for e in entries {
        let Some((oid, v)) = e.split_once(" = ") else {
            continue;
        };
        let oid = oid.trim_start_matches('.');
        let (ty, val) = match v.split_once(": ") {
            Some(("INTEGER", n)) => ("2", n.to_owned()),
            Some(("Hex-STRING", h)) => ("4x", h.replace(' ', "")),
            Some(("STRING", s)) => ("4", s.trim_matches('"').to_owned()),
            Some(("OID", o)) => ("6", o.trim_start_matches('.').to_owned()),
            Some(("Timeticks", t)) => (
                "67",
                t.trim_start_matches('(')
                    .split(')')
                    .next()
                    .unwrap_or("0")
                    .to_owned(),
            ),
            Some(("Counter32", n)) => ("65", n.to_owned()),
            Some(("Gauge32", n)) => ("66", n.to_owned()),
            Some(("Counter64", n)) => ("70", n.to_owned()),
            Some(("IpAddress", ip)) => ("64", ip.to_owned()),
            _ if v.trim() == "\"\"" => ("4", String::new()),
            _ => continue,
        };
        out.push_str(&format!("{oid}|{ty}|{val}\n"));
    }
    out
}

/// The parts of a report that do not change between two polls a moment apart, as text.
fn stable(r: &DeviceReport) -> Vec<String> {
    let s = r.system.clone().unwrap_or_default();
    let mut out = vec![s.name, s.object_id, s.descr];
    out.extend(r.interfaces.iter().map(|i| {
        format!(
            "{} {} {} {:?} {:?} {:?}",
            i.index, i.name, i.descr, i.oper, i.admin, i.last_change_cs
        )
    }));
    out
}

#[tokio::test]
async fn simulated_agent_decodes_like_snmpd() {
    let Some(agent) = Snmpd::start() else { return };
    let mut walk = String::new();
    for root in [
        "1.3.6.1.2.1.1",
        "1.3.6.1.2.1.2.2",
        "1.3.6.1.2.1.31.1.1",
        "1.3.6.1.6.3.10.2.1",
    ] {
        walk.push_str(&run(
            "snmpbulkwalk",
            &[
                "-v2c",
                "-c",
                "public",
                "-m",
                "",
                "-On",
                "-Oe",
                "-Ox",
                &agent.addr.to_string(),
                root,
            ],
        ));
    }
    let table = Table::from_snmprec(&to_snmprec(&walk)).expect("snmprec from snmpd walk");
    assert!(table.len() > 20);
    let sim = SimAgent::start("127.0.0.1:0", table)
        .await
        .expect("sim agent");

    let poller = SnmpPoller::new(PollerConfig::default());
    for v1 in [false, true] {
        let creds = |c: &str| {
            if v1 {
                Credentials::V1 {
                    community: Secret::new(c),
                }
            } else {
                Credentials::v2c(c)
            }
        };
        let mut real = Target::new(format!("real-{v1}"), agent.addr, creds("public"));
        let mut simt = Target::new(format!("sim-{v1}"), sim.addr(), creds("public"));
        for t in [&mut real, &mut simt] {
            t.timeout = Duration::from_secs(2);
            t.max_repetitions = 10;
        }
        let a = poller.poll(&real, None).await;
        let b = poller.poll(&simt, None).await;
        assert!(
            a.report.errors.is_empty() && b.report.errors.is_empty(),
            "v1={v1}: {:?} / {:?}",
            a.report.errors,
            b.report.errors
        );
        assert!(!a.report.interfaces.is_empty());
        assert_eq!(stable(&a.report), stable(&b.report), "v1={v1}");
    }
    assert!(
        sim.stats()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
}
