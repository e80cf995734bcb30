//! Prometheus Alertmanager, API v2 (`POST /api/v2/alerts`).
//!
//! An incident becomes **one alert per affected service**, every label single-valued:
//! `alertname="FaultlineIncident"`, `incident` (the id, shared by the incident's alerts),
//! `service` (one service id), `root_cause` (one component id: the incident's first root
//! cause), `severity` and `kind`. Alertmanager identifies an alert by its labels, so the
//! incident-wide ones are pinned at the first page (the annotations carry the incident as it is
//! now); re-posting the same labels is idempotent, which keeps Alertmanager's de-duplication.
//!
//! Every post carries all of the incident's alerts, so they fire and resolve together: a
//! service hurt now fires, a service the incident stopped hurting (up again, or gone from the
//! list) is posted resolved, and the incident's resolve resolves them all. The services ever
//! alerted about are remembered with the pinned labels (`alerted:<service>` entries, which can
//! never be label names), so a dropped service is resolved even after a restart. An incident
//! without services is one alert without a `service` label.
//!
//! Alertmanager forgets a firing alert (one without `endsAt`) after its `resolve_timeout`, so
//! firing incidents are re-posted.
//!
//! An acknowledgement becomes a **silence** (`POST /api/v2/silences`) matching the incident's
//! alerts (`alertname` and `incident`), created by whoever acknowledged; an unacknowledge or the
//! incident's resolve expires every active silence of the incident (listed with
//! `GET /api/v2/silences?filter=incident="ID"`, then `DELETE /api/v2/silence/{id}`).

use std::time::Duration;

use std::collections::BTreeSet;

use faultline_incident::{Incident, ServiceState, TransitionAction};
use faultline_observe::UnixMillis;
use faultline_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BuildContext, Labels, Receiver, ReceiverSection};
use crate::payload::{rfc3339, why_link};

/// Re-post interval unless configured.
const DEFAULT_RESEND: Duration = Duration::from_secs(60);
/// Bounds of `resend_interval_secs`: Alertmanager expires alerts after its resolve_timeout
/// (minutes), and an absurd value would overflow `Instant` arithmetic.
const RESEND_MIN_SECS: u64 = 1;
const RESEND_MAX_SECS: u64 = 86_400;

/// The alerts endpoint below the configured base URL.
const ALERTS_PATH: &str = "/api/v2/alerts";
/// Silences: created at an acknowledgement, listed and expired at an unacknowledge or resolve.
const SILENCES_PATH: &str = "/api/v2/silences";
const SILENCE_PATH: &str = "/api/v2/silence";
/// How long an acknowledgement's silence lasts unless the incident resolves or is
/// unacknowledged first (Alertmanager needs an end).
const SILENCE_MS: UnixMillis = 7 * 24 * 3_600_000;

/// Every alert's `alertname`.
pub const ALERTNAME: &str = "FaultlineIncident";
/// Kept-label key prefix marking a service alerted about (a `:` is never in a label name).
const ALERTED: &str = "alerted:";
/// The pseudo-service of an incident listing no service: its alert has no `service` label.
const NO_SERVICE: &str = "";

/// `kind = "alertmanager"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerSection {
    /// Base URL (`http://am:9093`; `/api/v2/alerts` is appended unless already there).
    #[serde(default)]
    pub url: Option<String>,
    /// Re-post firing alerts this often (Alertmanager expires them otherwise); default 60.
    #[serde(default)]
    pub resend_interval_secs: Option<u64>,
}

impl ReceiverSection for AlertmanagerSection {
    type Receiver = Alertmanager;

    fn build(&self, ctx: &mut BuildContext<'_>) -> Option<Alertmanager> {
        let base = ctx.http_url("url", self.url.as_deref(), None)?;
        let base = base.trim_end_matches('/');
        let root = base.strip_suffix(ALERTS_PATH).unwrap_or(base).to_string();
        let url = format!("{root}{ALERTS_PATH}");
        let resend = self.resend_interval_secs.map_or(DEFAULT_RESEND, |s| {
            Duration::from_secs(s.clamp(RESEND_MIN_SECS, RESEND_MAX_SECS))
        });
        Some(Alertmanager {
            root,
            url,
            resend,
            public_url: ctx.public_url(),
        })
    }
}

/// A ready Alertmanager receiver.
pub struct Alertmanager {
    /// The base URL (without `/api/v2/...`).
    root: String,
    url: String,
    resend: Duration,
    public_url: Option<String>,
}

impl Receiver for Alertmanager {
    fn url(&self) -> &str {
        &self.url
    }

    fn request(
        &self,
        client: &reqwest::Client,
        entry: &OutboxEntry,
    ) -> Result<reqwest::RequestBuilder, String> {
        let t = &entry.transition;
        match t.action {
            TransitionAction::Acknowledge => {
                let url = format!("{}{SILENCES_PATH}", self.root);
                // From the delivery on (Alertmanager refuses an end in the past).
                let now = faultline_observe::time::now_ms();
                return Ok(client.post(url).json(&silence(&t.incident, now)));
            }
            TransitionAction::Unacknowledge => return Ok(self.silences_of(client, &t.incident)),
            _ => {}
        }
        let kept = entry
            .labels
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| kept_labels(&t.incident, None));
        let end = match t.action {
            TransitionAction::Resolve => t.incident.resolved_at.unwrap_or(t.at),
            _ => t.at,
        };
        let alerts = alerts(
            &kept,
            self.public_url.as_deref(),
            &t.incident,
            t.action == TransitionAction::Resolve,
            end,
        );
        Ok(client.post(&self.url).json(&alerts))
    }

    fn resend_interval(&self) -> Option<Duration> {
        Some(self.resend)
    }

    fn identity_labels(&self, incident: &Incident, pinned: Option<&Labels>) -> Option<Labels> {
        Some(kept_labels(incident, pinned))
    }

    fn lookup(
        &self,
        client: &reqwest::Client,
        entry: &OutboxEntry,
    ) -> Option<reqwest::RequestBuilder> {
        let t = &entry.transition;
        matches!(
            t.action,
            TransitionAction::Unacknowledge | TransitionAction::Resolve
        )
        .then(|| self.silences_of(client, &t.incident))
    }

    fn follow_ups(
        &self,
        client: &reqwest::Client,
        entry: &OutboxEntry,
        answer: &str,
    ) -> Result<Vec<reqwest::RequestBuilder>, String> {
        let ids = live_silences(answer, &entry.transition.incident.id)?;
        Ok(ids
            .into_iter()
            .map(|id| client.delete(format!("{}{SILENCE_PATH}/{id}", self.root)))
            .collect())
    }
}

impl Alertmanager {
    /// `GET /api/v2/silences` filtered to the incident's.
    fn silences_of(&self, client: &reqwest::Client, inc: &Incident) -> reqwest::RequestBuilder {
        let base = format!("{}{SILENCES_PATH}", self.root);
        let filter = format!("incident=\"{}\"", inc.id);
        match reqwest::Url::parse_with_params(&base, [("filter", filter)]) {
            Ok(url) => client.get(url),
            // The base URL was checked at build time; the answer is filtered again anyway.
            Err(_) => client.get(base),
        }
    }
}

/// The silence of an acknowledged incident: its alerts (`alertname` and `incident`), from `at`
/// for `SILENCE_MS` (7 days), by whoever acknowledged, with their comment.
pub fn silence(inc: &Incident, at: UnixMillis) -> Value {
    let matcher = |name: &str, value: &str| json!({"name": name, "value": value, "isRegex": false, "isEqual": true});
    let (by, comment) = inc
        .acknowledged
        .as_ref()
        .map_or(("faultline", ""), |a| (a.by.as_str(), a.comment.as_str()));
    let comment = if comment.is_empty() {
        format!("faultline: {} acknowledged", inc.id)
    } else {
        format!("faultline: {} acknowledged: {comment}", inc.id)
    };
    json!({
        "matchers": [matcher("alertname", ALERTNAME), matcher("incident", &inc.id)],
        "startsAt": rfc3339(at),
        "endsAt": rfc3339(at.saturating_add(SILENCE_MS)),
        "createdBy": by,
        "comment": comment,
    })
}

/// Ids of the silences of incident `id` in a `GET /api/v2/silences` answer that are not
/// expired yet (only those matching `incident="ID"` exactly, whatever the filter did).
fn live_silences(answer: &str, id: &str) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Status {
        state: String,
    }
    #[derive(Deserialize)]
    struct Matcher {
        name: String,
        value: String,
    }
    #[derive(Deserialize)]
    struct Listed {
        id: String,
        status: Status,
        matchers: Vec<Matcher>,
    }
    let listed: Vec<Listed> = serde_json::from_str(answer)
        .map_err(|e| format!("silences answer is not a silence list: {e}"))?;
    Ok(listed
        .into_iter()
        .filter(|s| s.status.state != "expired")
        .filter(|s| {
            s.matchers
                .iter()
                .any(|m| m.name == "incident" && m.value == id)
        })
        .map(|s| s.id)
        .collect())
}

/// The labels kept for an incident paged here: the incident-wide identity labels (pinned at the
/// first page) plus an `alerted:<service>` entry for every service alerted about so far.
/// Labels kept before alerts were per service (a `service` label, comma-joined) stay as they
/// are, so such an incident ends as the one alert it started as.
pub fn kept_labels(inc: &Incident, pinned: Option<&Labels>) -> Labels {
    let mut kept = match pinned {
        Some(p) if p.contains_key("service") => return p.clone(),
        Some(p) if !p.is_empty() => p.clone(),
        _ => identity(inc),
    };
    for s in hurt_services(inc) {
        kept.insert(format!("{ALERTED}{s}"), String::new());
    }
    kept
}

/// The incident-wide labels, as at its first page.
fn identity(inc: &Incident) -> Labels {
    let mut l = Labels::from([
        ("alertname".to_string(), ALERTNAME.to_string()),
        ("incident".to_string(), inc.id.clone()),
        ("kind".to_string(), inc.kind.as_str().to_string()),
        ("severity".to_string(), inc.severity.as_str().to_string()),
    ]);
    if let Some(root) = inc.root_causes.first() {
        l.insert("root_cause".to_string(), root.clone());
    }
    l
}

/// The services the incident hurts now (listed and not up again); [`NO_SERVICE`] for an
/// incident listing none.
fn hurt_services(inc: &Incident) -> BTreeSet<&str> {
    if inc.affected_services.is_empty() {
        return BTreeSet::from([NO_SERVICE]);
    }
    inc.affected_services
        .iter()
        .filter(|s| s.state != ServiceState::Up)
        .map(|s| s.id.as_str())
        .collect()
}

/// Every alert of the incident (`POST /api/v2/alerts` takes an array of these): one per service
/// alerted about or hurt now, firing while the incident hurts it, else resolved (`endsAt` when
/// its outage ended, else `end`). `resolve_all`: the incident is over, every alert resolved.
pub fn alerts(
    kept: &Labels,
    public_url: Option<&str>,
    inc: &Incident,
    resolve_all: bool,
    end: UnixMillis,
) -> Vec<Value> {
    if kept.contains_key("service") {
        // An incident paged before alerts were per service: its one alert, as it was.
        return vec![alert(
            kept,
            public_url,
            inc,
            None,
            resolve_all.then_some(end),
        )];
    }
    let base: Labels = kept
        .iter()
        .filter(|(k, _)| !k.starts_with(ALERTED))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let hurt = hurt_services(inc);
    let mut services: BTreeSet<&str> = kept
        .keys()
        .filter_map(|k| k.strip_prefix(ALERTED))
        .collect();
    services.extend(hurt.iter().copied());
    services
        .into_iter()
        .map(|svc| {
            let mut labels = base.clone();
            if svc != NO_SERVICE {
                labels.insert("service".to_string(), svc.to_string());
            }
            let listed = inc.affected_services.iter().find(|s| s.id == svc);
            let outage_end = listed.and_then(|s| s.outage).and_then(|o| o.to);
            let resolved = (resolve_all || !hurt.contains(svc)).then(|| outage_end.unwrap_or(end));
            alert(&labels, public_url, inc, Some(svc), resolved)
        })
        .collect()
}

/// One Alertmanager v2 alert for `service` (`None`: the legacy incident-wide alert).
/// `resolved_at` set = resolved (`endsAt`), else firing without `endsAt` (so it must be
/// re-posted before Alertmanager's resolve_timeout).
fn alert(
    labels: &Labels,
    public_url: Option<&str>,
    inc: &Incident,
    service: Option<&str>,
    resolved_at: Option<UnixMillis>,
) -> Value {
    // Labels are pinned; the annotations carry the incident as it is now.
    let mut annotations = Labels::from([
        ("summary".to_string(), inc.title.clone()),
        ("description".to_string(), description(inc)),
        (
            "current_severity".to_string(),
            inc.severity.as_str().to_string(),
        ),
        (
            "status".to_string(),
            format!("{:?}", inc.status).to_lowercase(),
        ),
    ]);
    if inc.root_causes.len() > 1 {
        annotations.insert("root_causes".to_string(), inc.root_causes.join(", "));
    }
    let listed = service.and_then(|svc| inc.affected_services.iter().find(|s| s.id == svc));
    if let Some(s) = listed {
        annotations.insert("service_name".to_string(), s.name.clone());
        annotations.insert("service_state".to_string(), s.state.to_string());
    }
    let why_for = match service {
        Some(svc) => (svc != NO_SERVICE).then_some(svc),
        None => inc.affected_services.first().map(|s| s.id.as_str()),
    };
    if let (Some(base), Some(svc)) = (public_url, why_for) {
        annotations.insert("why".to_string(), why_link(base, svc));
    }
    let starts = listed
        .and_then(|s| s.outage)
        .map_or(inc.opened_at, |o| o.from.max(inc.opened_at));
    let mut alert = json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(starts),
    });
    if let Some(end) = resolved_at {
        // Alertmanager refuses an end before the start.
        alert["endsAt"] = json!(rfc3339(end.max(starts)));
    }
    if let Some(base) = public_url {
        alert["generatorURL"] = json!(base);
    }
    alert
}

/// Root cause, suspects and evidence as text.
fn description(inc: &Incident) -> String {
    let mut d = String::new();
    if !inc.root_causes.is_empty() {
        d.push_str(&format!("Root cause: {}.", inc.root_causes.join(", ")));
    }
    for s in &inc.suspects {
        d.push_str(&format!("\nSuspect {}: {}", s.component, s.reason));
    }
    for e in &inc.evidence {
        d.push_str(&format!("\n{} {}: {}", rfc3339(e.at), e.subject, e.text));
    }
    d
}

#[cfg(test)]
mod tests {
    use faultline_incident::{AffectedService, IncidentKind, IncidentStatus, Outage, Severity};

    use super::*;

    fn service(id: &str, state: ServiceState) -> AffectedService {
        AffectedService {
            id: id.into(),
            name: format!("{id} service"),
            tier: "critical".into(),
            state,
            tags: vec![],
            outage: Some(Outage {
                from: 2_000,
                to: None,
                worst: ServiceState::Down,
            }),
        }
    }

    fn incident(services: Vec<AffectedService>) -> Incident {
        Incident {
            id: "fw-a@1000".into(),
            kind: IncidentKind::ServiceDown,
            severity: Severity::Critical,
            title: "portal and billing down".into(),
            root_causes: vec!["fw-a".into(), "sw-1".into()],
            affected_services: services,
            suspects: vec![],
            evidence: vec![],
            status: IncidentStatus::Open,
            opened_at: 1_000,
            updated_at: 1_000,
            resolved_at: None,
            suppressed: false,
            acknowledged: None,
        }
    }

    /// (service label, endsAt) of each alert, every label single-valued.
    fn summary(alerts: &[Value]) -> Vec<(String, Option<String>)> {
        alerts
            .iter()
            .map(|a| {
                for (k, v) in a["labels"].as_object().expect("labels") {
                    assert!(!v.as_str().expect("string").contains(','), "{k}={v}");
                }
                assert_eq!(a["labels"]["root_cause"], "fw-a");
                assert_eq!(a["labels"]["incident"], "fw-a@1000");
                assert_eq!(a["labels"]["alertname"], ALERTNAME);
                (
                    a["labels"]["service"].as_str().unwrap_or("-").to_string(),
                    a["endsAt"].as_str().map(str::to_string),
                )
            })
            .collect()
    }

    #[test]
    fn one_alert_per_service_resolved_one_by_one_then_together() {
        let mut inc = incident(vec![
            service("portal", ServiceState::Down),
            service("billing", ServiceState::Degraded),
        ]);
        let kept = kept_labels(&inc, None);
        assert_eq!(kept["root_cause"], "fw-a");
        assert!(!kept.contains_key("service"));
        let first = alerts(&kept, Some("https://fl.example/"), &inc, false, 5_000);
        assert_eq!(
            summary(&first),
            [("billing".into(), None), ("portal".into(), None)]
        );
        assert_eq!(
            first[1]["annotations"]["why"],
            "https://fl.example/why/portal"
        );
        assert_eq!(first[1]["annotations"]["root_causes"], "fw-a, sw-1");
        assert_eq!(first[1]["startsAt"], rfc3339(2_000));

        // billing recovers (kept in the list, window closed), crm is added.
        inc.affected_services[1].state = ServiceState::Up;
        inc.affected_services[1].outage = Some(Outage {
            from: 2_000,
            to: Some(4_000),
            worst: ServiceState::Degraded,
        });
        inc.affected_services
            .push(service("crm", ServiceState::Down));
        inc.severity = Severity::Warning; // pinned: the label does not change
        let kept = kept_labels(&inc, Some(&kept));
        let second = alerts(&kept, None, &inc, false, 5_000);
        assert_eq!(
            summary(&second),
            [
                ("billing".into(), Some(rfc3339(4_000))),
                ("crm".into(), None),
                ("portal".into(), None)
            ]
        );
        assert!(second.iter().all(|a| a["labels"]["severity"] == "critical"));

        // portal disappears from the list altogether: resolved at the transition's time.
        inc.affected_services.retain(|s| s.id != "portal");
        let kept = kept_labels(&inc, Some(&kept));
        let third = alerts(&kept, None, &inc, false, 6_000);
        assert_eq!(third[2]["labels"]["service"], "portal");
        assert_eq!(third[2]["endsAt"], rfc3339(6_000));
        assert!(third[1].get("endsAt").is_none(), "crm still firing");

        // The resolve ends every alert.
        let last = alerts(&kept, None, &inc, true, 7_000);
        assert_eq!(
            summary(&last),
            [
                ("billing".into(), Some(rfc3339(4_000))),
                ("crm".into(), Some(rfc3339(7_000))),
                ("portal".into(), Some(rfc3339(7_000)))
            ]
        );
    }

    #[test]
    fn an_incident_without_services_is_one_alert_without_a_service_label() {
        let inc = incident(vec![]);
        let kept = kept_labels(&inc, None);
        let a = alerts(&kept, None, &inc, false, 5_000);
        assert_eq!(summary(&a), [("-".into(), None)]);
        assert_eq!(a[0]["startsAt"], rfc3339(1_000));
    }

    #[test]
    fn labels_kept_before_per_service_alerts_keep_their_one_alert() {
        let inc = incident(vec![
            service("portal", ServiceState::Down),
            service("billing", ServiceState::Down),
        ]);
        let legacy = Labels::from([
            ("alertname".to_string(), ALERTNAME.to_string()),
            ("incident".to_string(), "fw-a@1000".to_string()),
            ("service".to_string(), "billing,portal".to_string()),
        ]);
        assert_eq!(kept_labels(&inc, Some(&legacy)), legacy);
        let a = alerts(&legacy, None, &inc, true, 5_000);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0]["labels"]["service"], "billing,portal");
        assert_eq!(a[0]["endsAt"], rfc3339(5_000));
    }
}
