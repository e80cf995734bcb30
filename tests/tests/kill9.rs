//! Crash safety (issue #9, item 12): the collector is killed with SIGKILL within 200 ms after
//! each trigger it logs, 20 times, and restarted on the same store each time. Every failure
//! must be paged under exactly one incident id (none lost, none paged again under a new id
//! after the restart), and every incident must be resolved once the portal heals.
//!
//! The portal is a loopback HTTP server the test switches between 200 and 503; the pager is the
//! signed webhook receiver. `FAULTLINE_KILL9_ROUNDS` changes the number of rounds (default 20).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use faultline_e2e::portal::{Portal, probed_service, write_probe_config};
use faultline_e2e::process::Collector;
use faultline_e2e::webhook::{Page, WebhookReceiver};

const SECRET: &str = "kill9-webhook-secret";
/// Rounds when `FAULTLINE_KILL9_ROUNDS` is not set: the bar.
const DEFAULT_ROUNDS: u32 = 20;
/// The kill lands this long after the trigger is logged, at most (the bound).
const KILL_WITHIN: Duration = Duration::from_millis(200);
/// Failure → held-down probe failure (1 s) → trigger, with room for a slow machine.
const TRIGGER_TIMEOUT: Duration = Duration::from_secs(30);
/// Restart → replay → page delivered or resolve derived.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// A restarted collector's API must come up within this.
const START_TIMEOUT: Duration = Duration::from_secs(30);

fn write_files(dir: &Path, portal: &str, hooks: &str) -> std::path::PathBuf {
    let topology = format!(
        "name: kill9\nservices:\n{}",
        probed_service("portal", portal)
    );
    std::fs::write(dir.join("topology.yaml"), topology).expect("write topology");
    write_probe_config(dir, hooks, SECRET)
}

/// How many times `action` appears among the collector's logged transitions.
fn logged(c: &Collector, action: &str) -> usize {
    let needle = format!("action={action}");
    c.log().lines().filter(|l| l.contains(&needle)).count()
}

/// A spread of kill delays within [`KILL_WITHIN`], the same on every run.
fn kill_delay(round: u32) -> Duration {
    let step = KILL_WITHIN.as_millis() as u64 / 7;
    Duration::from_millis((u64::from(round) * 3 % 8) * step)
}

struct Run {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    starts: u32,
}

impl Run {
    async fn start(&mut self) -> Collector {
        self.starts += 1;
        let log = self.dir.path().join(format!("run-{}.log", self.starts));
        let mut c = Collector::start(&self.config, &log);
        if let Err(e) = c.wait_api(START_TIMEOUT).await {
            panic!("restart {}: {e}", self.starts);
        }
        c
    }
}

/// Wait until the collector has logged one more `action` than `before`, then SIGKILL it
/// after `delay`.
async fn kill_after_logged(c: &mut Collector, action: &str, before: usize, delay: Duration) {
    let t = Instant::now();
    while logged(c, action) <= before {
        assert!(
            t.elapsed() < TRIGGER_TIMEOUT,
            "no {action} logged in {TRIGGER_TIMEOUT:?}\n{}",
            c.log_tail(30)
        );
        assert!(c.running(), "the collector exited\n{}", c.log_tail(30));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(delay).await;
    c.kill9();
}

async fn wait_page(hooks: &WebhookReceiver, what: &str, f: impl Fn(&[Page]) -> bool) {
    let t = Instant::now();
    while !f(&hooks.pages_for("oncall")) {
        assert!(
            t.elapsed() < PAGE_TIMEOUT,
            "timed out waiting for {what}; pages:\n{}",
            hooks.dump()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_every_logged_trigger_loses_nothing_and_pages_nothing_twice() {
    let rounds: u32 = std::env::var("FAULTLINE_KILL9_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let portal = Portal::start().await;
    let hooks = WebhookReceiver::start(SECRET).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_files(dir.path(), &portal.url, &hooks.url());
    let mut run = Run {
        dir,
        config,
        starts: 0,
    };
    let t0 = Instant::now();
    let mut c = run.start().await;
    for round in 0..rounds {
        let triggers_before = distinct(&hooks.pages_for("oncall"), "trigger").len();
        let resolves_before = distinct(&hooks.pages_for("oncall"), "resolve").len();
        // Fail, and kill the collector right after it logs the trigger.
        portal.set(503);
        let before = logged(&c, "Trigger");
        kill_after_logged(&mut c, "Trigger", before, kill_delay(round)).await;
        c = run.start().await;
        wait_page(&hooks, "the round's trigger", |p| {
            distinct(p, "trigger").len() > triggers_before
        })
        .await;
        // Heal; every fourth round the kill follows the logged resolve as well.
        portal.set(200);
        if round % 4 == 3 {
            let before = logged(&c, "Resolve");
            kill_after_logged(&mut c, "Resolve", before, kill_delay(round + 1)).await;
            c = run.start().await;
        }
        wait_page(&hooks, "the round's resolve", |p| {
            distinct(p, "resolve").len() > resolves_before
        })
        .await;
    }
    // A last look: nothing re-triggers once everything is quiet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pages = hooks.pages_for("oncall");
    let triggered = distinct(&pages, "trigger");
    let resolved = distinct(&pages, "resolve");
    let never_resolved: Vec<&String> = triggered.difference(&resolved).collect();
    let duplicates = duplicate_deliveries(&pages);
    eprintln!(
        "kill -9: {rounds} rounds, {} starts in {:.1?}: {} incidents paged, {} resolved, \
         {} duplicate deliveries (same id and action, deduplicated by receivers)",
        run.starts,
        t0.elapsed(),
        triggered.len(),
        resolved.len(),
        duplicates
    );
    assert!(
        pages.iter().all(|p| p.signature_ok),
        "unsigned page\n{}",
        hooks.dump()
    );
    assert_eq!(
        triggered.len(),
        rounds as usize,
        "one incident per failure (fewer: lost; more: paged again under a new id)\n{}",
        hooks.dump()
    );
    assert!(
        never_resolved.is_empty(),
        "never resolved: {never_resolved:?}\n{}",
        hooks.dump()
    );
    assert!(
        resolved.is_subset(&triggered),
        "resolved without a trigger\n{}",
        hooks.dump()
    );
}

/// Incident ids with at least one delivery of `action`.
fn distinct(pages: &[Page], action: &str) -> BTreeSet<String> {
    pages
        .iter()
        .filter(|p| p.action == action)
        .map(|p| p.incident_id.clone())
        .collect()
}

/// Deliveries beyond the first of the same incident id and action (at-least-once delivery
/// after a kill between the send and its acknowledgement).
fn duplicate_deliveries(pages: &[Page]) -> usize {
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for p in pages {
        *seen.entry((&p.incident_id, &p.action)).or_default() += 1;
    }
    seen.values().map(|n| n - 1).sum()
}
