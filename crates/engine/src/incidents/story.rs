//! The story of an open incident only escalates: while it is open, its kind changes only to a
//! worse kind, its severity never drops, and its title changes only with the verdict (a worse
//! kind, a higher severity, more services down). Recovery never rewrites it: a service down
//! does not turn into "failover ineffective" because one of two failures healed first, and
//! "fw-b took over" does not become "fw-a took over" when fw-a takes the traffic back.
//! Every service the incident hurt stays listed with its outage window, so the history of a
//! resolved incident keeps what happened. One change of kind is not an escalation and is still
//! allowed: a service down becomes "failover ineffective" when the spare's takeover is seen
//! only after the outage (see `takeover_seen_late`).

use std::collections::BTreeSet;

use faultline_incident::{AffectedService, Incident, IncidentKind, Outage, ServiceState};
use faultline_observe::UnixMillis;

/// How bad a kind of incident is; a kind changes only to a strictly higher rank. A service
/// down and an ineffective failover are equally bad, so neither turns into the other. A partial
/// outage (some zones fail) escalates to any full outage when every zone fails.
fn rank(k: IncidentKind) -> u8 {
    match k {
        IncidentKind::RedundancyLost
        | IncidentKind::StandbyNotReady
        | IncidentKind::TopologyDrift => 0,
        IncidentKind::PartialOutage => 1,
        IncidentKind::UnexplainedServiceFailure => 2,
        IncidentKind::ServiceDown | IncidentKind::FailoverIneffective => 3,
        IncidentKind::SplitBrain => 4,
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

/// A service down that turns out to sit behind a failover: a spare took over (at
/// `takeover_at`) after the incident opened, the probe having seen the outage before the poll
/// saw the takeover, and every root cause of the incident is still failed. That is the same
/// story told with more facts, not a recovery relabelling it, so it may change kind: the
/// suspects (the standby's readiness among them) are what the on-call engineer needs. When
/// another failure healed instead (no takeover since the incident opened), the kind stays.
fn takeover_seen_late(old: &Incident, new: &Incident, takeover_at: Option<UnixMillis>) -> bool {
    old.kind == IncidentKind::ServiceDown
        && new.kind == IncidentKind::FailoverIneffective
        && takeover_at.is_some_and(|at| at > old.opened_at)
        && old.root_causes.iter().all(|r| new.root_causes.contains(r))
}

/// Keep `old`'s story in `new` (the same incident, recomputed) unless `new` escalates it.
/// The services' current states, the evidence and suppression are always `new`'s.
/// `takeover_at` is the latest takeover in the failing service's dependencies, if any.
pub(super) fn keep_story(old: &Incident, new: &mut Incident, takeover_at: Option<UnixMillis>) {
    let worse_kind = rank(new.kind) > rank(old.kind) || takeover_seen_late(old, new, takeover_at);
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

/// How bad a service state is for an outage's `worst` (down, unknown, degraded, up).
fn badness(s: ServiceState) -> u8 {
    match s {
        ServiceState::Up => 0,
        ServiceState::Degraded => 1,
        ServiceState::Unknown => 2,
        ServiceState::Down => 3,
    }
}

/// Carry `old`'s outage windows into `new` at `now`: a service hurt again keeps its first
/// start and worst state; one that recovered stays listed as up, its window closed at `now`.
pub(super) fn keep_outages(old: &Incident, new: &mut Incident, now: UnixMillis) {
    for a in &mut new.affected_services {
        let Some(was) = old.affected_services.iter().find(|o| o.id == a.id) else {
            continue;
        };
        if let (Some(was), Some(is)) = (was.outage, a.outage.as_mut()) {
            is.from = was.from;
            if badness(was.worst) > badness(is.worst) {
                is.worst = was.worst;
            }
        }
    }
    for o in &old.affected_services {
        if new.affected_services.iter().any(|a| a.id == o.id) {
            continue;
        }
        let closed = o.outage.map(|w| Outage {
            to: Some(w.to.unwrap_or(now)),
            ..w
        });
        new.affected_services.push(AffectedService {
            state: ServiceState::Up,
            outage: closed,
            ..o.clone()
        });
    }
}

/// Close every outage window still open (the incident resolves at `now`).
pub(super) fn close_outages(inc: &mut Incident, now: UnixMillis) {
    for w in inc
        .affected_services
        .iter_mut()
        .filter_map(|a| a.outage.as_mut())
    {
        w.to.get_or_insert(now);
    }
}
