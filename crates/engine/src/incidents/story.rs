//! The story of an open incident only escalates: while it is open, its kind changes only to a
//! worse kind, its severity never drops, and its title changes only with the verdict (a worse
//! kind, a higher severity, more services down). Recovery never rewrites it: a service down
//! does not turn into "failover ineffective" because one of two failures healed first, and
//! "fw-b took over" does not become "fw-a took over" when fw-a takes the traffic back.

use std::collections::BTreeSet;

use faultline_incident::{Incident, IncidentKind, ServiceState};

/// How bad a kind of incident is; a kind changes only to a strictly higher rank. A service
/// down and an ineffective failover are equally bad, so neither turns into the other.
fn rank(k: IncidentKind) -> u8 {
    match k {
        IncidentKind::RedundancyLost => 0,
        IncidentKind::UnexplainedServiceFailure => 1,
        IncidentKind::ServiceDown | IncidentKind::FailoverIneffective => 2,
        IncidentKind::SplitBrain => 3,
    }
}

/// Ids of the services an incident lists as down.
fn down(i: &Incident) -> BTreeSet<&str> {
    i.affected_services
        .iter()
        .filter(|a| a.state == ServiceState::Down)
        .map(|a| a.id.as_str())
        .collect()
}

/// Keep `old`'s story in `new` (the same incident, recomputed) unless `new` escalates it.
/// The services' current states, the evidence and suppression are always `new`'s.
pub(super) fn keep_story(old: &Incident, new: &mut Incident) {
    let worse_kind = rank(new.kind) > rank(old.kind);
    let same_kind = new.kind == old.kind;
    let more_down = {
        let (was, is) = (down(old), down(new));
        is.len() > was.len() && is.is_superset(&was)
    };
    let retitle = worse_kind || (same_kind && (new.severity > old.severity || more_down));
    let failing = new
        .affected_services
        .iter()
        .any(|a| a.state == ServiceState::Down);
    if !retitle {
        new.kind = old.kind;
        new.title.clone_from(&old.title);
        if !(same_kind && failing) {
            new.suspects.clone_from(&old.suspects);
        }
    }
    new.severity = new.severity.max(old.severity);
}
