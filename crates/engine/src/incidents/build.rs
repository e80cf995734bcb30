//! One incident from one root cause: the services it affects and how badly, what kind of
//! failure it is, its title, severity and evidence, and whether maintenance excuses it.

use std::collections::BTreeSet;

use faultline_graph::{CompId, State};
use faultline_incident::{
    AffectedService, Evidence, Incident, IncidentKind, IncidentStatus, Outage, ServiceState,
    Severity, Suspect,
};
use faultline_model::Tier;
use faultline_observe::UnixMillis;

use crate::Engine;
use crate::ha::SplitBrain;
use crate::ids::{Comp, ServiceIdx, TypedComponents};

/// The page severity of a service of this tier being down.
fn tier_severity(t: Tier) -> Severity {
    match t {
        Tier::Critical | Tier::High => Severity::Critical,
        Tier::Normal => Severity::Error,
        Tier::Low => Severity::Warning,
    }
}

/// A graph state as the state of an affected service.
fn service_state(s: State) -> ServiceState {
    match s {
        State::Up => ServiceState::Up,
        State::Degraded => ServiceState::Degraded,
        State::Down => ServiceState::Down,
        State::Unknown => ServiceState::Unknown,
    }
}

/// The services an incident affects (those not up), and the severity they call for.
struct Affected {
    services: Vec<AffectedService>,
    severity: Severity,
    any_down: bool,
}

impl Affected {
    /// Names of the affected services, optionally only the down ones, joined for a title.
    fn names(&self, only_down: bool) -> String {
        self.services
            .iter()
            .filter(|a| !only_down || a.state == ServiceState::Down)
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Kind, title and severity of an incident, once its affected services are known.
struct Verdict {
    kind: IncidentKind,
    title: String,
    severity: Severity,
    suspects: Vec<Suspect>,
}

impl Engine {
    /// The incident of root cause `root` under `key`, with the failing services merged into it
    /// and the services above it.
    pub(super) fn build_incident(
        &self,
        key: &str,
        root: CompId,
        failed_services: &[ServiceIdx],
        above: &[ServiceIdx],
    ) -> Incident {
        let root_id = self.graph.id_of(root).to_string();
        let mut services: BTreeSet<ServiceIdx> = above.iter().copied().collect();
        services.extend(failed_services.iter().copied());
        let affected = self.affected(&services);
        let start = self.first_cause(key, root);
        let mut evidence: Vec<Evidence> = self.state.evidence.recent(root).cloned().collect();
        // Standby readiness (issue #10): since when a member was known not ready. It predates
        // the incident by design, so it is exempt from the evidence start below.
        let mut readiness = Vec::new();
        let verdict = match failed_services.first() {
            Some(&s) => {
                evidence.extend(self.closure_evidence(s));
                readiness = self.readiness_evidence(s);
                self.service_failure_verdict(s, root, &root_id, &affected)
            }
            None => component_failure_verdict(&root_id, &affected),
        };
        evidence.retain(|e| e.at >= start);
        evidence.extend(readiness);
        evidence.sort_by(|a, b| (a.at, &a.subject, &a.text).cmp(&(b.at, &b.subject, &b.text)));
        evidence.dedup();
        let suppressed =
            failed_services.is_empty() && self.excused_by_maintenance(&root_id, &affected);
        let root_is_service = matches!(self.graph.comp(root), Comp::Service(_));
        Incident {
            id: key.to_string(),
            kind: verdict.kind,
            severity: verdict.severity,
            title: verdict.title,
            root_causes: if root_is_service {
                Vec::new()
            } else {
                vec![root_id]
            },
            affected_services: affected.services,
            suspects: verdict.suspects,
            evidence,
            status: IncidentStatus::Open,
            opened_at: self.opening_time(root),
            updated_at: self.state.now,
            resolved_at: None,
            suppressed,
            acknowledged: None,
        }
    }

    /// When an incident of `root` opening now opens: now, unless the root's failure was
    /// declared late (its samples arrived after the engine's clock had passed them: a poller's
    /// buffered batches after a partition), then at the failure's own time.
    fn opening_time(&self, root: CompId) -> UnixMillis {
        let tr = &self.state.tracks[root];
        if tr.late && tr.effective != State::Up {
            tr.changed_at.min(self.state.now)
        } else {
            self.state.now
        }
    }

    /// When the incident under `key` began: its first cause's first failing sample (the root's
    /// failure less its hold-down), or when it opened if that is earlier (a merged service can
    /// keep an incident open after its root recovered). Evidence starts here: nothing from a
    /// previous, resolved incident of the same root.
    fn first_cause(&self, key: &str, root: CompId) -> UnixMillis {
        let tr = &self.state.tracks[root];
        let failed = if tr.effective == State::Up {
            self.state.now
        } else {
            tr.changed_at.saturating_sub(self.hold_for(root).down_ms)
        };
        let opened = self
            .state
            .incidents
            .open
            .get(key)
            .map(|o| o.incident.opened_at);
        opened.map_or(failed, |o| o.min(failed))
    }

    /// The services (in `services`) that are not up, and the severity they call for.
    fn affected(&self, services: &BTreeSet<ServiceIdx>) -> Affected {
        let t = self.graph.topology();
        let mut out = Affected {
            services: Vec::new(),
            severity: Severity::Info,
            any_down: false,
        };
        for &s in services {
            let sv = &t.services[s.0];
            let st = self.eval.component(s.comp(&self.graph));
            if st == State::Up {
                continue;
            }
            let sev = match st {
                State::Down => {
                    out.any_down = true;
                    tier_severity(sv.tier)
                }
                _ => Severity::Warning,
            };
            out.severity = out.severity.max(sev);
            out.services.push(AffectedService {
                id: sv.id.clone(),
                name: sv.name.clone(),
                tier: sv.tier.as_str().to_string(),
                state: service_state(st),
                tags: sv.tags.clone(),
                outage: Some(Outage {
                    from: self.state.now,
                    to: None,
                    worst: service_state(st),
                }),
            });
        }
        out
    }

    /// Recent events (within the failover window) of every component service `s` depends on.
    fn closure_evidence(&self, s: ServiceIdx) -> Vec<Evidence> {
        let since = self.state.now;
        let window = self.cfg.failover_window_ms;
        self.layout.closures[s]
            .iter()
            .flat_map(|c| self.state.evidence.recent(*c))
            .filter(|e| e.at + window >= since)
            .cloned()
            .collect()
    }

    /// A failing service `s` (the first merged into `root`'s incident): failover ineffective
    /// when redundancy should have carried it, else unexplained.
    fn service_failure_verdict(
        &self,
        s: ServiceIdx,
        root: CompId,
        root_id: &str,
        affected: &Affected,
    ) -> Verdict {
        if self.in_partial_outage(s) {
            return self.partial_outage_verdict(s, root, root_id, affected);
        }
        let t = self.graph.topology();
        let sv = &t.services[s.0];
        let root_is_service = matches!(self.graph.comp(root), Comp::Service(_));
        let expected = self.eval.dependencies_state(self.graph.service_node(s.0));
        let role_changes = self.recent_role_changes(s);
        let failover = !root_is_service || expected == State::Degraded || !role_changes.is_empty();
        let (kind, title) = if failover {
            let title = match role_changes.first() {
                Some(took_over) => format!(
                    "failover ineffective: {} is down although {} took over{}",
                    sv.name,
                    t.devices[took_over.device.0].id,
                    if root_is_service {
                        String::new()
                    } else {
                        format!(" from {root_id}")
                    }
                ),
                None => format!(
                    "failover ineffective: {} is down although redundancy should carry \
                     {root_id}'s failure",
                    sv.name
                ),
            };
            (IncidentKind::FailoverIneffective, title)
        } else {
            let title = format!("{} is down and nothing it depends on has failed", sv.name);
            (IncidentKind::UnexplainedServiceFailure, title)
        };
        Verdict {
            kind,
            title,
            severity: affected
                .severity
                .max(tier_severity(sv.tier))
                .max(Severity::Error),
            suspects: self.suspects(s, root),
        }
    }

    /// Service `s` fails from some zones and works from others (`vantage.rs`): a partial
    /// outage, a step below the full outage of its tier. When `root`'s failure also takes a
    /// service down outright, that is the verdict.
    fn partial_outage_verdict(
        &self,
        s: ServiceIdx,
        root: CompId,
        root_id: &str,
        affected: &Affected,
    ) -> Verdict {
        if affected.any_down {
            return component_failure_verdict(root_id, affected);
        }
        let tier = self.graph.topology().services[s.0].tier;
        let severity = match tier_severity(tier) {
            Severity::Critical => Severity::Error,
            _ => Severity::Warning,
        };
        Verdict {
            kind: IncidentKind::PartialOutage,
            title: self.partial_outage_title(s),
            severity: affected.severity.max(severity),
            suspects: self.suspects(s, root),
        }
    }

    /// Maintenance (Checkmk BI's rule): a component in maintenance excuses only what its own
    /// failure takes down. A redundant member under maintenance does not excuse an outage.
    /// The configuration's windows and the run-time ones (`operator.rs`) count alike.
    fn excused_by_maintenance(&self, root_id: &str, affected: &Affected) -> bool {
        let active = self.active_maintenance(self.state.now);
        if !active.iter().any(|m| m.iter().any(|c| c == root_id)) {
            return false;
        }
        let maintained: Vec<&str> = active
            .iter()
            .flat_map(|m| m.iter().map(String::as_str))
            .collect();
        let excused = self.graph.what_if(&maintained).ok();
        affected
            .services
            .iter()
            .filter(|a| a.state == ServiceState::Down)
            .all(|a| {
                excused.as_ref().is_some_and(|r| {
                    r.services
                        .iter()
                        .any(|x| x.id == a.id && x.state == State::Down)
                })
            })
    }

    /// The incident of a split brain, under its key `split-brain:GROUP`.
    pub(super) fn build_split_brain(&mut self, sb: &SplitBrain) -> (String, Incident) {
        let t = self.graph.clone();
        let t = t.topology();
        let gid = sb.group.comp(&self.graph);
        let group_id = &t.groups[sb.group.0].id;
        let key = format!("split-brain:{group_id}");
        let above = self.services_above(gid, &mut Vec::new());
        let mut inc = self.build_incident(&key, gid, &[], &above);
        inc.kind = IncidentKind::SplitBrain;
        inc.severity = Severity::Critical;
        let names: Vec<&str> = sb
            .actives
            .iter()
            .map(|d| t.devices[d.0].id.as_str())
            .collect();
        inc.title = format!(
            "split brain in {group_id}: {} all active",
            names.join(" and ")
        );
        inc.suspects = names
            .iter()
            .map(|n| Suspect {
                component: n.to_string(),
                reason: "reports itself active".into(),
                score: 0.9,
            })
            .collect();
        (key, inc)
    }
}

/// A failed component with no failing service merged in: services down, or redundancy lost.
fn component_failure_verdict(root_id: &str, affected: &Affected) -> Verdict {
    let (kind, title, severity) = if affected.any_down {
        let title = format!("{root_id} failed: {} down", affected.names(true));
        (IncidentKind::ServiceDown, title, affected.severity)
    } else if affected.services.is_empty() {
        let title = format!("{root_id} failed (no service affected)");
        (IncidentKind::RedundancyLost, title, affected.severity)
    } else {
        let title = format!(
            "{root_id} failed: redundancy lost for {}",
            affected.names(false)
        );
        (IncidentKind::RedundancyLost, title, Severity::Warning)
    };
    Verdict {
        kind,
        title,
        severity,
        suspects: Vec::new(),
    }
}
