//! The HTTP API against a running collector on the demo lab (loopback only): every route of
//! [`faultline_api::ROUTES`] answers its typed response, under `/api/v1` and under the `/api`
//! alias, during a real incident (the active firewall fails, the spare lacks the NAT rule).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use faultline_api::{self as api, LEGACY_PREFIX, Method, PREFIX, ROUTES, State, path};
use faultline_collector::config::{Config, PollInterval, ProbeInterval};
use faultline_collector::{Collector, StartOptions};
use faultline_lab::Lab;
use faultline_model::Topology;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

/// A link id with `/` and `:` in it: must travel percent-encoded as one path segment.
const LINK: &str = "fw-a:port2--sw-core-1:gi1/0/1";

struct Running {
    base: String,
    client: reqwest::Client,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start_demo() -> Running {
    let topology = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let topo = Topology::load(std::path::Path::new(topology)).expect("demo topology");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = Config::demo(PathBuf::from(topology), dir.path().join("api.redb"));
    cfg.api.listen = "127.0.0.1:0".parse().expect("address");
    cfg.poll.interval_s = PollInterval::new(Duration::from_secs(1)).expect("in range");
    cfg.probe.interval_s = ProbeInterval::new(Duration::from_secs(1)).expect("in range");
    for hold in [
        &mut cfg.engine.device,
        &mut cfg.engine.probe,
        &mut cfg.engine.link,
    ] {
        hold.down_ms = 1_500;
        hold.up_ms = 1_500;
    }
    let stop = CancellationToken::new();
    let lab = Lab::start(topo.clone()).await.expect("lab starts");
    let options = StartOptions {
        topology: Some(topo),
        overrides: Some(std::sync::Arc::new(lab.clone())),
        routes: Some(faultline_lab::api::routes(Some(lab))),
        ..StartOptions::default()
    };
    let collector = Collector::start(cfg, options, stop.clone())
        .await
        .expect("collector starts");
    let base = format!("http://{}", collector.api_addr());
    tokio::spawn(collector.wait());
    Running {
        base,
        client: reqwest::Client::new(),
        stop,
        _dir: dir,
    }
}

impl Running {
    async fn call<T: DeserializeOwned>(&self, method: Method, path: &str) -> (u16, T) {
        let url = format!("{}{path}", self.base);
        let req = match method {
            Method::Get => self.client.get(&url),
            Method::Post => self.client.post(&url).json(&serde_json::Map::new()),
        };
        let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let code = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{url} answered {code} {text}: {e}"));
        (code, value)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        let (code, value) = self.call(Method::Get, path).await;
        assert_eq!(code, 200, "{path}");
        value
    }

    async fn post<T: DeserializeOwned>(&self, path: &str) -> T {
        let (code, value) = self.call(Method::Post, path).await;
        assert_eq!(code, 200, "{path}");
        value
    }

    async fn until<T>(&self, what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Every route, by its table entry: adding a route to the table without a check here fails.
async fn check_route(c: &Running, route: &api::Route, prefix: &str) {
    let p = |rest: &str| format!("{prefix}{rest}");
    match route.path {
        path::STATUS => {
            let s: api::StatusResponse = c.get(&p(path::STATUS)).await;
            assert_eq!(s.topology, "contractor-portal");
            assert!(s.lab);
            assert!(s.counts["device"].get(&State::Down).copied().unwrap_or(0) >= 1);
            assert!(!s.incidents.is_empty());
            assert!(s.services.iter().any(|x| x.id == "portal"));
        }
        path::SERVICES => {
            let s: api::ServicesResponse = c.get(&p(path::SERVICES)).await;
            let portal = s
                .services
                .iter()
                .find(|x| x.id == "portal")
                .expect("portal");
            assert_eq!(portal.tier, "critical");
        }
        path::COMPONENTS => {
            let s: api::ComponentsResponse = c.get(&p(path::COMPONENTS)).await;
            let fw = s.components.iter().find(|x| x.id == "fw-a").expect("fw-a");
            assert_eq!((fw.kind.as_str(), fw.own), ("device", State::Down));
        }
        path::INCIDENTS => {
            let s: api::IncidentsResponse = c.get(&p("/incidents?all=true")).await;
            assert_eq!(s.open[0].root_causes, ["fw-a"]);
            let s: api::IncidentsResponse = c.get(&p(path::INCIDENTS)).await;
            assert!(s.resolved.is_empty());
        }
        path::WHY => {
            let w: api::WhyResponse = c.get(&p("/why/portal")).await;
            assert_eq!(w.id, "portal");
            assert_eq!(w.service.as_ref().map(|s| s.id.as_str()), Some("portal"));
            assert!(w.incident.is_some());
            assert!(w.down.is_empty());
            let w: api::WhyResponse = c.get(&p(&format!("/why/{}", path::segment(LINK)))).await;
            assert_eq!(w.tree.kind, "link");
            assert!(w.service.is_none());
            let (code, e): (u16, api::ApiError) = c.call(Method::Get, &p("/why/portl")).await;
            assert_eq!(code, 404);
            assert!(e.error.contains("did you mean `portal`"), "{}", e.error);
        }
        path::TIMELINE => {
            let t: api::TimelineResponse = c.get(&p("/timeline?since=0")).await;
            assert!(t.timeline.iter().any(|e| e.subject == "fw-a"));
            let t: api::TimelineResponse =
                c.get(&p(&format!("/timeline?since={}", u64::MAX))).await;
            assert!(t.timeline.is_empty());
        }
        path::READY => {
            let r: api::ReadyResponse = c.get(&p(path::READY)).await;
            let ids: Vec<&str> = r.groups.iter().map(|g| g.group.as_str()).collect();
            assert_eq!(ids, ["fw-pair", "lb-pair"]);
            let fw = &r.groups[0];
            assert_eq!(fw.active.as_deref(), Some("fw-b"));
            let [a] = fw.standbys.as_slice() else {
                panic!("one standby: {fw:?}")
            };
            // The failed fw-a is judged (its HA role is failed) but never declared: its own
            // failure is the open incident.
            assert_eq!(a.device, "fw-a");
            assert_eq!(a.verdict, api::Readiness::NotReady, "{a:?}");
            assert!(!a.declared_not_ready);
            let role = a
                .checks
                .iter()
                .find(|x| x.check == "ha_role")
                .expect("ha_role");
            assert_eq!(role.detail, "ha_role: fw-a failed");
            let fwd = a.checks.iter().find(|x| x.check == "ip_forwarding");
            assert!(fwd.is_some_and(|x| x.applies), "{a:?}");
        }
        path::INCIDENT_ACK | path::INCIDENT_UNACK => {
            let verb = if route.path == path::INCIDENT_ACK {
                "ack"
            } else {
                "unack"
            };
            let (code, e): (u16, api::ApiError) = c
                .call(Method::Post, &p(&format!("/incidents/nope@1/{verb}")))
                .await;
            assert_eq!(code, 404, "{}", e.error);
            assert!(e.error.contains("no open incident `nope@1`"), "{}", e.error);
        }
        path::MAINTENANCE if route.method == Method::Get => {
            let m: api::MaintenanceResponse = c.get(&p(path::MAINTENANCE)).await;
            assert!(m.windows.is_empty(), "{m:?}");
        }
        path::MAINTENANCE => {
            let resp = c
                .client
                .post(format!("{}{}", c.base, p(path::MAINTENANCE)))
                .json(&serde_json::json!({"components": ["no-such-box"], "for_ms": 60_000}))
                .send()
                .await
                .expect("maintenance");
            assert_eq!(resp.status(), 400);
            let e: api::ApiError = resp.json().await.expect("error");
            assert!(e.error.contains("no-such-box"), "{}", e.error);
        }
        path::MAINTENANCE_END => {
            let (code, e): (u16, api::ApiError) =
                c.call(Method::Post, &p("/maintenance/mw-nope/end")).await;
            assert_eq!(code, 404, "{}", e.error);
        }
        path::LAB => {
            let l: api::LabStatus = c.get(&p(path::LAB)).await;
            assert_eq!(l.failed, ["fw-a"]);
            assert_eq!(l.active.get("fw-pair").map(String::as_str), Some("fw-b"));
        }
        path::LAB_ACTION => {
            let (code, e): (u16, api::ApiError) = c.call(Method::Post, &p("/lab/explode")).await;
            assert_eq!(code, 400, "{}", e.error);
        }
        path::LAB_ACTION_ID => {
            let (code, e): (u16, api::ApiError) =
                c.call(Method::Post, &p("/lab/fail/no-such-box")).await;
            assert_eq!(code, 400, "{}", e.error);
        }
        path::LAB_DRIFT => {
            let (code, e): (u16, api::ApiError) =
                c.call(Method::Post, &p("/lab/drift/fw-b/firmware")).await;
            assert_eq!(code, 400, "{}", e.error);
            assert!(e.error.contains("unknown drift `firmware`"), "{}", e.error);
            let (code, e): (u16, api::ApiError) = c
                .call(Method::Post, &p("/lab/drift/no-such-box/forwarding"))
                .await;
            assert_eq!(code, 400, "{}", e.error);
        }
        path::EVENTS => {
            let mut resp = c
                .client
                .get(format!("{}{}", c.base, p(path::EVENTS)))
                .send()
                .await
                .expect("events");
            assert_eq!(
                resp.headers()["content-type"].to_str().ok(),
                Some("text/event-stream")
            );
            let first = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
                .await
                .expect("hello within 5 s")
                .expect("chunk")
                .expect("not the end");
            let text = String::from_utf8_lossy(&first);
            assert!(text.starts_with("event: hello\ndata: {\"seq\":"), "{text}");
        }
        path::OPENAPI => {
            let doc: serde_json::Value = c.get(&p(path::OPENAPI)).await;
            assert!(doc["paths"]["/api/v1/why/{id}"]["get"].is_object());
        }
        path::METRICS => {
            let text = c
                .client
                .get(format!("{}{}", c.base, path::METRICS))
                .send()
                .await
                .expect("metrics")
                .text()
                .await
                .expect("text");
            assert!(text.contains("faultline_incidents_open 1"), "{text}");
        }
        path::HEALTHY | path::READY_PROBE => {
            let resp = c
                .client
                .get(format!("{}{}", c.base, route.path))
                .send()
                .await
                .expect("probe route");
            assert_eq!(resp.status(), 200, "{}", route.path);
        }
        other => panic!("route {other} has no check in this test"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_its_type_under_both_prefixes() {
    let c = start_demo().await;
    c.until("the API", async || {
        c.client
            .get(format!("{}{}", c.base, path::v1(path::STATUS)))
            .send()
            .await
            .ok()
    })
    .await;
    // Let every device be seen once, then fail the active firewall.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let lab: api::LabStatus = c
        .post(&path::lab_action(api::LabAction::Fail, Some("fw-a")))
        .await;
    assert_eq!(lab.failed, ["fw-a"]);
    c.until("an open incident", async || {
        let r: api::IncidentsResponse = c.get(&path::v1(path::INCIDENTS)).await;
        r.open.into_iter().next()
    })
    .await;

    c.until("fw-b active in the readiness view", async || {
        let r: api::ReadyResponse = c.get(&path::v1(path::READY)).await;
        (r.groups.first()?.active.as_deref() == Some("fw-b")).then_some(())
    })
    .await;

    for route in ROUTES {
        check_route(&c, route, route.prefix).await;
        if route.legacy_alias {
            check_route(&c, route, LEGACY_PREFIX).await;
        }
    }
    assert_eq!(PREFIX, "/api/v1");

    // The lab actions that change things, typed, on the versioned path.
    let lab: api::LabStatus = c.post(&path::lab_drift("fw-b", "forwarding")).await;
    assert_eq!(lab.drift.get("fw-b"), Some(&vec!["forwarding".to_string()]));
    let lab: api::LabStatus = c.post(&path::lab_action(api::LabAction::Fix, None)).await;
    assert!(lab.fixed);
    assert!(lab.drift.is_empty(), "fix undoes the drift");
    let lab: api::LabStatus = c
        .post(&path::lab_action(api::LabAction::Heal, Some("fw-a")))
        .await;
    assert!(lab.failed.is_empty());
    let lab: api::LabStatus = c.post(&path::lab_action(api::LabAction::Reset, None)).await;
    assert!(!lab.fixed);
}

/// The README walkthrough of issue #10: `lab drift fw-b forwarding` is a standby-readiness
/// warning while the portal still works; `lab fail fw-a` then pages one failover incident that
/// names fw-b first and cites since when it was known not ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_on_the_standby_warns_before_the_failover() {
    let c = start_demo().await;
    c.until("fw-b ready as the standby", async || {
        let r: api::ReadyResponse = c.get(&path::v1(path::READY)).await;
        let fw = r.groups.into_iter().next()?;
        let b = fw.standbys.into_iter().next()?;
        (fw.active.as_deref() == Some("fw-a") && b.verdict == api::Readiness::Ready).then_some(())
    })
    .await;
    let _: api::LabStatus = c.post(&path::lab_drift("fw-b", "forwarding")).await;
    let warning = c
        .until("the standby_not_ready warning", async || {
            let r: api::IncidentsResponse = c.get(&path::v1(path::INCIDENTS)).await;
            r.open
                .into_iter()
                .find(|i| i.kind == api::IncidentKind::StandbyNotReady)
        })
        .await;
    assert_eq!(warning.severity, api::Severity::Warning);
    assert_eq!(warning.root_causes, ["fw-b"]);
    assert!(
        warning
            .evidence
            .iter()
            .any(|e| e.text == "not ready: ip_forwarding: fw-a forwarding, fw-b notForwarding"),
        "{warning:?}"
    );
    let s: api::ServicesResponse = c.get(&path::v1(path::SERVICES)).await;
    let portal = s
        .services
        .iter()
        .find(|s| s.id == "portal")
        .expect("portal");
    assert_eq!(
        (portal.expected, portal.observed),
        (State::Degraded, State::Up),
        "redundancy consumed, the portal still works"
    );
    let r: api::IncidentsResponse = c.get(&path::v1(path::INCIDENTS)).await;
    assert_eq!(r.open.len(), 1, "{:?}", r.open);

    let _: api::LabStatus = c
        .post(&path::lab_action(api::LabAction::Fail, Some("fw-a")))
        .await;
    let page = c
        .until("the failover incident", async || {
            let r: api::IncidentsResponse = c.get(&path::v1(path::INCIDENTS)).await;
            r.open
                .into_iter()
                .find(|i| i.kind == api::IncidentKind::FailoverIneffective)
        })
        .await;
    assert_eq!(page.severity, api::Severity::Critical);
    assert_eq!(page.suspects[0].component, "fw-b");
    assert!(
        page.suspects[0].reason.contains("not ready since")
            && page.suspects[0].reason.contains("before the failover"),
        "{:?}",
        page.suspects[0]
    );
    let r: api::IncidentsResponse = c
        .get(&path::incidents(api::IncidentsQuery { all: true }))
        .await;
    assert_eq!(r.open.len(), 1, "one page per root cause: {:?}", r.open);
    let merged = r
        .resolved
        .iter()
        .find(|i| i.kind == api::IncidentKind::StandbyNotReady)
        .expect("the warning, resolved");
    let last = merged.evidence.last().expect("evidence");
    assert!(
        last.text
            .starts_with(&format!("merged into incident {}", page.id)),
        "{last:?}"
    );
}
