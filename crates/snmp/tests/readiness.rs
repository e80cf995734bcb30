//! Standby-readiness facts read from real agents: net-snmp snmpd in a network namespace whose
//! forwarding and routes we change, a user profile with checks on vendor OIDs, and the
//! snmpsim FortiGate recording (plus a copy with one member's checksum altered).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_observe::{Fact, ReadinessRule, Signal, Subject};
use faultline_snmp::{
    Credentials, PollOutcome, PollerConfig, Profiles, Secret, SnmpPoller, Target,
};
use faultline_testpeers::ns_agent::NsAgent;
use faultline_testpeers::snmpd::Snmpd;
use faultline_testpeers::snmpsim::{Snmpsim, recording, snmpsim_data_root};

/// The readiness fact `check` of a poll: (value, shown), also checked against the observation.
fn fact(out: &PollOutcome, check: &str) -> Option<(Fact, Option<String>)> {
    let r = out.report.readiness.iter().find(|r| r.check == check)?;
    let obs = out
        .observations
        .iter()
        .find(|o| matches!(&o.signal, Signal::Readiness { check: c, .. } if c == check))
        .expect("an observation for every reported fact");
    assert_eq!(obs.subject, Subject::device(&out.report.device_id));
    match &obs.signal {
        Signal::Readiness {
            value, shown, rule, ..
        } => {
            assert_eq!((value, shown, rule), (&r.value, &r.shown, &r.rule));
        }
        _ => unreachable!(),
    }
    Some((r.value.clone(), r.shown.clone()))
}

/// Poll until `check` reads `want` (net-snmp caches some tables for a few seconds).
async fn poll_until(poller: &SnmpPoller, t: &Target, check: &str, want: &Fact) -> PollOutcome {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = poller.poll(t, None).await;
        assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
        if fact(&out, check).is_some_and(|(v, _)| &v == want) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "{check} never read {want:?}: {:?}",
            fact(&out, check)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn ip_forwarding_and_default_route_follow_the_namespace() {
    let Some(ns) = NsAgent::start("rd") else {
        return;
    };
    let poller = SnmpPoller::new(PollerConfig::default());
    let mut t = Target::new("fw-b", ns.agent.addr, Credentials::v2c("public"));
    t.timeout = Duration::from_secs(1);

    ns.exec("sysctl", &["-w", "net.ipv4.ip_forward=0"]);
    let out = poll_until(&poller, &t, "ip_forwarding", &Fact::Int(2)).await;
    assert_eq!(
        fact(&out, "ip_forwarding"),
        Some((Fact::Int(2), Some("notForwarding".into())))
    );
    assert!(out.observations.iter().any(|o| o.signal
        == Signal::Readiness {
            check: "ip_forwarding".into(),
            value: Fact::Int(2),
            shown: Some("notForwarding".into()),
            rule: ReadinessRule::MatchActive,
        }));
    // Only the connected /30 is routed: routes exist, no default route.
    assert_eq!(
        fact(&out, "default_route_v4").map(|f| f.0),
        Some(Fact::Int(0))
    );
    let Some((Fact::Int(routes), _)) = fact(&out, "route_count") else {
        panic!("route_count: {:?}", fact(&out, "route_count"));
    };
    assert!(routes >= 1, "{routes}");

    ns.exec("sysctl", &["-w", "net.ipv4.ip_forward=1"]);
    let out = poll_until(&poller, &t, "ip_forwarding", &Fact::Int(1)).await;
    assert_eq!(
        fact(&out, "ip_forwarding"),
        Some((Fact::Int(1), Some("forwarding".into())))
    );

    // net-snmp caches the route table for a minute: a fresh agent sees the new route.
    ns.ip(&["route", "add", "default", "via", &ns.ns.host_ip]);
    let Some(fresh) = Snmpd::start_in(Some(&ns.ns.name), &ns.ns.ns_ip) else {
        return;
    };
    t.addr = fresh.addr;
    let out = poll_until(&poller, &t, "default_route_v4", &Fact::Int(1)).await;
    assert!(matches!(
        fact(&out, "route_count"),
        Some((Fact::Int(n), _)) if n > routes
    ));
}

const ACME: &str = r#"
name = "acme"

# Present in every net-snmp agent.
[[readiness]]
name = "agent_name"
oid = "1.3.6.1.2.1.1.5.0"
rule = "match_active"

# An enterprise OID nobody implements: noSuchObject.
[[readiness]]
name = "vendor_state"
oid = "1.3.6.1.4.1.99999.1.0"
rule = "equal"
value = 1

# sysServices without a `sysservices` line in snmpd.conf: noSuchInstance.
[[readiness]]
name = "services"
oid = "1.3.6.1.2.1.1.7.0"
rule = "match_active"

# Interfaces up (ifOperStatus = up(1)).
[[readiness]]
name = "interfaces_up"
table = "1.3.6.1.2.1.2.2.1"
column = 8
aggregate = "count_where"
matching = [1]
rule = "match_active"

[[readiness]]
name = "interfaces"
table = "1.3.6.1.2.1.2.2.1"
column = 1
aggregate = "count"
rule = "at_least"
min = 1
"#;

#[tokio::test]
async fn a_user_profile_adds_checks_and_missing_objects_read_absent() {
    let Some(agent) = Snmpd::start() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("acme.toml"), ACME).expect("write profile");
    let profiles = Profiles::load(Some(dir.path())).expect("profiles");
    let poller = SnmpPoller::new(PollerConfig {
        profiles,
        ..PollerConfig::default()
    });
    let mut seen = vec![];
    for creds in [
        Credentials::v2c("public"),
        Credentials::V1 {
            community: Secret::new("public"),
        },
    ] {
        let mut t = Target::new("acme-1", agent.addr, creds);
        t.profile = Some("acme".into());
        t.timeout = Duration::from_secs(1);
        let out = poller.poll(&t, None).await;
        assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
        let name = agent.sys_name();
        assert_eq!(
            fact(&out, "agent_name").map(|f| f.0),
            Some(Fact::Text(name))
        );
        assert_eq!(fact(&out, "vendor_state"), Some((Fact::Absent, None)));
        assert_eq!(fact(&out, "services").map(|f| f.0), Some(Fact::Absent));
        let up = out
            .report
            .interfaces
            .iter()
            .filter(|i| i.oper == faultline_observe::IfStatus::Up)
            .count();
        assert_eq!(
            fact(&out, "interfaces_up").map(|f| f.0),
            Some(Fact::Int(up as i64))
        );
        assert_eq!(
            fact(&out, "interfaces").map(|f| f.0),
            Some(Fact::Int(out.report.interfaces.len() as i64))
        );
        // The generic checks apply to the user's vendor too.
        assert!(fact(&out, "ip_forwarding").is_some());
        let facts: BTreeMap<String, Fact> = out
            .report
            .readiness
            .iter()
            .map(|r| (r.check.clone(), r.value.clone()))
            .collect();
        seen.push(facts);
    }
    // v1 (noSuchName for the whole request, retried without the missing objects) reads the
    // same facts as v2c (per-varbind exceptions).
    assert_eq!(seen[0], seen[1]);
}

const FORTIGATE: &str = "network/firewall/fortinet-xcu";
const KEEP: &[&str] = &[
    "1.3.6.1.2.1.1.",
    "1.3.6.1.2.1.2.2.1.",
    "1.3.6.1.2.1.31.1.1.1.",
    "1.3.6.1.2.1.4.",
    "1.3.6.1.6.3.10.2.1.",
    "1.3.6.1.4.1.12356.100.1.1.",
    "1.3.6.1.4.1.12356.101.13.",
];
const SERIAL: &str = "1.3.6.1.4.1.12356.100.1.1.1.0";
const HA_TABLE: &str = "1.3.6.1.4.1.12356.101.13.2.1.1";

/// The recording's value at `oid` (plain-text snmprec values only).
fn value_at<'a>(rec: &'a str, oid: &str) -> Option<&'a str> {
    rec.lines().find_map(|l| {
        let mut p = l.splitn(3, '|');
        (p.next()? == oid).then_some(())?;
        p.next()?;
        p.next()
    })
}

/// The FortiGate recording, cut to what a poll reads.
fn fortigate_recording(root: &std::path::Path) -> String {
    recording(root, FORTIGATE)
        .lines()
        .filter(|l| KEEP.iter().any(|k| l.starts_with(k)))
        .flat_map(|l| [l, "\n"])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fortigate_recording_checksums_decode_and_an_altered_one_differs() {
    let Some(root) = snmpsim_data_root() else {
        return;
    };
    let original = fortigate_recording(&root);
    // Expectations from the recording: the answering unit's own row (its serial) and that
    // row's checksum.
    let serial = value_at(&original, SERIAL).expect("fnSysSerial");
    let own_row = original
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix(&format!("{HA_TABLE}.2."))?;
            let (idx, v) = rest.split_once('|')?;
            (v.split_once('|')?.1 == serial).then(|| idx.to_owned())
        })
        .expect("own row");
    let sum_oid = format!("{HA_TABLE}.15.{own_row}");
    let sum = value_at(&original, &sum_oid).expect("checksum").to_owned();
    let altered_sum = "0123456789ABCDEF0123456789ABCDEF";
    assert_ne!(sum, altered_sum);
    let altered = original.replace(
        &format!("{sum_oid}|4|{sum}"),
        &format!("{sum_oid}|4|{altered_sum}"),
    );
    assert_ne!(altered, original, "the checksum line was replaced");

    let Some(sim) =
        Snmpsim::start_texts(&[("fortigate-a", original.clone()), ("fortigate-b", altered)])
    else {
        return;
    };
    let poller = SnmpPoller::new(PollerConfig::default());
    let mut outs = vec![];
    for community in ["fortigate-a", "fortigate-b"] {
        let mut t = Target::new(community, sim.addr, Credentials::v2c(community));
        t.timeout = Duration::from_secs(10);
        let out = poller.poll(&t, None).await;
        assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
        assert_eq!(out.report.profile.as_deref(), Some("fortigate"));
        outs.push(out);
    }
    let (a, b) = (&outs[0], &outs[1]);
    assert_eq!(fact(a, "config_checksum"), Some((Fact::Text(sum), None)));
    assert_eq!(
        fact(b, "config_checksum"),
        Some((Fact::Text(altered_sum.into()), None))
    );
    let rows = original
        .lines()
        .filter(|l| l.starts_with(&format!("{HA_TABLE}.2.")))
        .count();
    for out in [a, b] {
        assert_eq!(
            fact(out, "config_sync"),
            Some((Fact::Int(1), Some("synchronized".into())))
        );
        assert_eq!(
            fact(out, "ha_members").map(|f| f.0),
            Some(Fact::Int(rows as i64))
        );
        let mode: i64 = value_at(&original, "1.3.6.1.4.1.12356.101.13.1.1.0")
            .and_then(|v| v.parse().ok())
            .expect("fgHaSystemMode");
        assert_eq!(fact(out, "ha_mode").map(|f| f.0), Some(Fact::Int(mode)));
        let group = value_at(&original, "1.3.6.1.4.1.12356.101.13.1.7.0").expect("group");
        assert_eq!(
            fact(out, "ha_group_name").map(|f| f.0),
            Some(Fact::Text(group.into()))
        );
        // IP-MIB from the same recording: present values decode, missing ones are Absent.
        let fwd = value_at(&original, "1.3.6.1.2.1.4.1.0").and_then(|v| v.parse::<i64>().ok());
        assert_eq!(
            fact(out, "ip_forwarding").map(|f| f.0),
            Some(fwd.map_or(Fact::Absent, Fact::Int))
        );
        let v6 = value_at(&original, "1.3.6.1.2.1.4.25.0").and_then(|v| v.parse::<i64>().ok());
        assert_eq!(
            fact(out, "ipv6_forwarding").map(|f| f.0),
            Some(v6.map_or(Fact::Absent, Fact::Int))
        );
    }
    // The altered copy's own table now disagrees with itself, which the HA role shows too.
    assert_eq!(a.report.ha.as_ref().and_then(|h| h.in_sync), Some(true));
    assert_eq!(b.report.ha.as_ref().and_then(|h| h.in_sync), Some(false));
}

/// The recording's row index and value of `column` in the fgHaStatsTable row whose serial
/// is (`mine`) or is not (`!mine`) `serial`.
fn ha_row(rec: &str, serial: &str, mine: bool) -> (String, String) {
    rec.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(&format!("{HA_TABLE}.2."))?;
            let (idx, v) = rest.split_once('|')?;
            let row_serial = v.split_once('|')?.1;
            ((row_serial == serial) == mine).then(|| (idx.to_owned(), row_serial.to_owned()))
        })
        .expect("an fgHaStatsTable row")
}

/// The recorded unit (the primary) and its secondary, whose configuration checksum was
/// altered: polled for real from snmpsim, their observations fed to the engine, which judges
/// the secondary not ready on `config_checksum`, naming both values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_judges_a_fortigate_secondary_with_another_checksum_not_ready() {
    use faultline_engine::{Engine, EngineConfig, Verdict};
    use faultline_graph::DependencyGraph;
    use faultline_incident::IncidentKind;
    use faultline_model::Topology;
    use faultline_observe::HaRole;

    let Some(root) = snmpsim_data_root() else {
        return;
    };
    let primary = fortigate_recording(&root);
    let serial = value_at(&primary, SERIAL).expect("fnSysSerial").to_owned();
    let (own_row, _) = ha_row(&primary, &serial, true);
    let (peer_row, peer_serial) = ha_row(&primary, &serial, false);
    let own_sum = value_at(&primary, &format!("{HA_TABLE}.15.{own_row}"))
        .expect("checksum")
        .to_owned();
    // The secondary answers the same MIB as its peer, with its own serial and, in its own
    // row, the checksum of a configuration that drifted.
    let peer_sum_oid = format!("{HA_TABLE}.15.{peer_row}");
    let peer_sum = value_at(&primary, &peer_sum_oid).expect("peer checksum");
    let drifted = "0123456789ABCDEF0123456789ABCDEF";
    assert_ne!(peer_sum, drifted);
    let secondary = primary
        .replace(
            &format!("{SERIAL}|4|{serial}"),
            &format!("{SERIAL}|4|{peer_serial}"),
        )
        .replace(
            &format!("{peer_sum_oid}|4|{peer_sum}"),
            &format!("{peer_sum_oid}|4|{drifted}"),
        );
    assert_eq!(value_at(&secondary, SERIAL), Some(peer_serial.as_str()));
    assert_eq!(value_at(&secondary, &peer_sum_oid), Some(drifted));

    let Some(sim) =
        Snmpsim::start_texts(&[("fortigate-a", primary.clone()), ("fortigate-b", secondary)])
    else {
        return;
    };
    let poller = SnmpPoller::new(PollerConfig::default());
    let targets = [("fw-a", "fortigate-a"), ("fw-b", "fortigate-b")].map(|(id, community)| {
        let mut t = Target::new(id, sim.addr, Credentials::v2c(community));
        t.timeout = Duration::from_secs(10);
        t
    });
    let topo = Topology::from_yaml_str(
        "name: fg\ndevices:\n  - {id: fw-a, kind: firewall}\n  - {id: fw-b, kind: firewall}\n\
         groups:\n  - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}\n\
         services:\n  - {id: portal, tier: critical, requires: [fw-pair]}\n",
        "fg.yaml",
    )
    .expect("valid topology");
    let mut engine = Engine::new(
        Arc::new(DependencyGraph::new(topo)),
        EngineConfig::immediate(),
    );
    // Two poll rounds: the verdict is the engine's, from what the agents answered.
    for _ in 0..2 {
        let mut last = 0;
        for t in &targets {
            let out = poller.poll(t, None).await;
            assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
            assert_eq!(out.report.profile.as_deref(), Some("fortigate"));
            let want = if t.device_id == "fw-a" {
                HaRole::Active
            } else {
                HaRole::Standby
            };
            assert_eq!(out.report.ha.as_ref().map(|h| h.role), Some(want));
            last = last.max(out.observations.iter().map(|o| o.at).max().unwrap_or(0));
            engine.ingest(&out.observations);
        }
        engine.advance(last);
    }

    let group = engine.readiness().remove(0);
    assert_eq!(group.active.as_deref(), Some("fw-a"));
    let b = &group.standbys[0];
    assert_eq!(
        (b.device.as_str(), b.verdict),
        ("fw-b", Verdict::NotReady),
        "{b:#?}"
    );
    assert!(b.declared_not_ready);
    let failing: Vec<&str> = b
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::NotReady)
        .map(|c| c.detail.as_str())
        .collect();
    let line = format!("config_checksum: fw-a {own_sum}, fw-b {drifted}");
    assert_eq!(failing, [line.as_str()], "{:#?}", b.checks);
    let open = engine.open_incidents();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0].kind, IncidentKind::StandbyNotReady);
    assert_eq!(open[0].root_causes, ["fw-b"]);
    assert!(
        open[0]
            .evidence
            .iter()
            .any(|ev| ev.text == format!("not ready: {line}")),
        "{:#?}",
        open[0].evidence
    );
}
