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
//! The embedding program may hand the collector a topology, [`TargetOverrides`] (addresses to
//! poll and probe instead of the topology's) and extra HTTP routes, through [`StartOptions`]:
//! that is how `faultline run` plugs in the demo lab, which this crate knows nothing about.
//!
//! ```no_run
//! # async fn demo() -> Result<(), faultline_collector::CollectorError> {
//! use faultline_collector::{Collector, StartOptions, config::Config};
//! let cfg = Config::load(std::path::Path::new("faultline.toml"))?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! Collector::start(cfg, StartOptions::default(), shutdown.clone()).await?.wait().await;
//! # Ok(()) }
//! ```

pub mod config;
mod http;
mod metrics;
mod persist;
mod plan;
mod poll_problems;
mod prepare;
mod restore;
mod tasks;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use faultline_engine::Engine;
use faultline_model::Topology;
use faultline_notify::{HttpOptions, Notifier, Receivers};
use faultline_store::{ReleaseWatch, Store};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Config;
pub use crate::http::auth::{ANONYMOUS, Actor, AuthMethod, hash_password};
pub use crate::metrics::{
    ClusterMetrics, Metrics, PollerCounts, PollerStatsSource, set_build_commit,
};
pub use crate::plan::{SnmpAgent, TargetOverrides};
pub use crate::prepare::{Prepared, Problem, Problems, Summary};
pub use crate::tasks::shape::{FeedBatch, Leadership, Shape};
pub use faultline_observe::time::now_ms;

/// How long [`Collector::wait`] gives the tasks to stop after shutdown before aborting them.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// How long [`Collector::wait`] then waits for the last handle on the store to be dropped. An
/// aborted task's blocking journal write (a poll round of 100k devices cut off mid-way) still
/// runs to its end and holds the file's lock until then; a reload must not open the file
/// before. Past this, `wait` returns anyway and says so (the next open then fails loudly).
const STORE_RELEASE_DEADLINE: Duration = Duration::from_secs(30);

/// Why the collector could not start.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The configuration cannot be constructed: every problem found (nothing was started and
    /// no file created).
    #[error(transparent)]
    Invalid(#[from] Problems),
    #[error(transparent)]
    Store(#[from] faultline_store::StoreError),
    #[error("notify: {0}")]
    Notify(#[from] faultline_notify::NotifyError),
    #[error(
        "HTTP API cannot listen on {addr}: {source} (is another faultline running? use `--listen ADDR` or [api] listen)"
    )]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("internal task failed: {0}")]
    Join(String),
}

/// What the program embedding the collector adds to it. The default is a plain collector on
/// the configuration's topology.
#[derive(Default)]
pub struct StartOptions {
    /// The topology to use instead of loading the configuration's `topology` file (the
    /// embedded demo topology).
    pub topology: Option<Topology>,
    /// Where to poll devices and probe services instead of their topology addresses (the demo
    /// lab). When given, `/api/status` reports `"lab": true`.
    pub overrides: Option<Arc<dyn TargetOverrides>>,
    /// More HTTP routes for the API server, merged with the collector's own (the lab's
    /// `/api/lab`). Their paths must not overlap the collector's (`/api/status`, `/api/services`,
    /// `/api/components`, `/api/incidents`, `/api/why/{id}`, `/api/timeline`, `/metrics`):
    /// axum refuses overlapping routes with a panic at start. The API's guard (`Host:` names,
    /// JSON or token for changes) applies to them as to every route.
    pub routes: Option<axum::Router>,
    /// Single process (default), poller or correlator: see [`Shape`].
    pub shape: Shape,
}

/// State shared by the tasks and the API.
pub(crate) struct Shared {
    pub engine: Mutex<Engine>,
    pub store: Store,
    pub notifier: Notifier,
    pub metrics: Metrics,
    /// Devices whose SNMP polls keep failing (logged, shown, counted).
    pub poll_problems: poll_problems::PollProblems,
    pub topology_name: String,
    /// Whether [`TargetOverrides`] stand in for the devices and services (the demo lab).
    pub simulated: bool,
    pub started: Instant,
    /// Counts the engine rounds that changed a state or an incident: the console's live
    /// updates (`/api/v1/events`) wait on it.
    pub changes: tokio::sync::watch::Sender<u64>,
    /// Fires at shutdown: long-lived answers (the event stream) end with it.
    pub stopping: CancellationToken,
    /// Operators' actions (acknowledge, maintenance) to the engine task, which journals them
    /// like observations; closed when this collector runs no engine (a poller).
    pub actions: tokio::sync::mpsc::Sender<Vec<faultline_observe::Observation>>,
}

impl Shared {
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock would be a bug; the engine's data stays consistent
        // (every mutation completes before outputs are returned), so keep serving.
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Operators' actions waiting for the engine task (an HTTP request waits for a free slot).
const ACTION_QUEUE: usize = 64;

/// A running collector.
pub struct Collector {
    api_addr: SocketAddr,
    /// Every task; joined (then aborted past [`STOP_DEADLINE`]) at shutdown.
    tasks: JoinSet<()>,
    shutdown: CancellationToken,
    /// Released once the tasks (and their blocking writes) have dropped every store handle:
    /// [`Collector::wait`] returns only then, so the file can be opened again at once.
    store_released: ReleaseWatch,
}

impl Collector {
    /// Construct everything `cfg` needs (topology, receivers with their secrets, credential
    /// sets, profiles, trap community, the store's location, the watch plan) without starting,
    /// binding or creating anything, and report every problem at once. `run --check` stops here;
    /// a reload does this while the running collector keeps going.
    pub async fn prepare(cfg: Config, options: StartOptions) -> Result<Prepared, Problems> {
        let StartOptions {
            topology,
            overrides,
            routes,
            shape,
        } = options;
        let mut prepared = prepare::prepare(cfg, topology, overrides, routes).await?;
        prepared
            .plan
            .retain_zone(|zone| shape.watches(zone), shape.vantage());
        prepared.shape = shape;
        Ok(prepared)
    }

    /// [`prepare`](Self::prepare), then [`Prepared::start`].
    pub async fn start(
        cfg: Config,
        options: StartOptions,
        shutdown: CancellationToken,
    ) -> Result<Collector, CollectorError> {
        Self::prepare(cfg, options).await?.start(shutdown).await
    }

    /// Where the HTTP API listens (the actual port when the configuration asked for port 0).
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Run until the shutdown token fires, then wait for every task to finish (the notifier
    /// stops between deliveries; the outbox keeps the rest for the next start).
    pub async fn wait(mut self) {
        self.shutdown.cancelled().await;
        let deadline = tokio::time::sleep(STOP_DEADLINE);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                r = self.tasks.join_next() => if r.is_none() { break },
                _ = &mut deadline => {
                    warn!(deadline = ?STOP_DEADLINE, "tasks did not stop in time; aborting them");
                    self.tasks.abort_all();
                    break;
                }
            }
        }
        wait_for_release(&self.store_released).await;
        info!("collector stopped");
    }
}

impl Prepared {
    /// Bind the HTTP API, open the store (creating it if new), restore the previous run's
    /// state from it and start every task. The tasks run until `shutdown` fires; then
    /// [`Collector::wait`].
    pub async fn start(self, shutdown: CancellationToken) -> Result<Collector, CollectorError> {
        let Prepared {
            cfg,
            plan,
            receivers,
            trap_communities,
            access,
            tls,
            simulated,
            routes,
            shape,
        } = self;
        // The API first: a port in use fails the start before a store file is created.
        let (listener, api_addr) = bind_api(cfg.api.listen).await?;
        let (store, notifier) = open_store(&cfg, receivers).await?;
        let store_released = store.release_watch();
        let restored =
            restore::restore(&store, &notifier, plan.graph.clone(), plan.engine.clone()).await?;
        let (actions, action_queue) = tokio::sync::mpsc::channel(ACTION_QUEUE);
        let shared = Arc::new(Shared {
            engine: Mutex::new(restored.engine),
            store,
            metrics: Metrics::new(notifier.stats_handle(), shape.metrics()),
            notifier,
            poll_problems: poll_problems::PollProblems::default(),
            topology_name: plan.topology_name.clone(),
            simulated,
            started: Instant::now(),
            changes: tokio::sync::watch::Sender::new(0),
            stopping: shutdown.clone(),
            actions,
        });
        let mut router =
            http::routes::router(shared.clone()).merge(http::console::router(shared.clone()));
        if let Some(extra) = routes {
            router = router.merge(extra);
        }
        // After the merge: the guard covers every route, the embedder's included.
        if cfg.api.insecure_listen && !access.required() && !api_addr.ip().is_loopback() {
            warn!(api = %api_addr, "--insecure-listen: the API is reachable from other hosts without authentication");
        }
        let policy = Arc::new(http::guard::Policy::new(
            &cfg.api.hosts,
            access,
            tls.is_some(),
        ));
        let router = router
            .layer(axum::middleware::from_fn_with_state(
                policy,
                http::guard::guard,
            ))
            .layer(axum::middleware::map_response(http::headers::secure));
        let wiring = tasks::Wiring {
            shared,
            journal_seq: restored.journal_seq,
            unsent: restored.unsent,
            listener,
            router,
            limits: http::serve::Limits::new(&cfg.api, tls),
            trap_communities,
            shape,
            actions: action_queue,
            shutdown: shutdown.clone(),
        };
        let devices = plan.targets.len();
        let tasks = wiring.spawn(&cfg, plan).await;
        info!(api = %api_addr, devices, "collector running");
        Ok(Collector {
            api_addr,
            tasks,
            shutdown,
            store_released,
        })
    }
}

/// Wait until every handle on the store has been dropped (see [`STORE_RELEASE_DEADLINE`]).
async fn wait_for_release(store: &ReleaseWatch) {
    let started = Instant::now();
    while !store.released() {
        if started.elapsed() >= STORE_RELEASE_DEADLINE {
            warn!(
                waited = ?STORE_RELEASE_DEADLINE,
                "the store is still held by a stopping task; the next open of the file may fail"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Open the store (redb: journal, incidents, outbox) and the notifier that delivers from it.
/// A file held by another process fails at once (the previous run of a reload has released it:
/// [`Collector::wait`]).
async fn open_store(
    cfg: &Config,
    receivers: Receivers,
) -> Result<(Store, Notifier), CollectorError> {
    let path = cfg.store.path.clone();
    let opts = faultline_store::OpenOptions {
        cache_bytes: cfg.store.cache_mib.bytes(),
        ..faultline_store::OpenOptions::default()
    };
    let store = tokio::task::spawn_blocking(move || Store::open_with(&path, &opts))
        .await
        .map_err(|e| CollectorError::Join(e.to_string()))??;
    let notifier = Notifier::new(store.clone(), receivers, HttpOptions::default())?;
    Ok((store, notifier))
}

/// Bind the HTTP API's listener; the address is the actual one (port 0 picks a free port).
async fn bind_api(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), CollectorError> {
    let listen = |source| CollectorError::Listen { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(listen)?;
    let local = listener.local_addr().map_err(listen)?;
    Ok((listener, local))
}
