//! Restart reconciliation against what was paged (issue #9, item 12): an incident paged before
//! a restart that the restarted collector does not have open (here: its service was removed
//! from the topology while the collector was down) is resolved at the receiver, so no alert
//! fires forever. An incident still open after the restart is neither resolved nor paged again.

use std::time::{Duration, Instant};

use faultline_e2e::portal::{Portal, probed_service as service, write_probe_config};
use faultline_e2e::process::Collector;
use faultline_e2e::webhook::{Page, WebhookReceiver};

const SECRET: &str = "orphans-webhook-secret";
const TIMEOUT: Duration = Duration::from_secs(30);

async fn wait_pages(hooks: &WebhookReceiver, what: &str, f: impl Fn(&[Page]) -> bool) {
    let t = Instant::now();
    while !f(&hooks.pages_for("oncall")) {
        assert!(
            t.elapsed() < TIMEOUT,
            "timed out waiting for {what}; pages:\n{}",
            hooks.dump()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn count(pages: &[Page], action: &str, id_prefix: &str) -> usize {
    pages
        .iter()
        .filter(|p| p.action == action && p.incident_id.starts_with(id_prefix))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_paged_before_a_restart_and_gone_after_it_is_resolved() {
    let portal = Portal::start().await;
    let legacy = Portal::start().await;
    let hooks = WebhookReceiver::start(SECRET).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_probe_config(dir.path(), &hooks.url(), SECRET);
    let topology = dir.path().join("topology.yaml");
    let both = format!(
        "name: orphans\nservices:\n{}{}",
        service("portal", &portal.url),
        service("legacy", &legacy.url)
    );
    std::fs::write(&topology, &both).expect("write topology");

    let mut c = Collector::start(&config, &dir.path().join("run-1.log"));
    c.wait_api(TIMEOUT).await.expect("collector up");
    portal.set(503);
    legacy.set(503);
    wait_pages(&hooks, "both triggers", |p| {
        count(p, "trigger", "portal@") == 1 && count(p, "trigger", "legacy@") == 1
    })
    .await;
    drop(c);

    // While it is down, the legacy service leaves the topology; the portal stays broken.
    let only_portal = format!(
        "name: orphans\nservices:\n{}",
        service("portal", &portal.url)
    );
    std::fs::write(&topology, only_portal).expect("rewrite topology");
    let mut c = Collector::start(&config, &dir.path().join("run-2.log"));
    c.wait_api(TIMEOUT).await.expect("collector up again");
    wait_pages(&hooks, "legacy's resolve", |p| {
        count(p, "resolve", "legacy@") == 1
    })
    .await;
    // Quiet for a while: the portal's incident stays open, paged once, never resolved.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pages = hooks.pages_for("oncall");
    assert_eq!(count(&pages, "trigger", "portal@"), 1, "{}", hooks.dump());
    assert_eq!(count(&pages, "resolve", "portal@"), 0, "{}", hooks.dump());
    assert_eq!(count(&pages, "resolve", "legacy@"), 1, "{}", hooks.dump());
    assert!(
        c.log().contains("resolving incidents still paged"),
        "{}",
        c.log_tail(20)
    );
    // The portal heals: its own resolve, once.
    portal.set(200);
    wait_pages(&hooks, "portal's resolve", |p| {
        count(p, "resolve", "portal@") == 1
    })
    .await;
}
