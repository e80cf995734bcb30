//! The collector's long-running tasks, one struct each, mini-redis style: the fields say what
//! the task holds and how it ends at shutdown, and `run(self)` is the task.
//!
//! ```text
//!  SnmpTask ×devices ─┐
//!  IcmpTask          ─┤
//!  ProbeTask ×services┼─► observations (OBSERVATION_QUEUE) ─► EngineTask ─► store, notifier
//!  DriftTask (LLDP)  ─┤                                          │
//!  TrapTask          ─┘──► re-poll requests (REPOLL_QUEUE) ◄─────┘
//!                              └─► RepollDispatcher ─► wakes the SnmpTask of each device
//! ```

pub(crate) mod drift;
pub(crate) mod engine;
pub(crate) mod pollers;
pub(crate) mod shape;
pub(crate) mod traps;

use std::collections::HashMap;
use std::sync::Arc;

use faultline_incident::IncidentTransition;
use faultline_observe::time::now_ms;
use faultline_observe::{Observation, Signal, Subject};
use tokio::net::TcpListener;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::Shared;
use crate::config::Config;
use crate::plan::{Plan, PollTarget};
use drift::DriftTask;
use engine::EngineTask;
use pollers::{IcmpTask, ProbeTask, RepollDispatcher, SnmpTask};
use shape::Shape;
use traps::TrapTask;

/// Observation batches waiting for the engine task. Bounded, so that when the journal cannot
/// keep up the sources wait (backpressure) instead of memory growing without limit; 1024 batches
/// is a whole poll round of 1024 devices (one batch per poll).
pub(crate) const OBSERVATION_QUEUE: usize = 1024;

/// Re-poll requests waiting for the dispatcher. A request only makes a poll happen sooner, so
/// when the queue is full a new request is dropped, never waited for (the engine task must not
/// block on its pollers), and counted (per device) in `faultline_repolls_dropped_total`. The queue fills
/// only in a storm, when the devices concerned are being polled anyway.
pub(crate) const REPOLL_QUEUE: usize = 1024;

/// The sending side of the observation queue: one batch per poll, sweep, probe or trap.
pub(crate) type Observations = mpsc::Sender<Vec<Observation>>;

/// The sending side of the re-poll queue, shared by the engine task and the trap task.
#[derive(Clone)]
pub(crate) struct RepollRequests {
    queue: mpsc::Sender<Vec<String>>,
    /// For the count of dropped requests.
    shared: Arc<Shared>,
}

impl RepollRequests {
    pub fn new(queue: mpsc::Sender<Vec<String>>, shared: Arc<Shared>) -> Self {
        RepollRequests { queue, shared }
    }

    /// Ask for an immediate poll of these devices. Never waits: when the queue is full the
    /// request is dropped and counted; when the dispatcher is gone (shutdown) it is moot.
    pub fn request(&self, devices: Vec<String>) {
        match self.queue.try_send(devices) {
            Ok(()) | Err(TrySendError::Closed(_)) => {}
            Err(TrySendError::Full(devices)) => {
                tracing::debug!(
                    devices = devices.len(),
                    "re-poll queue full; request dropped"
                );
                self.shared.metrics.repoll_dropped(devices.len());
            }
        }
    }
}

/// What the tasks start with, besides the configuration and the plan.
pub(crate) struct Wiring {
    pub shared: Arc<Shared>,
    /// Where the restored engine stands in the journal.
    pub journal_seq: u64,
    /// Transitions the restore could not enqueue.
    pub unsent: Vec<IncidentTransition>,
    /// The HTTP API's bound listener and its routes.
    pub listener: TcpListener,
    pub router: axum::Router,
    /// The HTTP server's connection limit and timeouts.
    pub limits: crate::http::serve::Limits,
    /// Accepted v1/v2c trap communities, read at construction.
    pub trap_communities: Vec<faultline_trap::Secret>,
    /// Where observations come from and go.
    pub shape: Shape,
    /// Operators' actions from the API and the console, for the engine task.
    pub actions: mpsc::Receiver<Vec<Observation>>,
    pub shutdown: CancellationToken,
}

impl Wiring {
    /// The operators' actions for the engine task: straight from the API, or, for a correlator
    /// sharing a stream, through it ([`shape::route_actions`]).
    fn engine_actions(
        &mut self,
        tasks: &mut JoinSet<()>,
        leading: Option<&mut shape::Leadership>,
    ) -> mpsc::Receiver<Vec<Observation>> {
        let actions = std::mem::replace(&mut self.actions, mpsc::channel(1).1);
        shape::route_actions(tasks, actions, leading.and_then(|l| l.actions.take()))
    }

    /// Create the queues and spawn every task: the engine task, the pollers and their re-poll
    /// dispatcher, the trap receiver, the notifier and the HTTP API.
    pub(crate) async fn spawn(mut self, cfg: &Config, plan: Plan) -> JoinSet<()> {
        let mut tasks = JoinSet::new();
        let (observations, queued) = mpsc::channel(OBSERVATION_QUEUE);
        let (repoll_queue, repoll_requests) = mpsc::channel(REPOLL_QUEUE);
        let repoll = RepollRequests::new(repoll_queue, self.shared.clone());
        let (feed, observations, run_engine, mut leading) = match std::mem::take(&mut self.shape) {
            Shape::Single => {
                // The restart marker goes through the journal like any observation.
                let marker =
                    Observation::new(now_ms(), Subject::device(""), Signal::CollectorStarted);
                let _ = observations.send(vec![marker]).await;
                (None, observations, true, None)
            }
            Shape::Correlator { feed, leadership } => (Some(feed), observations, true, leadership),
            // A poller's sources send to its sink; its engine is not fed, so not run.
            Shape::Poller { sink, .. } => (None, sink, false, None),
        };
        let correlator = feed.is_some();
        if run_engine {
            let actions = self.engine_actions(&mut tasks, leading.as_mut());
            tasks.spawn(
                EngineTask {
                    shared: self.shared.clone(),
                    observations: queued,
                    actions,
                    stream_clock: correlator,
                    feed,
                    journaled: Vec::new(),
                    repoll: repoll.clone(),
                    journal_seq: self.journal_seq,
                    unsent: std::mem::take(&mut self.unsent),
                    snapshot_every: cfg.snapshot.interval_s.get(),
                    retention: cfg.snapshot.journal_retention_h.get(),
                    shutdown: self.shutdown.clone(),
                }
                .run(),
            );
        }
        let wakers = spawn_snmp(&mut tasks, cfg, &plan.targets, &self, &observations);
        let snmp_targets: Vec<_> = plan.targets.iter().filter_map(|t| t.snmp.clone()).collect();
        if cfg.drift.enabled && !snmp_targets.is_empty() {
            tasks.spawn(
                DriftTask {
                    graph: plan.graph.clone(),
                    targets: snmp_targets,
                    interval: cfg.drift.interval_s.get(),
                    observations: observations.clone(),
                    shutdown: self.shutdown.clone(),
                }
                .run(),
            );
        }
        tasks.spawn(
            RepollDispatcher {
                requests: repoll_requests,
                wakers,
                shutdown: self.shutdown.clone(),
            }
            .run(),
        );
        if cfg.icmp.enabled {
            let (devices, ips) = plan
                .targets
                .iter()
                .filter_map(|t| Some((t.device.clone(), t.ip?)))
                .unzip::<_, _, Vec<_>, Vec<_>>();
            if !ips.is_empty() {
                tasks.spawn(
                    IcmpTask {
                        devices,
                        ips,
                        interval: cfg.icmp.interval_s.get(),
                        observations: observations.clone(),
                        shutdown: self.shutdown.clone(),
                    }
                    .run(),
                );
            }
        }
        for p in plan.probes {
            tasks.spawn(
                ProbeTask {
                    service: p.service,
                    check: p.check,
                    vantage: p.vantage,
                    interval: cfg.probe.interval_s.get(),
                    observations: observations.clone(),
                    shutdown: self.shutdown.clone(),
                }
                .run(),
            );
        }
        if let Some(settings) = cfg.traps.as_ref().filter(|_| !correlator)
            && let Some(traps) = TrapTask::bind(
                settings,
                &plan.targets,
                std::mem::take(&mut self.trap_communities),
                observations.clone(),
                repoll,
                self.shared.clone(),
                self.shutdown.clone(),
            )
            .await
        {
            tasks.spawn(traps.run());
        }
        shape::spawn_notifier(
            &mut tasks,
            self.shared.notifier.clone(),
            leading,
            self.shutdown.clone(),
        );
        tasks.spawn(crate::http::serve::serve(
            self.listener,
            self.router,
            self.limits,
            self.shutdown,
        ));
        tasks
    }
}

/// One [`SnmpTask`] per device polled over SNMP; the wakers that make each poll at once.
fn spawn_snmp(
    tasks: &mut JoinSet<()>,
    cfg: &Config,
    targets: &[PollTarget],
    wiring: &Wiring,
    observations: &Observations,
) -> HashMap<String, Arc<Notify>> {
    let poller = faultline_snmp::SnmpPoller::new(faultline_snmp::PollerConfig {
        global_concurrency: cfg.poll.concurrency.get() as usize,
        // Nothing the engine takes comes from lldpRemTable: cabling is the DriftTask's job,
        // which reads the whole LLDP-MIB every `[drift] interval_s`, not on every poll.
        lldp: false,
        ..faultline_snmp::PollerConfig::default()
    });
    let mut wakers = HashMap::new();
    for t in targets {
        let Some(target) = &t.snmp else { continue };
        let waker = Arc::new(Notify::new());
        wakers.insert(t.device.clone(), waker.clone());
        tasks.spawn(
            SnmpTask {
                shared: wiring.shared.clone(),
                poller: poller.clone(),
                target: target.clone(),
                interval: cfg.poll.interval_s.get(),
                jitter: cfg.poll.jitter,
                repoll: waker,
                observations: observations.clone(),
                shutdown: wiring.shutdown.clone(),
            }
            .run(),
        );
    }
    wakers
}
