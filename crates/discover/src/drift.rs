//! Declared links against seen links: missing, unexpected, moved.

use std::collections::{BTreeSet, HashMap};

use faultline_api::{DriftLink, DriftReport, MovedLink};
use faultline_model::Topology;

use crate::render::Discovered;

/// An undirected link as its two ends (`device:if`), smaller first.
type Pair = (String, String);

/// The device of an end `device:if`.
fn device_of(end: &str) -> &str {
    end.split_once(':').map_or(end, |(d, _)| d)
}

fn pair(a: String, b: String) -> Pair {
    if a <= b { (a, b) } else { (b, a) }
}

/// How sure a `missing` verdict must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judge {
    /// `faultline drift`: missing when an end speaks LLDP/CDP and no end was read without it
    /// (an end not read at all may well have lost its cable).
    Either,
    /// The collector's watch, which pages: missing only when both ends were read and speak
    /// LLDP/CDP, so a switch port towards a host without LLDP (or without SNMP) is never
    /// reported missing. Moves and undeclared cables are positive sightings and always count.
    Both,
}

/// What a walk knows about a device's LLDP/CDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaks {
    /// Read, with LLDP/CDP tables.
    Yes,
    /// Read, without any LLDP/CDP table.
    No,
    /// Not read.
    Unknown,
}

/// Compare `topology`'s links with what the walk saw, as `faultline drift` does
/// ([`Judge::Either`]).
pub fn compare(topology: &Topology, d: &Discovered) -> DriftReport {
    compare_with(topology, d, Judge::Either)
}

/// Compare `topology`'s links with what the walk saw. A declared link counts as seen when
/// either end reports the other; whether an unseen one is missing follows `judge`.
pub fn compare_with(topology: &Topology, d: &Discovered, judge: Judge) -> DriftReport {
    let speaks: HashMap<&str, Speaks> = d
        .discovery
        .nodes
        .iter()
        .zip(&d.ids)
        .filter(|(n, _)| n.polled())
        .map(|(n, id)| {
            let lldp = !n.lldp.local_ports.is_empty() || !n.lldp.remotes.is_empty();
            (id.as_str(), if lldp { Speaks::Yes } else { Speaks::No })
        })
        .collect();
    let speaks_of = |end: &str| {
        speaks
            .get(device_of(end))
            .copied()
            .unwrap_or(Speaks::Unknown)
    };
    let declared: BTreeSet<Pair> = topology
        .links
        .iter()
        .map(|l| pair(l.a().to_string(), l.b().to_string()))
        .collect();
    let mut seen: BTreeSet<Pair> = d
        .cabling
        .links
        .iter()
        .map(|l| pair(l.a.to_string(), l.b.to_string()))
        .collect();
    let mut report = DriftReport::default();
    let mut unmatched: Vec<&Pair> = vec![];
    for p in &declared {
        if seen.remove(p) {
            continue;
        }
        let ends = [speaks_of(&p.0), speaks_of(&p.1)];
        if ends.contains(&Speaks::Yes) {
            unmatched.push(p);
        } else {
            report.unverified.push(DriftLink {
                link: format!("{}--{}", p.0, p.1),
                detail: "neither device was read with LLDP/CDP".into(),
            });
        }
    }
    for p in unmatched {
        let link = format!("{}--{}", p.0, p.1);
        // A seen link sharing exactly one end: the cable moved at the other end.
        let moved = seen.iter().find_map(|s| {
            let shared = [&p.0, &p.1]
                .into_iter()
                .find(|e| **e == s.0 || **e == s.1)?;
            let declared_other = if *shared == p.0 { &p.1 } else { &p.0 };
            let seen_other = if *shared == s.0 { &s.1 } else { &s.0 };
            Some((
                s.clone(),
                shared.clone(),
                declared_other.clone(),
                seen_other.clone(),
            ))
        });
        match moved {
            Some((s, end, declared, seen_other)) => {
                seen.remove(&s);
                report.moved.push(MovedLink {
                    link,
                    end,
                    declared,
                    seen: seen_other,
                });
            }
            None => {
                let ends = [speaks_of(&p.0), speaks_of(&p.1)];
                let sure = match judge {
                    Judge::Either => !ends.contains(&Speaks::No),
                    Judge::Both => ends == [Speaks::Yes; 2],
                };
                if sure {
                    report.missing.push(DriftLink {
                        link,
                        detail: "declared, seen from neither end".into(),
                    });
                } else {
                    report.unverified.push(DriftLink {
                        link,
                        detail: "not seen, but an end does not show LLDP/CDP".into(),
                    });
                }
            }
        }
    }
    for s in seen {
        report.unexpected.push(DriftLink {
            link: format!("{}--{}", s.0, s.1),
            detail: "seen, not declared".into(),
        });
    }
    report
}
