//! Dependency semantics: group modes, link requirements, degraded and unknown, what-if, SPOF.
//! Property tests check the evaluator against a from-scratch reference and SPOF against
//! brute force on random topologies.

use faultline_graph::{DependencyGraph, Evaluation, State};
use faultline_model::Topology;
use proptest::prelude::*;

fn graph(yaml: &str) -> DependencyGraph {
    DependencyGraph::build(&Topology::from_yaml_str(yaml, "t.yaml").expect("valid topology"))
}

fn state_of(g: &DependencyGraph, down: &[&str], svc: &str) -> State {
    let r = g.what_if(down).expect("known ids");
    r.services
        .iter()
        .find(|s| s.id == svc)
        .expect("service")
        .state
}

const MODES: &str = r#"
name: modes
devices:
  - {id: a, kind: server}
  - {id: b, kind: server}
  - {id: c, kind: server}
groups:
  - {id: all3, mode: all, members: [a, b, c]}
  - {id: any3, mode: any, members: [a, b, c]}
  - {id: two3, mode: at-least, min: 2, members: [a, b, c]}
  - {id: pair, mode: active-standby, members: [a, b]}
services:
  - {id: s-all, requires: [all3]}
  - {id: s-any, requires: [any3]}
  - {id: s-two, requires: [two3]}
  - {id: s-pair, requires: [pair]}
"#;

#[test]
fn group_modes() {
    let g = graph(MODES);
    use State::*;
    let cases: &[(&[&str], [State; 4])] = &[
        (&[], [Up, Up, Up, Up]),
        (&["a"], [Down, Degraded, Degraded, Degraded]),
        (&["a", "b"], [Down, Degraded, Down, Down]),
        (&["c"], [Down, Degraded, Degraded, Up]),
        (&["a", "b", "c"], [Down, Down, Down, Down]),
    ];
    for (down, expect) in cases {
        let got = ["s-all", "s-any", "s-two", "s-pair"].map(|s| state_of(&g, down, s));
        assert_eq!(&got, expect, "down = {down:?}");
    }
}

#[test]
fn causes_are_failed_components_in_the_closure() {
    let g = graph(MODES);
    let r = g.what_if(&["c"]).unwrap();
    let by = |id: &str| r.services.iter().find(|s| s.id == id).unwrap().clone();
    assert_eq!(by("s-two").causes, vec!["c"]);
    assert!(
        by("s-pair").causes.is_empty(),
        "c is not below s-pair and s-pair is up"
    );
}

const LINKS: &str = r#"
name: links
devices:
  - {id: sw, kind: switch}
  - {id: sw2, kind: switch}
  - {id: srv, kind: server, requires: [sw]}
  - {id: web, kind: server, requires: [core]}
  - {id: lonely, kind: server, requires: [sw2]}
links:
  - [srv:eth0, sw:1]
  - [srv:eth1, sw:2]
  - [web:eth0, sw:3]
  - [web:eth1, sw2:3]
groups:
  - {id: core, mode: any, members: [sw, sw2]}
services:
  - {id: s-srv, requires: [srv]}
  - {id: s-web, requires: [web]}
  - {id: s-lonely, requires: [lonely]}
"#;

#[test]
fn parallel_links_are_redundant() {
    let g = graph(LINKS);
    assert_eq!(state_of(&g, &["srv:eth0"], "s-srv"), State::Degraded);
    assert_eq!(
        state_of(&g, &["sw:2"], "s-srv"),
        State::Degraded,
        "named by the other end"
    );
    assert_eq!(
        state_of(&g, &["srv:eth0", "srv:eth1"], "s-srv"),
        State::Down
    );
    assert_eq!(state_of(&g, &["sw"], "s-srv"), State::Down);
}

#[test]
fn links_to_group_members_count_per_requirer() {
    let g = graph(LINKS);
    // web reaches core through one link per switch: losing the link to sw leaves sw2.
    assert_eq!(state_of(&g, &["web:eth0"], "s-web"), State::Degraded);
    // The link to sw and the switch sw2: no member of core is usable *from web*.
    assert_eq!(state_of(&g, &["web:eth0", "sw2"], "s-web"), State::Down);
    // The same failure is harmless to a server that does not use those links.
    assert_eq!(state_of(&g, &["web:eth0"], "s-srv"), State::Up);
    // No link declared between lonely and sw2: no link requirement.
    assert_eq!(state_of(&g, &["web:eth1"], "s-lonely"), State::Up);
}

#[test]
fn services_in_groups_and_services_requiring_services() {
    let g = graph(
        r#"
name: svc
devices:
  - {id: d1, kind: server}
  - {id: d2, kind: server}
groups:
  - {id: either, mode: any, members: [api-1, api-2]}
services:
  - {id: api-1, requires: [d1]}
  - {id: api-2, requires: [d2]}
  - {id: front, requires: [either]}
  - {id: edge, requires: [front]}
"#,
    );
    assert_eq!(state_of(&g, &["d1"], "edge"), State::Degraded);
    assert_eq!(state_of(&g, &["d1", "d2"], "edge"), State::Down);
    assert_eq!(
        state_of(&g, &["api-2"], "front"),
        State::Degraded,
        "a service can be failed itself"
    );
}

#[test]
fn unknown_never_reads_as_up() {
    let g = graph(MODES);
    let a = g.lookup("a").unwrap();
    let b = g.lookup("b").unwrap();
    let mut ev = Evaluation::new(&g);
    ev.set_own(a, State::Unknown);
    ev.settle();
    let svc = |ev: &Evaluation<&DependencyGraph>, id: &str| ev.component(g.lookup(id).unwrap());
    assert_eq!(svc(&ev, "s-all"), State::Unknown);
    assert_eq!(
        svc(&ev, "s-any"),
        State::Degraded,
        "two known-good members still carry it"
    );
    ev.set_own(b, State::Down);
    ev.settle();
    assert_eq!(
        svc(&ev, "s-pair"),
        State::Unknown,
        "the only candidate is unknown"
    );
    assert_eq!(
        svc(&ev, "s-two"),
        State::Unknown,
        "needs 2: c up, a unknown, b down"
    );
    ev.set_own(a, State::Down);
    ev.settle();
    assert_eq!(svc(&ev, "s-two"), State::Down);
}

#[test]
fn incident_topology_answers() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let t = Topology::load(std::path::Path::new(path)).unwrap();
    let g = DependencyGraph::build(&t);
    // Losing one firewall is absorbed by the pair: degraded, with fw-a as the cause.
    let r = g.what_if(&["fw-a"]).unwrap();
    let portal = r.services.iter().find(|s| s.id == "portal").unwrap();
    assert_eq!(
        (portal.state, portal.causes.clone()),
        (State::Degraded, vec!["fw-a".to_string()])
    );
    // The single router and the accounts database path are single points of failure.
    let spofs = g.spof("portal").unwrap();
    for s in [
        "rtr-1",
        "sw-core-1",
        "db-1",
        "db-1:eth0--sw-core-1:gi1/0/30",
    ] {
        assert!(spofs.contains(&s.to_string()), "{s} missing from {spofs:?}");
    }
    for s in ["fw-a", "fw-b", "web-1", "isp-a", "lb-a"] {
        assert!(!spofs.contains(&s.to_string()), "{s} wrongly a SPOF");
    }
    // The why-tree names both firewalls as the failed leaves.
    let mut ev = Evaluation::new(&g);
    for d in ["fw-a", "fw-b"] {
        ev.set_own(g.lookup(d).unwrap(), State::Down);
    }
    ev.settle();
    let tree = g.why(&ev, g.lookup("portal").unwrap());
    assert_eq!(tree.state, State::Down);
    assert_eq!(tree.failed_components(), vec!["fw-a", "fw-b"]);
}

// ---------- random topologies ----------

/// A random layered topology as YAML: devices require earlier devices or groups, groups hold
/// earlier devices, links join random device pairs, services require anything earlier.
fn random_topology() -> impl Strategy<Value = String> {
    (3usize..14, any::<u64>()).prop_map(|(n, seed)| {
        let mut rng = seed;
        let mut next = move |m: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % m.max(1) as u64) as usize
        };
        let mut y = String::from("name: r\ndevices:\n");
        let mut comps: Vec<String> = Vec::new();
        let mut groups = String::from("groups:\n");
        for i in 0..n {
            let mut req: Vec<String> = Vec::new();
            if !comps.is_empty() {
                for _ in 0..next(3) {
                    let c = comps[next(comps.len())].clone();
                    if !req.contains(&c) {
                        req.push(c);
                    }
                }
            }
            y.push_str(&format!(
                "  - {{id: d{i}, kind: switch, requires: [{}]}}\n",
                req.join(", ")
            ));
            comps.push(format!("d{i}"));
            if i >= 2 && next(3) == 0 {
                let size = 2 + next(3.min(i));
                let mut members: Vec<String> = Vec::new();
                while members.len() < size {
                    let m = format!("d{}", next(i + 1));
                    if !members.contains(&m) {
                        members.push(m);
                    }
                }
                let mode = match next(4) {
                    0 => "mode: all".to_string(),
                    1 => "mode: any".to_string(),
                    2 => format!("mode: at-least, min: {}", 1 + next(members.len())),
                    _ => "mode: active-standby".to_string(),
                };
                groups.push_str(&format!(
                    "  - {{id: g{i}, {mode}, members: [{}]}}\n",
                    members.join(", ")
                ));
                comps.push(format!("g{i}"));
            }
        }
        let mut links = String::from("links:\n");
        for l in 0..n {
            let (a, b) = (next(n), next(n));
            if a != b {
                links.push_str(&format!("  - [d{a}:l{l}a, d{b}:l{l}b]\n"));
            }
        }
        let mut services = String::from("services:\n");
        for s in 0..3 {
            let r1 = comps[next(comps.len())].clone();
            let r2 = comps[next(comps.len())].clone();
            let reqs = if r1 == r2 { r1 } else { format!("{r1}, {r2}") };
            services.push_str(&format!("  - {{id: s{s}, requires: [{reqs}]}}\n"));
        }
        if groups == "groups:\n" {
            groups.clear();
        }
        if links == "links:\n" {
            links.clear();
        }
        format!("{y}{groups}{links}{services}")
    })
}

fn failable(g: &DependencyGraph) -> Vec<String> {
    let t = g.topology();
    t.devices
        .iter()
        .map(|d| d.id.clone())
        .chain(t.links.iter().map(|l| l.id().to_string()))
        .collect()
}

fn severity(s: State) -> u8 {
    match s {
        State::Up => 0,
        State::Degraded => 1,
        State::Unknown => 2,
        State::Down => 3,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Failing more components never makes any service healthier.
    #[test]
    fn monotone(yaml in random_topology(), picks in prop::collection::vec(any::<prop::sample::Index>(), 0..6), extra in any::<prop::sample::Index>()) {
        let g = graph(&yaml);
        let f = failable(&g);
        let mut down: Vec<&str> = picks.iter().map(|p| f[p.index(f.len())].as_str()).collect();
        let before = g.what_if(&down).unwrap();
        down.push(f[extra.index(f.len())].as_str());
        let after = g.what_if(&down).unwrap();
        for (b, a) in before.services.iter().zip(&after.services) {
            prop_assert!(severity(a.state) >= severity(b.state), "{}: {:?} -> {:?} adding {:?}\n{yaml}", a.id, b.state, a.state, down.last());
        }
    }

    /// Incremental updates (fail, recover, mark unknown in any order) end in the same states as
    /// a fresh evaluation of the final assignment.
    #[test]
    fn incremental_equals_fresh(yaml in random_topology(), ops in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4), 1..20)) {
        let g = graph(&yaml);
        let f = failable(&g);
        let mut ev = Evaluation::new(&g);
        let mut last = std::collections::HashMap::new();
        for (idx, s) in &ops {
            let c = g.lookup(&f[idx.index(f.len())]).unwrap();
            let st = [State::Up, State::Degraded, State::Down, State::Unknown][*s as usize];
            ev.set_own(c, st);
            last.insert(c, st);
            ev.settle();
        }
        let mut fresh = Evaluation::new(&g);
        for (c, s) in &last {
            fresh.set_own(*c, *s);
        }
        fresh.settle();
        for n in 0..g.node_count() as u32 {
            prop_assert_eq!(ev.state(n), fresh.state(n), "gate {}", n);
        }
    }

    /// The kill-set SPOF analysis equals brute force: fail each device or link alone and look.
    #[test]
    fn spof_equals_brute_force(yaml in random_topology()) {
        let g = graph(&yaml);
        let f = failable(&g);
        for s in &g.topology().services {
            let fast = g.spof(&s.id).unwrap();
            let mut slow: Vec<String> = f
                .iter()
                .filter(|c| g.what_if(&[c.as_str()]).unwrap().services.iter().any(|x| x.id == s.id && x.state == State::Down))
                .cloned()
                .collect();
            let mut fast_sorted = fast.clone();
            fast_sorted.sort();
            slow.sort();
            prop_assert_eq!(fast_sorted, slow, "service {}\n{}", s.id, yaml);
        }
    }

    /// A service is up exactly when no failed component is in its closure.
    #[test]
    fn causes_empty_iff_up(yaml in random_topology(), picks in prop::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        let g = graph(&yaml);
        let f = failable(&g);
        let down: Vec<&str> = picks.iter().map(|p| f[p.index(f.len())].as_str()).collect();
        for s in g.what_if(&down).unwrap().services {
            prop_assert_eq!(s.state == State::Up, s.causes.is_empty(), "{:?}", s);
        }
    }
}
