//! Acknowledgements at real peers: Alertmanager gets a silence for the incident's alerts (and
//! it is expired at the unacknowledge and at the resolve), PagerDuty's mock gets
//! `acknowledge`, the webhook gets `acknowledge` / `unacknowledge`; updates while acknowledged
//! are not sent.

mod support;

use std::time::Duration;

use faultline_incident::{Acknowledgement, ServiceState, Severity, TransitionAction::*};
use faultline_notify::{NotifyConfig, Store};
use support::*;

async fn until(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if ok().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_reaches_every_receiver_and_stops_updates() {
    let Some(am) = Alertmanager::start().await else {
        return;
    };
    let pd = MockReceiver::start(Mode::Accept).await;
    let hook = MockReceiver::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg: NotifyConfig = toml::from_str(&format!(
        r#"
        [retry]
        base_ms = 50
        max_ms = 500
        [[receivers]]
        name = "am"
        kind = "alertmanager"
        url = "{}"
        [[receivers]]
        name = "pd"
        kind = "pagerduty"
        url = "{}"
        routing_key = "{ROUTING_KEY}"
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "{}"
        "#,
        am.base,
        pd.url("/v2/enqueue"),
        hook.url("/hook"),
    ))
    .unwrap();
    let n = notifier(Store::open(dir.path().join("f.redb")).unwrap(), cfg).unwrap();
    let (stop, h) = run(&n);
    let mut inc = incident("fw-a@1000", Severity::Critical, "critical");
    inc.affected_services[0].state = ServiceState::Down;
    n.enqueue_async(transition(1, Trigger, &inc)).await.unwrap();
    inc.acknowledged = Some(Acknowledgement {
        by: "alice".into(),
        at: 2_000,
        comment: "on it".into(),
    });
    n.enqueue_async(transition(2, Acknowledge, &inc))
        .await
        .unwrap();
    // Acknowledged: an escalation is recorded, not sent.
    inc.severity = Severity::Critical;
    inc.title = "worse now".into();
    n.enqueue_async(transition(3, Update, &inc)).await.unwrap();
    until("the silence", async || {
        am.active_silences_of("fw-a@1000").await.len() == 1
    })
    .await;
    let s = &am.active_silences_of("fw-a@1000").await[0];
    assert_eq!(s["createdBy"], "alice");
    assert!(s["comment"].as_str().unwrap().contains("on it"), "{s}");
    let hook_actions = || -> Vec<String> {
        hook.log()
            .iter()
            .map(|r| r.body["action"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    until("pd and webhook", async || {
        pd.log().len() == 2 && hook_actions().len() == 2
    })
    .await;
    assert_eq!(
        actions_by_key(&pd.log())["fw-a@1000"],
        ["trigger", "acknowledge"]
    );
    assert_eq!(hook_actions(), ["trigger", "acknowledge"]);
    let ack_hook = &hook.log()[1];
    assert_eq!(ack_hook.headers["x-faultline-event"], "acknowledge");
    assert_eq!(ack_hook.body["incident"]["acknowledged"]["by"], "alice");

    // Unacknowledged: the silence is expired, the webhook told; then the resolve.
    inc.acknowledged = None;
    n.enqueue_async(transition(4, Unacknowledge, &inc))
        .await
        .unwrap();
    until("the silence expired", async || {
        am.active_silences_of("fw-a@1000").await.is_empty()
    })
    .await;
    inc.acknowledged = Some(Acknowledgement {
        by: "bob".into(),
        at: 3_000,
        comment: String::new(),
    });
    n.enqueue_async(transition(5, Acknowledge, &inc))
        .await
        .unwrap();
    until("a second silence", async || {
        am.active_silences_of("fw-a@1000").await.len() == 1
    })
    .await;
    n.enqueue_async(transition(6, Resolve, &inc)).await.unwrap();
    until("the resolve expired it", async || {
        am.active_silences_of("fw-a@1000").await.is_empty()
    })
    .await;
    until("everything delivered", async || hook_actions().len() == 5).await;
    assert_eq!(
        hook_actions(),
        [
            "trigger",
            "acknowledge",
            "unacknowledge",
            "acknowledge",
            "resolve"
        ],
        "the update while acknowledged was not sent"
    );
    assert_eq!(
        actions_by_key(&pd.log())["fw-a@1000"],
        [
            "trigger",
            "acknowledge",
            "trigger",
            "acknowledge",
            "resolve"
        ]
    );
    stop.send(()).unwrap();
    h.await.unwrap();
}
