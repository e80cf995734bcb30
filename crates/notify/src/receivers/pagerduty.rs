//! PagerDuty Events API v2. Updates go out as `trigger` with the same dedup key (PagerDuty folds
//! them into the open alert); a resolve carries the full payload too, because event rules drop
//! payload-less events (alertmanager#1440).

use std::path::PathBuf;

use faultline_incident::{IncidentTransition, TransitionAction};
use faultline_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BuildContext, RateLimit, Receiver, ReceiverSection};
use crate::config::Secret;
use crate::payload::{PD_SUMMARY_MAX, dedup_key, details, rfc3339, truncate, why_links};

/// The real PagerDuty Events API v2 endpoint (the default `url`).
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// PagerDuty integration (routing) keys are 32 characters.
pub const ROUTING_KEY_LEN: usize = 32;

/// Events per minute PagerDuty accepts per routing key (about 120): the default rate.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 120;

/// `kind = "pagerduty"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutySection {
    /// Endpoint; defaults to [`PAGERDUTY_EVENTS_URL`].
    #[serde(default)]
    pub url: Option<String>,
    /// The integration (routing) key: inline, or `routing_key_env` / `routing_key_file`.
    #[serde(default)]
    pub routing_key: Option<Secret>,
    #[serde(default)]
    pub routing_key_env: Option<String>,
    #[serde(default)]
    pub routing_key_file: Option<PathBuf>,
    /// `payload.source`: fixed for every event when set; by default the affected system, as
    /// PagerDuty asks (the root-cause component, else the failing service).
    #[serde(default)]
    pub source: Option<String>,
}

impl ReceiverSection for PagerDutySection {
    type Receiver = PagerDuty;

    fn build(&self, ctx: &mut BuildContext<'_>) -> Option<PagerDuty> {
        let url = ctx.http_url("url", self.url.as_deref(), Some(PAGERDUTY_EVENTS_URL));
        if self.url.is_none() && ctx.client_options_set() {
            ctx.problem(
                "url",
                "`basic_auth`, `bearer_token` and `tls` need a `url` override (PagerDuty's own endpoint takes none of them)",
            );
        }
        let key = ctx.required_secret(
            "routing_key",
            &self.routing_key,
            &self.routing_key_env,
            &self.routing_key_file,
        );
        let key = key.and_then(|k| {
            // Never echo the key: its length is enough to diagnose a paste error.
            let chars = k.expose().chars().count();
            if chars == ROUTING_KEY_LEN {
                return Some(k);
            }
            let hint = if k.expose().trim().chars().count() == ROUTING_KEY_LEN {
                " (surrounding white space?)"
            } else {
                ""
            };
            ctx.problem(
                "routing_key",
                format!("has {chars} characters, PagerDuty integration keys have {ROUTING_KEY_LEN}{hint}"),
            );
            None
        });
        Some(PagerDuty {
            url: url?,
            key_fingerprint: fingerprint(key.as_ref()?),
            routing_key: key?,
            source: self.source.clone(),
            public_url: ctx.public_url(),
        })
    }
}

/// A short hash of the key: receivers sharing a key share its rate limit, without the key
/// itself being kept anywhere else.
fn fingerprint(key: &Secret) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(key.expose().as_bytes())[..8])
}

/// A ready PagerDuty receiver.
pub struct PagerDuty {
    url: String,
    routing_key: Secret,
    key_fingerprint: String,
    source: Option<String>,
    public_url: Option<String>,
}

impl Receiver for PagerDuty {
    fn url(&self) -> &str {
        &self.url
    }

    fn request(
        &self,
        client: &reqwest::Client,
        entry: &OutboxEntry,
    ) -> Result<reqwest::RequestBuilder, String> {
        let event = event(
            self.routing_key.expose(),
            self.source.as_deref(),
            self.public_url.as_deref(),
            &entry.transition,
        );
        Ok(client.post(&self.url).json(&event))
    }

    /// One bucket per routing key (PagerDuty's limit is per key), 120 a minute unless set.
    fn rate_limit(&self, _name: &str, per_minute: Option<u32>) -> Option<RateLimit> {
        Some(RateLimit {
            bucket: format!("pd:{}", self.key_fingerprint),
            per_minute: per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE),
        })
    }
}

/// A PagerDuty Events v2 event for one transition. `source` overrides `payload.source`, which
/// is otherwise the affected component (the root cause, else the first affected service, else
/// the incident).
pub fn event(
    routing_key: &str,
    source: Option<&str>,
    public_url: Option<&str>,
    t: &IncidentTransition,
) -> Value {
    let inc = &t.incident;
    // Events v2 has no "unacknowledge": a new trigger under the same dedup key re-opens the
    // alert's notifications in PagerDuty's own rules.
    let action = match t.action {
        TransitionAction::Trigger | TransitionAction::Update | TransitionAction::Unacknowledge => {
            "trigger"
        }
        TransitionAction::Acknowledge => "acknowledge",
        TransitionAction::Resolve => "resolve",
    };
    let links: Vec<Value> = why_links(public_url, inc)
        .into_iter()
        .map(|(href, text)| json!({"href": href, "text": text}))
        .collect();
    let component = inc
        .root_causes
        .first()
        .or_else(|| inc.affected_services.first().map(|s| &s.id))
        .cloned()
        .unwrap_or_else(|| inc.id.clone());
    let mut ev = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(&inc.id),
        "payload": {
            "summary": truncate(&inc.title, PD_SUMMARY_MAX),
            "source": source.map_or_else(|| component.clone(), str::to_string),
            "severity": inc.severity.as_str(),
            "timestamp": rfc3339(t.at),
            "component": component,
            "group": inc.affected_services.first().map(|s| s.id.clone()).unwrap_or_default(),
            "class": inc.kind.as_str(),
            "custom_details": details(inc, t.action, t.seq),
        },
        "client": "faultline",
    });
    if !links.is_empty() {
        ev["links"] = Value::Array(links);
    }
    if let Some(base) = public_url {
        ev["client_url"] = json!(base);
    }
    ev
}
