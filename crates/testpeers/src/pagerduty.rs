//! What the real PagerDuty Events API v2 refuses with `400`: the strict checks a mock receiver
//! applies so that a payload accepted in tests is one PagerDuty would accept too.

use serde_json::Value;

/// Integration (routing) keys are 32 characters.
pub const ROUTING_KEY_LEN: usize = 32;
/// `dedup_key` limit.
pub const DEDUP_KEY_MAX: usize = 255;
/// `payload.summary` limit, in characters.
pub const SUMMARY_MAX_CHARS: usize = 1024;

/// The problems PagerDuty would report for this event (empty = valid).
pub fn validate_event(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    match v["routing_key"].as_str() {
        Some(k) if k.len() == ROUTING_KEY_LEN => {}
        _ => p.push(format!("routing_key must be {ROUTING_KEY_LEN} characters")),
    }
    let action = v["event_action"].as_str().unwrap_or_default();
    if !["trigger", "acknowledge", "resolve"].contains(&action) {
        p.push(format!("bad event_action {action:?}"));
    }
    match v["dedup_key"].as_str() {
        Some(k) if !k.is_empty() && k.len() <= DEDUP_KEY_MAX => {}
        _ => p.push(format!("dedup_key missing or longer than {DEDUP_KEY_MAX}")),
    }
    let payload = &v["payload"];
    if payload.is_object() {
        p.extend(validate_payload(payload));
    } else {
        p.push(format!("{action} without payload"));
    }
    if let Some(links) = v.get("links")
        && !links
            .as_array()
            .is_some_and(|a| a.iter().all(|l| l["href"].is_string()))
    {
        p.push("links must be [{href, text}]".into());
    }
    p
}

fn validate_payload(payload: &Value) -> Vec<String> {
    let mut p = Vec::new();
    match payload["summary"].as_str() {
        Some(s) if !s.is_empty() && s.chars().count() <= SUMMARY_MAX_CHARS => {}
        _ => p.push(format!(
            "payload.summary missing or > {SUMMARY_MAX_CHARS} characters"
        )),
    }
    if payload["source"].as_str().is_none_or(str::is_empty) {
        p.push("payload.source missing".into());
    }
    let sev = payload["severity"].as_str().unwrap_or_default();
    if !["critical", "error", "warning", "info"].contains(&sev) {
        p.push(format!("payload.severity {sev:?} not in the enum"));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_events_pass_and_broken_ones_do_not() {
        let good = serde_json::json!({
            "routing_key": "0123456789abcdef0123456789abcdef",
            "event_action": "resolve",
            "dedup_key": "inc-1",
            "payload": {"summary": "s", "source": "x", "severity": "error"},
        });
        assert!(validate_event(&good).is_empty());
        let mut bad = good.clone();
        bad["routing_key"] = "short".into();
        bad["payload"]["severity"] = "fatal".into();
        bad["links"] = serde_json::json!([{"text": "no href"}]);
        assert_eq!(validate_event(&bad).len(), 3, "{:?}", validate_event(&bad));
        let bare = serde_json::json!({"routing_key": "0123456789abcdef0123456789abcdef",
            "event_action": "resolve", "dedup_key": "inc-1"});
        assert_eq!(validate_event(&bare), ["resolve without payload"]);
    }
}
