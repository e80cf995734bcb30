//! Standby readiness on the real seed lab (issue #10): the keepalived pair in network
//! namespaces, snmpd answering IP-MIB::ipForwarding from each firewall's own namespace.
//!
//! 1. fw-b (the standby) stops forwarding (`net.ipv4.ip_forward=0`): within a poll interval
//!    plus the device hold-down, one `standby_not_ready` warning naming fw-b and both values,
//!    while the portal still works: exactly one page (to chat; the pager takes critical only).
//! 2. fw-a loses its outside link: keepalived fails over to fw-b, the portal goes dark: one
//!    critical `failover_ineffective` incident, fw-b the first suspect, the readiness evidence
//!    cited with since when it was known; the warning resolved as merged into it.
//! 3. Link and forwarding restored: the incident resolves, one resolve page, nothing reopens.
//!
//! And interface parity: fw-b's DMZ cable (`dmz0`, on no VRRP instance, so nothing fails
//! over) is pulled: fw-b is judged not ready on `interface dmz0`, naming both members'
//! states; the one page is the link's warning (the root cause), citing the readiness line.

use std::time::Duration;

use faultline_e2e::api::IncidentView;
use faultline_e2e::seed::{Scene, healthy};
use faultline_e2e::webhook::Page;
use faultline_testpeers::seed::Firewall;

const SECRET: &str = "e2e-readiness-secret-never-logged";
/// From the first poll to everything up (first sightings are not held down).
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(30);
/// Poll interval (1 s) + device hold-down (8 s) + net-snmp's caching, with room to spare.
const WARNING_TIMEOUT: Duration = Duration::from_secs(25);
/// Link down → failover (~4 s) → held-down failures (8 s) → page, with room to spare.
const PAGE_TIMEOUT: Duration = Duration::from_secs(45);
/// Restore → recoveries held (≤ 5 s after net-snmp's cache) → resolve page.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(45);
/// After a transition: long enough for a stray extra page to show (a poll, a probe, a hold).
const QUIET: Duration = Duration::from_secs(4);
/// The engine's settle window (5 s) plus delivery.
const FIRST_PAGE_TIMEOUT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_not_ready_warns_before_the_failover_and_merges_into_it() {
    let Some(s) = ready_scene().await else {
        return;
    };

    // 1. The drift: a warning, and only that.
    s.lab.set_forwarding(Firewall::B, false);
    let warning = s
        .wait("the standby_not_ready warning", WARNING_TIMEOUT, || async {
            let open = s.api.incidents().await?.open;
            open.into_iter()
                .find(|i| i.kind == "standby_not_ready")
                .ok_or_else(|| "no warning yet".to_string())
        })
        .await;
    // A warning's first page waits for its classification to settle (the engine's
    // `settle_ms`, 5 s by default); then nothing more may come.
    s.wait("the warning's page", FIRST_PAGE_TIMEOUT, || async {
        if s.hooks.pages_for("chat").is_empty() {
            Err("no page yet".to_string())
        } else {
            Ok(())
        }
    })
    .await;
    tokio::time::sleep(QUIET).await;
    let mut problems = check_warning(&warning);
    let open = s.api.incidents().await.map(|i| i.open).unwrap_or_default();
    if open.len() != 1 {
        problems.push(format!("expected only the warning open: {open:?}"));
    }
    if s.lab.portal_status() != Some(200) {
        problems.push(format!("the portal stopped: {:?}", s.lab.portal_status()));
    }
    let chat = s.hooks.pages_for("chat");
    let actions: Vec<(&str, &str)> = chat
        .iter()
        .map(|p| (p.action.as_str(), p.kind.as_str()))
        .collect();
    if actions != [("trigger", "standby_not_ready")] {
        problems.push(format!(
            "expected exactly one page, the warning: {actions:?}"
        ));
    }
    if !s.hooks.pages_for("oncall").is_empty() {
        problems.push("the pager (critical only) was paged for a warning".into());
    }
    problems.extend(check_ready_view(&s).await);
    s.check(problems).await;

    // 2. The failover onto the standby known not ready.
    s.lab.set_outside_link(Firewall::A, false);
    let page = s
        .wait("the on-call page", PAGE_TIMEOUT, || async {
            s.hooks
                .pages_for("oncall")
                .into_iter()
                .next()
                .ok_or_else(|| "no page yet".to_string())
        })
        .await;
    // The warning merges into the failover incident once that names fw-b.
    let merged = s
        .wait("the warning resolved as merged", PAGE_TIMEOUT, || async {
            let i = s.api.incidents().await?;
            i.resolved
                .into_iter()
                .find(|r| r.id == warning.id)
                .ok_or_else(|| "the warning is still open".to_string())
        })
        .await;
    let open = s.api.incidents().await.map(|i| i.open).unwrap_or_default();
    let mut problems = check_page(&page);
    problems.extend(check_failover(&open, &page, &merged));
    if s.lab.portal_status() == Some(200) {
        problems.push("the portal still answers through fw-b".into());
    }
    s.check(problems).await;

    // 3. Repair: the cable is back and fw-b forwards again.
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
    s.wait("everything up again", HEALTHY_TIMEOUT, || healthy(&s.api))
        .await;
    tokio::time::sleep(QUIET).await;
    let mut problems = check_oncall(&s.hooks.pages_for("oncall"), &page.incident_id);
    match s.api.incidents().await {
        Ok(i) if !i.open.is_empty() => problems.push(format!("still open: {:?}", i.open)),
        Ok(_) => {}
        Err(e) => problems.push(e),
    }
    if s.collector.log().contains(SECRET) {
        problems.push("the webhook secret appears in the collector's log".into());
    }
    s.check(problems).await;
}

/// fw-b's inside link in its sense (a cable, no failover): the DMZ cable, since `in0` is a
/// VRRP interface in the lab (its loss puts keepalived in FAULT: fw-b's own failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standbys_dmz_cable_fails_interface_parity_in_one_warning() {
    let Some(s) = ready_scene().await else {
        return;
    };

    s.lab.set_dmz_link(Firewall::B, false);
    let check = s
        .wait("fw-b declared not ready on dmz0", WARNING_TIMEOUT, || {
            dmz_parity_failure(&s)
        })
        .await;
    s.wait("the link's page", FIRST_PAGE_TIMEOUT, || async {
        if s.hooks.pages_for("chat").is_empty() {
            Err("no page yet".to_string())
        } else {
            Ok(())
        }
    })
    .await;
    tokio::time::sleep(QUIET).await;
    let mut problems = Vec::new();
    if !check.starts_with("interface dmz0: fw-a up, fw-b ") || check.ends_with("fw-b up") {
        problems.push(format!("the parity line: {check}"));
    }
    let chat = s.hooks.pages_for("chat");
    let pages: Vec<(&str, &str, &str)> = chat
        .iter()
        .map(|p| (p.action.as_str(), p.kind.as_str(), p.severity.as_str()))
        .collect();
    if pages != [("trigger", "redundancy_lost", "warning")] {
        problems.push(format!("expected one warning page: {pages:?}"));
    }
    if !s.hooks.pages_for("oncall").is_empty() {
        problems.push("the pager (critical only) was paged".into());
    }
    let open = s.api.incidents().await.map(|i| i.open).unwrap_or_default();
    let cited = format!("standby fw-b of fw-pair not ready: {check}");
    match open.as_slice() {
        [inc] if inc.root_causes == [DMZ_LINK] => {
            if !inc
                .evidence
                .iter()
                .any(|(who, t)| who == "fw-b" && *t == cited)
            {
                problems.push(format!("no `{cited}` in {:?}", inc.evidence));
            }
        }
        _ => problems.push(format!("expected only the link's incident open: {open:?}")),
    }
    if s.lab.portal_status() != Some(200) {
        problems.push(format!("the portal stopped: {:?}", s.lab.portal_status()));
    }
    match s.api.ha_roles().await {
        Ok(roles) => {
            for (fw, want) in [("fw-a", "active"), ("fw-b", "standby")] {
                if !roles.iter().any(|(id, r)| id == fw && r == want) {
                    problems.push(format!("{fw} is not {want}: {roles:?}"));
                }
            }
        }
        Err(e) => problems.push(e),
    }
    s.check(problems).await;

    // Plugged back in: ready again, the warning resolves, nothing else is paged.
    s.lab.set_dmz_link(Firewall::B, true);
    s.wait("everything up again", RESOLVE_TIMEOUT, || healthy(&s.api))
        .await;
    s.wait("fw-b judged ready again", HEALTHY_TIMEOUT, || {
        fw_b_verdict(&s, "ready")
    })
    .await;
    tokio::time::sleep(QUIET).await;
    let chat = s.hooks.pages_for("chat");
    let actions: Vec<(&str, &str)> = chat
        .iter()
        .map(|p| (p.action.as_str(), p.kind.as_str()))
        .collect();
    let mut problems = Vec::new();
    if actions
        != [
            ("trigger", "redundancy_lost"),
            ("resolve", "redundancy_lost"),
        ]
    {
        problems.push(format!(
            "chat: {actions:?}, expected one trigger, one resolve"
        ));
    }
    s.check(problems).await;
}

/// fw-b's declared link on the DMZ.
const DMZ_LINK: &str = "fw-b:dmz0--sw-dmz:fwb-dmz";

/// The detail of fw-b's `interface dmz0` check, once fw-b is declared not ready on it.
/// The seed lab with everything up, fw-a active and fw-b judged ready (`None`: skipped, no
/// peers).
async fn ready_scene() -> Option<Scene> {
    let s = Scene::start(SECRET).await?;
    s.wait("everything up, fw-a active", HEALTHY_TIMEOUT, || {
        healthy(&s.api)
    })
    .await;
    s.wait("fw-b judged ready", HEALTHY_TIMEOUT, || {
        fw_b_verdict(&s, "ready")
    })
    .await;
    Some(s)
}

async fn dmz_parity_failure(s: &Scene) -> Result<String, String> {
    let v = s.api.get("/api/v1/ready").await?;
    let b = &v["groups"][0]["standbys"][0];
    let failing = b["checks"].as_array().and_then(|checks| {
        checks
            .iter()
            .find(|c| c["check"] == "interface dmz0" && c["verdict"] == "not_ready")
    });
    match failing {
        Some(c) if b["device"] == "fw-b" && b["declared_not_ready"] == true => {
            Ok(c["detail"].as_str().unwrap_or_default().to_string())
        }
        _ => Err(format!("{b}")),
    }
}

/// Ok when `/api/v1/ready` judges fw-b (fw-pair's standby) `verdict` now.
async fn fw_b_verdict(s: &Scene, verdict: &str) -> Result<(), String> {
    let v = s.api.get("/api/v1/ready").await?;
    let got = &v["groups"][0]["standbys"][0];
    if got["device"] == "fw-b" && got["verdict"] == verdict {
        Ok(())
    } else {
        Err(format!("{got}"))
    }
}

/// The warning: fw-b the root cause, both members' forwarding values named.
fn check_warning(w: &IncidentView) -> Vec<String> {
    let mut problems = Vec::new();
    if w.severity != "warning" || w.root_causes != ["fw-b"] {
        problems.push(format!("warning is {} {:?}", w.severity, w.root_causes));
    }
    let want = "not ready: ip_forwarding: fw-a forwarding, fw-b notForwarding";
    if !w
        .evidence
        .iter()
        .any(|(who, text)| who == "fw-b" && text == want)
    {
        problems.push(format!("no `{want}` in {:?}", w.evidence));
    }
    if !w
        .affected
        .iter()
        .any(|(id, st)| id == "portal" && st == "degraded")
    {
        problems.push(format!("the portal is not degraded: {:?}", w.affected));
    }
    problems
}

/// `/api/v1/ready`: fw-b declared not ready, the forwarding check failing with both values.
async fn check_ready_view(s: &Scene) -> Vec<String> {
    let v = match s.api.get("/api/v1/ready").await {
        Ok(v) => v,
        Err(e) => return vec![e],
    };
    let g = &v["groups"][0];
    let b = &g["standbys"][0];
    let first = &b["checks"][0];
    let ok = g["group"] == "fw-pair"
        && g["active"] == "fw-a"
        && b["device"] == "fw-b"
        && b["verdict"] == "not_ready"
        && b["declared_not_ready"] == true
        && first["check"] == "ip_forwarding"
        && first["standby"]["value"] == "2"
        && first["active"]["value"] == "1";
    if ok {
        Vec::new()
    } else {
        vec![format!("the readiness view is not as expected: {v:#}")]
    }
}

/// The on-call page: a trigger of the critical failover incident, fw-b first.
fn check_page(p: &Page) -> Vec<String> {
    let got = (
        p.action.as_str(),
        p.kind.as_str(),
        p.severity.as_str(),
        p.suspects.first().map_or("", String::as_str),
    );
    if got == ("trigger", "failover_ineffective", "critical", "fw-b") && p.signature_ok {
        Vec::new()
    } else {
        vec![format!("on-call page: {}", p.summary())]
    }
}

/// While the portal is down: exactly the paged incident is open, it cites the readiness
/// evidence, and the warning was resolved as merged into it.
fn check_failover(open: &[IncidentView], page: &Page, merged: &IncidentView) -> Vec<String> {
    let [inc] = open else {
        return vec![format!("expected one open incident, got {open:?}")];
    };
    let mut problems = Vec::new();
    if inc.id != page.incident_id || inc.kind != "failover_ineffective" {
        problems.push(format!("open incident {} {}", inc.id, inc.kind));
    }
    let cited = "ip_forwarding: fw-a forwarding, fw-b notForwarding";
    let reason = inc.suspect_reasons.first().map_or("", String::as_str);
    if !(reason.starts_with("not ready since ")
        && reason.contains(" before the failover: ")
        && reason.contains(cited))
    {
        problems.push(format!("fw-b's reason does not cite readiness: {reason}"));
    }
    let in_evidence = inc.evidence.iter().any(|(who, text)| {
        who == "fw-b" && text.starts_with("not ready since ") && text.contains(cited)
    });
    if !in_evidence {
        problems.push(format!("no readiness evidence in {:?}", inc.evidence));
    }
    let reference = format!("merged into incident {}", inc.id);
    if !merged
        .evidence
        .iter()
        .any(|(_, t)| t.starts_with(&reference))
    {
        problems.push(format!("the warning is not merged: {:?}", merged.evidence));
    }
    problems
}

/// The pager's whole history: one trigger, one resolve, only updates between, one incident.
fn check_oncall(pages: &[Page], incident: &str) -> Vec<String> {
    let actions: Vec<&str> = pages.iter().map(|p| p.action.as_str()).collect();
    let mut problems = Vec::new();
    let count = |a: &str| actions.iter().filter(|x| **x == a).count();
    if count("trigger") != 1 || count("resolve") != 1 || actions.last() != Some(&"resolve") {
        problems.push(format!(
            "oncall: {actions:?}, expected one trigger, one resolve"
        ));
    }
    if let Some(p) = pages.iter().find(|p| p.incident_id != incident) {
        problems.push(format!(
            "oncall: a page for another incident: {}",
            p.summary()
        ));
    }
    problems
}
