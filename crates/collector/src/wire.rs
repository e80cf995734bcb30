//! Conversions from the engine's, graph's and pagers' values to the API's wire types
//! ([`faultline_api`]). One local trait rather than `From`: both sides are foreign to this
//! crate, and the orphan rule allows a local trait on foreign types. The CLI uses the same
//! conversions for its offline output, so offline and live JSON cannot drift apart.

use faultline_api as api;

/// An internal value's wire form.
pub trait ToApi {
    /// The wire type.
    type Api;
    /// Convert, copying.
    fn to_api(&self) -> Self::Api;
}

impl<T: ToApi> ToApi for [T] {
    type Api = Vec<T::Api>;
    fn to_api(&self) -> Vec<T::Api> {
        self.iter().map(ToApi::to_api).collect()
    }
}

impl<T: ToApi> ToApi for Option<T> {
    type Api = Option<T::Api>;
    fn to_api(&self) -> Option<T::Api> {
        self.as_ref().map(ToApi::to_api)
    }
}

impl<T: ToApi + ?Sized> ToApi for &T {
    type Api = T::Api;
    fn to_api(&self) -> T::Api {
        (**self).to_api()
    }
}

impl ToApi for faultline_graph::State {
    type Api = api::State;
    fn to_api(&self) -> api::State {
        use faultline_graph::State as G;
        match self {
            G::Up => api::State::Up,
            G::Degraded => api::State::Degraded,
            G::Down => api::State::Down,
            G::Unknown => api::State::Unknown,
        }
    }
}

impl ToApi for faultline_observe::HaRole {
    type Api = api::HaRole;
    fn to_api(&self) -> api::HaRole {
        use faultline_observe::HaRole as H;
        match self {
            H::Active => api::HaRole::Active,
            H::Standby => api::HaRole::Standby,
            H::Transition => api::HaRole::Transition,
            H::Failed => api::HaRole::Failed,
            H::Standalone => api::HaRole::Standalone,
            H::Unknown => api::HaRole::Unknown,
        }
    }
}

impl ToApi for faultline_engine::ServiceStatus {
    type Api = api::ServiceStatus;
    fn to_api(&self) -> api::ServiceStatus {
        api::ServiceStatus {
            id: self.id.clone(),
            name: self.name.clone(),
            tier: self.tier.to_string(),
            state: self.state.to_api(),
            expected: self.expected.to_api(),
            observed: self.observed.to_api(),
            incident: self.incident.clone(),
        }
    }
}

impl ToApi for faultline_engine::ComponentStatus {
    type Api = api::ComponentStatus;
    fn to_api(&self) -> api::ComponentStatus {
        api::ComponentStatus {
            id: self.id.clone(),
            kind: self.kind.to_string(),
            state: self.state.to_api(),
            own: self.own.to_api(),
            monitored: self.monitored,
            flapping: self.flapping,
            unreachable: self.unreachable,
            last_seen: self.last_seen.map(api::UnixMillis),
            ha_role: self.ha_role.to_api(),
            problem: None,
        }
    }
}

impl ToApi for faultline_engine::TimelineEntry {
    type Api = api::TimelineEntry;
    fn to_api(&self) -> api::TimelineEntry {
        api::TimelineEntry {
            at: api::UnixMillis(self.at),
            subject: self.subject.clone(),
            text: self.text.clone(),
        }
    }
}

impl ToApi for faultline_incident::IncidentKind {
    type Api = api::IncidentKind;
    fn to_api(&self) -> api::IncidentKind {
        use faultline_incident::IncidentKind as K;
        match self {
            K::ServiceDown => api::IncidentKind::ServiceDown,
            K::RedundancyLost => api::IncidentKind::RedundancyLost,
            K::FailoverIneffective => api::IncidentKind::FailoverIneffective,
            K::UnexplainedServiceFailure => api::IncidentKind::UnexplainedServiceFailure,
            K::SplitBrain => api::IncidentKind::SplitBrain,
            K::StandbyNotReady => api::IncidentKind::StandbyNotReady,
            K::TopologyDrift => api::IncidentKind::TopologyDrift,
            K::PartialOutage => api::IncidentKind::PartialOutage,
        }
    }
}

impl ToApi for faultline_incident::Severity {
    type Api = api::Severity;
    fn to_api(&self) -> api::Severity {
        use faultline_incident::Severity as S;
        match self {
            S::Info => api::Severity::Info,
            S::Warning => api::Severity::Warning,
            S::Error => api::Severity::Error,
            S::Critical => api::Severity::Critical,
        }
    }
}

impl ToApi for faultline_incident::ServiceState {
    type Api = api::State;
    fn to_api(&self) -> api::State {
        use faultline_incident::ServiceState as S;
        match self {
            S::Up => api::State::Up,
            S::Degraded => api::State::Degraded,
            S::Down => api::State::Down,
            S::Unknown => api::State::Unknown,
        }
    }
}

impl ToApi for faultline_incident::AffectedService {
    type Api = api::AffectedService;
    fn to_api(&self) -> api::AffectedService {
        api::AffectedService {
            id: self.id.clone(),
            name: self.name.clone(),
            tier: self.tier.clone(),
            state: self.state.to_api(),
            tags: self.tags.clone(),
            outage: self.outage.map(|o| api::Outage {
                from: api::UnixMillis(o.from),
                to: o.to.map(api::UnixMillis),
                worst: o.worst.to_api(),
            }),
        }
    }
}

impl ToApi for faultline_incident::Incident {
    type Api = api::Incident;
    fn to_api(&self) -> api::Incident {
        use faultline_incident::IncidentStatus as St;
        api::Incident {
            id: self.id.clone(),
            kind: self.kind.to_api(),
            severity: self.severity.to_api(),
            title: self.title.clone(),
            root_causes: self.root_causes.clone(),
            affected_services: self.affected_services.to_api(),
            suspects: self
                .suspects
                .iter()
                .map(|s| api::Suspect {
                    component: s.component.clone(),
                    reason: s.reason.clone(),
                    score: s.score,
                })
                .collect(),
            evidence: self
                .evidence
                .iter()
                .map(|e| api::Evidence {
                    at: api::UnixMillis(e.at),
                    subject: e.subject.clone(),
                    text: e.text.clone(),
                })
                .collect(),
            status: match self.status {
                St::Open => api::IncidentStatus::Open,
                St::Resolved => api::IncidentStatus::Resolved,
            },
            opened_at: api::UnixMillis(self.opened_at),
            updated_at: api::UnixMillis(self.updated_at),
            resolved_at: self.resolved_at.map(api::UnixMillis),
            suppressed: self.suppressed,
            acknowledged: self.acknowledged.as_ref().map(|a| api::Acknowledgement {
                by: a.by.clone(),
                at: api::UnixMillis(a.at),
                comment: a.comment.clone(),
            }),
        }
    }
}

/// The brief form of an incident in `/api/v1/status`.
pub fn incident_summary(i: &faultline_incident::Incident) -> api::IncidentSummary {
    api::IncidentSummary {
        id: i.id.clone(),
        kind: i.kind.to_api(),
        severity: i.severity.to_api(),
        title: i.title.clone(),
        suppressed: i.suppressed,
    }
}

impl ToApi for faultline_graph::WhyNode {
    type Api = api::WhyNode;
    fn to_api(&self) -> api::WhyNode {
        api::WhyNode {
            id: self.id.clone(),
            kind: self.kind.clone(),
            state: self.state.to_api(),
            path: self.path.map(|p| p.to_api()),
            detail: self.detail.clone(),
            failed_itself: self.failed_itself,
            repeated: self.repeated,
            children: self.children.to_api(),
        }
    }
}

impl ToApi for faultline_graph::ImpactReport {
    type Api = api::ImpactReport;
    fn to_api(&self) -> api::ImpactReport {
        api::ImpactReport {
            down: self.down.clone(),
            services: self
                .services
                .iter()
                .map(|s| api::ServiceImpact {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    tier: s.tier.clone(),
                    state: s.state.to_api(),
                    causes: s.causes.clone(),
                })
                .collect(),
            components: self
                .components
                .iter()
                .map(|c| api::ComponentImpact {
                    id: c.id.clone(),
                    state: match c.state {
                        faultline_graph::ComponentState::Down => api::ComponentState::Down,
                        faultline_graph::ComponentState::Unreachable => {
                            api::ComponentState::Unreachable
                        }
                        faultline_graph::ComponentState::Degraded => api::ComponentState::Degraded,
                    },
                })
                .collect(),
        }
    }
}

impl ToApi for faultline_notify::StatsSnapshot {
    type Api = api::NotifyStats;
    fn to_api(&self) -> api::NotifyStats {
        api::NotifyStats {
            delivered: self.delivered,
            retries: self.retries,
            dead_lettered: self.dead_lettered,
            pending: self.pending,
            resent: self.resent,
        }
    }
}

impl ToApi for faultline_engine::Verdict {
    type Api = api::Readiness;
    fn to_api(&self) -> api::Readiness {
        use faultline_engine::Verdict as V;
        match self {
            V::Ready => api::Readiness::Ready,
            V::NotReady => api::Readiness::NotReady,
            V::Unknown => api::Readiness::Unknown,
        }
    }
}

/// A fact's raw value as text.
fn fact_text(f: &faultline_observe::Fact) -> String {
    use faultline_observe::Fact;
    match f {
        Fact::Int(i) => i.to_string(),
        Fact::Text(t) => t.clone(),
        Fact::Absent => "absent".into(),
    }
}

/// A readiness rule as one line: `equal 1`, `within_percent_of_active 10`.
fn rule_text(r: &faultline_observe::ReadinessRule) -> String {
    use faultline_observe::ReadinessRule as R;
    match r {
        R::MatchActive => "match_active".into(),
        R::Equal { value } => format!("equal {}", fact_text(value)),
        R::NotEqual { value } => format!("not_equal {}", fact_text(value)),
        R::WithinPercentOfActive { percent } => format!("within_percent_of_active {percent}"),
        R::AtLeast { min } => format!("at_least {min}"),
    }
}

impl ToApi for faultline_engine::CheckValue {
    type Api = api::CheckValue;
    fn to_api(&self) -> api::CheckValue {
        api::CheckValue {
            value: fact_text(&self.value),
            shown: self.shown.clone(),
            at: api::UnixMillis(self.at),
            stale: self.stale,
        }
    }
}

impl ToApi for faultline_engine::CheckResult {
    type Api = api::ReadyCheck;
    fn to_api(&self) -> api::ReadyCheck {
        api::ReadyCheck {
            check: self.check.clone(),
            rule: self.rule.as_ref().map(rule_text),
            standby: self.standby.to_api(),
            active: self.active.to_api(),
            verdict: self.verdict.to_api(),
            detail: self.detail.clone(),
            applies: self.applies,
        }
    }
}

impl ToApi for faultline_engine::StandbyReadiness {
    type Api = api::StandbyReady;
    fn to_api(&self) -> api::StandbyReady {
        api::StandbyReady {
            device: self.device.clone(),
            verdict: self.verdict.to_api(),
            since: self.since.map(api::UnixMillis),
            declared_not_ready: self.declared_not_ready,
            checks: self.checks.to_api(),
        }
    }
}

impl ToApi for faultline_engine::GroupReadiness {
    type Api = api::GroupReady;
    fn to_api(&self) -> api::GroupReady {
        api::GroupReady {
            group: self.group.clone(),
            active: self.active.clone(),
            standbys: self.standbys.to_api(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire incident serialises exactly as the internal one (the journal and pager
    /// format): the API used to send the internal type, so clients see no change.
    #[test]
    fn incident_wire_form_equals_the_internal_json() {
        use faultline_incident::*;
        let inc = Incident {
            id: "inc-fw-pair-1".into(),
            kind: IncidentKind::FailoverIneffective,
            severity: Severity::Critical,
            title: "portal down although fw-pair failed over to fw-b".into(),
            root_causes: vec!["fw-a".into()],
            affected_services: vec![AffectedService {
                id: "portal".into(),
                name: "Contractor portal".into(),
                tier: "critical".into(),
                state: faultline_incident::ServiceState::Down,
                tags: vec!["web".into()],
                outage: None,
            }],
            suspects: vec![Suspect {
                component: "fw-b".into(),
                reason: "became active".into(),
                score: 0.9,
            }],
            evidence: vec![Evidence {
                at: 5,
                subject: "fw-a".into(),
                text: "gone".into(),
            }],
            status: IncidentStatus::Open,
            opened_at: 1,
            updated_at: 2,
            resolved_at: None,
            suppressed: true,
            acknowledged: None,
        };
        assert_eq!(
            serde_json::to_value(inc.to_api()).unwrap(),
            serde_json::to_value(&inc).unwrap()
        );
    }

    #[test]
    fn states_keep_their_names() {
        use faultline_graph::State as G;
        for s in [G::Up, G::Degraded, G::Down, G::Unknown] {
            assert_eq!(s.to_api().as_str(), s.as_str());
        }
    }
}
