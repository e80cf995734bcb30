//! Every readiness check of every embedded vendor profile, answered noSuchObject or
//! noSuchInstance (endOfMibView or no rows for a table column) by the standby: the fact is
//! `Fact::Absent`, and the engine judges the check, and the standby, unknown: neither ready
//! nor not ready, and nothing is declared or paged.

use std::sync::Arc;

use async_snmp::Value;
use faultline_engine::{Engine, EngineConfig, Output, Verdict};
use faultline_graph::{DependencyGraph, State};
use faultline_model::Topology;
use faultline_observe::{Fact, HaRole, Observation, ReadinessRule, Signal, Subject};
use faultline_snmp::Profiles;
use faultline_snmp::decode::RawPoll;
use faultline_snmp::readiness::{Aggregate, FactRead, ReadinessCheck, read_fact};

const T0: u64 = 1_795_892_400_000;

/// Every profile with readiness checks: the generic one and each vendor's.
const PROFILES: &[&str] = &[
    "generic",
    "fortigate",
    "checkpoint",
    "cisco-asa",
    "paloalto",
    "juniper",
    "keepalived",
    "vrrp",
];

/// How the agent says the object is not there.
#[derive(Debug, Clone, Copy)]
enum Missing {
    NoSuchObject,
    NoSuchInstance,
}

impl Missing {
    fn value(self) -> Value {
        match self {
            Missing::NoSuchObject => Value::NoSuchObject,
            Missing::NoSuchInstance => Value::NoSuchInstance,
        }
    }
}

/// The raw answers of a poll in which every object `check` reads is missing: GETs answered
/// with the exception (through the poller's own recording of a GET answer), walks finished
/// without a row (endOfMibView).
fn missing(check: &ReadinessCheck, how: Missing) -> RawPoll {
    let mut raw = RawPoll::default();
    match &check.read {
        FactRead::Scalar { oid, fallback } => {
            for o in std::iter::once(oid).chain(fallback) {
                raw.record_get(o.clone(), &how.value());
            }
        }
        FactRead::Table {
            root, aggregate, ..
        } => {
            raw.walked.insert(root.clone());
            if let Aggregate::OwnRow {
                key_column,
                key_oid,
            } = aggregate
            {
                raw.walked.insert(key_column.clone());
                raw.record_get(key_oid.clone(), &how.value());
            }
        }
    }
    raw
}

fn graph() -> Arc<DependencyGraph> {
    let topo = Topology::from_yaml_str(
        r#"
name: absent
devices:
  - {id: fw-a, kind: firewall}
  - {id: fw-b, kind: firewall}
groups:
  - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
services:
  - {id: portal, tier: critical, requires: [fw-pair]}
"#,
        "absent.yaml",
    )
    .expect("valid topology");
    Arc::new(DependencyGraph::new(topo))
}

/// A poll of both members: alive, fw-a active with `active` for the check, fw-b standby with
/// `standby`.
fn poll(
    at: u64,
    check: &str,
    rule: &ReadinessRule,
    active: &Fact,
    standby: &Fact,
) -> Vec<Observation> {
    let mut v = Vec::new();
    for (dev, role, fact) in [
        ("fw-a", HaRole::Active, active),
        ("fw-b", HaRole::Standby, standby),
    ] {
        let signals = [
            Signal::AgentUp,
            Signal::HaRole {
                role,
                peer: None,
                in_sync: None,
            },
            Signal::Readiness {
                check: check.to_string(),
                value: fact.clone(),
                shown: None,
                rule: rule.clone(),
            },
        ];
        v.extend(
            signals
                .into_iter()
                .map(|s| Observation::new(at, Subject::device(dev), s)),
        );
    }
    v
}

/// The engine's view of fw-b after a few polls, with no hold-downs at all (anything it would
/// declare, it declares at once): (the check's verdict, whether it applies, fw-b's verdict,
/// declared, transitions, the pair's state).
fn judged(
    check: &str,
    rule: &ReadinessRule,
    active: &Fact,
    standby: &Fact,
) -> (Verdict, bool, Verdict, bool, usize, State) {
    let mut e = Engine::new(graph(), EngineConfig::immediate());
    let mut out: Vec<Output> = Vec::new();
    for k in 0..3 {
        let at = T0 + k * 10_000;
        out.extend(e.ingest(&poll(at, check, rule, active, standby)));
        out.extend(e.advance(at));
    }
    let g = e.readiness().remove(0);
    assert_eq!(g.active.as_deref(), Some("fw-a"));
    let b = &g.standbys[0];
    let c = b
        .checks
        .iter()
        .find(|c| c.check == check)
        .unwrap_or_else(|| panic!("{check} not judged: {:#?}", b.checks));
    let transitions = out
        .iter()
        .filter(|o| matches!(o, Output::Transition(_)))
        .count();
    let pair = e
        .components()
        .into_iter()
        .find(|c| c.id == "fw-pair")
        .map(|c| c.state)
        .expect("fw-pair");
    (
        c.verdict,
        c.applies,
        b.verdict,
        b.declared_not_ready,
        transitions,
        pair,
    )
}

/// A value the active member could have for a check under `rule` (any present value: the
/// standby's absence alone must make the check unknown).
fn present(rule: &ReadinessRule) -> Fact {
    match rule {
        ReadinessRule::Equal { value } => value.clone(),
        _ => Fact::Int(1),
    }
}

#[test]
fn every_vendor_check_answered_no_such_object_is_absent_and_judged_unknown() {
    let profiles = Profiles::embedded();
    let generic: Vec<&str> = profiles
        .readiness("generic")
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut judged_checks = 0;
    for &p in PROFILES {
        let checks = profiles.readiness(p);
        let own = checks
            .iter()
            .filter(|c| p == "generic" || !generic.contains(&c.name.as_str()))
            .count();
        assert!(own > 0, "{p} has no readiness checks of its own");
        for check in checks {
            for how in [Missing::NoSuchObject, Missing::NoSuchInstance] {
                let raw = missing(check, how);
                assert_eq!(
                    read_fact(check, &raw),
                    Some(Fact::Absent),
                    "{p} {} answered {how:?}",
                    check.name
                );
            }
            let name = check.name.as_str();
            let rule = &check.rule;
            // The standby lacks the object, the active has it: unknown, and it counts.
            let got = judged(name, rule, &present(rule), &Fact::Absent);
            assert_eq!(
                got,
                (
                    Verdict::Unknown,
                    true,
                    Verdict::Unknown,
                    false,
                    0,
                    State::Up
                ),
                "{p} {name}: (check verdict, applies, fw-b verdict, declared, transitions, pair)"
            );
            // Neither member has it: not implemented, the check says nothing; fw-b is still
            // not judged ready on its HA role alone.
            let got = judged(name, rule, &Fact::Absent, &Fact::Absent);
            assert_eq!(
                got,
                (
                    Verdict::Unknown,
                    false,
                    Verdict::Unknown,
                    false,
                    0,
                    State::Up
                ),
                "{p} {name} absent on both"
            );
            judged_checks += 1;
        }
    }
    assert!(judged_checks >= PROFILES.len() * 2, "{judged_checks}");
}
