//! Pager benchmark (harness = false; run by `bench/pager-latency.sh`): prints figures, asserts
//! only correctness (order, completeness), never time.
//!
//! 1. latency: enqueue (incl. the outbox fsync) -> a local webhook has the request, one
//!    transition at a time: p50 / p99;
//! 2. backlog: 10,000 transitions (5,000 incidents x trigger + resolve) queued during an outage,
//!    then drained: deliveries/s, and no resolve ahead of its trigger.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use faultline_incident::*;
use faultline_notify::{HttpOptions, Notifier, NotifyConfig, Receivers, Store};
use tokio::sync::mpsc;

type Arrivals = Arc<Mutex<Vec<(String, String)>>>;

#[derive(Clone)]
struct Rx {
    tx: mpsc::UnboundedSender<u64>,
    log: Arrivals,
}

async fn hook(State(rx): State<Rx>, body: Bytes) -> StatusCode {
    let Ok(t) = serde_json::from_slice::<IncidentTransition>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let action = match t.action {
        TransitionAction::Resolve => "resolve",
        _ => "trigger",
    };
    rx.log
        .lock()
        .unwrap()
        .push((t.incident.id.clone(), action.to_string()));
    let _ = rx.tx.send(t.seq);
    StatusCode::ACCEPTED
}

fn incident(id: String) -> Incident {
    Incident {
        id,
        kind: IncidentKind::ServiceDown,
        severity: Severity::Critical,
        title: "bench".into(),
        root_causes: vec!["fw-a".into()],
        affected_services: vec![AffectedService {
            id: "portal".into(),
            name: "portal".into(),
            tier: "critical".into(),
            state: ServiceState::Down,
            tags: vec![],
            outage: None,
        }],
        suspects: vec![],
        evidence: vec![],
        status: IncidentStatus::Open,
        opened_at: 1,
        updated_at: 1,
        resolved_at: None,
        suppressed: false,
        acknowledged: None,
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

async fn bench() {
    let latency_n: usize = std::env::var("PAGER_BENCH_LATENCY_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let backlog_incidents: usize = std::env::var("PAGER_BENCH_BACKLOG_INCIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);

    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let log: Arrivals = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(Rx {
            tx,
            log: log.clone(),
        });
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let cfg: NotifyConfig = toml::from_str(&format!(
        "max_in_flight = 32\n[[receivers]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://{addr}/hook\"\nsecret = \"bench-secret\"\n"
    ))
    .unwrap();

    // 1. Latency, one transition at a time.
    let store = Store::open(dir.path().join("latency.redb")).unwrap();
    let n = Notifier::new(
        store,
        Receivers::build(&cfg).unwrap(),
        HttpOptions::default(),
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn({
        let n = n.clone();
        async move {
            n.run(async {
                let _ = stopped.await;
            })
            .await
        }
    });
    let mut lat = Vec::with_capacity(latency_n);
    let mut enq = Vec::with_capacity(latency_n);
    for i in 0..latency_n {
        let t = IncidentTransition {
            seq: i as u64 + 1,
            action: TransitionAction::Trigger,
            at: 1,
            incident: incident(format!("lat-{i}")),
        };
        let t0 = Instant::now();
        n.enqueue_async(t).await.unwrap();
        enq.push(t0.elapsed());
        loop {
            match arrivals.recv().await {
                Some(s) if s == i as u64 + 1 => break,
                Some(_) => continue,
                None => panic!("receiver gone"),
            }
        }
        lat.push(t0.elapsed());
    }
    let _ = stop.send(());
    runner.await.unwrap();
    lat.sort();
    enq.sort();
    println!(
        "latency enqueue->receiver (n={latency_n}): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms   (enqueue+fsync alone: p50 {:.2} ms p99 {:.2} ms)",
        pct(&lat, 0.5).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
        pct(&enq, 0.5).as_secs_f64() * 1e3,
        pct(&enq, 0.99).as_secs_f64() * 1e3,
    );

    // 2. Outage backlog: enqueue everything with no delivery loop running, then drain.
    log.lock().unwrap().clear();
    while arrivals.try_recv().is_ok() {}
    let store = Store::open(dir.path().join("backlog.redb")).unwrap();
    let n = Notifier::new(
        store,
        Receivers::build(&cfg).unwrap(),
        HttpOptions::default(),
    )
    .unwrap();
    let mut seq = 0u64;
    let t0 = Instant::now();
    let incs: Vec<Incident> = (0..backlog_incidents)
        .map(|i| incident(format!("inc-{i:05}")))
        .collect();
    // Engine steps of 100 transitions each: one transaction (one fsync) per step.
    let mut all = Vec::new();
    for inc in &incs {
        seq += 1;
        all.push(IncidentTransition {
            seq,
            action: TransitionAction::Trigger,
            at: 1,
            incident: inc.clone(),
        });
    }
    for inc in &incs {
        seq += 1;
        let mut r = inc.clone();
        r.status = IncidentStatus::Resolved;
        all.push(IncidentTransition {
            seq,
            action: TransitionAction::Resolve,
            at: 2,
            incident: r,
        });
    }
    for chunk in all.chunks(100) {
        n.enqueue_many(chunk).unwrap();
    }
    let enqueue_time = t0.elapsed();
    let total = all.len();
    assert_eq!(n.stats().pending as usize, total);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let t1 = Instant::now();
    let runner = tokio::spawn({
        let n = n.clone();
        async move {
            n.run(async {
                let _ = stopped.await;
            })
            .await
        }
    });
    while n.stats().pending > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drain = t1.elapsed();
    let _ = stop.send(());
    runner.await.unwrap();

    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), total, "every transition delivered exactly once");
    let mut state: HashMap<&str, &str> = HashMap::new();
    for (id, action) in &log {
        let prev = state.insert(id.as_str(), action.as_str());
        match action.as_str() {
            "trigger" => assert_eq!(prev, None, "{id}: trigger twice or after resolve"),
            _ => assert_eq!(prev, Some("trigger"), "{id}: resolve before trigger"),
        }
    }
    println!(
        "backlog of {total} transitions: enqueued in {:.2} s ({:.0}/s, batches of 100); drained in {:.2} s = {:.0} deliveries/s; order per incident kept",
        enqueue_time.as_secs_f64(),
        total as f64 / enqueue_time.as_secs_f64(),
        drain.as_secs_f64(),
        total as f64 / drain.as_secs_f64()
    );
}
