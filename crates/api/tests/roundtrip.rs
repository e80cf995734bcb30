//! Every route's types survive serialise → JSON → deserialise unchanged, with realistic values
//! taken from the demo incident (the portal behind a firewall pair that failed over to a spare
//! without the NAT rule).

use std::collections::BTreeMap;
use std::fmt::Debug;

use faultline_api::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> serde_json::Value {
    let text = serde_json::to_string(value).expect("serialises");
    let back: T = serde_json::from_str(&text).expect("deserialises");
    assert_eq!(&back, value, "{text}");
    serde_json::from_str(&text).expect("is JSON")
}

fn portal(incident: Option<&str>) -> ServiceStatus {
    ServiceStatus {
        id: "portal".into(),
        name: "Contractor portal".into(),
        tier: "critical".into(),
        state: State::Down,
        expected: State::Degraded,
        observed: State::Down,
        incident: incident.map(str::to_string),
    }
}

fn incident() -> Incident {
    Incident {
        id: "inc-fw-pair-1".into(),
        kind: IncidentKind::FailoverIneffective,
        severity: Severity::Critical,
        title: "portal down although fw-pair failed over to fw-b".into(),
        root_causes: vec!["fw-a".into()],
        affected_services: vec![AffectedService {
            id: "portal".into(),
            name: "Contractor portal".into(),
            tier: "critical".into(),
            state: State::Down,
            tags: vec!["customer-facing".into()],
            outage: None,
        }],
        suspects: vec![Suspect {
            component: "fw-b".into(),
            reason: "became active 8 s before the portal failed".into(),
            score: 0.9,
        }],
        evidence: vec![
            Evidence {
                at: UnixMillis(1_764_300_000_000),
                subject: "fw-a".into(),
                text: "no answer to SNMP".into(),
            },
            Evidence {
                at: UnixMillis(1_764_300_008_000),
                subject: "portal".into(),
                text: "HTTP 404 (expected 200)".into(),
            },
        ],
        status: IncidentStatus::Open,
        opened_at: UnixMillis(1_764_300_012_000),
        updated_at: UnixMillis(1_764_300_012_000),
        resolved_at: None,
        suppressed: false,
        acknowledged: Some(Acknowledgement {
            by: "alice".into(),
            at: UnixMillis(1_764_300_013_000),
            comment: "on it".into(),
        }),
    }
}

fn tree() -> WhyNode {
    let leaf = |id: &str, failed: bool, state| WhyNode {
        id: id.into(),
        kind: "device".into(),
        state,
        path: None,
        detail: String::new(),
        failed_itself: failed,
        repeated: false,
        children: vec![],
    };
    WhyNode {
        id: "portal".into(),
        kind: "service".into(),
        state: State::Down,
        path: None,
        detail: String::new(),
        failed_itself: true,
        repeated: false,
        children: vec![WhyNode {
            id: "fw-pair".into(),
            kind: "group".into(),
            state: State::Degraded,
            path: Some(State::Degraded),
            detail: "active-standby: 1 of 2 available, needs 1".into(),
            failed_itself: false,
            repeated: false,
            children: vec![leaf("fw-a", true, State::Down), {
                let mut again = leaf("sw-core-1", false, State::Degraded);
                again.repeated = true;
                again
            }],
        }],
    }
}

#[test]
fn status() {
    let value = StatusResponse {
        topology: "contractor-portal".into(),
        uptime_s: 4242,
        now: UnixMillis(1_764_300_020_000),
        counts: BTreeMap::from([
            (
                "device".into(),
                BTreeMap::from([(State::Up, 9), (State::Down, 1)]),
            ),
            ("service".into(), BTreeMap::from([(State::Down, 1)])),
        ]),
        services: vec![portal(Some("inc-fw-pair-1"))],
        incidents: vec![IncidentSummary {
            id: "inc-fw-pair-1".into(),
            kind: IncidentKind::FailoverIneffective,
            severity: Severity::Critical,
            title: "portal down although fw-pair failed over to fw-b".into(),
            suppressed: false,
        }],
        notify: NotifyStats {
            delivered: 1,
            retries: 2,
            dead_lettered: 0,
            pending: 0,
            resent: 0,
        },
        dead_letters: 0,
        lab: true,
        store: StoreStatus {
            healthy: false,
            state: "degraded (disk_full)".into(),
            failures_total: 3,
            journal_pending: 12,
        },
        problems: BTreeMap::from([("fw-b".into(), "SNMP auth failure (2 failed polls)".into())]),
    };
    let json = round_trip(&value);
    assert_eq!(json["counts"]["device"]["down"], 1);
    assert_eq!(json["store"]["journal_pending"], 12);
    assert_eq!(json["services"][0]["incident"], "inc-fw-pair-1");
}

#[test]
fn services_omit_an_absent_incident() {
    let json = round_trip(&ServicesResponse {
        services: vec![portal(None), portal(Some("inc-1"))],
    });
    assert!(json["services"][0].get("incident").is_none(), "{json}");
}

#[test]
fn components() {
    let json = round_trip(&ComponentsResponse {
        components: vec![
            ComponentStatus {
                id: "fw-b".into(),
                kind: "device".into(),
                state: State::Up,
                own: State::Up,
                monitored: true,
                flapping: false,
                unreachable: false,
                last_seen: Some(UnixMillis(1_764_300_019_500)),
                ha_role: Some(HaRole::Active),
                problem: Some("SNMP auth failure (2 failed polls)".into()),
            },
            ComponentStatus {
                id: "fw-a:port1--rtr-1:ge-0/0/2".into(),
                kind: "link".into(),
                state: State::Unknown,
                own: State::Unknown,
                monitored: false,
                flapping: false,
                unreachable: true,
                last_seen: None,
                ha_role: None,
                problem: None,
            },
        ],
    });
    assert_eq!(json["components"][0]["ha_role"], "active");
    assert!(json["components"][1].get("last_seen").is_none());
    assert!(json["components"][1].get("problem").is_none());
}

#[test]
fn incidents() {
    let mut resolved = incident();
    resolved.status = IncidentStatus::Resolved;
    resolved.resolved_at = Some(UnixMillis(1_764_300_900_000));
    let json = round_trip(&IncidentsResponse {
        open: vec![incident()],
        resolved: vec![resolved],
    });
    // An open incident says so explicitly: `resolved_at` is null, not absent.
    assert!(json["open"][0]["resolved_at"].is_null());
    assert_eq!(json["open"][0]["kind"], "failover_ineffective");
    assert_eq!(json["resolved"][0]["status"], "resolved");
}

#[test]
fn incidents_query_defaults_to_open_only() {
    let q: IncidentsQuery = serde_json::from_str("{}").unwrap();
    assert!(!q.all);
    let q: IncidentsQuery = serde_json::from_str(r#"{"all": true}"#).unwrap();
    assert!(q.all);
}

#[test]
fn why_live_and_offline() {
    let live = WhyResponse {
        id: "portal".into(),
        state: State::Down,
        down: vec![],
        failed: vec!["fw-a".into(), "portal".into()],
        tree: tree(),
        text: "portal [service] DOWN  <- failed\n".into(),
        service: Some(portal(Some("inc-fw-pair-1"))),
        incident: Some(incident()),
    };
    let json = round_trip(&live);
    assert_eq!(json["tree"]["children"][0]["children"][1]["repeated"], true);
    assert!(
        json["tree"]["children"][0]["children"][0]
            .get("repeated")
            .is_none()
    );
    let offline = WhyResponse {
        down: vec!["fw-a".into()],
        service: None,
        incident: None,
        ..live
    };
    let json = round_trip(&offline);
    assert!(json["service"].is_null() && json["incident"].is_null());
}

#[test]
fn timeline() {
    round_trip(&TimelineResponse {
        timeline: vec![TimelineEntry {
            at: UnixMillis(1_764_300_004_000),
            subject: "fw-pair".into(),
            text: "active member changed: fw-a -> fw-b".into(),
        }],
    });
    let q: TimelineQuery = serde_json::from_str(r#"{"since": 1764300000000}"#).unwrap();
    assert_eq!(q.since, UnixMillis(1_764_300_000_000));
}

#[test]
fn lab() {
    let json = round_trip(&LabStatus {
        failed: vec!["fw-a".into()],
        active: BTreeMap::from([("fw-pair".into(), "fw-b".into())]),
        fixed: false,
        drift: BTreeMap::from([("fw-b".into(), vec!["forwarding".into()])]),
        agents: BTreeMap::from([("fw-a".into(), "127.0.0.1:40161".into())]),
        services: BTreeMap::from([("portal".into(), "http://127.0.0.1:40080/".into())]),
    });
    assert_eq!(json["active"]["fw-pair"], "fw-b");
    assert_eq!(json["drift"]["fw-b"][0], "forwarding");
    // No drift: the field is left out (older answers had none).
    let quiet: LabStatus = serde_json::from_str(
        r#"{"failed": [], "active": {}, "fixed": false, "agents": {}, "services": {}}"#,
    )
    .unwrap();
    assert!(quiet.drift.is_empty());
    assert!(serde_json::to_value(&quiet).unwrap().get("drift").is_none());
    for a in LabAction::ALL {
        assert_eq!(LabAction::from_name(a.as_str()), Some(a));
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json, a.as_str());
    }
}

#[test]
fn ready() {
    let value = |v: &str, shown: &str| CheckValue {
        value: v.into(),
        shown: Some(shown.into()),
        at: UnixMillis(1_764_300_000_000),
        stale: false,
    };
    let json = round_trip(&ReadyResponse {
        groups: vec![GroupReady {
            group: "fw-pair".into(),
            active: Some("fw-a".into()),
            standbys: vec![StandbyReady {
                device: "fw-b".into(),
                verdict: Readiness::NotReady,
                since: Some(UnixMillis(1_764_300_000_000)),
                declared_not_ready: true,
                checks: vec![ReadyCheck {
                    check: "ip_forwarding".into(),
                    rule: Some("match_active".into()),
                    standby: Some(value("2", "notForwarding")),
                    active: Some(value("1", "forwarding")),
                    verdict: Readiness::NotReady,
                    detail: "ip_forwarding: fw-a forwarding, fw-b notForwarding".into(),
                    applies: true,
                }],
            }],
        }],
    });
    assert_eq!(json["groups"][0]["standbys"][0]["verdict"], "not_ready");
    assert_eq!(
        json["groups"][0]["standbys"][0]["checks"][0]["standby"]["shown"],
        "notForwarding"
    );
    for r in [Readiness::Ready, Readiness::NotReady, Readiness::Unknown] {
        let back: Readiness = serde_json::from_value(serde_json::to_value(r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}

#[test]
fn errors_and_impact() {
    round_trip(&ApiError {
        error: "unknown component `portl` (did you mean `portal`?)".into(),
    });
    round_trip(&ImpactReport {
        down: vec!["fw-a".into()],
        services: vec![ServiceImpact {
            id: "portal".into(),
            name: "Contractor portal".into(),
            tier: "critical".into(),
            state: State::Degraded,
            causes: vec!["fw-a".into()],
        }],
        components: vec![
            ComponentImpact {
                id: "fw-a".into(),
                state: ComponentState::Down,
            },
            ComponentImpact {
                id: "web-1".into(),
                state: ComponentState::Unreachable,
            },
        ],
    });
}

#[test]
fn names_match_the_wire() {
    for s in [State::Up, State::Degraded, State::Down, State::Unknown] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        assert_eq!(State::from_name(s.as_str()), Some(s));
        assert_eq!(format!("{s:<9}|"), format!("{:<9}|", s.as_str()));
    }
    assert_eq!(State::from_name("sideways"), None);
    for k in [
        IncidentKind::ServiceDown,
        IncidentKind::RedundancyLost,
        IncidentKind::FailoverIneffective,
        IncidentKind::UnexplainedServiceFailure,
        IncidentKind::SplitBrain,
        IncidentKind::StandbyNotReady,
    ] {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    for s in [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
}
