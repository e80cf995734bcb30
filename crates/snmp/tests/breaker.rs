//! The circuit breaker does not blind recovery (issue #9 item 3): snmpd in a network
//! namespace whose link goes down until the breaker opens, then comes back. A re-poll goes
//! through the open breaker at once, and the scheduled poll one interval after the failure
//! does too.

use std::time::{Duration, Instant};

use faultline_observe::Signal;
use faultline_snmp::{Credentials, PollReason, PollerConfig, SnmpPoller, Target};
use faultline_testpeers::ns_agent::NsAgent;

const INTERVAL: Duration = Duration::from_secs(3);

fn ok(out: &faultline_snmp::PollOutcome) -> bool {
    out.observations
        .iter()
        .any(|o| matches!(o.signal, Signal::AgentUp))
}

/// Scheduled polls every INTERVAL (ticks from each poll's start) until the breaker opens.
async fn fail_until_open(poller: &SnmpPoller, t: &Target) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let started = Instant::now();
        let out = poller.poll(t, None).await;
        assert!(!ok(&out), "the link is down, the poll must fail");
        if poller.circuit_open_for(&t.device_id).is_some() {
            return started;
        }
        assert!(Instant::now() < deadline, "the breaker never opened");
    }
}

#[tokio::test]
async fn a_device_that_returns_is_seen_within_one_poll_interval() {
    let Some(ns) = NsAgent::start("br") else {
        return;
    };
    // Default backoff (30 s doubling to 600 s), far longer than the poll interval.
    let cfg = PollerConfig {
        breaker_threshold: 2,
        ..PollerConfig::default()
    };
    assert!(cfg.breaker_base > INTERVAL);
    let poller = SnmpPoller::new(cfg);
    let mut t = Target::new("fw-a", ns.agent.addr, Credentials::v2c("public"));
    t.timeout = Duration::from_millis(300);
    t.retries = 0;
    t.poll_interval = Some(INTERVAL);
    // Also lets ARP settle before the link goes down.
    assert!(ok(&poller.poll(&t, None).await));

    // 1. Link down until the breaker opens; a scheduled poll is then refused without asking.
    ns.set_link(false);
    fail_until_open(&poller, &t).await;
    let open_for = poller.circuit_open_for("fw-a").expect("open");
    assert!(open_for <= INTERVAL, "skip {open_for:?} > interval");
    ns.set_link(true);
    let refused = poller.poll(&t, None).await;
    assert!(!ok(&refused));
    assert!(
        refused.report.errors[0].message.contains("circuit open"),
        "{:?}",
        refused.report.errors
    );

    // 2. A re-poll (trap, engine) goes through the open breaker at once and closes it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = poller.poll_with(&t, None, PollReason::Repoll).await;
        if ok(&out) {
            break;
        }
        // veth carrier and ARP come back asynchronously.
        assert!(Instant::now() < deadline, "re-poll never succeeded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(poller.circuit_open_for("fw-a"), None);

    // 3. Without re-polls: open the breaker again, bring the link back, and the next
    // scheduled poll (one interval after the failed one started) is already answered.
    ns.set_link(false);
    let last_failed = fail_until_open(&poller, &t).await;
    ns.set_link(true);
    let back = Instant::now();
    tokio::time::sleep_until((last_failed + INTERVAL).into()).await;
    let deadline = back + INTERVAL + Duration::from_secs(2);
    let seen = loop {
        let started = Instant::now();
        let out = poller.poll(&t, None).await;
        if ok(&out) {
            break Instant::now();
        }
        assert!(
            !out.report.errors[0].message.contains("circuit open"),
            "a scheduled poll one interval later was skipped: {:?}",
            out.report.errors
        );
        assert!(Instant::now() < deadline, "not seen up within one interval");
        tokio::time::sleep_until((started + Duration::from_millis(200)).into()).await;
    };
    assert!(
        seen - back <= INTERVAL + Duration::from_secs(1),
        "seen up {:?} after it came back",
        seen - back
    );
}
