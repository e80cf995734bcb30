//! Wire formats: PagerDuty Events v2, Alertmanager API v2 alerts, signed webhook bodies.

use std::collections::BTreeMap;

use faultline_incident::{Incident, IncidentTransition, TransitionAction};
use faultline_observe::UnixMillis;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

/// PagerDuty's documented limits.
pub const PD_SUMMARY_MAX: usize = 1024;
pub const PD_DEDUP_MAX: usize = 255;

/// Cut `s` to at most `max` bytes without splitting a character (which also keeps it within
/// `max` characters).
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The dedup key: the incident's stable id. An id longer than PagerDuty's limit is replaced by
/// its SHA-256 (still stable, still distinct per incident) rather than truncated, since two long
/// ids could share a prefix and merge into one alert.
pub fn dedup_key(incident_id: &str) -> String {
    if incident_id.len() <= PD_DEDUP_MAX && !incident_id.is_empty() {
        incident_id.to_string()
    } else {
        use sha2::Digest;
        format!(
            "faultline-{}",
            hex::encode(sha2::Sha256::digest(incident_id.as_bytes()))
        )
    }
}

/// Links to the `why` view of each affected service.
fn why_links(public_url: Option<&str>, inc: &Incident) -> Vec<(String, String)> {
    let Some(base) = public_url else {
        return Vec::new();
    };
    let base = base.trim_end_matches('/');
    inc.affected_services
        .iter()
        .map(|s| {
            (
                format!("{base}/why/{}", s.id),
                format!("Why is {} {}?", s.name, s.state),
            )
        })
        .collect()
}

fn details(inc: &Incident, t_action: TransitionAction, seq: u64) -> Value {
    json!({
        "incident_id": inc.id,
        "kind": inc.kind.as_str(),
        "status": inc.status,
        "transition": t_action,
        "transition_seq": seq,
        "suppressed": inc.suppressed,
        "root_causes": inc.root_causes,
        "affected_services": inc.affected_services,
        "suspects": inc.suspects,
        "evidence": inc.evidence,
        "opened_at": rfc3339(inc.opened_at),
    })
}

/// A PagerDuty Events v2 event. Updates are sent as `trigger` with the same dedup key (PagerDuty
/// folds them into the open alert); a resolve carries the full payload too, because event rules
/// drop payload-less events (alertmanager#1440).
pub fn pagerduty_event(
    routing_key: &str,
    source: &str,
    public_url: Option<&str>,
    t: &IncidentTransition,
) -> Value {
    let inc = &t.incident;
    let action = match t.action {
        TransitionAction::Trigger | TransitionAction::Update => "trigger",
        TransitionAction::Resolve => "resolve",
    };
    let links: Vec<Value> = why_links(public_url, inc)
        .into_iter()
        .map(|(href, text)| json!({"href": href, "text": text}))
        .collect();
    let mut ev = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(&inc.id),
        "payload": {
            "summary": truncate(&inc.title, PD_SUMMARY_MAX),
            "source": source,
            "severity": inc.severity.as_str(),
            "timestamp": rfc3339(t.at),
            "component": inc.root_causes.first().cloned().unwrap_or_else(|| inc.id.clone()),
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

/// Alertmanager's label set for an incident, pinned at its first page: Alertmanager identifies
/// an alert by its labels, so they must not change while it fires.
pub fn alertmanager_labels(inc: &Incident) -> BTreeMap<String, String> {
    let mut services: Vec<&str> = inc
        .affected_services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    services.sort_unstable();
    BTreeMap::from([
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
pub fn alertmanager_alert(
    labels: &BTreeMap<String, String>,
    public_url: Option<&str>,
    inc: &Incident,
    resolved_at: Option<UnixMillis>,
) -> Value {
    let mut description = String::new();
    if !inc.root_causes.is_empty() {
        description.push_str(&format!("Root cause: {}.", inc.root_causes.join(", ")));
    }
    for s in &inc.suspects {
        description.push_str(&format!("\nSuspect {}: {}", s.component, s.reason));
    }
    for e in &inc.evidence {
        description.push_str(&format!("\n{} {}: {}", rfc3339(e.at), e.subject, e.text));
    }
    let mut annotations = BTreeMap::from([
        ("summary".to_string(), inc.title.clone()),
        ("description".to_string(), description),
    ]);
    // Labels are pinned at the first page; the annotations carry the incident as it is now.
    annotations.insert(
        "current_severity".to_string(),
        inc.severity.as_str().to_string(),
    );
    annotations.insert(
        "status".to_string(),
        format!("{:?}", inc.status).to_lowercase(),
    );
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

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the `X-Faultline-Signature` header value.
pub fn webhook_signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty key
    // signature rather than panic should the crate ever change that.
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return "sha256=".to_string(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// RFC 3339 UTC timestamp with milliseconds, from Unix milliseconds (no calendar crate needed:
/// Howard Hinnant's days-from-civil inverse).
pub fn rfc3339(ms: UnixMillis) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let s = "é".repeat(600); // 1200 bytes
        let t = truncate(&s, PD_SUMMARY_MAX);
        assert!(t.len() <= PD_SUMMARY_MAX);
        assert_eq!(t.chars().count(), 512);
        assert_eq!(truncate("short", 10), "short");
    }

    #[test]
    fn long_ids_hash_to_distinct_bounded_dedup_keys() {
        let a = format!("{}a", "x".repeat(300));
        let b = format!("{}b", "x".repeat(300));
        assert!(dedup_key(&a).len() <= PD_DEDUP_MAX);
        assert_ne!(dedup_key(&a), dedup_key(&b));
        assert_eq!(dedup_key("inc-1"), "inc-1");
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            webhook_signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
