//! Paging that loses nothing: faultline's durable outbox and its delivery to PagerDuty (Events
//! API v2), Prometheus Alertmanager (API v2) and signed generic webhooks.
//!
//! Every [`IncidentTransition`] handed to [`Notifier::enqueue`] is written to the store — one
//! outbox entry per receiver whose route selects it, in the same redb transaction that records
//! the incident — before `enqueue` returns. [`Notifier::run`] delivers the entries and removes
//! each one only once its receiver accepted it, so delivery is at-least-once and survives
//! `kill -9`: a new `Notifier` on the same store file resumes where the old one stopped (the
//! receivers deduplicate re-sent events by the incident id).
//!
//! Order is kept **per incident and receiver**: a later transition waits while an earlier one is
//! pending or retrying, so a resolve never overtakes its trigger; different incidents never
//! block each other. Transient failures (connection errors, 5xx, 429) back the receiver off
//! exponentially with jitter, honouring `Retry-After`; a permanent 4xx moves the entry to the
//! dead letters with the receiver's answer. Consecutive pending updates of one incident are
//! coalesced into the latest, so a flapping component does not page over and over.
//!
//! A suppressed incident (maintenance) is not paged, but an incident that was already paged at
//! a receiver always gets its resolve there, suppressed or not (no orphaned PagerDuty
//! incidents, cf. alertmanager#2754).
//!
//! ```no_run
//! # async fn demo(t: faultline_incident::IncidentTransition) -> Result<(), Box<dyn std::error::Error>> {
//! use faultline_notify::{HttpOptions, NotifyConfig, Notifier};
//! use faultline_store::Store;
//!
//! let cfg: NotifyConfig = toml::from_str(r#"
//!     [[receivers]]
//!     name = "oncall"
//!     kind = "pagerduty"
//!     routing_key_env = "PD_ROUTING_KEY"
//!     tiers = ["critical", "high"]
//! "#)?;
//! let notifier = Notifier::new(Store::open("faultline.redb")?, cfg, HttpOptions::default())?;
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! let runner = tokio::spawn({
//!     let n = notifier.clone();
//!     async move { n.run(async { let _ = stop_rx.await; }).await }
//! });
//! // Blocking (fsync): from async code, go through spawn_blocking or enqueue_async.
//! notifier.enqueue_async(t).await?;
//! println!("{:?}", notifier.stats());
//! let _ = stop_tx.send(());
//! runner.await?;
//! # Ok(()) }
//! ```

mod config;
pub mod payload;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use config::{
    HttpOptions, NotifyConfig, PAGERDUTY_EVENTS_URL, ReceiverConfig, ReceiverKind, RetryConfig,
    Secret,
};
use faultline_incident::{
    AffectedService, Incident, IncidentKind, IncidentStatus, IncidentTransition, ServiceState,
    Severity, TransitionAction,
};
pub use faultline_store::{DeadLetter, OutboxEntry, PagedRecord, Store, StoreError};
use serde::Serialize;
use tokio::sync::mpsc;

/// Longest receiver answer kept in a dead letter or error.
const ANSWER_MAX: usize = 2048;

/// Longest `Retry-After` honoured.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("notify config, receiver {receiver}: {problem}")]
    Config { receiver: String, problem: String },
    #[error("no receiver named {0} in the notify config")]
    UnknownReceiver(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("receiver {receiver} ({url}): {detail}")]
    Delivery {
        receiver: String,
        url: String,
        detail: String,
    },
    #[error("config {path}: {detail}")]
    ConfigFile { path: String, detail: String },
    #[error("store worker thread failed: {0}")]
    Join(String),
}

pub type Result<T, E = NotifyError> = std::result::Result<T, E>;

/// Delivery counters, readable at any time by the collector's `/metrics`.
#[derive(Debug, Default)]
pub struct NotifyStats {
    /// Entries accepted by their receiver.
    pub delivered: AtomicU64,
    /// Failed attempts that will be retried.
    pub retries: AtomicU64,
    /// Entries moved to the dead letters.
    pub dead_lettered: AtomicU64,
    /// Entries in the outbox now.
    pub pending: AtomicU64,
    /// Alertmanager re-posts of firing alerts.
    pub resent: AtomicU64,
}

/// A copy of [`NotifyStats`] at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    pub delivered: u64,
    pub retries: u64,
    pub dead_lettered: u64,
    pub pending: u64,
    pub resent: u64,
}

impl NotifyStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            delivered: self.delivered.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            pending: self.pending.load(Ordering::Relaxed),
            resent: self.resent.load(Ordering::Relaxed),
        }
    }
}

/// A receiver's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// What `faultline test-page` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TestPageReport {
    pub receiver: String,
    pub dedup_key: String,
    pub trigger: Answer,
    pub resolve: Answer,
}

/// A receiver with its secrets resolved.
struct Receiver {
    cfg: ReceiverConfig,
    url: String,
    /// Routing key (PagerDuty) or HMAC secret (webhook).
    secret: Option<Secret>,
    /// Token-bucket key: receivers sharing a PagerDuty routing key share its rate limit.
    rate_key: Option<String>,
    rate_per_minute: u32,
}

struct QEntry {
    entry: OutboxEntry,
    /// An Alertmanager re-post of a firing alert: not in the store, dropped on failure.
    ephemeral: bool,
}

#[derive(Default)]
struct KeyQueue {
    entries: VecDeque<QEntry>,
    in_flight: bool,
    /// The (head id) under which this key sits in the receiver's ready set.
    ready_id: Option<u64>,
}

struct RecvQueue {
    keys: HashMap<String, KeyQueue>,
    /// Keys whose head can be sent now, by head outbox id (global enqueue order).
    ready: BTreeSet<(u64, String)>,
    in_flight: usize,
    /// Backed off until then (after a transient failure or an empty token bucket).
    not_before: Option<Instant>,
    failures: u32,
    next_resend: Instant,
}

impl RecvQueue {
    fn new(now: Instant, resend: Duration) -> Self {
        RecvQueue {
            keys: HashMap::new(),
            ready: BTreeSet::new(),
            in_flight: 0,
            not_before: None,
            failures: 0,
            next_resend: now + resend,
        }
    }

    /// Re-file `incident` in the ready set after its queue or in-flight flag changed.
    fn refresh(&mut self, incident: &str) {
        let Some(kq) = self.keys.get_mut(incident) else {
            return;
        };
        if let Some(old) = kq.ready_id.take() {
            self.ready.remove(&(old, incident.to_string()));
        }
        if kq.in_flight {
            return;
        }
        match kq.entries.front() {
            Some(head) => {
                kq.ready_id = Some(head.entry.id);
                self.ready.insert((head.entry.id, incident.to_string()));
            }
            None => {
                self.keys.remove(incident);
            }
        }
    }

    fn push(&mut self, q: QEntry) {
        let inc = q.entry.transition.incident.id.clone();
        self.keys
            .entry(inc.clone())
            .or_default()
            .entries
            .push_back(q);
        self.refresh(&inc);
    }
}

struct TokenBucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(per_minute: u32, now: Instant) -> Self {
        let capacity = f64::from(per_minute.max(1));
        TokenBucket {
            tokens: capacity,
            capacity,
            per_sec: capacity / 60.0,
            at: now,
        }
    }
    /// Take a token, or say when the next one will be there.
    fn take(&mut self, now: Instant) -> Result<(), Instant> {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.per_sec).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(now + Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec))
        }
    }
}

struct Queues {
    recv: Vec<RecvQueue>,
    buckets: HashMap<String, TokenBucket>,
}

/// The configured receivers and the HTTP client: everything needed to send, nothing stored.
struct Transport {
    cfg: NotifyConfig,
    receivers: Vec<Receiver>,
    client: reqwest::Client,
}

struct Inner {
    store: Store,
    t: Transport,
    queues: Mutex<Queues>,
    wake: tokio::sync::Notify,
    stats: Arc<NotifyStats>,
}

/// The pager: durable outbox plus delivery loop. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("store", &self.inner.store)
            .field(
                "receivers",
                &self
                    .inner
                    .t
                    .receivers
                    .iter()
                    .map(|r| &r.cfg.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

pub use faultline_observe::time::now_ms as now_millis;

fn resolve_secret(
    rc: &ReceiverConfig,
    inline: &Option<Secret>,
    env: &Option<String>,
    what: &str,
) -> Result<Option<Secret>> {
    match (inline, env) {
        (Some(s), _) => Ok(Some(s.clone())),
        (None, Some(var)) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
            _ => Err(NotifyError::Config {
                receiver: rc.name.clone(),
                problem: format!("{what} environment variable {var} is not set"),
            }),
        },
        (None, None) => Ok(None),
    }
}

fn resolve_receiver(rc: &ReceiverConfig) -> Result<Receiver> {
    let cfg_err = |problem: String| NotifyError::Config {
        receiver: rc.name.clone(),
        problem,
    };
    let (url, secret, rate_key, rate) = match rc.kind {
        ReceiverKind::Pagerduty => {
            let key = resolve_secret(rc, &rc.routing_key, &rc.routing_key_env, "routing key")?
                .ok_or_else(|| cfg_err("pagerduty needs routing_key or routing_key_env".into()))?;
            // Never echo the key: its length is enough to diagnose a paste error.
            if key.expose().chars().count() != 32 {
                return Err(cfg_err(format!(
                    "routing key has {} characters, PagerDuty expects 32",
                    key.expose().chars().count()
                )));
            }
            let fp = {
                use sha2::Digest;
                hex::encode(&sha2::Sha256::digest(key.expose().as_bytes())[..8])
            };
            let url = rc
                .url
                .clone()
                .unwrap_or_else(|| PAGERDUTY_EVENTS_URL.to_string());
            (
                url,
                Some(key),
                Some(format!("pd:{fp}")),
                rc.rate_per_minute.unwrap_or(120),
            )
        }
        ReceiverKind::Alertmanager => {
            let base = rc
                .url
                .clone()
                .ok_or_else(|| cfg_err("alertmanager needs url".into()))?;
            let base = base.trim_end_matches('/');
            let url = if base.ends_with("/api/v2/alerts") {
                base.to_string()
            } else {
                format!("{base}/api/v2/alerts")
            };
            (
                url,
                None,
                rc.rate_per_minute.map(|_| format!("rcv:{}", rc.name)),
                rc.rate_per_minute.unwrap_or(0),
            )
        }
        ReceiverKind::Webhook => {
            let url = rc
                .url
                .clone()
                .ok_or_else(|| cfg_err("webhook needs url".into()))?;
            let secret = resolve_secret(rc, &rc.secret, &rc.secret_env, "webhook secret")?;
            (
                url,
                secret,
                rc.rate_per_minute.map(|_| format!("rcv:{}", rc.name)),
                rc.rate_per_minute.unwrap_or(0),
            )
        }
    };
    match reqwest::Url::parse(&url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
        _ => return Err(cfg_err(format!("url {url} is not an http(s) URL"))),
    }
    Ok(Receiver {
        cfg: rc.clone(),
        url,
        secret,
        rate_key,
        rate_per_minute: rate,
    })
}

/// How one delivery attempt ended.
enum Outcome {
    Delivered,
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    Dead {
        status: Option<u16>,
        answer: String,
    },
}

struct Done {
    recv: usize,
    incident: String,
    id: u64,
    seq: u64,
    ephemeral: bool,
    outcome: Outcome,
}

struct Job {
    recv: usize,
    entry: OutboxEntry,
    ephemeral: bool,
}

impl Notifier {
    /// Validate the config (secrets resolved from config or env), build the HTTP client and load
    /// the pending outbox from the store. Blocks (reads the store).
    pub fn new(store: Store, cfg: NotifyConfig, http: HttpOptions) -> Result<Notifier> {
        let t = Transport::new(cfg, http)?;
        let receivers = &t.receivers;
        let now = Instant::now();
        let mut queues = Queues {
            recv: receivers
                .iter()
                .map(|r| RecvQueue::new(now, r.cfg.resend_interval()))
                .collect(),
            buckets: HashMap::new(),
        };
        let stats = Arc::new(NotifyStats::default());
        let mut pending = 0;
        for entry in store.outbox()? {
            // Entries for receivers no longer configured stay in the store (visible with
            // `faultline outbox`) rather than being silently dropped.
            if let Some(i) = receivers.iter().position(|r| r.cfg.name == entry.receiver) {
                queues.recv[i].push(QEntry {
                    entry,
                    ephemeral: false,
                });
                pending += 1;
            }
        }
        stats.pending.store(pending, Ordering::Relaxed);
        Ok(Notifier {
            inner: Arc::new(Inner {
                store,
                t,
                queues: Mutex::new(queues),
                wake: tokio::sync::Notify::new(),
                stats,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queues> {
        // A panic while holding the lock cannot leave the queues inconsistent with the store in
        // a way that loses data (the store is the truth), so a poisoned lock is still usable.
        self.inner.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The counters (shared, live).
    pub fn stats_handle(&self) -> Arc<NotifyStats> {
        self.inner.stats.clone()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Pending deliveries (from the store). Blocks.
    pub fn pending(&self) -> Result<Vec<OutboxEntry>> {
        Ok(self.inner.store.outbox()?)
    }

    /// Dead letters (from the store). Blocks.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        Ok(self.inner.store.dead_letters()?)
    }

    /// Record the transition's incident and enqueue the transition for every receiver it
    /// concerns, in one durable transaction. **Blocks** (fsync); see [`Self::enqueue_async`].
    pub fn enqueue(&self, t: &IncidentTransition) -> Result<()> {
        self.enqueue_many(std::slice::from_ref(t))
    }

    /// [`Self::enqueue`] for several transitions (in engine order) in one transaction: one fsync
    /// for an engine step that emitted many.
    pub fn enqueue_many(&self, ts: &[IncidentTransition]) -> Result<()> {
        self.enqueue_many_with(ts, |_| Ok(()))
    }

    /// [`Self::enqueue_many`] plus the caller's own writes in the same transaction, e.g.
    /// `|txn| txn.set_engine_seq(last)`: a crash can then never separate "enqueued" from
    /// "recorded as enqueued".
    pub fn enqueue_many_with(
        &self,
        ts: &[IncidentTransition],
        extra: impl FnOnce(&mut faultline_store::Txn<'_>) -> Result<(), StoreError>,
    ) -> Result<()> {
        let now = now_millis();
        // The queue lock is held across the store transaction so that the coalescing decision
        // (based on what is on the wire) and the commit are one step for the delivery loop.
        let mut q = self.lock();
        let ops = self.inner.store.transact(|txn| {
            // (receiver, entry, replaces an entry already in memory)
            let mut ops: Vec<(usize, OutboxEntry, bool)> = Vec::new();
            // Tail entries created earlier in this same batch, by (receiver, incident).
            let mut batch_tail: HashMap<(usize, String), usize> = HashMap::new();
            for t in ts {
                let inc = &t.incident;
                txn.upsert_incident(inc)?;
                for (i, r) in self.inner.t.receivers.iter().enumerate() {
                    let paged = txn.get_paged(&r.cfg.name, &inc.id)?;
                    let key = (i, inc.id.clone());
                    match t.action {
                        TransitionAction::Trigger | TransitionAction::Update => {
                            if inc.suppressed {
                                // Maintenance: no new page and no update; a resolve still follows.
                                continue;
                            }
                            let Some(mut rec) = paged else {
                                if !r.cfg.matches(inc) {
                                    continue;
                                }
                                let labels = payload::alertmanager_labels(inc);
                                txn.set_paged(&PagedRecord {
                                    receiver: r.cfg.name.clone(),
                                    incident: inc.clone(),
                                    labels: labels.clone(),
                                    since: now,
                                })?;
                                let mut first = t.clone();
                                first.action = TransitionAction::Trigger;
                                batch_tail.insert(key, ops.len());
                                ops.push((
                                    i,
                                    txn.push_outbox(&r.cfg.name, &first, Some(labels), now)?,
                                    false,
                                ));
                                continue;
                            };
                            rec.incident = inc.clone();
                            txn.set_paged(&rec)?;
                            // Coalesce into the pending trigger/update at the tail of this
                            // incident's queue, unless that one is already on the wire.
                            let tail: Option<(Option<usize>, OutboxEntry)> =
                                match batch_tail.get(&key) {
                                    Some(&k) => Some((Some(k), ops[k].1.clone())),
                                    None => q.recv[i].keys.get(&inc.id).and_then(|kq| {
                                        let on_wire = kq.in_flight && kq.entries.len() == 1;
                                        kq.entries
                                            .back()
                                            .filter(|b| !on_wire && !b.ephemeral)
                                            .map(|b| (None, b.entry.clone()))
                                    }),
                                };
                            match tail {
                                Some((at, mut e))
                                    if e.transition.action != TransitionAction::Resolve =>
                                {
                                    let action = e.transition.action;
                                    e.transition = t.clone();
                                    e.transition.action = action;
                                    txn.put_outbox(&e)?;
                                    match at {
                                        Some(k) => ops[k].1 = e,
                                        None => {
                                            batch_tail.insert(key, ops.len());
                                            ops.push((i, e, true));
                                        }
                                    }
                                }
                                _ => {
                                    let mut up = t.clone();
                                    up.action = TransitionAction::Update;
                                    batch_tail.insert(key, ops.len());
                                    ops.push((
                                        i,
                                        txn.push_outbox(&r.cfg.name, &up, Some(rec.labels), now)?,
                                        false,
                                    ));
                                }
                            }
                        }
                        TransitionAction::Resolve => {
                            // Only where it was paged, and always there (even if suppressed now).
                            if let Some(rec) = paged {
                                txn.clear_paged(&r.cfg.name, &inc.id)?;
                                batch_tail.insert(key, ops.len());
                                ops.push((
                                    i,
                                    txn.push_outbox(&r.cfg.name, t, Some(rec.labels), now)?,
                                    false,
                                ));
                            }
                        }
                    }
                }
            }
            extra(txn)?;
            Ok(ops)
        })?;
        for (i, entry, replaced) in ops {
            if replaced {
                if let Some(slot) = q.recv[i]
                    .keys
                    .get_mut(&entry.transition.incident.id)
                    .and_then(|kq| kq.entries.iter_mut().rev().find(|e| e.entry.id == entry.id))
                {
                    slot.entry = entry;
                }
            } else {
                q.recv[i].push(QEntry {
                    entry,
                    ephemeral: false,
                });
                self.inner.stats.pending.fetch_add(1, Ordering::Relaxed);
            }
        }
        drop(q);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// [`Self::enqueue`] on tokio's blocking pool.
    pub async fn enqueue_async(&self, t: IncidentTransition) -> Result<()> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.enqueue(&t))
            .await
            .map_err(|e| NotifyError::Join(e.to_string()))?
    }

    /// The delivery loop. Runs until `shutdown` completes, then waits briefly for requests on
    /// the wire. Dropping it instead (or the runtime) loses nothing: unacknowledged entries are
    /// still in the store and are re-delivered by the next `Notifier`.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
        let mut finished: Vec<Done> = Vec::new();
        let mut in_flight = 0usize;
        loop {
            while let Ok(d) = done_rx.try_recv() {
                finished.push(d);
            }
            if !finished.is_empty() {
                in_flight -= finished.len();
                self.apply(std::mem::take(&mut finished)).await;
            }
            self.schedule_resends().await;
            let (jobs, next_wake) = self.take_ready(Instant::now());
            for job in jobs {
                in_flight += 1;
                let me = self.clone();
                let tx = done_tx.clone();
                tokio::spawn(async move {
                    let outcome = me.attempt(job.recv, &job.entry).await;
                    let _ = tx.send(Done {
                        recv: job.recv,
                        incident: job.entry.transition.incident.id.clone(),
                        id: job.entry.id,
                        seq: job.entry.transition.seq,
                        ephemeral: job.ephemeral,
                        outcome,
                    });
                });
            }
            let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(next_wake));
            tokio::select! {
                _ = &mut shutdown => break,
                Some(d) = done_rx.recv() => finished.push(d),
                _ = self.inner.wake.notified() => {}
                _ = sleep => {}
            }
        }
        // Graceful stop: record what the receivers already accepted, so it is not sent again.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while in_flight > finished.len() {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some(d)) => finished.push(d),
                _ => break,
            }
        }
        if !finished.is_empty() {
            self.apply(finished).await;
        }
        // Requests still unanswered count as not delivered: release their incidents so that a
        // later `run` on this notifier sends them again (their late answers are ignored).
        let mut q = self.lock();
        for rq in &mut q.recv {
            rq.in_flight = 0;
            let stuck: Vec<String> = rq
                .keys
                .iter()
                .filter(|(_, kq)| kq.in_flight)
                .map(|(k, _)| k.clone())
                .collect();
            for inc in stuck {
                if let Some(kq) = rq.keys.get_mut(&inc) {
                    kq.in_flight = false;
                    // A re-post of a firing alert is not worth keeping.
                    if kq.entries.front().is_some_and(|f| f.ephemeral) {
                        kq.entries.pop_front();
                    }
                }
                rq.refresh(&inc);
            }
        }
    }

    /// Pick the heads that may go out now; say when to look again.
    fn take_ready(&self, now: Instant) -> (Vec<Job>, Instant) {
        let max = self.inner.t.cfg.max_in_flight.max(1);
        let mut next = now + Duration::from_secs(60);
        let mut jobs = Vec::new();
        let mut q = self.lock();
        let Queues { recv, buckets } = &mut *q;
        for (i, rq) in recv.iter_mut().enumerate() {
            let r = &self.inner.t.receivers[i];
            if r.cfg.kind == ReceiverKind::Alertmanager {
                next = next.min(rq.next_resend);
            }
            if let Some(nb) = rq.not_before {
                if nb > now {
                    next = next.min(nb);
                    continue;
                }
                rq.not_before = None;
            }
            while rq.in_flight < max {
                let Some((id, inc)) = rq.ready.first().cloned() else {
                    break;
                };
                if let Some(key) = &r.rate_key {
                    let bucket = buckets
                        .entry(key.clone())
                        .or_insert_with(|| TokenBucket::new(r.rate_per_minute, now));
                    if let Err(at) = bucket.take(now) {
                        rq.not_before = Some(at);
                        next = next.min(at);
                        break;
                    }
                }
                rq.ready.remove(&(id, inc.clone()));
                let Some(kq) = rq.keys.get_mut(&inc) else {
                    continue;
                };
                kq.ready_id = None;
                let Some(head) = kq.entries.front() else {
                    continue;
                };
                kq.in_flight = true;
                rq.in_flight += 1;
                jobs.push(Job {
                    recv: i,
                    entry: head.entry.clone(),
                    ephemeral: head.ephemeral,
                });
            }
        }
        (jobs, next)
    }

    /// Record finished attempts: one durable transaction for the whole batch (group commit),
    /// then the in-memory queues.
    async fn apply(&self, done: Vec<Done>) {
        let me = self.clone();
        let r = tokio::task::spawn_blocking(move || me.apply_blocking(done)).await;
        if let Err(e) = r {
            tracing::error!(error = %e, "notify: recording delivery outcomes failed");
        }
    }

    fn apply_blocking(&self, mut done: Vec<Done>) {
        let now = now_millis();
        let mut q = self.lock();
        if let Some(max) = self.inner.t.cfg.retry.max_attempts {
            for d in done.iter_mut().filter(|d| !d.ephemeral) {
                let Outcome::Retry { error, .. } = &d.outcome else {
                    continue;
                };
                let attempts = q.recv[d.recv]
                    .keys
                    .get(&d.incident)
                    .and_then(|kq| kq.entries.front())
                    .filter(|f| f.entry.id == d.id)
                    .map_or(0, |f| f.entry.attempts);
                if attempts + 1 >= max {
                    let answer = format!(
                        "gave up after {} attempts; last error: {error}",
                        attempts + 1
                    );
                    d.outcome = Outcome::Dead {
                        status: None,
                        answer,
                    };
                }
            }
        }
        let stored = self.inner.store.transact(|txn| {
            let mut removed = Vec::with_capacity(done.len());
            for d in &done {
                let gone = match (&d.outcome, d.ephemeral) {
                    (_, true) => true,
                    (Outcome::Delivered, false) => txn.ack_outbox(d.id, d.seq)?,
                    (Outcome::Dead { status, answer }, false) => {
                        txn.dead_letter(d.id, *status, answer, now)?
                    }
                    (Outcome::Retry { error, .. }, false) => {
                        if let Some(mut e) = txn.get_outbox(d.id)? {
                            e.attempts += 1;
                            e.last_error = Some(error.clone());
                            txn.put_outbox(&e)?;
                        }
                        false
                    }
                };
                removed.push(gone);
            }
            Ok(removed)
        });
        let store_failed = stored.is_err();
        let removed = match stored {
            Ok(r) => r,
            Err(e) => {
                // Nothing recorded: the entries stay pending and go out again (at-least-once),
                // after a backoff below: re-sending at once would hammer the receiver for as
                // long as the disk stays unwritable.
                tracing::error!(error = %e, "notify: cannot record delivery outcomes");
                vec![false; done.len()]
            }
        };
        let retry = &self.inner.t.cfg.retry;
        for (d, gone) in done.iter().zip(removed) {
            let rq = &mut q.recv[d.recv];
            rq.in_flight = rq.in_flight.saturating_sub(1);
            let name = &self.inner.t.receivers[d.recv].cfg.name;
            if store_failed {
                rq.failures = rq.failures.saturating_add(1);
                let until = Instant::now()
                    + backoff(retry, rq.failures).min(Duration::from_millis(retry.max_ms));
                rq.not_before = Some(rq.not_before.map_or(until, |nb| nb.max(until)));
            }
            match &d.outcome {
                Outcome::Delivered => {
                    rq.failures = 0;
                    if d.ephemeral {
                        self.inner.stats.resent.fetch_add(1, Ordering::Relaxed);
                    } else if gone {
                        self.inner.stats.delivered.fetch_add(1, Ordering::Relaxed);
                        self.inner.stats.pending.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                Outcome::Dead { status, answer } => {
                    tracing::warn!(receiver = %name, incident = %d.incident, status = ?status, answer = %answer, "notify: dead letter");
                    if gone && !d.ephemeral {
                        self.inner
                            .stats
                            .dead_lettered
                            .fetch_add(1, Ordering::Relaxed);
                        self.inner.stats.pending.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                Outcome::Retry { error, retry_after } => {
                    rq.failures = rq.failures.saturating_add(1);
                    // The receiver's Retry-After wins over our own cap (it knows its limits),
                    // bounded against absurd values, and never below our base delay: a
                    // `Retry-After: 0` (or a date in the past) must not turn into a hot loop.
                    let wait = match retry_after {
                        Some(ra) => (*ra)
                            .min(RETRY_AFTER_MAX)
                            .max(Duration::from_millis(retry.base_ms)),
                        None => {
                            backoff(retry, rq.failures).min(Duration::from_millis(retry.max_ms))
                        }
                    };
                    let until = Instant::now() + wait;
                    rq.not_before = Some(rq.not_before.map_or(until, |nb| nb.max(until)));
                    if !d.ephemeral {
                        self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::info!(receiver = %name, incident = %d.incident, error = %error, wait_ms = wait.as_millis() as u64, "notify: will retry");
                }
            }
            if let Some(kq) = rq.keys.get_mut(&d.incident) {
                kq.in_flight = false;
                if let Some(front) = kq.entries.front_mut()
                    && front.entry.id == d.id
                    && front.ephemeral == d.ephemeral
                {
                    if gone {
                        kq.entries.pop_front();
                    } else if let Outcome::Retry { error, .. } = &d.outcome {
                        front.entry.attempts += 1;
                        front.entry.last_error = Some(error.clone());
                    }
                }
            }
            rq.refresh(&d.incident);
        }
    }

    /// Alertmanager forgets alerts without `endsAt` after its resolve_timeout: re-post every
    /// incident still paged there, through the same per-incident queue (so a re-post can never
    /// overtake a resolve).
    async fn schedule_resends(&self) {
        let now = Instant::now();
        let due: Vec<usize> = {
            let q = self.lock();
            self.inner
                .t
                .receivers
                .iter()
                .enumerate()
                .filter(|(i, r)| {
                    r.cfg.kind == ReceiverKind::Alertmanager && q.recv[*i].next_resend <= now
                })
                .map(|(i, _)| i)
                .collect()
        };
        for i in due {
            let store = self.inner.store.clone();
            let name = self.inner.t.receivers[i].cfg.name.clone();
            let recs = tokio::task::spawn_blocking(move || store.paged(Some(&name))).await;
            let mut q = self.lock();
            let rq = &mut q.recv[i];
            rq.next_resend = now + self.inner.t.receivers[i].cfg.resend_interval();
            let recs = match recs {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "notify: cannot read paged incidents for resend");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "notify: resend worker failed");
                    continue;
                }
            };
            for rec in recs {
                // Anything queued for the incident carries its state already.
                if rq
                    .keys
                    .get(&rec.incident.id)
                    .is_some_and(|kq| !kq.entries.is_empty())
                {
                    continue;
                }
                let entry = OutboxEntry {
                    id: 0,
                    receiver: rec.receiver.clone(),
                    transition: IncidentTransition {
                        seq: 0,
                        action: TransitionAction::Update,
                        at: now_millis(),
                        incident: rec.incident.clone(),
                    },
                    enqueued_at: now_millis(),
                    attempts: 0,
                    last_error: None,
                    labels: Some(rec.labels.clone()),
                };
                rq.push(QEntry {
                    entry,
                    ephemeral: true,
                });
            }
        }
    }

    /// One HTTP attempt for one entry.
    async fn attempt(&self, recv: usize, entry: &OutboxEntry) -> Outcome {
        match self.send(recv, entry).await {
            Ok(resp) => classify(resp).await,
            Err(e) => Outcome::Retry {
                error: e,
                retry_after: None,
            },
        }
    }

    async fn send(&self, recv: usize, entry: &OutboxEntry) -> Result<reqwest::Response, String> {
        self.inner.t.send(recv, entry).await
    }

    /// Send a test event (trigger, then resolve, dedup key `faultline-test-<millis>`) straight
    /// to one receiver, bypassing the outbox, and report its answers.
    pub async fn test_page(&self, receiver: &str) -> Result<TestPageReport> {
        self.inner.t.test_page(receiver).await
    }
}

impl Transport {
    fn new(cfg: NotifyConfig, http: HttpOptions) -> Result<Transport> {
        if cfg.retry.max_attempts == Some(0) {
            // Zero would dead-letter every entry, resolves included, at its first hiccup.
            return Err(NotifyError::Config {
                receiver: "(all)".into(),
                problem: "retry.max_attempts must be at least 1 (or unset: retry forever)".into(),
            });
        }
        let mut names = HashSet::new();
        let mut receivers = Vec::new();
        for rc in &cfg.receivers {
            if !names.insert(rc.name.clone()) {
                return Err(NotifyError::Config {
                    receiver: rc.name.clone(),
                    problem: "duplicate name".into(),
                });
            }
            receivers.push(resolve_receiver(rc)?);
        }
        let client = reqwest::Client::builder()
            .timeout(http.timeout)
            .connect_timeout(http.connect_timeout)
            .user_agent(http.user_agent)
            .build()
            .map_err(NotifyError::Client)?;
        Ok(Transport {
            cfg,
            receivers,
            client,
        })
    }

    async fn send(&self, recv: usize, entry: &OutboxEntry) -> Result<reqwest::Response, String> {
        let r = &self.receivers[recv];
        let public_url = self.cfg.public_url.as_deref();
        let t = &entry.transition;
        let req = match r.cfg.kind {
            ReceiverKind::Pagerduty => {
                let key = r.secret.as_ref().map(|s| s.expose()).unwrap_or_default();
                let source = r.cfg.source.as_deref().unwrap_or("faultline");
                self.client
                    .post(&r.url)
                    .json(&payload::pagerduty_event(key, source, public_url, t))
            }
            ReceiverKind::Alertmanager => {
                let labels = entry
                    .labels
                    .clone()
                    .unwrap_or_else(|| payload::alertmanager_labels(&t.incident));
                let resolved = (t.action == TransitionAction::Resolve)
                    .then(|| t.incident.resolved_at.unwrap_or(t.at));
                let alert = payload::alertmanager_alert(&labels, public_url, &t.incident, resolved);
                self.client.post(&r.url).json(&[alert])
            }
            ReceiverKind::Webhook => {
                let body =
                    serde_json::to_vec(t).map_err(|e| format!("cannot encode transition: {e}"))?;
                let mut req = self
                    .client
                    .post(&r.url)
                    .header("content-type", "application/json")
                    .header("x-faultline-delivery", format!("{}-{}", entry.id, t.seq))
                    .header("x-faultline-event", action_str(t.action));
                if let Some(secret) = &r.secret {
                    req = req.header(
                        "x-faultline-signature",
                        payload::webhook_signature(secret.expose().as_bytes(), &body),
                    );
                }
                req.body(body)
            }
        };
        // without_url: a webhook URL may carry a token in its query string.
        req.send().await.map_err(|e| error_chain(&e.without_url()))
    }

    /// Send a test event (trigger, then resolve, dedup key `faultline-test-<millis>`) straight
    /// to one receiver, bypassing the outbox, and report its answers.
    pub async fn test_page(&self, receiver: &str) -> Result<TestPageReport> {
        let i = self
            .receivers
            .iter()
            .position(|r| r.cfg.name == receiver)
            .ok_or_else(|| NotifyError::UnknownReceiver(receiver.to_string()))?;
        let now = now_millis();
        let id = format!("faultline-test-{now}");
        let inc = Incident {
            id: id.clone(),
            kind: IncidentKind::ServiceDown,
            severity: Severity::Info,
            title: format!("faultline test page for receiver {receiver} (resolves immediately)"),
            root_causes: vec!["faultline-test".into()],
            affected_services: vec![AffectedService {
                id: "faultline-test".into(),
                name: "faultline test".into(),
                tier: "low".into(),
                state: ServiceState::Down,
                tags: vec!["test".into()],
            }],
            suspects: vec![],
            evidence: vec![],
            status: IncidentStatus::Open,
            opened_at: now,
            updated_at: now,
            resolved_at: None,
            suppressed: false,
        };
        let labels = payload::alertmanager_labels(&inc);
        let mut entry = OutboxEntry {
            id: 0,
            receiver: receiver.to_string(),
            transition: IncidentTransition {
                seq: 1,
                action: TransitionAction::Trigger,
                at: now,
                incident: inc,
            },
            enqueued_at: now,
            attempts: 0,
            last_error: None,
            labels: Some(labels),
        };
        let url = self.receivers[i].url.clone();
        let err = |detail: String| NotifyError::Delivery {
            receiver: receiver.to_string(),
            url: url.clone(),
            detail,
        };
        let trigger = answer(self.send(i, &entry).await.map_err(err)?).await;
        entry.transition.seq = 2;
        entry.transition.action = TransitionAction::Resolve;
        entry.transition.at = now_millis();
        entry.transition.incident.status = IncidentStatus::Resolved;
        entry.transition.incident.resolved_at = Some(entry.transition.at);
        let resolve = answer(self.send(i, &entry).await.map_err(err)?).await;
        Ok(TestPageReport {
            receiver: receiver.to_string(),
            dedup_key: payload::dedup_key(&id),
            trigger,
            resolve,
        })
    }
}

/// The part of `faultline.toml` the pager commands read: `[store]` and `[notify]`. Other tables
/// (the collector's) are ignored, so the same file serves both.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct PagerFileConfig {
    #[serde(default)]
    pub store: faultline_store::StoreConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
}

impl PagerFileConfig {
    /// Read and parse a TOML file.
    pub fn load(path: &std::path::Path) -> Result<PagerFileConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| NotifyError::ConfigFile {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse TOML text; `name` labels errors. The error gives the line and toml's message but
    /// never the offending source line, which could hold a secret.
    pub fn parse(text: &str, name: &str) -> Result<PagerFileConfig> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let detail = match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            };
            NotifyError::ConfigFile {
                path: name.to_string(),
                detail,
            }
        })
    }
}

/// Send a test page without a store or a running notifier (the `faultline test-page` command;
/// the collector may hold the store file meanwhile).
/// Only the named receiver is validated (another one's missing secret does not matter here).
pub async fn test_page(
    mut cfg: NotifyConfig,
    http: HttpOptions,
    receiver: &str,
) -> Result<TestPageReport> {
    cfg.receivers.retain(|r| r.name == receiver);
    if cfg.receivers.is_empty() {
        return Err(NotifyError::UnknownReceiver(receiver.to_string()));
    }
    Transport::new(cfg, http)?.test_page(receiver).await
}

/// An error with its causes ("error sending request: connection refused"), since reqwest's
/// own message stops at the outermost layer.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let msg = c.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = c.source();
    }
    out
}

fn action_str(a: TransitionAction) -> &'static str {
    match a {
        TransitionAction::Trigger => "trigger",
        TransitionAction::Update => "update",
        TransitionAction::Resolve => "resolve",
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    Answer {
        status,
        body: payload::truncate(&body, ANSWER_MAX).to_string(),
    }
}

/// 2xx = accepted; 408, 429 and 5xx = try again (429 after `Retry-After`); any other status =
/// the receiver will never take this event: dead letter.
async fn classify(resp: reqwest::Response) -> Outcome {
    let status = resp.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let code = status.as_u16();
    let body = resp.text().await.unwrap_or_default();
    let body = payload::truncate(&body, ANSWER_MAX).to_string();
    if code == 408 || code == 429 || status.is_server_error() {
        Outcome::Retry {
            error: format!("HTTP {code}: {body}"),
            retry_after,
        }
    } else {
        Outcome::Dead {
            status: Some(code),
            answer: body,
        }
    }
}

/// `Retry-After` is either delay-seconds or an HTTP-date (IMF-fixdate, RFC 9110 section 10.2.3).
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_imf_fixdate(v)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// "Sun, 06 Nov 1994 08:49:37 GMT" -> Unix seconds.
fn parse_imf_fixdate(v: &str) -> Option<u64> {
    let mut it = v.split_whitespace();
    let _weekday = it.next()?;
    let day: i64 = it.next()?.parse().ok()?;
    let mon = it.next()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == mon)? as i64
        + 1;
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    // The year bound keeps the day arithmetic below from overflowing on a hostile header.
    if it.next()? != "GMT"
        || !(1..=31).contains(&day)
        || !(1970..=9999).contains(&year)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&m)
        || !(0..=60).contains(&s)
    {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// Exponential backoff with "equal jitter": half the step fixed, half random, so a fleet of
/// collectors does not retry in lockstep yet the wait still grows.
fn backoff(cfg: &RetryConfig, failures: u32) -> Duration {
    use rand::Rng;
    let exp = cfg
        .base_ms
        .saturating_mul(1u64 << failures.saturating_sub(1).min(20));
    let step = exp.min(cfg.max_ms).max(1);
    let half = step / 2;
    Duration::from_millis(half + rand::rng().random_range(0..=step - half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let cfg = RetryConfig {
            base_ms: 100,
            max_ms: 1_000,
            max_attempts: None,
        };
        for _ in 0..50 {
            let b1 = backoff(&cfg, 1).as_millis();
            assert!((50..=100).contains(&b1), "{b1}");
            let b3 = backoff(&cfg, 3).as_millis();
            assert!((200..=400).contains(&b3), "{b3}");
            let b30 = backoff(&cfg, 30).as_millis();
            assert!((500..=1_000).contains(&b30), "{b30}");
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "past date: now"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        // Hostile values: no overflow panic, just not understood.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 999999999999 08:49:37 GMT"),
            None
        );
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 -1:49:37 GMT"), None);
    }

    #[test]
    fn token_bucket_allows_a_minute_then_paces() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(120, t0);
        for _ in 0..120 {
            assert!(b.take(t0).is_ok());
        }
        let next = b.take(t0).expect_err("bucket must be empty");
        let wait = next.duration_since(t0).as_millis();
        assert!((490..=510).contains(&wait), "{wait}");
        assert!(b.take(t0 + Duration::from_millis(500)).is_ok());
    }
}
