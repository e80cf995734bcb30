//! Prometheus Alertmanager, API v2 (`POST /api/v2/alerts`). Alertmanager identifies an alert by
//! its labels, so they are pinned at the first page; it forgets a firing alert (one without
//! `endsAt`) after its `resolve_timeout`, so firing incidents are re-posted.

use std::time::Duration;

use faultline_incident::{Incident, TransitionAction};
use faultline_observe::UnixMillis;
use faultline_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BuildContext, Labels, Receiver, ReceiverSection};
use crate::payload::{rfc3339, why_links};

/// Re-post interval unless configured.
const DEFAULT_RESEND: Duration = Duration::from_secs(60);
/// Bounds of `resend_interval_secs`: Alertmanager expires alerts after its resolve_timeout
/// (minutes), and an absurd value would overflow `Instant` arithmetic.
const RESEND_MIN_SECS: u64 = 1;
const RESEND_MAX_SECS: u64 = 86_400;

/// The alerts endpoint below the configured base URL.
const ALERTS_PATH: &str = "/api/v2/alerts";

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
        let url = if base.ends_with(ALERTS_PATH) {
            base.to_string()
        } else {
            format!("{base}{ALERTS_PATH}")
        };
        let resend = self.resend_interval_secs.map_or(DEFAULT_RESEND, |s| {
            Duration::from_secs(s.clamp(RESEND_MIN_SECS, RESEND_MAX_SECS))
        });
        Some(Alertmanager {
            url,
            resend,
            public_url: ctx.public_url(),
        })
    }
}

/// A ready Alertmanager receiver.
pub struct Alertmanager {
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
        let labels = entry
            .labels
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| labels(&t.incident));
        let resolved =
            (t.action == TransitionAction::Resolve).then(|| t.incident.resolved_at.unwrap_or(t.at));
        let alert = alert(&labels, self.public_url.as_deref(), &t.incident, resolved);
        Ok(client.post(&self.url).json(&[alert]))
    }

    fn resend_interval(&self) -> Option<Duration> {
        Some(self.resend)
    }

    fn identity_labels(&self, incident: &Incident) -> Option<Labels> {
        Some(labels(incident))
    }
}

/// Alertmanager's label set for an incident (pinned at its first page).
pub fn labels(inc: &Incident) -> Labels {
    let mut services: Vec<&str> = inc
        .affected_services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    services.sort_unstable();
    Labels::from([
        ("alertname".to_string(), "FaultlineIncident".to_string()),
        ("incident".to_string(), inc.id.clone()),
        ("kind".to_string(), inc.kind.as_str().to_string()),
        ("severity".to_string(), inc.severity.as_str().to_string()),
        ("service".to_string(), services.join(",")),
        ("root_cause".to_string(), inc.root_causes.join(",")),
    ])
}

/// One Alertmanager v2 alert (`POST /api/v2/alerts` takes an array of these). `resolved_at`
/// set = resolved (`endsAt` in the past), else firing without `endsAt` (so it must be re-posted
/// before Alertmanager's resolve_timeout).
pub fn alert(
    labels: &Labels,
    public_url: Option<&str>,
    inc: &Incident,
    resolved_at: Option<UnixMillis>,
) -> Value {
    // Labels are pinned at the first page; the annotations carry the incident as it is now.
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
    if let Some((href, _)) = why_links(public_url, inc).into_iter().next() {
        annotations.insert("why".to_string(), href);
    }
    let mut alert = json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(inc.opened_at),
    });
    if let Some(end) = resolved_at {
        alert["endsAt"] = json!(rfc3339(end));
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
