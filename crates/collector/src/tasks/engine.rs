//! The engine task: the only writer of the journal and the only caller of the engine.
//!
//! Each round, in this order: stamp the batch in time order, thin it (observations that change
//! nothing are held back, `faultline_engine`'s `thin` module), **append it to the journal**, feed
//! it to the engine and advance the engine to the wall clock, then **enqueue the transitions
//! together with the engine sequence number** (one transaction, [`persist::enqueue`]). Every
//! `[snapshot] interval_s` the engine's state is saved and the journal pruned past retention.
//!
//! The policy when the journal cannot be written (disk full, I/O error): the engine stops. The
//! batch is kept and its append retried with back-off; the engine is neither fed nor advanced
//! and no further batch is taken (sources wait on the bounded queue), so it never holds a state
//! the journal lacks. `status` shows the store degraded with the observations held, `/metrics`
//! has `faultline_store_healthy 0`, `faultline_store_failed_operations` and
//! `faultline_journal_pending_observations`. Once the append succeeds the engine catches up and
//! its transitions are enqueued (and paged) as usual: nothing is paged twice, nothing lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_engine::Output;
use faultline_incident::IncidentTransition;
use faultline_observe::time::now_ms;
use faultline_observe::{Observation, Signal, Subject, UnixMillis};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::RepollRequests;
use super::shape::FeedBatch;
use crate::Shared;
use crate::persist;

/// Most observations journaled (and fed to the engine) per round: one transaction's dirty pages
/// stay small even when a first poll of ten thousand devices arrives as one burst.
const MAX_BATCH: usize = 5_000;

/// How often the engine advances without new observations (hold-downs expire, data goes stale).
const TICK: Duration = Duration::from_millis(500);

/// First wait before appending a batch again after the journal refused it. The store re-opens
/// its database on the next write after an I/O error (backing off itself, 500 ms doubling to
/// 10 s), so an early retry costs one fast failure at most.
const JOURNAL_RETRY_FIRST: Duration = Duration::from_millis(250);

/// Longest wait between two journal retries: once space is freed, the engine catches up (and
/// pending pages go out) within this.
const JOURNAL_RETRY_MAX: Duration = Duration::from_secs(5);

/// While the journal keeps failing, one log line per this period (with the count since).
const JOURNAL_FAILURE_LOG_EVERY: Duration = Duration::from_secs(30);

/// Logging of one episode of journal failures: the first at once, then at most one line per
/// [`JOURNAL_FAILURE_LOG_EVERY`], and a line when the journal works again.
#[derive(Default)]
struct JournalFailures {
    first: Option<Instant>,
    last_logged: Option<Instant>,
    since_logged: u64,
    total: u64,
}

impl JournalFailures {
    fn failed(&mut self, e: &faultline_store::StoreError, held: usize) {
        let now = Instant::now();
        self.first.get_or_insert(now);
        self.total += 1;
        self.since_logged += 1;
        if self
            .last_logged
            .is_none_or(|t| now.duration_since(t) >= JOURNAL_FAILURE_LOG_EVERY)
        {
            error!(
                error = %e,
                held,
                failed = self.since_logged,
                "journal write failed; the engine waits (observations held, nothing processed) \
                 and the write is retried"
            );
            self.last_logged = Some(now);
            self.since_logged = 0;
        }
    }

    fn recovered(&self, journaled: usize) {
        if let Some(first) = self.first {
            warn!(
                after = ?first.elapsed(),
                failed = self.total,
                journaled,
                "journal writable again; the engine resumes"
            );
        }
    }
}

/// The engine task. It ends at shutdown or when every observation source is gone.
pub(crate) struct EngineTask {
    /// Engine, store, notifier and metrics. At shutdown the engine's state is saved as a
    /// snapshot, so that the next start replays almost nothing; not while transitions are
    /// unsent: the next start must then re-derive them from the journal.
    pub shared: Arc<Shared>,
    /// Observation batches from every source. Batches still queued at shutdown are dropped,
    /// never half-processed (their sources observe again after the restart).
    pub observations: mpsc::Receiver<Vec<Observation>>,
    /// Operators' actions (acknowledge, maintenance), journaled and fed like observations, in
    /// every shape that runs the engine (a correlator's too: they are its own, not the
    /// stream's).
    pub actions: mpsc::Receiver<Vec<Observation>>,
    /// A correlator's external feed (the stream consumer), taken in its order; `None` in the
    /// single process.
    pub feed: Option<mpsc::Receiver<FeedBatch>>,
    /// Confirmations owed to the feed for the batch being journaled, sent once it is.
    pub journaled: Vec<oneshot::Sender<()>>,
    /// The engine's time follows the observations (a correlator), not the wall clock.
    pub stream_clock: bool,
    /// Where the engine's re-poll requests go (dropped and counted when the queue is full).
    pub repoll: RepollRequests,
    /// Sequence number of the last journal entry the engine has seen: what the next snapshot
    /// covers.
    pub journal_seq: u64,
    /// Transitions whose enqueue failed (disk full, ...): retried first, in order, with the
    /// next ones. The engine sequence number only advances with a successful enqueue, and no
    /// snapshot is taken while any wait, so a restart re-derives them too.
    pub unsent: Vec<IncidentTransition>,
    /// Time between two engine snapshots.
    pub snapshot_every: Duration,
    /// Journal entries older than this (and covered by a snapshot) are pruned.
    pub retention: Duration,
    pub shutdown: CancellationToken,
}

/// The next batch of a correlator's feed; never ready without one.
async fn next_fed(feed: &mut Option<mpsc::Receiver<FeedBatch>>) -> Option<FeedBatch> {
    match feed {
        Some(f) => f.recv().await,
        None => std::future::pending().await,
    }
}

impl EngineTask {
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut last_snapshot = Instant::now();
        // The engine's clock: every observation is stamped no earlier, so the journal is in time
        // order and replays through exactly the instants the live engine went through.
        let mut clock: UnixMillis = self.shared.engine().now();
        while let Some(mut batch) = self.next_batch(&mut tick).await {
            // An answer that took long to arrive is stamped no earlier than what the engine
            // has already seen. Not a correlator's: a zone's buffered batches arriving after a
            // partition keep their poll times (the engine takes late observations at their own
            // time, and the journal keeps the stream's order, which replay follows).
            for o in &mut batch {
                if !self.stream_clock {
                    o.at = o.at.max(clock);
                }
                clock = clock.max(o.at);
            }
            // Repetitions that change nothing go neither to the journal nor to the engine.
            let thinned = self.shared.engine().thin(batch);
            self.shared.metrics.journal_thinned(thinned.held);
            let batch = thinned.kept;
            let Some(batch) = self.journal(batch).await else {
                break;
            };
            for done in self.journaled.drain(..) {
                let _ = done.send(());
            }
            let now = if self.stream_clock {
                clock
            } else {
                now_ms().max(clock)
            };
            clock = now;
            let transitions = self.step(&batch, now);
            if !transitions.is_empty() {
                // Journal the advance before paging what it produced: a replay then goes
                // through the same instant and re-derives the same incidents (same ids).
                let marker = Observation::new(now, Subject::device(""), Signal::ClockAdvance);
                self.journal(vec![marker]).await;
            }
            self.deliver(transitions).await;
            if self.unsent.is_empty() && last_snapshot.elapsed() >= self.snapshot_every {
                last_snapshot = Instant::now();
                self.snapshot_and_prune(now).await;
            }
        }
        if self.unsent.is_empty() {
            let _ = persist::save_snapshot(&self.shared, self.journal_seq).await;
        }
    }

    /// The next batch: whatever is queued (up to [`MAX_BATCH`], so that one journal write and
    /// fsync covers it all), or nothing when the tick comes first. `None` at shutdown or when
    /// every source is gone.
    async fn next_batch(&mut self, tick: &mut Interval) -> Option<Vec<Observation>> {
        let mut batch = Vec::new();
        tokio::select! {
            _ = self.shutdown.cancelled() => return None,
            got = self.observations.recv(), if self.feed.is_none() => batch.extend(got?),
            Some(acts) = self.actions.recv() => batch.extend(acts),
            got = next_fed(&mut self.feed) => {
                let fed = got?;
                self.count_received(&fed);
                batch.extend(fed.observations);
                self.journaled.extend(fed.journaled);
            }
            _ = tick.tick() => return Some(batch),
        }
        // A correlator takes one stream message per round: its rounds, hence the instants its
        // engine correlates at, follow the stream and not the arrival timing, so a standby
        // following the same stream opens the same incidents under the same ids as the leader.
        while batch.len() < MAX_BATCH && self.feed.is_none() {
            match self.observations.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        Some(batch)
    }

    /// Count a batch from the stream under its zone (`faultline_cluster_*_received_total`).
    fn count_received(&self, fed: &FeedBatch) {
        if let Some(zone) = &fed.zone {
            self.shared
                .metrics
                .batch_received(zone, fed.observations.len());
        }
    }

    /// Journal first: the batch is appended before the engine sees it. When the append fails
    /// (disk full, I/O error) the batch is kept and retried with back-off
    /// ([`JOURNAL_RETRY_FIRST`] doubling to [`JOURNAL_RETRY_MAX`]); meanwhile the engine is
    /// neither fed nor advanced and no new batch is taken (the sources wait on the bounded
    /// queue), so the engine never holds state the journal lacks and a restart replays to the
    /// same incidents. `None` at shutdown while still failing: the batch is dropped like any
    /// batch still queued (its sources observe again after the restart).
    async fn journal(&mut self, batch: Vec<Observation>) -> Option<Vec<Observation>> {
        if batch.is_empty() {
            return Some(batch);
        }
        let mut batch = batch;
        let mut wait = JOURNAL_RETRY_FIRST;
        let mut failures = JournalFailures::default();
        loop {
            match persist::append_journal(&self.shared, batch).await {
                Ok((done, seq)) => {
                    if let Some(seq) = seq {
                        self.journal_seq = seq;
                    }
                    failures.recovered(done.len());
                    self.shared.metrics.journal_pending(0);
                    self.shared.metrics.observations(done.len());
                    return Some(done);
                }
                Err(persist::AppendError::Store { batch: kept, error }) => {
                    failures.failed(&error, kept.len());
                    self.shared.metrics.journal_pending(kept.len());
                    batch = kept;
                }
                Err(persist::AppendError::Lost(e)) => {
                    error!(error = %e, "journal task failed; this batch is lost");
                    self.shared.metrics.journal_pending(0);
                    return Some(Vec::new());
                }
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return None,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(JOURNAL_RETRY_MAX);
        }
    }

    /// Feed the engine and advance it to `now`; re-poll requests go out, state changes are
    /// logged, transitions come back.
    fn step(&self, batch: &[Observation], now: UnixMillis) -> Vec<IncidentTransition> {
        let outs = {
            let mut engine = self.shared.engine();
            let mut outs = engine.ingest(batch);
            outs.extend(engine.advance(now));
            outs
        };
        let changed = outs
            .iter()
            .any(|o| matches!(o, Output::Transition(_) | Output::StateChanged { .. }));
        if changed {
            self.shared.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        let mut transitions = Vec::new();
        for o in outs {
            match o {
                Output::Transition(t) => transitions.push(t),
                Output::Repoll(ids) => self.repoll.request(ids),
                Output::StateChanged { id, from, to, .. } => {
                    info!(component = %id, from = from.as_str(), to = to.as_str(), "state changed");
                }
            }
        }
        for t in &transitions {
            info!(incident = %t.incident.id, action = ?t.action, kind = t.incident.kind.as_str(), severity = t.incident.severity.as_str(), "{}", t.incident.title);
        }
        self.shared.metrics.transitions(&transitions);
        transitions
    }

    /// Enqueue the new transitions after any still unsent, with the engine sequence number.
    async fn deliver(&mut self, transitions: Vec<IncidentTransition>) {
        self.unsent.extend(transitions);
        if !self.unsent.is_empty() {
            self.unsent = persist::enqueue(&self.shared.notifier, std::mem::take(&mut self.unsent))
                .await
                .unwrap_or_default();
        }
    }

    async fn snapshot_and_prune(&self, now: UnixMillis) {
        if persist::save_snapshot(&self.shared, self.journal_seq).await {
            let retention_ms = u64::try_from(self.retention.as_millis()).unwrap_or(u64::MAX);
            persist::prune_journal(
                &self.shared,
                self.journal_seq + 1,
                now.saturating_sub(retention_ms),
            )
            .await;
        }
    }
}
