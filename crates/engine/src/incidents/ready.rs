//! The `standby_not_ready` incident of an active-standby group (see `crate::readiness`), and
//! its merge into the failover incident when that standby then takes over and the service
//! fails: one page stream per root cause.
//!
//! Merge, not continue: the failover incident is a new, critical incident keyed by its own
//! root cause (the failure the redundancy should have absorbed), so it pages with its own
//! urgency; pagers such as PagerDuty keep an alert's urgency at its first trigger, and a
//! warning that silently turned critical would not wake anyone. The warning is resolved with
//! a reference to it ("merged into incident ..."), and the failover incident names the standby
//! first among its suspects and cites since when it was known not ready. The readiness record
//! lives as long as the failover incident; when that resolves, a standby still not ready starts
//! a fresh hold-down (a new warning only if it lasts).
//!
//! A standby failing only interface parity on declared links opens no incident here: each such
//! link is down and is its own incident (one page stream per root cause), which gets the
//! readiness line as evidence (`link_readiness_evidence`).

use std::collections::BTreeMap;

use faultline_graph::State;
use faultline_incident::{
    Evidence, Incident, IncidentKind, IncidentStatus, Severity, Suspect, TransitionAction,
};
use faultline_observe::UnixMillis;
use faultline_observe::time::{format_span, format_utc};

use super::{Incidents, RESOLVED_KEPT, transition};
use crate::ids::{Comp, DeviceIdx, GroupIdx, ServiceIdx, TypedComponents};
use crate::readiness::NotReady;
use crate::{Engine, Output};

/// How telling a standby known not ready before the failover is: above everything else.
const NOT_READY_SCORE: f64 = 0.95;

/// A readiness incident that merged into a failover incident.
pub(super) struct Merged {
    key: String,
    into: String,
    devices: Vec<DeviceIdx>,
}

impl Engine {
    /// Members of `group` with a readiness record that has no incident merged yet and whose
    /// own failure is not already an incident of its own.
    fn readiness_roots(&self, group: GroupIdx) -> Vec<(DeviceIdx, &NotReady)> {
        let t = self.graph.topology();
        t.groups[group.0]
            .members
            .iter()
            .filter_map(|m| match self.graph.resolve_comp(m) {
                Some(Comp::Device(d)) => {
                    let rec = self.state.readiness.declared(d)?;
                    let down = self.state.tracks[d.comp(&self.graph)].effective == State::Down;
                    let own = rec.own_failing().next().is_some();
                    (rec.merged_into.is_none() && !down && own).then_some((d, rec))
                }
                _ => None,
            })
            .collect()
    }

    /// Add the readiness incidents to `next` (the incidents that should be open), or, where a
    /// failover incident in `next` already names the standby, the merges to carry out after
    /// publishing.
    pub(super) fn readiness_incidents(
        &mut self,
        next: &mut BTreeMap<String, Incident>,
    ) -> Vec<Merged> {
        let mut merged = Vec::new();
        for gi in 0..self.layout.ha_groups.len() {
            let group = self.layout.ha_groups[gi];
            self.link_readiness_evidence(group, next);
            let devices: Vec<DeviceIdx> = self
                .readiness_roots(group)
                .iter()
                .map(|(d, _)| *d)
                .collect();
            if devices.is_empty() {
                continue;
            }
            let t = self.graph.topology();
            let key = format!("standby-not-ready:{}", t.groups[group.0].id);
            let ids: Vec<String> = devices.iter().map(|d| t.devices[d.0].id.clone()).collect();
            let host = next.iter().find(|(_, inc)| {
                inc.kind == IncidentKind::FailoverIneffective
                    && inc.suspects.iter().any(|s| ids.contains(&s.component))
            });
            if let Some((host, _)) = host {
                let into = host.clone();
                if let Some(open) = self.state.incidents.open.get(&key) {
                    next.insert(key.clone(), open.incident.clone());
                }
                merged.push(Merged { key, into, devices });
                continue;
            }
            let above = self.services_above(group.comp(&self.graph), &mut Vec::new());
            let inc = self.build_readiness_incident(&key, group, &devices, &above);
            next.insert(key, inc);
        }
        merged
    }

    /// The `standby_not_ready` incident of `group` under `key`, for its not-ready members
    /// `devices` (at least one), affecting the services `above` the group.
    fn build_readiness_incident(
        &self,
        key: &str,
        group: GroupIdx,
        devices: &[DeviceIdx],
        above: &[ServiceIdx],
    ) -> Incident {
        let t = self.graph.topology();
        let mut evidence: Vec<Evidence> = Vec::new();
        let mut took_over = Vec::new();
        let mut checks: Vec<&str> = Vec::new();
        for d in devices {
            let Some(rec) = self.state.readiness.declared(*d) else {
                continue;
            };
            let dev = &t.devices[d.0].id;
            evidence.extend(rec.failing.iter().map(|line| Evidence {
                at: rec.since,
                subject: dev.clone(),
                text: format!("not ready: {line}"),
            }));
            checks.extend(rec.own_failing().filter_map(|l| l.split(": ").next()));
            if rec.standby_until.is_some() {
                took_over.push(dev.as_str());
            }
        }
        checks.dedup();
        let ids: Vec<&str> = devices.iter().map(|d| t.devices[d.0].id.as_str()).collect();
        let group_id = &t.groups[group.0].id;
        let title = if took_over.is_empty() {
            format!(
                "standby {} of {group_id} is not ready to take over: {}",
                ids.join(", "),
                checks.join(", ")
            )
        } else {
            format!(
                "{} took over {group_id} while not ready: {}",
                took_over.join(", "),
                checks.join(", ")
            )
        };
        let root = devices[0].comp(&self.graph);
        let mut inc = self.build_incident(key, root, &[], above);
        inc.kind = IncidentKind::StandbyNotReady;
        inc.severity = Severity::Warning;
        inc.title = title;
        inc.root_causes = ids.iter().map(|s| s.to_string()).collect();
        inc.evidence.extend(evidence);
        inc.evidence
            .sort_by(|a, b| (a.at, &a.subject, &a.text).cmp(&(b.at, &b.subject, &b.text)));
        inc.evidence.dedup();
        inc
    }

    /// The interface parity failures of `group`'s standbys on declared links, as evidence of
    /// those links' incidents in `next` (the link is the root cause; the standby's readiness
    /// is what its failure costs).
    fn link_readiness_evidence(&self, group: GroupIdx, next: &mut BTreeMap<String, Incident>) {
        let t = self.graph.topology();
        let group_id = &t.groups[group.0].id;
        for m in &t.groups[group.0].members {
            let Some(Comp::Device(d)) = self.graph.resolve_comp(m) else {
                continue;
            };
            let Some(rec) = self.state.readiness.declared(d) else {
                continue;
            };
            let dev = &t.devices[d.0].id;
            for (line, link) in &rec.covered {
                if let Some(inc) = next.get_mut(link) {
                    inc.evidence.push(Evidence {
                        at: rec.since,
                        subject: dev.clone(),
                        text: format!("standby {dev} of {group_id} not ready: {line}"),
                    });
                    inc.evidence.sort_by(|a, b| {
                        (a.at, &a.subject, &a.text).cmp(&(b.at, &b.subject, &b.text))
                    });
                    inc.evidence.dedup();
                }
            }
        }
    }

    /// Resolve the readiness incidents merged into failover incidents (now open), with a
    /// reference, and remember the merge in the readiness records.
    pub(super) fn resolve_merged(
        &mut self,
        merged: Vec<Merged>,
        now: UnixMillis,
        out: &mut Vec<Output>,
    ) {
        for m in merged {
            for d in &m.devices {
                self.state.readiness.merge_into(*d, &m.into);
            }
            let into_id = self
                .state
                .incidents
                .open
                .get(&m.into)
                .map_or(m.into.clone(), |o| o.incident.id.clone());
            self.state
                .incidents
                .resolve_as_merged(&m.key, &into_id, now, out);
        }
    }

    /// Suspects of a failed failover for service `s`: standbys in its closure known not ready
    /// (still standby, or taken over), first.
    pub(super) fn readiness_suspects(&self, s: ServiceIdx, out: &mut Vec<Suspect>) {
        for (dev, rec) in self.known_not_ready(s) {
            out.push(Suspect {
                component: dev.to_string(),
                reason: self.not_ready_reason(rec),
                score: NOT_READY_SCORE,
            });
        }
    }

    /// The readiness evidence for service `s`'s failure: since when each standby in its
    /// closure was known not ready, and why.
    pub(super) fn readiness_evidence(&self, s: ServiceIdx) -> Vec<Evidence> {
        self.known_not_ready(s)
            .map(|(dev, rec)| Evidence {
                at: rec.since,
                subject: dev.to_string(),
                text: self.not_ready_reason(rec),
            })
            .collect()
    }

    fn known_not_ready(&self, s: ServiceIdx) -> impl Iterator<Item = (&str, &NotReady)> + '_ {
        let t = self.graph.topology();
        self.layout.closures[s]
            .iter()
            .filter_map(move |c| match self.graph.comp(*c) {
                Comp::Device(d) => self
                    .state
                    .readiness
                    .declared(d)
                    .map(|r| (t.devices[d.0].id.as_str(), r)),
                _ => None,
            })
    }

    /// "not ready since 2026-11-28 21:14:00 UTC, 2h 16m before the failover: ip_forwarding:
    /// fw-a forwarding, fw-b notForwarding".
    fn not_ready_reason(&self, rec: &NotReady) -> String {
        let failover = rec.standby_until.unwrap_or(self.state.now);
        format!(
            "not ready since {}, {} before the failover: {}",
            format_utc(rec.since),
            format_span(failover.saturating_sub(rec.since)),
            rec.failing.join("; ")
        )
    }
}

impl Incidents {
    /// Resolve the open incident under `key` as merged into incident `into_id`.
    fn resolve_as_merged(
        &mut self,
        key: &str,
        into_id: &str,
        now: UnixMillis,
        out: &mut Vec<Output>,
    ) {
        let Some(open) = self.open.remove(key) else {
            return;
        };
        let never_paged = open.held_until.is_some();
        let mut incident = open.incident;
        incident.status = IncidentStatus::Resolved;
        incident.resolved_at = Some(now);
        incident.updated_at = now;
        incident.evidence.push(Evidence {
            at: now,
            subject: incident.root_causes.join(","),
            text: format!(
                "merged into incident {into_id}: the service failed, this standby is its first \
                 suspect"
            ),
        });
        // A warning still held for its classification was never paged: nothing to resolve at
        // the receivers, the failover incident pages instead.
        if !never_paged {
            let seq = self.next_seq();
            out.push(transition(seq, TransitionAction::Resolve, now, &incident));
        }
        if self.resolved.len() >= RESOLVED_KEPT {
            self.resolved.pop_front();
        }
        self.resolved.push_back(incident);
    }
}
