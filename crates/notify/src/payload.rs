//! Helpers every receiver's encoder shares: bounded text, dedup keys, timestamps, links to the
//! `why` view, the incident details block. The wire formats themselves live next to their
//! receivers (`receivers/*.rs`).

use faultline_incident::{Incident, TransitionAction};
use faultline_observe::UnixMillis;
use serde_json::{Value, json};

/// PagerDuty's documented `payload.summary` limit (bytes here, which also bounds characters).
pub const PD_SUMMARY_MAX: usize = 1024;
/// PagerDuty's documented `dedup_key` limit.
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

/// RFC 3339 UTC timestamp with milliseconds (`2023-11-14T22:13:20.123Z`). Instants past what
/// jiff holds (the end of year 9999) are shown as its last instant rather than failing a page.
pub fn rfc3339(ms: UnixMillis) -> String {
    let t = i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .unwrap_or(jiff::Timestamp::MAX);
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The transition's name on the wire (webhook `X-Faultline-Event`).
pub fn action_str(a: TransitionAction) -> &'static str {
    match a {
        TransitionAction::Trigger => "trigger",
        TransitionAction::Update => "update",
        TransitionAction::Resolve => "resolve",
        TransitionAction::Acknowledge => "acknowledge",
        TransitionAction::Unacknowledge => "unacknowledge",
    }
}

/// The link to the `why` view of one service.
pub fn why_link(public_url: &str, service: &str) -> String {
    format!("{}/why/{service}", public_url.trim_end_matches('/'))
}

/// Links to the `why` view of each affected service: (href, text).
pub fn why_links(public_url: Option<&str>, inc: &Incident) -> Vec<(String, String)> {
    let Some(base) = public_url else {
        return Vec::new();
    };
    inc.affected_services
        .iter()
        .map(|s| {
            (
                why_link(base, &s.id),
                format!("Why is {} {}?", s.name, s.state),
            )
        })
        .collect()
}

/// The incident as structured details (PagerDuty `custom_details`).
pub fn details(inc: &Incident, action: TransitionAction, seq: u64) -> Value {
    json!({
        "incident_id": inc.id,
        "kind": inc.kind.as_str(),
        "status": inc.status,
        "transition": action,
        "transition_seq": seq,
        "suppressed": inc.suppressed,
        "root_causes": inc.root_causes,
        "affected_services": inc.affected_services,
        "suspects": inc.suspects,
        "evidence": inc.evidence,
        "opened_at": rfc3339(inc.opened_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        // Out of range: jiff's last instant, not a panic or a malformed date.
        assert_eq!(rfc3339(u64::MAX), "9999-12-30T22:00:00.999Z");
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
}
