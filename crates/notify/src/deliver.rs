//! The delivery loop: take ready queue heads, send them (bounded per receiver, paced by token
//! buckets, backed off after failures), record the outcomes durably in batches, and re-post
//! firing alerts to receivers that need it.

use std::future::Future;
use std::time::{Duration, Instant};

use faultline_incident::{IncidentTransition, TransitionAction};
use faultline_observe::time::now_ms;
use faultline_store::OutboxEntry;
use tokio::sync::mpsc;

use crate::notifier::Notifier;
use crate::outcome::Outcome;
use crate::queue::{QEntry, TokenBucket};
use crate::retry::RetryLogic;
use crate::stats::NotifyStats;

/// How long a graceful stop waits for requests on the wire.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// The loop looks again at least this often.
const IDLE_WAKE: Duration = Duration::from_secs(60);

/// One entry to send.
struct Job {
    recv: usize,
    entry: OutboxEntry,
    ephemeral: bool,
}

/// One finished attempt.
struct Done {
    recv: usize,
    incident: String,
    id: u64,
    seq: u64,
    ephemeral: bool,
    outcome: Outcome,
}

impl Notifier {
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
                self.spawn_attempt(job, done_tx.clone());
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
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        while in_flight > finished.len() {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some(d)) => finished.push(d),
                _ => break,
            }
        }
        if !finished.is_empty() {
            self.apply(finished).await;
        }
        // Requests still unanswered count as not delivered (their late answers are ignored).
        for rq in &mut self.lock().recv {
            rq.release_in_flight();
        }
    }

    fn spawn_attempt(&self, job: Job, done: mpsc::UnboundedSender<Done>) {
        let me = self.clone();
        tokio::spawn(async move {
            let outcome = me.gated_attempt(&job).await;
            let _ = done.send(Done {
                recv: job.recv,
                incident: job.entry.transition.incident.id.clone(),
                id: job.entry.id,
                seq: job.entry.transition.seq,
                ephemeral: job.ephemeral,
                outcome,
            });
        });
    }

    /// One attempt through the [`PageGate`](crate::PageGate), if any: an entry another process
    /// already delivered counts as delivered without being sent; a settled one is told.
    async fn gated_attempt(&self, job: &Job) -> Outcome {
        let gate = self.inner.gate.get().filter(|_| !job.ephemeral);
        let t = &job.entry.transition;
        let receiver = &self.inner.t.get(job.recv).cfg.name;
        if let Some(g) = gate
            && g.already_paged(receiver, &t.incident.id, t.seq)
        {
            return Outcome::Delivered;
        }
        let outcome = self.inner.t.attempt(job.recv, &job.entry).await;
        if let Some(g) = gate
            && matches!(outcome, Outcome::Delivered | Outcome::Rejected { .. })
        {
            g.delivered(receiver, &t.incident.id, t.seq).await;
        }
        outcome
    }

    /// Pick the heads that may go out now; say when to look again.
    fn take_ready(&self, now: Instant) -> (Vec<Job>, Instant) {
        let max = self.inner.t.receivers.max_in_flight.max(1);
        let mut next = now + IDLE_WAKE;
        let mut jobs = Vec::new();
        let mut q = self.lock();
        let q = &mut *q;
        for (i, rq) in q.recv.iter_mut().enumerate() {
            let c = self.inner.t.get(i);
            if let Some(at) = rq.next_resend {
                next = next.min(at);
            }
            if let Some(nb) = rq.not_before {
                if nb > now {
                    next = next.min(nb);
                    continue;
                }
                rq.not_before = None;
            }
            while rq.in_flight < max {
                let Some(ready) = rq.first_ready() else {
                    break;
                };
                if let Some(rate) = &c.rate {
                    let bucket = q
                        .buckets
                        .entry(rate.bucket.clone())
                        .or_insert_with(|| TokenBucket::new(rate.per_minute, now));
                    if let Err(at) = bucket.take(now) {
                        rq.not_before = Some(at);
                        next = next.min(at);
                        break;
                    }
                }
                if let Some(head) = rq.start(&ready) {
                    jobs.push(Job {
                        recv: i,
                        entry: head.entry.clone(),
                        ephemeral: head.ephemeral,
                    });
                }
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
        let mut q = self.lock();
        let logic = RetryLogic::new(&self.inner.t.receivers.retry);
        for d in done.iter_mut().filter(|d| !d.ephemeral) {
            let attempts = q.recv[d.recv].head_attempts(&d.incident, d.id);
            let outcome = std::mem::replace(&mut d.outcome, Outcome::Delivered);
            d.outcome = logic.settle(outcome, attempts);
        }
        let removed = match self.record(&done) {
            Ok(removed) => removed,
            Err(e) => {
                // Nothing recorded: the entries stay pending and go out again (at-least-once),
                // after a backoff: re-sending at once would hammer the receiver for as long as
                // the disk stays unwritable.
                tracing::error!(error = %e, "notify: cannot record delivery outcomes");
                for d in &done {
                    let rq = &mut q.recv[d.recv];
                    rq.failures = rq.failures.saturating_add(1);
                    rq.back_off(Instant::now() + logic.backoff(rq.failures));
                }
                vec![false; done.len()]
            }
        };
        for (d, gone) in done.iter().zip(removed) {
            let rq = &mut q.recv[d.recv];
            let name = &self.inner.t.get(d.recv).cfg.name;
            let stats = &self.inner.stats;
            match &d.outcome {
                Outcome::Delivered => {
                    rq.failures = 0;
                    if d.ephemeral {
                        NotifyStats::add(&stats.resent, 1);
                    } else if gone {
                        NotifyStats::add(&stats.delivered, 1);
                        NotifyStats::sub(&stats.pending, 1);
                    }
                }
                Outcome::Rejected { status, answer } => {
                    tracing::warn!(receiver = %name, incident = %d.incident, status = ?status, answer = %answer, "notify: dead letter");
                    if gone && !d.ephemeral {
                        NotifyStats::add(&stats.dead_lettered, 1);
                        NotifyStats::sub(&stats.pending, 1);
                    }
                }
                Outcome::Retry { error, retry_after } => {
                    rq.failures = rq.failures.saturating_add(1);
                    let wait = logic.wait(*retry_after, rq.failures);
                    rq.back_off(Instant::now() + wait);
                    if !d.ephemeral {
                        NotifyStats::add(&stats.retries, 1);
                    }
                    tracing::info!(receiver = %name, incident = %d.incident, error = %error, wait_ms = wait.as_millis() as u64, "notify: will retry");
                }
            }
            let error = match &d.outcome {
                Outcome::Retry { error, .. } => Some(error.as_str()),
                _ => None,
            };
            rq.finish(&d.incident, d.id, d.ephemeral, gone, error);
        }
    }

    /// The store side of [`Self::apply_blocking`]: for each attempt, whether its entry left the
    /// outbox (acknowledged or dead-lettered). Re-posts are not stored: always "gone".
    fn record(&self, done: &[Done]) -> Result<Vec<bool>, faultline_store::StoreError> {
        let now = now_ms();
        self.inner.store.transact(|txn| {
            let mut removed = Vec::with_capacity(done.len());
            for d in done {
                let gone = match (&d.outcome, d.ephemeral) {
                    (_, true) => true,
                    (Outcome::Delivered, false) => txn.ack_outbox(d.id, d.seq)?,
                    (Outcome::Rejected { status, answer }, false) => {
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
        })
    }

    /// Receivers that forget firing alerts (Alertmanager, after its resolve_timeout) get every
    /// incident still paged there again, through the same per-incident queue (so a re-post can
    /// never overtake a resolve).
    async fn schedule_resends(&self) {
        let now = Instant::now();
        let due: Vec<usize> = {
            let q = self.lock();
            (0..q.recv.len())
                .filter(|&i| q.recv[i].next_resend.is_some_and(|at| at <= now))
                .collect()
        };
        for i in due {
            let c = self.inner.t.get(i);
            let store = self.inner.store.clone();
            let name = c.cfg.name.clone();
            let recs = tokio::task::spawn_blocking(move || store.paged(Some(&name))).await;
            let mut q = self.lock();
            let rq = &mut q.recv[i];
            rq.next_resend = c.receiver.resend_interval().map(|r| now + r);
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
            // Anything queued for the incident carries its state already.
            for rec in recs {
                if rq.has_queued(&rec.incident.id) {
                    continue;
                }
                let at = now_ms();
                let entry = OutboxEntry {
                    id: 0,
                    receiver: rec.receiver,
                    transition: IncidentTransition {
                        seq: 0,
                        action: TransitionAction::Update,
                        at,
                        incident: rec.incident,
                    },
                    enqueued_at: at,
                    attempts: 0,
                    last_error: None,
                    labels: (!rec.labels.is_empty()).then_some(rec.labels),
                };
                rq.push(QEntry {
                    entry,
                    ephemeral: true,
                });
            }
        }
    }
}
