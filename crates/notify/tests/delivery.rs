//! Delivery against real HTTP peers: a strict local PagerDuty Events v2 receiver (PagerDuty itself
//! cannot be reached from here), a signed-webhook receiver, and a real Alertmanager.

mod support;

use std::time::Duration;

use faultline_incident::{Severity, TransitionAction::*};
use faultline_notify::Store;
use support::*;

fn open_store(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path().join("faultline.redb")).expect("open store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_trigger_update_resolve_pass_strict_schema() {
    let rx = MockReceiver::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let n = notifier(open_store(&dir), pd_config(&rx.url("/v2/enqueue"), "")).unwrap();
    let (stop, h) = run(&n);

    let mut inc = incident("inc-fw-a", Severity::Critical, "critical");
    inc.title = "ü".repeat(700); // 1400 bytes: must be cut to <= 1024 on a char boundary
    n.enqueue_async(transition(1, Trigger, &inc)).await.unwrap();
    assert!(wait_until(Duration::from_secs(5), || rx.log().len() == 1).await);
    inc.title = "portal down, fw-b suspected".into();
    n.enqueue_async(transition(2, Update, &inc)).await.unwrap();
    assert!(wait_until(Duration::from_secs(5), || rx.log().len() == 2).await);
    n.enqueue_async(transition(3, Resolve, &inc)).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 3).await,
        "{:?}",
        n.stats()
    );

    let log = rx.log();
    assert_eq!(log.len(), 3);
    for r in &log {
        assert!(r.problems.is_empty(), "receiver refused: {:?}", r.problems);
        assert_eq!(r.dedup_key(), "inc-fw-a");
        assert_eq!(r.body["routing_key"], ROUTING_KEY);
        assert_eq!(r.body["payload"]["severity"], "critical");
        assert_eq!(r.body["payload"]["class"], "service_down");
        assert_eq!(r.body["payload"]["component"], "fw-a");
        // PagerDuty asks for the affected system, not the monitoring tool.
        assert_eq!(r.body["payload"]["source"], "fw-a");
        assert_eq!(r.body["payload"]["group"], "portal");
        assert_eq!(
            r.body["links"][0]["href"],
            "https://faultline.example/why/portal"
        );
        assert_eq!(
            r.body["payload"]["custom_details"]["suspects"][0]["component"],
            "fw-b"
        );
    }
    let actions: Vec<String> = log.iter().map(|r| r.action()).collect();
    assert_eq!(
        actions,
        ["trigger", "trigger", "resolve"],
        "update goes out as trigger with the same key"
    );
    let first_summary = log[0].body["payload"]["summary"].as_str().unwrap();
    assert!(first_summary.len() <= 1024 && first_summary.chars().all(|c| c == 'ü'));
    assert_eq!(
        log[2].body["payload"]["summary"], "portal down, fw-b suspected",
        "resolve carries its payload"
    );
    assert_eq!(n.stats().pending, 0);
    assert!(n.pending().unwrap().is_empty());
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_down_then_up_delivers_everything_once_in_order() {
    let port = free_port(); // nothing listens yet: connection refused
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/v2/enqueue");
    let n = notifier(open_store(&dir), pd_config(&url, "")).unwrap();
    let (stop, h) = run(&n);
    let mut seq = 0;
    for i in 0..20 {
        let inc = incident(&format!("inc-{i}"), Severity::Critical, "critical");
        seq += 1;
        n.enqueue_async(transition(seq, Trigger, &inc))
            .await
            .unwrap();
        seq += 1;
        n.enqueue_async(transition(seq, Resolve, &inc))
            .await
            .unwrap();
    }
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().retries >= 2).await,
        "{:?}",
        n.stats()
    );
    assert_eq!(n.stats().delivered, 0);
    assert_eq!(n.stats().pending, 40);

    let rx = MockReceiver::start_on(port, Mode::Accept).await;
    assert!(
        wait_until(Duration::from_secs(10), || n.stats().pending == 0).await,
        "{:?}",
        n.stats()
    );
    let log = rx.log();
    assert!(log.iter().all(|r| r.problems.is_empty()));
    let by_key = actions_by_key(&log);
    assert_eq!(by_key.len(), 20);
    for (key, actions) in &by_key {
        assert_eq!(actions, &["trigger", "resolve"], "incident {key}");
    }
    assert_eq!(n.stats().delivered, 40);
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_honours_retry_after() {
    let rx = MockReceiver::start(Mode::TooMany {
        retry_after: 1,
        times: 1,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let n = notifier(open_store(&dir), pd_config(&rx.url("/v2/enqueue"), "")).unwrap();
    let (stop, h) = run(&n);
    let inc = incident("inc-429", Severity::Critical, "critical");
    n.enqueue_async(transition(1, Trigger, &inc)).await.unwrap();
    n.enqueue_async(transition(2, Resolve, &inc)).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || n.stats().pending == 0).await,
        "{:?}",
        n.stats()
    );
    let log = rx.log();
    assert_eq!(
        log.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 202, 202]
    );
    assert_eq!(
        log.iter().map(|r| r.action()).collect::<Vec<_>>(),
        ["trigger", "trigger", "resolve"]
    );
    // The retry base is 50 ms: a retry after >= ~1 s can only come from Retry-After.
    let gap = log[1].at.duration_since(log[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, Retry-After said 1 s"
    );
    assert_eq!(n.stats().retries, 1);
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_4xx_goes_to_dead_letters_and_others_continue() {
    let rx = MockReceiver::start(Mode::Status(
        400,
        r#"{"status":"invalid event","errors":["nope"]}"#.into(),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let n = notifier(open_store(&dir), pd_config(&rx.url("/v2/enqueue"), "")).unwrap();
    let (stop, h) = run(&n);
    n.enqueue_async(transition(
        1,
        Trigger,
        &incident("inc-bad", Severity::Critical, "critical"),
    ))
    .await
    .unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().dead_lettered == 1).await,
        "{:?}",
        n.stats()
    );
    let dead = n.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].status, Some(400));
    assert!(
        dead[0].answer.contains("invalid event"),
        "{}",
        dead[0].answer
    );
    assert_eq!(dead[0].entry.transition.incident.id, "inc-bad");
    assert!(n.pending().unwrap().is_empty());

    rx.set_mode(Mode::Accept);
    n.enqueue_async(transition(
        2,
        Trigger,
        &incident("inc-good", Severity::Critical, "critical"),
    ))
    .await
    .unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 1).await,
        "{:?}",
        n.stats()
    );
    assert_eq!(n.stats().retries, 0, "a 400 is not retried");
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_is_signed_with_hmac_sha256_and_carries_its_bearer_token() {
    let rx = MockReceiver::start(Mode::Accept)
        .await
        .with_webhook_secret(WEBHOOK_SECRET);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("hook.token");
    std::fs::write(&token_file, "hook-token-31f7\n").unwrap();
    let cfg: faultline_notify::NotifyConfig = toml::from_str(&format!(
        r#"
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "{}"
        secret = "{WEBHOOK_SECRET}"
        bearer_token_file = "{}"
        "#,
        rx.url("/hook"),
        token_file.display()
    ))
    .unwrap();
    let n = notifier(open_store(&dir), cfg).unwrap();
    let (stop, h) = run(&n);
    let inc = incident("inc-hook", Severity::Warning, "normal");
    n.enqueue_async(transition(7, Trigger, &inc)).await.unwrap();
    n.enqueue_async(transition(8, Resolve, &inc)).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 2).await,
        "{:?}",
        n.stats()
    );
    let log = rx.log();
    assert_eq!(log.len(), 2);
    for r in &log {
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.headers["authorization"], "Bearer hook-token-31f7");
    }
    assert_eq!(log[0].body["action"], "trigger");
    assert_eq!(log[0].body["seq"], 7);
    assert_eq!(log[1].body["action"], "resolve");
    assert_eq!(log[1].body["incident"]["id"], "inc-hook");
    let d0 = log[0].headers["x-faultline-delivery"]
        .to_str()
        .unwrap()
        .to_string();
    let d1 = log[1].headers["x-faultline-delivery"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(d0, d1);
    // A body signed with another secret must not verify (the receiver's check is real).
    let forged = faultline_notify::receivers::webhook::signature(b"wrong", &log[0].raw);
    let mut headers = log[0].headers.clone();
    headers.insert("x-faultline-signature", forged.parse().unwrap());
    assert!(!validate_webhook(&headers, &log[0].raw).is_empty());
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppressed_incidents_do_not_page_but_paged_ones_always_resolve() {
    let rx = MockReceiver::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let n = notifier(
        open_store(&dir),
        pd_config(&rx.url("/v2/enqueue"), r#"tiers = ["critical"]"#),
    )
    .unwrap();
    let (stop, h) = run(&n);

    // 1. Suppressed from the start: never paged, its resolve not sent either.
    let mut quiet = incident("inc-maint", Severity::Critical, "critical");
    quiet.suppressed = true;
    n.enqueue_async(transition(1, Trigger, &quiet))
        .await
        .unwrap();
    n.enqueue_async(transition(2, Resolve, &quiet))
        .await
        .unwrap();
    // 2. Not selected by the route (tier "low").
    let low = incident("inc-low", Severity::Critical, "low");
    n.enqueue_async(transition(3, Trigger, &low)).await.unwrap();
    // 3. Paged, then maintenance starts: no update while suppressed, but the resolve goes out.
    let mut loud = incident("inc-loud", Severity::Critical, "critical");
    n.enqueue_async(transition(4, Trigger, &loud))
        .await
        .unwrap();
    loud.suppressed = true;
    n.enqueue_async(transition(5, Update, &loud)).await.unwrap();
    n.enqueue_async(transition(6, Resolve, &loud))
        .await
        .unwrap();

    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 2).await,
        "{:?}",
        n.stats()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let by_key = actions_by_key(&rx.log());
    assert_eq!(by_key.len(), 1, "{by_key:?}");
    assert_eq!(by_key["inc-loud"], ["trigger", "resolve"]);
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_updates_coalesce_into_the_latest() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/v2/enqueue");
    let n = notifier(open_store(&dir), pd_config(&url, "")).unwrap();
    let mut inc = incident("inc-flap", Severity::Critical, "critical");
    // Enqueued before the loop runs: nothing is on the wire, so all updates fold into the trigger.
    n.enqueue(&transition(1, Trigger, &inc)).unwrap();
    for i in 2..=11 {
        inc.title = format!("flap #{i}");
        n.enqueue(&transition(i, Update, &inc)).unwrap();
    }
    assert_eq!(n.pending().unwrap().len(), 1);
    let rx = MockReceiver::start_on(port, Mode::Accept).await;
    let (stop, h) = run(&n);
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().pending == 0).await,
        "{:?}",
        n.stats()
    );
    let log = rx.log();
    assert_eq!(log.len(), 1, "one page for a flapping component");
    assert_eq!(log[0].action(), "trigger");
    assert_eq!(log[0].body["payload"]["summary"], "flap #11");
    assert_eq!(
        log[0].body["payload"]["custom_details"]["transition_seq"],
        11
    );
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_debug_serialization_or_errors() {
    let cfg = pd_config("http://127.0.0.1:9/v2/enqueue", "");
    let mut cfg2: faultline_notify::NotifyConfig = toml::from_str(&format!(
        r#"
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "http://127.0.0.1:9/hook"
        secret = "{WEBHOOK_SECRET}"
        "#
    ))
    .unwrap();
    cfg2.receivers.extend(cfg.receivers.clone());
    let dbg = format!("{cfg2:?}");
    let ser = serde_json::to_string(&cfg2).unwrap();
    let tom = toml::to_string(&cfg2).unwrap();
    for s in [&dbg, &ser, &tom] {
        assert!(
            !s.contains(ROUTING_KEY) && !s.contains(WEBHOOK_SECRET),
            "leak in {s}"
        );
        assert!(s.contains("redacted"));
    }
    // A routing key of the wrong length is refused without echoing it.
    let bad_key = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-too-long-secret-value";
    let mut bad = cfg.clone();
    pd_section(&mut bad).routing_key = Some(faultline_notify::Secret::new(bad_key));
    let dir = tempfile::tempdir().unwrap();
    let err = notifier(open_store(&dir), bad).unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(msg.contains("pd") && msg.contains("32"), "{msg}");
    assert!(!msg.contains(bad_key), "{msg}");
    // The notifier's Debug and a delivery error name the receiver and URL, not the key.
    let n = notifier(Store::open(dir.path().join("b.redb")).unwrap(), cfg2).unwrap();
    assert!(!format!("{n:?}").contains(ROUTING_KEY));
    let err = n.test_page("pd").await.unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(
        msg.contains("127.0.0.1:9") && !msg.contains(ROUTING_KEY),
        "{msg}"
    );
    let err = n.test_page("hook").await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(WEBHOOK_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_page_sends_trigger_then_resolve_and_reports_answers() {
    let rx = MockReceiver::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let n = notifier(open_store(&dir), pd_config(&rx.url("/v2/enqueue"), "")).unwrap();
    let report = n.test_page("pd").await.unwrap();
    assert_eq!(report.trigger.status, 202);
    assert_eq!(report.resolve.status, 202);
    assert!(report.dedup_key.starts_with("faultline-test-"));
    assert!(report.trigger.body.contains("success"));
    let log = rx.log();
    assert_eq!(
        log.iter().map(|r| r.action()).collect::<Vec<_>>(),
        ["trigger", "resolve"]
    );
    assert!(
        log.iter()
            .all(|r| r.problems.is_empty() && r.dedup_key() == report.dedup_key)
    );
    assert!(
        n.pending().unwrap().is_empty(),
        "test pages bypass the outbox"
    );
    assert!(matches!(
        n.test_page("nope").await,
        Err(faultline_notify::NotifyError::UnknownReceiver(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_shows_the_alert_then_resolves_it() {
    let Some(am) = Alertmanager::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg: faultline_notify::NotifyConfig = toml::from_str(&format!(
        r#"
        public_url = "https://faultline.example"
        [[receivers]]
        name = "am"
        kind = "alertmanager"
        url = "{}"
        resend_interval_secs = 1
        "#,
        am.base
    ))
    .unwrap();
    let n = notifier(open_store(&dir), cfg).unwrap();
    let (stop, h) = run(&n);
    let inc = incident("inc-am", Severity::Critical, "critical");
    n.enqueue_async(transition(1, Trigger, &inc)).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 1).await,
        "{:?}",
        n.stats()
    );

    let alerts = am.alerts().await;
    let a = alerts
        .iter()
        .find(|a| a["labels"]["incident"] == "inc-am")
        .expect("alert in Alertmanager");
    assert_eq!(a["labels"]["alertname"], "FaultlineIncident");
    assert_eq!(a["labels"]["severity"], "critical");
    assert_eq!(a["labels"]["kind"], "service_down");
    assert_eq!(a["labels"]["service"], "portal");
    assert_eq!(a["labels"]["root_cause"], "fw-a");
    assert_eq!(a["annotations"]["summary"], "portal down: inc-am");
    assert_eq!(
        a["annotations"]["why"],
        "https://faultline.example/why/portal"
    );
    assert!(
        a["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("agent down")
    );
    assert_eq!(a["status"]["state"], "active");

    // Firing alerts are re-posted (resend_interval 1 s) so Alertmanager does not expire them.
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().resent >= 1).await,
        "{:?}",
        n.stats()
    );

    n.enqueue_async(transition(2, Resolve, &inc)).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 2).await,
        "{:?}",
        n.stats()
    );
    let mut resolved = false;
    for _ in 0..50 {
        let alerts = am.alerts().await;
        // GET /api/v2/alerts lists only active/unprocessed alerts by default; a resolved alert
        // drops out (or shows an endsAt in the past).
        match alerts.iter().find(|a| a["labels"]["incident"] == "inc-am") {
            None => {
                resolved = true;
                break;
            }
            Some(a) if a["status"]["state"] != "active" => {
                resolved = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert!(resolved, "alert still active after resolve");
    // And no later re-post revived it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !am.alerts()
            .await
            .iter()
            .any(|a| a["labels"]["incident"] == "inc-am" && a["status"]["state"] == "active")
    );
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_incident_does_not_hold_back_others_and_keeps_its_own_order() {
    let rx = MockReceiver::start(Mode::FailFor("inc-poison".into())).await;
    let dir = tempfile::tempdir().unwrap();
    let n = notifier(open_store(&dir), pd_config(&rx.url("/v2/enqueue"), "")).unwrap();
    let poison = incident("inc-poison", Severity::Critical, "critical");
    let good = incident("inc-good", Severity::Critical, "critical");
    n.enqueue(&transition(1, Trigger, &poison)).unwrap();
    n.enqueue(&transition(2, Resolve, &poison)).unwrap();
    n.enqueue(&transition(3, Trigger, &good)).unwrap();
    n.enqueue(&transition(4, Resolve, &good)).unwrap();
    let (stop, h) = run(&n);
    assert!(
        wait_until(Duration::from_secs(10), || n.stats().delivered == 2).await,
        "{:?}",
        n.stats()
    );
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().retries >= 3).await,
        "{:?}",
        n.stats()
    );
    let by_key = actions_by_key(&rx.log());
    assert_eq!(by_key["inc-good"], ["trigger", "resolve"]);
    assert!(
        by_key["inc-poison"].iter().all(|a| a == "trigger"),
        "resolve overtook a failing trigger: {by_key:?}"
    );
    let pending = n.pending().unwrap();
    assert_eq!(pending.len(), 2);
    assert!(
        pending[0].attempts >= 1
            && pending[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("500"))
    );
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routing_key_rate_limit_holds_events_back_instead_of_dropping_them() {
    let rx = MockReceiver::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    // 2 events per minute: a burst of 2, then one every 30 s.
    let n = notifier(
        open_store(&dir),
        pd_config(&rx.url("/v2/enqueue"), "rate_per_minute = 2"),
    )
    .unwrap();
    let (stop, h) = run(&n);
    for i in 0..3 {
        n.enqueue_async(transition(
            i + 1,
            Trigger,
            &incident(&format!("inc-{i}"), Severity::Critical, "critical"),
        ))
        .await
        .unwrap();
    }
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 2).await,
        "{:?}",
        n.stats()
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(rx.log().len(), 2, "third event must wait for a token");
    assert_eq!(n.stats().pending, 1);
    assert_eq!(n.stats().retries, 0, "rate limiting is not a failure");
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_attempts_dead_letters_an_event_the_receiver_always_fails() {
    let rx = MockReceiver::start(Mode::Status(503, "maintenance".into())).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = pd_config(&rx.url("/v2/enqueue"), "");
    cfg.retry.max_attempts = Some(3);
    let n = notifier(open_store(&dir), cfg).unwrap();
    let (stop, h) = run(&n);
    n.enqueue_async(transition(
        1,
        Trigger,
        &incident("inc-503", Severity::Critical, "critical"),
    ))
    .await
    .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || n.stats().dead_lettered == 1).await,
        "{:?}",
        n.stats()
    );
    assert_eq!(rx.log().len(), 3);
    let dead = n.dead_letters().unwrap();
    assert_eq!(dead[0].status, None);
    assert!(
        dead[0].answer.contains("gave up after 3 attempts") && dead[0].answer.contains("503"),
        "{}",
        dead[0].answer
    );
    assert_eq!(n.stats().pending, 0);
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_can_be_restarted_after_a_graceful_stop_with_requests_unanswered() {
    let rx = MockReceiver::start(Mode::HangAfter(0)).await;
    let dir = tempfile::tempdir().unwrap();
    let n = notifier(open_store(&dir), pd_config(&rx.url("/v2/enqueue"), "")).unwrap();
    let inc = incident("inc-hang", Severity::Critical, "critical");
    n.enqueue(&transition(1, Trigger, &inc)).unwrap();
    n.enqueue(&transition(2, Resolve, &inc)).unwrap();
    let (stop, h) = run(&n);
    assert!(wait_until(Duration::from_secs(5), || rx.log().len() == 1).await);
    stop.send(()).unwrap();
    h.await.unwrap(); // returns after the 2 s grace period although the request hangs
    assert_eq!(n.stats().pending, 2);

    rx.set_mode(Mode::Accept);
    let (stop, h) = run(&n);
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().pending == 0).await,
        "{:?}",
        n.stats()
    );
    assert_eq!(
        actions_by_key(&rx.log())["inc-hang"],
        ["trigger", "trigger", "resolve"]
    );
    stop.send(()).unwrap();
    h.await.unwrap();
}
