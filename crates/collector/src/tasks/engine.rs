//! The engine task: the only writer of the journal and the only caller of the engine.
//!
//! Each round, in this order: stamp the batch in time order, **append it to the journal**, feed
//! it to the engine and advance the engine to the wall clock, then **enqueue the transitions
//! together with the engine sequence number** (one transaction, [`persist::enqueue`]). Every
//! `[snapshot] interval_s` the engine's state is saved and the journal pruned past retention.

use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_engine::Output;
use faultline_incident::IncidentTransition;
use faultline_observe::time::now_ms;
use faultline_observe::{Observation, Signal, Subject, UnixMillis};
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::RepollRequests;
use crate::Shared;
use crate::persist;

/// Most observations journaled (and fed to the engine) per round: one transaction's dirty pages
/// stay small even when a first poll of ten thousand devices arrives as one burst.
const MAX_BATCH: usize = 5_000;

/// How often the engine advances without new observations (hold-downs expire, data goes stale).
const TICK: Duration = Duration::from_millis(500);

/// The engine task. It ends at shutdown or when every observation source is gone.
pub(crate) struct EngineTask {
    /// Engine, store, notifier and metrics. At shutdown the engine's state is saved as a
    /// snapshot, so that the next start replays almost nothing; not while transitions are
    /// unsent: the next start must then re-derive them from the journal.
    pub shared: Arc<Shared>,
    /// Observation batches from every source. Batches still queued at shutdown are dropped,
    /// never half-processed (their sources observe again after the restart).
    pub observations: mpsc::Receiver<Vec<Observation>>,
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
            // has already seen.
            for o in &mut batch {
                o.at = o.at.max(clock);
                clock = o.at;
            }
            let batch = self.journal(batch).await;
            let now = now_ms().max(clock);
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
            got = self.observations.recv() => batch.extend(got?),
            _ = tick.tick() => return Some(batch),
        }
        while batch.len() < MAX_BATCH {
            match self.observations.try_recv() {
                Ok(more) => batch.extend(more),
                Err(_) => break,
            }
        }
        Some(batch)
    }

    /// Journal first: the batch is appended before the engine sees it.
    async fn journal(&mut self, batch: Vec<Observation>) -> Vec<Observation> {
        if batch.is_empty() {
            return batch;
        }
        let (batch, seq) = persist::append_journal(&self.shared, batch).await;
        if let Some(seq) = seq {
            self.journal_seq = seq;
        }
        self.shared.metrics.observations(batch.len());
        batch
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
