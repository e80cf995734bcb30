//! Declared links against seen links: missing, unexpected, moved.

use std::collections::{BTreeSet, HashSet};

use faultline_api::{DriftLink, DriftReport, MovedLink};
use faultline_model::Topology;

use crate::render::Discovered;

/// An undirected link as its two ends (`device:if`), smaller first.
type Pair = (String, String);

fn pair(a: String, b: String) -> Pair {
    if a <= b { (a, b) } else { (b, a) }
}

/// Compare `topology`'s links with what the walk saw. A declared link counts as seen when
/// either end reports the other; it is judged only when one of its devices was polled.
pub fn compare(topology: &Topology, d: &Discovered) -> DriftReport {
    let polled: HashSet<&str> = d
        .discovery
        .nodes
        .iter()
        .zip(&d.ids)
        .filter(|(n, _)| n.polled())
        .map(|(_, id)| id.as_str())
        .collect();
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
        let dev = |end: &str| end.split_once(':').map_or(end, |(d, _)| d).to_owned();
        let judged = polled.contains(dev(&p.0).as_str()) || polled.contains(dev(&p.1).as_str());
        if judged {
            unmatched.push(p);
        } else {
            report.unverified.push(DriftLink {
                link: format!("{}--{}", p.0, p.1),
                detail: "neither device was polled".into(),
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
            None => report.missing.push(DriftLink {
                link,
                detail: "declared, seen from neither end".into(),
            }),
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
