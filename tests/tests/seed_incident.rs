//! The seed incident, for real: the `faultline` binary watches a keepalived firewall pair in
//! network namespaces (roles over KEEPALIVED-MIB through snmpd's AgentX) and probes the portal
//! behind it. The standby fw-b has lost IP forwarding (configuration drift) — nothing notices,
//! since fw-a carries the traffic. Then fw-a loses its outside link: keepalived fails over to
//! fw-b, which cannot forward, and the portal goes down. Exactly one page must go out: a
//! critical "failover ineffective" naming fw-b as the first suspect and fw-a's outside link as
//! the root cause. Restoring the link and fw-b's forwarding resolves it with one resolve page.
//! (The drift lasts less than the readiness hold-down here: `standby_readiness.rs` waits for
//! the `standby_not_ready` warning that catches it before the failover, issue #10.)

use std::time::{Duration, Instant};

use faultline_e2e::api::IncidentView;
use faultline_e2e::seed::{Scene, healthy};
use faultline_e2e::webhook::Page;
use faultline_testpeers::keepalived::VrrpState;
use faultline_testpeers::seed::Firewall;

const SECRET: &str = "e2e-webhook-secret-never-logged";
/// The root cause: fw-a's cable to the outside switch (link ids are `a--b`).
const OUTSIDE_LINK: &str = "fw-a:out0--sw-out:fwa-out";
/// From the first poll to everything up (first sightings are not held down).
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the drift must go unnoticed while fw-a carries the traffic: several probe and
/// poll rounds.
const DRIFT_QUIET: Duration = Duration::from_secs(4);
/// Link down → failover (~4 s) → held-down failures (8 s) → page, with room to spare.
const PAGE_TIMEOUT: Duration = Duration::from_secs(45);
/// Restore → recoveries held (≤ 5 s after net-snmp's cache) → resolve page.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(45);
/// After the resolve: long enough for a stray re-trigger to show (a poll, a probe, a hold).
const AFTER_QUIET: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_incident_on_a_real_keepalived_pair_pages_once_and_resolves_once() {
    let t_start = Instant::now();
    let Some(s) = Scene::start(SECRET).await else {
        return;
    };
    let lab_up = s.lab_up;

    // 1. Healthy: everything up, fw-a active, fw-b standby, as read over SNMP by the collector.
    s.wait(
        "every component and the portal up, fw-a active",
        HEALTHY_TIMEOUT,
        || healthy(&s.api),
    )
    .await;
    let t_healthy = t_start.elapsed();

    // 2. Configuration drift on the standby: fw-b stops forwarding. Nothing is wrong yet.
    s.lab.set_forwarding(Firewall::B, false);
    tokio::time::sleep(DRIFT_QUIET).await;
    let mut problems = Vec::new();
    if let Err(e) = healthy(&s.api).await {
        problems.push(format!(
            "drift on the standby changed what the collector sees: {e}"
        ));
    }
    if !s.hooks.pages().is_empty() {
        problems.push("a page went out while everything still worked".into());
    }
    s.check(problems).await;

    // 3. The seed failure: fw-a's outside cable fails at the switch.
    let t_fail = Instant::now();
    s.lab.set_outside_link(Firewall::A, false);
    let page = s
        .wait("the on-call page", PAGE_TIMEOUT, || async {
            s.hooks
                .pages_for("oncall")
                .into_iter()
                .next()
                .ok_or_else(|| format!("no page yet; chat got {}", s.hooks.pages_for("chat").len()))
        })
        .await;
    let time_to_page = t_fail.elapsed();
    let open = s.api.incidents().await.map(|i| i.open).unwrap_or_default();
    let mut problems = check_page(&page);
    problems.extend(check_open(&open));
    // The lab agrees with the story: fw-b took over, fw-a is in FAULT, the portal is dark.
    if s.lab.vrrp_states(Firewall::B) != [VrrpState::Master, VrrpState::Master] {
        problems.push(format!(
            "fw-b did not take over: {:?}",
            s.lab.vrrp_states(Firewall::B)
        ));
    }
    if s.lab.vrrp_states(Firewall::A) != [VrrpState::Fault, VrrpState::Fault] {
        problems.push(format!(
            "fw-a is not in FAULT: {:?}",
            s.lab.vrrp_states(Firewall::A)
        ));
    }
    if s.lab.portal_status() == Some(200) {
        problems.push("the portal still answers through fw-b".into());
    }
    s.check(problems).await;
    let incident = page.incident_id.clone();

    // 4. Repair: the cable is back and fw-b forwards again.
    let t_restore = Instant::now();
    s.lab.set_outside_link(Firewall::A, true);
    s.lab.set_forwarding(Firewall::B, true);
    s.wait("the resolve page", RESOLVE_TIMEOUT, || async {
        s.hooks
            .pages_for("oncall")
            .into_iter()
            .find(|p| p.action == "resolve")
            .ok_or_else(|| "no resolve yet".to_string())
    })
    .await;
    let time_to_resolve = t_restore.elapsed();
    s.wait("everything up again", HEALTHY_TIMEOUT, || healthy(&s.api))
        .await;
    tokio::time::sleep(AFTER_QUIET).await;

    let mut problems = check_pages(&s.hooks.pages_for("oncall"), &incident);
    problems.extend(check_pages(&s.hooks.pages_for("chat"), &incident));
    match s.api.incidents().await {
        Ok(i) => {
            if !i.open.is_empty() {
                problems.push(format!("incidents still open: {:?}", i.open));
            }
            if !i.resolved.iter().any(|r| r.id == incident) {
                problems.push(format!("{incident} is not among the resolved incidents"));
            }
        }
        Err(e) => problems.push(e),
    }
    if s.collector.log().contains(SECRET) {
        problems.push("the webhook secret appears in the collector's log".into());
    }
    s.check(problems).await;
    let log = s.collector.log();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    if !warnings.is_empty() {
        eprintln!("collector warnings:\n{}", warnings.join("\n"));
    }
    eprintln!(
        "seed incident: lab up in {lab_up:.1?}, collector healthy at {t_healthy:.1?}, \
         paged {time_to_page:.1?} after the link failed, resolved {time_to_resolve:.1?} after \
         the repair; {:.1?} in all",
        t_start.elapsed()
    );
}

/// The first on-call page: a trigger of the critical failover-ineffective incident.
fn check_page(p: &Page) -> Vec<String> {
    let mut problems = Vec::new();
    let want = [
        ("action", p.action.as_str(), "trigger"),
        ("kind", p.kind.as_str(), "failover_ineffective"),
        ("severity", p.severity.as_str(), "critical"),
        (
            "first suspect",
            p.suspects.first().map_or("", String::as_str),
            "fw-b",
        ),
    ];
    for (what, got, expected) in want {
        if got != expected {
            problems.push(format!("page {what}: {got:?}, expected {expected:?}"));
        }
    }
    if p.root_causes != [OUTSIDE_LINK] {
        problems.push(format!(
            "page root causes {:?}, expected [{OUTSIDE_LINK}]",
            p.root_causes
        ));
    }
    if !p.signature_ok {
        problems.push("page signature does not verify".into());
    }
    problems
}

/// The API's open incidents while the portal is down: exactly the paged one.
fn check_open(open: &[IncidentView]) -> Vec<String> {
    let [inc] = open else {
        return vec![format!(
            "expected one open incident, got {}: {open:?}",
            open.len()
        )];
    };
    let mut problems = Vec::new();
    if inc.kind != "failover_ineffective" || inc.severity != "critical" {
        problems.push(format!("open incident is {} {}", inc.severity, inc.kind));
    }
    if inc.root_causes != [OUTSIDE_LINK] {
        problems.push(format!("open incident root causes {:?}", inc.root_causes));
    }
    if inc.suspects.first().map(String::as_str) != Some("fw-b") {
        problems.push(format!("open incident suspects {:?}", inc.suspects));
    }
    if !inc
        .affected
        .iter()
        .any(|(id, state)| id == "portal" && state == "down")
    {
        problems.push(format!(
            "the portal is not affected and down: {:?}",
            inc.affected
        ));
    }
    problems
}

/// A receiver's whole history: one trigger first, one resolve last, only updates between
/// (once paged, every change of the incident follows), all for `incident`, all signed.
fn check_pages(pages: &[Page], incident: &str) -> Vec<String> {
    let name = pages.first().map_or("?", |p| p.receiver.as_str());
    let actions: Vec<&str> = pages.iter().map(|p| p.action.as_str()).collect();
    let mut problems = Vec::new();
    let count = |a: &str| actions.iter().filter(|x| **x == a).count();
    if count("trigger") != 1 || count("resolve") != 1 {
        problems.push(format!(
            "{name}: actions {actions:?}, expected one trigger and one resolve"
        ));
    }
    if actions.first() != Some(&"trigger") || actions.last() != Some(&"resolve") {
        problems.push(format!("{name}: actions {actions:?} out of order"));
    }
    if actions.len() > 2 && actions[1..actions.len() - 1].iter().any(|a| *a != "update") {
        problems.push(format!(
            "{name}: {actions:?}, expected only updates in between"
        ));
    }
    if let Some(p) = pages.iter().find(|p| p.incident_id != incident) {
        problems.push(format!(
            "{name}: a page for another incident: {}",
            p.summary()
        ));
    }
    if pages.iter().any(|p| !p.signature_ok) {
        problems.push(format!("{name}: a page whose signature does not verify"));
    }
    problems
}
