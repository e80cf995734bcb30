//! Operators' actions end to end on the demo lab, with real pagers: an acknowledgement through
//! the API reaches Alertmanager (a silence matching the incident's alerts), the webhook
//! (`acknowledge`) and PagerDuty's mock (`acknowledge`); unknown ids are 404; a maintenance
//! window on fw-b makes its failure recorded, not paged.

mod common;

use std::time::Duration;

use faultline_api as api;
use faultline_testpeers::alertmanager::Alertmanager;
use faultline_testpeers::http_receiver::{MockReceiver, Mode};
use serde_json::json;

const KEY: &str = "0123456789abcdef0123456789abcdef";

/// The webhook's (incident id, action) pairs so far.
fn hook_events(hook: &MockReceiver) -> Vec<(String, String)> {
    hook.log()
        .iter()
        .map(|r| {
            let id = r.body["incident"]["id"].as_str().unwrap_or_default();
            let action = r.body["action"].as_str().unwrap_or_default();
            (id.to_string(), action.to_string())
        })
        .collect()
}

async fn open_incidents(demo: &common::Demo) -> Vec<api::Incident> {
    let (_, body) = demo.get("/api/v1/incidents").await;
    let r: api::IncidentsResponse = serde_json::from_str(&body).expect("incidents");
    r.open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_reaches_every_pager_and_maintenance_keeps_a_failure_quiet() {
    let Some(am) = Alertmanager::start().await else {
        return;
    };
    let hook = MockReceiver::start(Mode::Accept).await;
    let pd = MockReceiver::start(Mode::Accept).await;
    let notify = format!(
        r#"
        [[receivers]]
        name = "am"
        kind = "alertmanager"
        url = "{}"
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "{}"
        [[receivers]]
        name = "pd"
        kind = "pagerduty"
        url = "{}"
        routing_key = "{KEY}"
        "#,
        am.base,
        hook.url("/hook"),
        pd.url("/v2/enqueue"),
    );
    let demo = common::start(|cfg| {
        cfg.notify = toml::from_str(&notify).expect("notify config");
    })
    .await;
    demo.until("the API", 30, async || {
        (demo.get("/api/v1/status").await.0 == 200).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    demo.lab("fail/fw-a").await;
    let id = demo
        .until("the paged incident", 60, async || {
            let open = open_incidents(&demo).await;
            let inc = open.into_iter().find(|i| i.root_causes == ["fw-a"])?;
            hook_events(&hook)
                .contains(&(inc.id.clone(), "trigger".into()))
                .then_some(inc.id)
        })
        .await;

    // Unknown ids: 404 with a clear message.
    for path in [
        "/api/v1/incidents/nope@1/ack",
        "/api/v1/incidents/nope@1/unack",
    ] {
        let (code, body) = demo.post_json(path, json!({})).await;
        assert_eq!(code, 404, "{body}");
        assert!(body.contains("no open incident `nope@1`"), "{body}");
    }
    let (code, body) = demo
        .post_json("/api/v1/maintenance/mw-nope/end", json!({}))
        .await;
    assert_eq!(code, 404, "{body}");

    let (code, body) = demo
        .post_json(
            &api::path::ack(&id),
            json!({"comment": "looking at the NAT rule", "by": "alice"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let inc: api::Incident = serde_json::from_str(&body).expect("incident");
    let ack = inc.acknowledged.expect("acknowledged in the answer");
    assert_eq!(
        (ack.by.as_str(), ack.comment.as_str()),
        ("alice", "looking at the NAT rule")
    );
    demo.until("the silence", 30, async || {
        let s = am.active_silences_of(&id).await;
        (s.len() == 1 && s[0]["createdBy"] == "alice").then_some(())
    })
    .await;
    // The silence matches the incident's alerts: Alertmanager marks them suppressed.
    demo.until("the alerts silenced", 30, async || {
        let alerts = am.alerts_of(&id).await;
        (!alerts.is_empty() && alerts.iter().all(|a| a["status"]["state"] == "suppressed"))
            .then_some(())
    })
    .await;
    demo.until("the webhook's acknowledge", 30, async || {
        hook_events(&hook)
            .contains(&(id.clone(), "acknowledge".into()))
            .then_some(())
    })
    .await;
    demo.until("PagerDuty's acknowledge", 30, async || {
        pd.log()
            .iter()
            .any(|r| r.dedup_key() == id && r.action() == "acknowledge")
            .then_some(())
    })
    .await;
    assert!(
        pd.log().iter().all(|r| r.problems.is_empty()),
        "valid PD events"
    );

    // Unacknowledge: the silence goes, the webhook is told.
    let (code, body) = demo.post_json(&api::path::unack(&id), json!({})).await;
    assert_eq!(code, 200, "{body}");
    demo.until("the silence expired", 30, async || {
        am.active_silences_of(&id).await.is_empty().then_some(())
    })
    .await;
    demo.until("the webhook's unacknowledge", 30, async || {
        hook_events(&hook)
            .contains(&(id.clone(), "unacknowledge".into()))
            .then_some(())
    })
    .await;

    // Back to healthy, then maintenance on fw-b for 2 h, then fw-b fails: recorded, not paged.
    demo.lab("reset").await;
    demo.until("no open incident", 60, async || {
        open_incidents(&demo).await.is_empty().then_some(())
    })
    .await;
    let (code, body) = demo
        .post_json(
            "/api/v1/maintenance",
            json!({"components": ["fw-b"], "for_ms": 7_200_000, "reason": "firmware", "by": "bob"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let w: api::MaintenanceResponse = serde_json::from_str(&body).expect("windows");
    assert!(
        w.windows
            .iter()
            .any(|w| w.active && w.components == ["fw-b"])
    );
    demo.lab("fail/fw-b").await;
    let quiet = demo
        .until("fw-b's incident, suppressed", 60, async || {
            let open = open_incidents(&demo).await;
            open.into_iter()
                .find(|i| i.root_causes == ["fw-b"] && i.suppressed)
        })
        .await;
    // Past the settle time of a first page: still nothing sent for it.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let still = open_incidents(&demo).await;
    assert!(
        still.iter().any(|i| i.id == quiet.id && i.suppressed),
        "{still:#?}"
    );
    assert!(
        hook_events(&hook).iter().all(|(i, _)| *i != quiet.id),
        "fw-b under maintenance was paged: {:?}",
        hook_events(&hook)
    );
}
