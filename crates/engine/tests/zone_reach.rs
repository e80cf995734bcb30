//! Reachability per zone (issue #13): the seed topology with two pollers. The `outside` zone's
//! collector `ext-probe-1` hangs off ISP router isp-a and reaches the load balancers through
//! rtr-1 and the firewall pair; the `inside` zone's collector is mon-1 on the core switches.
//! The isp-a–rtr-1 link failing cuts only the outside poller's path: the load balancers it
//! polls go silent and are unreachable (unknown, never roots), while web-1, polled from inside
//! and failing at the same time behind the same place, is judged down as usual.

use std::collections::BTreeSet;
use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{Engine, EngineConfig, Hold, Output};
use faultline_graph::{DependencyGraph, State};
use faultline_model::Topology;
use faultline_observe::{HaRole, IfStatus, Observation, Signal, Subject, UnixMillis};

const S: u64 = 1_000;
const T0: u64 = 1_700_000_000_000;
/// The ISP link the outside poller's path crosses, by its rtr-1 end.
const CUT: (&str, &str) = ("rtr-1", "ge-0/0/0");
/// Devices the outside poller polls, behind the cut.
const OUTSIDE_BEHIND: [&str; 2] = ["lb-a", "lb-b"];

/// The seed topology in two zones; with `zoned` false the same file without
/// `zone_collectors` (everything judged from `collector: mon-1`, as before).
fn two_zone_seed(zoned: bool) -> Arc<DependencyGraph> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let mut text = std::fs::read_to_string(path).expect("seed topology");
    let mut edit = |from: &str, to: &str| {
        assert!(text.contains(from), "the seed's `{from}` moved");
        text = text.replacen(from, to, 1);
    };
    if zoned {
        edit(
            "collector: mon-1\n",
            "collector: mon-1\nzone_collectors: {outside: ext-probe-1, inside: mon-1}\n",
        );
    }
    edit(
        "devices:\n",
        "devices:\n  - {id: ext-probe-1, kind: host, zone: outside}\n",
    );
    edit(
        "links:\n",
        "links:\n  - [ext-probe-1:eth0, isp-a:ge-0/0/9]\n",
    );
    for d in ["isp-a", "lb-a", "lb-b"] {
        edit(
            &format!("{{id: {d}, "),
            &format!("{{id: {d}, zone: outside, "),
        );
    }
    for d in ["web-1", "web-2", "web-3", "db-1"] {
        edit(
            &format!("{{id: {d}, "),
            &format!("{{id: {d}, zone: inside, "),
        );
    }
    let t = Topology::from_yaml_str(&text, "two-zones.yaml").expect("valid");
    assert_eq!(t.zone_collectors.len(), if zoned { 2 } else { 0 });
    Arc::new(DependencyGraph::new(t))
}

fn config() -> EngineConfig {
    EngineConfig {
        device: Hold {
            down_ms: 15 * S,
            up_ms: 60 * S,
        },
        link: Hold {
            down_ms: 10 * S,
            up_ms: 60 * S,
        },
        probe: Hold {
            down_ms: 20 * S,
            up_ms: 60 * S,
        },
        stale_after_ms: 90 * S,
        ..EngineConfig::default()
    }
}

/// What both pollers report every 10 s: every device answers except `silent`; the cut link's
/// rtr-1 end is down while `cut`.
fn poll(
    g: &DependencyGraph,
    at: UnixMillis,
    silent: &BTreeSet<&str>,
    cut: bool,
) -> Vec<Observation> {
    let mut v: Vec<Observation> = (g.topology().devices.iter())
        .map(|d| {
            let ok = !silent.contains(d.id.as_str());
            let signal = Signal::Reachability {
                ok,
                rtt_ms: ok.then_some(0.4),
                loss: if ok { 0.0 } else { 1.0 },
            };
            Observation::new(at, Subject::device(d.id.as_str()), signal)
        })
        .collect();
    for (d, role) in [("fw-a", HaRole::Active), ("fw-b", HaRole::Standby)] {
        let signal = Signal::HaRole {
            role,
            peer: None,
            in_sync: Some(true),
        };
        v.push(Observation::new(at, Subject::device(d), signal));
    }
    let oper = if cut { IfStatus::Down } else { IfStatus::Up };
    v.push(Observation::new(
        at,
        Subject::interface(CUT.0, CUT.1),
        Signal::Interface {
            oper,
            admin: IfStatus::Up,
            last_change_cs: None,
        },
    ));
    for svc in ["portal", "accounts"] {
        v.push(Observation::new(
            at,
            Subject::service(svc),
            Signal::Probe {
                ok: true,
                status: Some(200),
                latency_ms: 12.0,
                detail: None,
                zone: None,
            },
        ));
    }
    v
}

/// Fine for 2 min; then the ISP link is cut (the outside poller loses the load balancers) and
/// web-1 dies, for 4 min; then all is well again for 4 min.
fn journal(g: &DependencyGraph) -> Vec<Vec<Observation>> {
    (0..60u64)
        .map(|k| {
            let at = T0 + k * 10 * S;
            let failing = (12..36).contains(&k);
            let silent: BTreeSet<&str> = if failing {
                OUTSIDE_BEHIND.into_iter().chain(["web-1"]).collect()
            } else {
                BTreeSet::new()
            };
            poll(g, at, &silent, failing)
        })
        .collect()
}

/// One poll batch fed as the collector does: ingest, then advance to its instant.
fn step(e: &mut Engine, batch: &[Observation]) -> Vec<Output> {
    let mut out = e.ingest(batch);
    out.extend(e.advance(batch[0].at));
    out
}

/// The roots of every incident triggered or updated in `out`.
fn roots(out: &[Output]) -> BTreeSet<String> {
    transitions(out)
        .into_iter()
        .flat_map(|t| t.incident.root_causes)
        .collect()
}

fn component(e: &Engine, id: &str) -> (State, bool) {
    let c = (e.components().into_iter())
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no component {id}"));
    (c.own, c.unreachable)
}

#[test]
fn a_cut_on_the_outside_path_hides_only_the_outside_polled_devices() {
    let g = two_zone_seed(true);
    let link = g.topology().links[1].id().to_string();
    assert_eq!(link, "isp-a:ge-0/0/0--rtr-1:ge-0/0/0");
    let mut e = Engine::new(g.clone(), config());
    let journal = journal(&g);
    let mut all = Vec::new();
    for b in &journal[..30] {
        all.extend(step(&mut e, b));
    }
    // The load balancers the outside poller lost are behind the cut, seen from outside.
    for lb in OUTSIDE_BEHIND {
        assert_eq!(component(&e, lb), (State::Unknown, true), "{lb}");
    }
    // web-1 is behind the same place from outside, but polled from inside: its own failure.
    assert_eq!(component(&e, "web-1"), (State::Down, false));
    // isp-a is polled from outside, on the poller's side of the cut: judged as usual.
    assert_eq!(component(&e, "isp-a"), (State::Up, false));
    let open: BTreeSet<Vec<String>> = e
        .open_incidents()
        .iter()
        .map(|i| i.root_causes.clone())
        .collect();
    assert_eq!(
        open,
        BTreeSet::from([vec![link.clone()], vec!["web-1".to_string()]]),
        "{:#?}",
        e.open_incidents()
    );
    // Healed: everything resolves, and no incident was ever rooted in a hidden device.
    for b in &journal[30..] {
        all.extend(step(&mut e, b));
    }
    assert!(e.open_incidents().is_empty(), "{:#?}", e.open_incidents());
    assert_eq!(
        roots(&all),
        BTreeSet::from([link, "web-1".to_string()]),
        "{:#?}",
        transitions(&all)
    );
    for lb in OUTSIDE_BEHIND {
        assert_eq!(component(&e, lb), (State::Up, false), "{lb}");
    }
}

/// Without `zone_collectors` the same stream is judged from mon-1 alone, as before: mon-1
/// reaches the load balancers over the core, so their silence is their own failure.
#[test]
fn one_collector_judges_every_device_from_it_as_before() {
    let g = two_zone_seed(false);
    let mut e = Engine::new(g.clone(), config());
    let journal = journal(&g);
    let mut all = Vec::new();
    for b in &journal[..30] {
        all.extend(step(&mut e, b));
    }
    for lb in OUTSIDE_BEHIND {
        assert_eq!(component(&e, lb), (State::Down, false), "{lb}");
    }
    let r = roots(&all);
    for lb in OUTSIDE_BEHIND.into_iter().chain(["web-1"]) {
        assert!(r.contains(lb), "{lb} is a root: {r:?}");
    }
}

/// A device failing is re-polled with its neighbours one hop closer to the collector it is
/// judged from: isp-a (zone outside) towards ext-probe-1, not towards mon-1's side (rtr-1).
#[test]
fn repolls_go_towards_the_devices_own_collector() {
    for (zoned, towards) in [(true, "ext-probe-1"), (false, "rtr-1")] {
        let g = two_zone_seed(zoned);
        let mut e = Engine::new(g.clone(), config());
        step(&mut e, &poll(&g, T0, &BTreeSet::new(), false));
        let out = step(
            &mut e,
            &poll(&g, T0 + 10 * S, &BTreeSet::from(["isp-a"]), false),
        );
        let repolls: Vec<Vec<String>> = (out.iter())
            .filter_map(|o| match o {
                Output::Repoll(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(repolls, [["isp-a", towards]], "zoned {zoned}");
    }
}

/// A snapshot taken anywhere in the stream, restored and fed the rest, gives exactly what the
/// uninterrupted engine gave.
#[test]
fn snapshot_mid_cut_replays_identically() {
    for zoned in [true, false] {
        let g = two_zone_seed(zoned);
        let journal = journal(&g);
        let mut a = Engine::new(g.clone(), config());
        let full: Vec<Vec<Output>> = journal.iter().map(|b| step(&mut a, b)).collect();
        for cut in [12, 13, 14, 20, 36, 37, 45] {
            let mut b = Engine::new(g.clone(), config());
            for x in &journal[..cut] {
                step(&mut b, x);
            }
            let mut c = Engine::restore(g.clone(), config(), &b.snapshot()).expect("restores");
            let rest: Vec<Vec<Output>> = journal[cut..].iter().map(|x| step(&mut c, x)).collect();
            assert_eq!(rest, full[cut..].to_vec(), "zoned {zoned}, cut at {cut}");
            assert_eq!(c.snapshot(), a.snapshot(), "zoned {zoned}, cut at {cut}");
        }
    }
}
