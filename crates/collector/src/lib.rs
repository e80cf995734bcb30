//! The long-running collector: the async shell around faultline's pure engine.
//!
//! ```text
//!  SNMP pollers ─┐                                   ┌─► store (journal, incidents, outbox)
//!  ICMP sweeps  ─┼─► observations ─► engine task ────┤
//!  HTTP/TCP     ─┤    (bounded mpsc)  (journal first, └─► notifier (PagerDuty, Alertmanager,
//!  trap receiver┘                      then engine)        webhooks) ─► receivers
//!        ▲                                │
//!        └──────── re-poll requests ◄─────┘          HTTP API + /metrics read the engine
//! ```
//!
//! Every observation is appended to the journal *before* the engine sees it, and transitions
//! are enqueued durably before the engine's sequence number is recorded. A restart (including
//! `kill -9`) replays the journal through a fresh engine — deterministic, so it reaches the
//! same incidents with the same ids — and enqueues only transitions past the recorded sequence
//! number: nothing is paged twice and nothing is lost.
//!
//! ```no_run
//! # async fn demo() -> Result<(), faultline_collector::CollectorError> {
//! use faultline_collector::{Collector, config::Config};
//! let cfg = Config::load(std::path::Path::new("faultline.toml"))?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! Collector::start(cfg, None, shutdown.clone()).await?.wait().await;
//! # Ok(()) }
//! ```

mod api;
pub mod config;
mod metrics;
pub mod wire;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use faultline_engine::{Engine, Output};
use faultline_graph::DependencyGraph;
use faultline_incident::IncidentTransition;
use faultline_lab::Lab;
use faultline_model::{Address, Topology};
use faultline_notify::{HttpOptions, Notifier};
use faultline_observe::{Observation, Signal, Subject, UnixMillis};
use faultline_store::Store;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Config;
pub use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("topology: {0}")]
    Topology(#[from] faultline_model::LoadError),
    #[error(transparent)]
    Store(#[from] faultline_store::StoreError),
    #[error("notify: {0}")]
    Notify(#[from] faultline_notify::NotifyError),
    #[error("demo lab: {0}")]
    Lab(std::io::Error),
    #[error(
        "HTTP API cannot listen on {addr}: {source} (is another faultline running? use `--listen ADDR` or [api] listen)"
    )]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "credential set `{name}` used by device `{device}` is not defined in the configuration"
    )]
    MissingCredentials { name: String, device: String },
    #[error("internal task failed: {0}")]
    Join(String),
}

pub use faultline_observe::time::now_ms;

/// State shared by the tasks and the API.
pub(crate) struct Shared {
    pub engine: Mutex<Engine>,
    pub store: Store,
    pub notifier: Notifier,
    pub lab: Option<Lab>,
    pub metrics: Metrics,
    pub topology_name: String,
    pub started: Instant,
}

impl Shared {
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock would be a bug; the engine's data stays consistent
        // (every mutation completes before outputs are returned), so keep serving.
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running collector.
pub struct Collector {
    shared: Arc<Shared>,
    api_addr: SocketAddr,
    tasks: JoinSet<()>,
    shutdown: CancellationToken,
}

/// What the pollers need to know about one device.
#[derive(Clone)]
struct PollTarget {
    device: String,
    snmp: Option<faultline_snmp::Target>,
    ip: Option<IpAddr>,
}

impl Collector {
    /// Load everything, restore state from the store, and start all tasks. `topology`
    /// overrides the config's topology path (used for the embedded demo).
    pub async fn start(
        cfg: Config,
        topology: Option<Topology>,
        shutdown: CancellationToken,
    ) -> Result<Collector, CollectorError> {
        let topology = match topology {
            Some(t) => t,
            None => Topology::load(&cfg.topology)?,
        };
        let lab = if cfg.lab {
            Some(
                Lab::start(topology.clone())
                    .await
                    .map_err(CollectorError::Lab)?,
            )
        } else {
            None
        };
        let targets = plan_targets(&cfg, &topology, lab.as_ref()).await?;
        let mut engine_cfg = cfg.engine.clone();
        engine_cfg.monitored.extend(monitored(&topology, &targets));
        let name = topology.name.clone();
        let graph = Arc::new(DependencyGraph::new(topology));

        let store_path = cfg.store.path.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&store_path))
            .await
            .map_err(|e| CollectorError::Join(e.to_string()))??;
        let notifier = Notifier::new(store.clone(), cfg.notify.clone(), HttpOptions::default())?;

        // Restore: replay the journal through a fresh engine (deterministic), then enqueue
        // whatever transitions were produced but never recorded as enqueued.
        // Restore: the latest engine snapshot (if it matches this topology and configuration)
        // plus the journal written after it; otherwise the whole journal through a fresh engine.
        // Either is deterministic, and transitions past the recorded sequence number — produced
        // before a crash but never enqueued — are enqueued now.
        let st = store.clone();
        let (snapshot, enqueued_seq) =
            tokio::task::spawn_blocking(move || -> Result<_, faultline_store::StoreError> {
                Ok((st.snapshot(SNAPSHOT)?, st.engine_seq()?))
            })
            .await
            .map_err(|e| CollectorError::Join(e.to_string()))??;
        let (mut engine, from) = match snapshot.as_deref().and_then(split_snapshot) {
            Some((seq, bytes)) => match Engine::restore(graph.clone(), engine_cfg.clone(), bytes) {
                Ok(e) => {
                    info!(journal_seq = seq, "engine restored from snapshot");
                    (e, seq + 1)
                }
                Err(e) => {
                    warn!(error = %e, "engine snapshot not used; replaying the whole journal");
                    (Engine::new(graph.clone(), engine_cfg), 0)
                }
            },
            None => (Engine::new(graph.clone(), engine_cfg), 0),
        };
        let st = store.clone();
        let journal = tokio::task::spawn_blocking(move || st.journal_from(from))
            .await
            .map_err(|e| CollectorError::Join(e.to_string()))??;
        let replayed = journal.len();
        let journal_seq = journal
            .last()
            .map(|(s, _)| *s)
            .unwrap_or(from.saturating_sub(1));
        let obs: Vec<Observation> = journal.into_iter().map(|(_, o)| o).collect();
        let mut outs = engine.ingest(&obs);
        if let Some(last) = obs.last() {
            outs.extend(engine.advance(last.at));
        }
        let missed: Vec<IncidentTransition> = outs
            .into_iter()
            .filter_map(|o| match o {
                Output::Transition(t) if t.seq > enqueued_seq => Some(t),
                _ => None,
            })
            .collect();
        let mut unsent = Vec::new();
        if !missed.is_empty() {
            info!(
                count = missed.len(),
                "enqueueing transitions that were produced before a crash but never enqueued"
            );
            unsent = enqueue(&notifier, missed).await.unwrap_or_default();
        }
        info!(
            observations = replayed,
            open_incidents = engine.open_incidents().len(),
            seq = engine.seq(),
            "state restored from the journal"
        );

        let metrics = Metrics::new(notifier.stats_handle());
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            store,
            notifier,
            lab,
            metrics,
            topology_name: name,
            started: Instant::now(),
        });

        let mut tasks = JoinSet::new();
        let (obs_tx, obs_rx) = mpsc::channel::<Vec<Observation>>(1024);
        // The restart marker goes through the journal like any observation.
        let _ = obs_tx
            .send(vec![Observation::new(
                now_ms(),
                Subject::device(""),
                Signal::CollectorStarted,
            )])
            .await;

        let wakers: Arc<HashMap<String, Arc<Notify>>> = Arc::new(
            targets
                .iter()
                .map(|t| (t.device.clone(), Arc::new(Notify::new())))
                .collect(),
        );
        let (repoll_tx, mut repoll_rx) = mpsc::channel::<Vec<String>>(1024);

        tasks.spawn(engine_task(
            shared.clone(),
            obs_rx,
            repoll_tx.clone(),
            journal_seq,
            unsent,
            Duration::from_secs_f64(cfg.snapshot.interval_s.max(1.0)),
            (cfg.snapshot.journal_retention_h.max(0.0) * 3_600_000.0) as u64,
            shutdown.clone(),
        ));
        {
            let wakers = wakers.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        ids = repoll_rx.recv() => match ids {
                            Some(ids) => for id in ids {
                                if let Some(w) = wakers.get(&id) { w.notify_one(); }
                            },
                            None => break,
                        },
                    }
                }
            });
        }
        let poller = faultline_snmp::SnmpPoller::new(faultline_snmp::PollerConfig {
            global_concurrency: cfg.poll.concurrency.max(1),
            ..faultline_snmp::PollerConfig::default()
        });
        let interval = Duration::from_secs_f64(cfg.poll.interval_s.max(0.2));
        for t in targets.iter().filter(|t| t.snmp.is_some()) {
            let waker = wakers.get(&t.device).cloned().unwrap_or_default();
            tasks.spawn(snmp_loop(
                shared.clone(),
                poller.clone(),
                t.clone(),
                interval,
                cfg.poll.jitter,
                waker,
                obs_tx.clone(),
                shutdown.clone(),
            ));
        }
        if cfg.icmp.enabled {
            let ips: Vec<(String, IpAddr)> = targets
                .iter()
                .filter_map(|t| t.ip.map(|ip| (t.device.clone(), ip)))
                .collect();
            if !ips.is_empty() {
                tasks.spawn(icmp_loop(
                    ips,
                    Duration::from_secs_f64(cfg.icmp.interval_s.max(1.0)),
                    obs_tx.clone(),
                    shutdown.clone(),
                ));
            }
        }
        for (service, check) in plan_probes(&shared, &cfg) {
            tasks.spawn(probe_loop(
                service,
                check,
                Duration::from_secs_f64(cfg.probe.interval_s.max(0.2)),
                obs_tx.clone(),
                shutdown.clone(),
            ));
        }
        if let Some(tr) = &cfg.traps {
            spawn_traps(
                &mut tasks,
                tr,
                &targets,
                obs_tx.clone(),
                repoll_tx.clone(),
                shutdown.clone(),
            )
            .await;
        }
        {
            let n = shared.notifier.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move { n.run(stop.cancelled_owned()).await });
        }
        let listener = tokio::net::TcpListener::bind(cfg.api.listen)
            .await
            .map_err(|source| CollectorError::Listen {
                addr: cfg.api.listen,
                source,
            })?;
        let api_addr = listener
            .local_addr()
            .map_err(|source| CollectorError::Listen {
                addr: cfg.api.listen,
                source,
            })?;
        {
            let app = api::router(shared.clone());
            let stop = shutdown.clone();
            tasks.spawn(async move {
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                {
                    warn!(error = %e, "HTTP API stopped");
                }
            });
        }
        info!(api = %api_addr, devices = targets.len(), "collector running");
        Ok(Collector {
            shared,
            api_addr,
            tasks,
            shutdown,
        })
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    pub fn lab(&self) -> Option<&Lab> {
        self.shared.lab.as_ref()
    }

    /// Run until the shutdown token fires, then wait for every task to finish (the notifier
    /// stops between deliveries; the outbox keeps the rest for the next start).
    pub async fn wait(mut self) {
        self.shutdown.cancelled().await;
        let deadline = tokio::time::sleep(Duration::from_secs(10));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                r = self.tasks.join_next() => if r.is_none() { break },
                _ = &mut deadline => {
                    warn!("tasks did not stop within 10 s; aborting them");
                    self.tasks.abort_all();
                    break;
                }
            }
        }
        info!("collector stopped");
    }
}

/// Devices to poll and how; an error names a device whose credential set is missing.
async fn plan_targets(
    cfg: &Config,
    t: &Topology,
    lab: Option<&Lab>,
) -> Result<Vec<PollTarget>, CollectorError> {
    let mut out = Vec::new();
    for d in &t.devices {
        let (addr, ip) = match lab {
            Some(lab) => (lab.agent_addr(&d.id), None),
            None => match &d.address {
                Some(Address::Ip(ip)) => (Some(SocketAddr::new(*ip, cfg.poll.port)), Some(*ip)),
                // Host names are resolved once at start; a name that does not resolve is logged
                // and the device is watched by nothing (its state stays unknown, never up).
                // The lookup is async and bounded: a hung resolver must not stall start-up.
                Some(Address::Host(h)) => {
                    let lookup = tokio::net::lookup_host((h.as_str(), cfg.poll.port));
                    match tokio::time::timeout(Duration::from_secs(5), lookup).await {
                        Ok(Ok(mut it)) => {
                            let a = it.next();
                            (a, a.map(|a| a.ip()))
                        }
                        Ok(Err(e)) => {
                            warn!(device = %d.id, host = %h, error = %e, "cannot resolve device address");
                            (None, None)
                        }
                        Err(_) => {
                            warn!(device = %d.id, host = %h, "resolving the device address timed out");
                            (None, None)
                        }
                    }
                }
                None => (None, None),
            },
        };
        let cred_name = d.snmp.clone().unwrap_or_else(|| "default".to_string());
        let creds = match (lab, cfg.credentials.get(&cred_name)) {
            (Some(_), _) => Some(faultline_snmp::Credentials::v2c("public")),
            (None, Some(c)) => Some(c.clone()),
            (None, None) if d.snmp.is_some() => {
                return Err(CollectorError::MissingCredentials {
                    name: cred_name,
                    device: d.id.clone(),
                });
            }
            (None, None) => None,
        };
        let snmp = match (addr, creds) {
            (Some(addr), Some(credentials)) => {
                let mut target = faultline_snmp::Target::new(d.id.clone(), addr, credentials);
                target.profile = d.profile.clone();
                target.timeout = Duration::from_millis(cfg.poll.timeout_ms.max(50));
                target.retries = cfg.poll.retries;
                target.max_repetitions = cfg.poll.max_repetitions.max(1);
                Some(target)
            }
            _ => None,
        };
        if snmp.is_some() || ip.is_some() {
            out.push(PollTarget {
                device: d.id.clone(),
                snmp,
                ip,
            });
        }
    }
    Ok(out)
}

/// Ids the engine should treat as monitored (unknown until seen, stale when silent).
fn monitored(t: &Topology, targets: &[PollTarget]) -> Vec<String> {
    let polled: BTreeSet<&str> = targets
        .iter()
        .filter(|x| x.snmp.is_some())
        .map(|x| x.device.as_str())
        .collect();
    let mut ids: Vec<String> = targets.iter().map(|x| x.device.clone()).collect();
    for l in &t.links {
        if polled.contains(l.a().device) || polled.contains(l.b().device) {
            ids.push(l.id().to_string());
        }
    }
    ids.extend(
        t.services
            .iter()
            .filter(|s| s.probe.is_some())
            .map(|s| s.id.clone()),
    );
    ids
}

enum Check {
    Http(faultline_probe::HttpCheck),
    Tcp(String),
}

fn plan_probes(shared: &Shared, cfg: &Config) -> Vec<(String, Check)> {
    let engine = shared.engine();
    let t = engine.graph().topology();
    let timeout = Duration::from_millis(cfg.probe.timeout_ms.max(50));
    let mut out = Vec::new();
    for s in &t.services {
        let Some(p) = &s.probe else { continue };
        let url = match &shared.lab {
            Some(lab) => lab.service_url(&s.id),
            None => p.url.clone(),
        };
        if let Some(url) = url {
            let mut check = faultline_probe::HttpCheck::new(url);
            check.expect_status = p.expect_status.clone();
            check.body_contains = p.body_contains.clone();
            check.timeout = timeout;
            out.push((s.id.clone(), Check::Http(check)));
        } else if let Some(tcp) = &p.tcp {
            out.push((s.id.clone(), Check::Tcp(tcp.clone())));
        }
    }
    out
}

/// A random delay in `[0, interval * jitter)`, so devices do not all poll in the same tick.
fn jitter(interval: Duration, fraction: f64) -> Duration {
    let f = fraction.clamp(0.0, 1.0) * rand::random::<f64>();
    interval.mul_f64(f)
}

#[allow(clippy::too_many_arguments)]
async fn snmp_loop(
    shared: Arc<Shared>,
    poller: faultline_snmp::SnmpPoller,
    target: PollTarget,
    interval: Duration,
    jitter_fraction: f64,
    waker: Arc<Notify>,
    tx: mpsc::Sender<Vec<Observation>>,
    stop: CancellationToken,
) {
    let Some(snmp) = target.snmp else { return };
    let mut prev: Option<faultline_snmp::PollState> = None;
    tokio::select! {
        _ = stop.cancelled() => return,
        _ = tokio::time::sleep(jitter(interval, jitter_fraction)) => {}
    }
    loop {
        let started = Instant::now();
        // Boxed: a poll's future is large (~6 KB: walk buffers, the report) and a task is as big as
        // its largest await point, so ten thousand sleeping device tasks would each keep a
        // poll-sized allocation alive. Boxed, it exists only while the poll runs.
        let outcome = Box::pin(poller.poll(&snmp, prev.as_ref())).await;
        shared
            .metrics
            .poll_done(started.elapsed(), &outcome.observations);
        prev = Some(outcome.state);
        if tx.send(outcome.observations).await.is_err() {
            return;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
            // A re-poll request (the engine or a trap wants fresh data now).
            _ = waker.notified() => {}
        }
    }
}

async fn icmp_loop(
    targets: Vec<(String, IpAddr)>,
    interval: Duration,
    tx: mpsc::Sender<Vec<Observation>>,
    stop: CancellationToken,
) {
    let prober = match faultline_probe::IcmpProber::new() {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "ICMP disabled");
            return;
        }
    };
    let ips: Vec<IpAddr> = targets.iter().map(|(_, ip)| *ip).collect();
    let opts = faultline_probe::IcmpOptions::default();
    loop {
        let results = prober.sweep(&ips, &opts).await;
        let at = now_ms();
        let batch: Vec<Observation> = targets
            .iter()
            .zip(results)
            .map(|((dev, _), r)| Observation::new(at, Subject::device(dev.clone()), r.to_signal()))
            .collect();
        if tx.send(batch).await.is_err() {
            return;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

async fn probe_loop(
    service: String,
    check: Check,
    interval: Duration,
    tx: mpsc::Sender<Vec<Observation>>,
    stop: CancellationToken,
) {
    let http = match faultline_probe::HttpProber::new() {
        Ok(h) => h,
        Err(e) => {
            warn!(service = %service, error = %e, "service probe disabled");
            return;
        }
    };
    loop {
        let signal = match &check {
            Check::Http(c) => http.probe(c).await.to_signal(),
            // A hung resolver must not stall this service's probe loop.
            Check::Tcp(addr) => match tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::lookup_host(addr.as_str()),
            )
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|mut a| a.next())
            {
                Some(sa) => faultline_probe::tcp_probe(sa, Duration::from_secs(5))
                    .await
                    .to_signal(),
                None => Signal::Probe {
                    ok: false,
                    status: None,
                    latency_ms: 0.0,
                    detail: Some(format!("cannot resolve {addr}")),
                },
            },
        };
        let obs = Observation::new(now_ms(), Subject::service(service.clone()), signal);
        if tx.send(vec![obs]).await.is_err() {
            return;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

async fn spawn_traps(
    tasks: &mut JoinSet<()>,
    tr: &config::TrapSettings,
    targets: &[PollTarget],
    tx: mpsc::Sender<Vec<Observation>>,
    repoll: mpsc::Sender<Vec<String>>,
    stop: CancellationToken,
) {
    let mut tc = faultline_trap::TrapConfig::new(tr.listen);
    tc.sources = targets
        .iter()
        .filter_map(|t| t.ip.map(|ip| (ip, t.device.clone())))
        .collect();
    match tr
        .community_env
        .as_deref()
        .and_then(|v| std::env::var(v).ok())
    {
        Some(c) => tc.communities = vec![faultline_trap::Secret::new(c)],
        None => warn!(
            "[traps] has no community_env (or the variable is unset): v1/v2c traps will be refused"
        ),
    }
    match faultline_trap::TrapReceiver::bind_with_shutdown(tc, stop.clone()).await {
        Ok((receiver, mut events)) => {
            info!(listen = %receiver.local_addr(), "trap receiver listening");
            tasks.spawn(async move {
                // Keep the receiver alive as long as this task runs.
                let _receiver = receiver;
                while let Some(ev) = events.recv().await {
                    if let Some(dev) = ev.repoll.clone() {
                        let _ = repoll.try_send(vec![dev]);
                    }
                    if !ev.observations.is_empty() && tx.send(ev.observations).await.is_err() {
                        break;
                    }
                }
            });
        }
        Err(e) => warn!(error = %e, "trap receiver disabled"),
    }
}

/// The only writer of the journal and the only caller of the engine.
#[allow(clippy::too_many_arguments)]
async fn engine_task(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Vec<Observation>>,
    repoll: mpsc::Sender<Vec<String>>,
    mut journal_seq: u64,
    // Transitions whose enqueue failed (disk full, ...): retried first, in order, with the next
    // ones. The engine sequence number only advances with a successful enqueue, and no snapshot
    // is taken while any wait, so a restart re-derives them too.
    mut unsent: Vec<IncidentTransition>,
    snapshot_every: Duration,
    retention_ms: u64,
    stop: CancellationToken,
) {
    let mut last_snapshot = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_at: UnixMillis = shared.engine().now();
    loop {
        let mut batch: Vec<Observation> = Vec::new();
        tokio::select! {
            _ = stop.cancelled() => break,
            got = rx.recv() => match got {
                Some(b) => {
                    batch.extend(b);
                    // Drain what else is waiting: one journal write and fsync for all of it,
                    // bounded so that one transaction's dirty pages stay small (a first poll of
                    // ten thousand devices arrives as one burst).
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(b) => batch.extend(b),
                            Err(_) => break,
                        }
                    }
                }
                None => break,
            },
            _ = tick.tick() => {}
        }
        // The journal is in time order: an answer that took long to arrive is stamped no
        // earlier than what the engine has already seen.
        for o in &mut batch {
            o.at = o.at.max(last_at);
            last_at = o.at;
        }
        if !batch.is_empty() {
            // The batch moves to the blocking pool and back: no copy of a storm's worth of data.
            let store = shared.store.clone();
            match tokio::task::spawn_blocking(move || {
                let r = store.append_observations(&batch);
                (r, batch)
            })
            .await
            {
                Ok((r, b)) => {
                    match r {
                        Ok(Some(seq)) => journal_seq = seq,
                        Ok(None) => {}
                        Err(e) => {
                            warn!(error = %e, "journal write failed; observations processed but not persisted")
                        }
                    }
                    batch = b;
                }
                Err(e) => {
                    warn!(error = %e, "journal task failed; this batch is lost");
                    batch = Vec::new();
                }
            }
            shared.metrics.observations(batch.len());
        }
        let now = now_ms().max(last_at);
        // Later observations are stamped no earlier than the engine's clock, so the journal
        // replays through exactly the instants the live engine went through.
        last_at = now;
        let outs = {
            let mut engine = shared.engine();
            let mut outs = engine.ingest(&batch);
            outs.extend(engine.advance(now));
            outs
        };
        let mut transitions = Vec::new();
        for o in outs {
            match o {
                Output::Transition(t) => transitions.push(t),
                Output::Repoll(ids) => {
                    let _ = repoll.try_send(ids);
                }
                Output::StateChanged { id, from, to, .. } => {
                    info!(component = %id, from = from.as_str(), to = to.as_str(), "state changed");
                }
            }
        }
        for t in &transitions {
            info!(incident = %t.incident.id, action = ?t.action, kind = t.incident.kind.as_str(), severity = t.incident.severity.as_str(), "{}", t.incident.title);
        }
        shared.metrics.transitions(&transitions);
        unsent.extend(transitions);
        if !unsent.is_empty() {
            unsent = enqueue(&shared.notifier, std::mem::take(&mut unsent))
                .await
                .unwrap_or_default();
        }
        if unsent.is_empty() && last_snapshot.elapsed() >= snapshot_every {
            last_snapshot = Instant::now();
            if save_snapshot(&shared, journal_seq).await {
                prune_journal(&shared, journal_seq + 1, now.saturating_sub(retention_ms)).await;
            }
        }
    }
    // Graceful stop: a fresh snapshot makes the next start replay almost nothing (unless
    // transitions are still unsent: then the next start must re-derive them from the journal).
    if unsent.is_empty() {
        let _ = save_snapshot(&shared, journal_seq).await;
    }
}

/// Most observations journaled (and fed to the engine) per engine-task iteration.
const MAX_BATCH: usize = 5_000;

/// Name of the engine snapshot in the store.
const SNAPSHOT: &str = "engine";

/// Store layout of a snapshot: the journal sequence it covers (u64, little endian), then the
/// engine's bytes.
fn split_snapshot(b: &[u8]) -> Option<(u64, &[u8])> {
    let (seq, rest) = b.split_at_checked(8)?;
    Some((u64::from_le_bytes(seq.try_into().ok()?), rest))
}

async fn save_snapshot(shared: &Arc<Shared>, journal_seq: u64) -> bool {
    let mut bytes = journal_seq.to_le_bytes().to_vec();
    bytes.extend(shared.engine().snapshot());
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.put_snapshot(SNAPSHOT, &bytes)).await {
        Ok(Ok(())) => {
            tracing::debug!(journal_seq, "engine snapshot saved");
            true
        }
        Ok(Err(e)) => {
            warn!(error = %e, "engine snapshot not saved");
            false
        }
        Err(e) => {
            warn!(error = %e, "snapshot task failed");
            false
        }
    }
}

/// Drop journal entries past retention that the saved snapshot already covers.
async fn prune_journal(shared: &Arc<Shared>, keep_from: u64, older_than: UnixMillis) {
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.prune_journal(keep_from, older_than)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => info!(entries = n, "journal pruned past retention"),
        Ok(Err(e)) => warn!(error = %e, "journal pruning failed"),
        Err(e) => warn!(error = %e, "journal pruning task failed"),
    }
}

/// Durably enqueue transitions and record the engine sequence number they reached.
async fn enqueue(
    notifier: &Notifier,
    ts: Vec<IncidentTransition>,
) -> Option<Vec<IncidentTransition>> {
    let max = ts.iter().map(|t| t.seq).max().unwrap_or(0);
    let n = notifier.clone();
    // Kept in case the blocking task itself dies: transitions are few, the copy is cheap.
    let keep = ts.clone();
    // One transaction: the outbox entries, the incidents and the engine sequence number, so a
    // crash leaves either all of it or none (then the replay re-derives it).
    let r = tokio::task::spawn_blocking(move || {
        let r = n.enqueue_many_with(&ts, |txn| txn.set_engine_seq(max));
        (r, ts)
    })
    .await;
    match r {
        Ok((Ok(()), _)) => None,
        Ok((Err(e), ts)) => {
            warn!(error = %e, pending = ts.len(), "could not enqueue incident transitions; retrying with the next batch");
            Some(ts)
        }
        Err(e) => {
            warn!(error = %e, "enqueue task failed; retrying with the next batch");
            Some(keep)
        }
    }
}
