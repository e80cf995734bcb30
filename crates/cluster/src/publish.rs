//! The poller's publisher: observation batches in, JetStream messages out, in order; while
//! NATS does not acknowledge, batches wait in the [`DiskBuffer`] and are sent, oldest first,
//! once it does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::Context;
use faultline_observe::time::now_ms;
use faultline_observe::{Observation, Signal, Subject};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::buffer::DiskBuffer;
use crate::wire::{BatchId, WireBatch, ZoneName, subject_for};
use crate::{ClusterError, ensure_stream};

/// First wait before publishing buffered batches again after NATS failed to acknowledge.
const RETRY_FIRST: Duration = Duration::from_millis(250);

/// Longest wait between two attempts while NATS stays unreachable: once it is back, the buffer
/// starts draining within this.
const RETRY_MAX: Duration = Duration::from_secs(2);

/// What a publisher has done, for `/metrics` and `faultline cluster status`.
#[derive(Debug, Default)]
pub struct PublisherStats {
    published_batches: AtomicU64,
    published_observations: AtomicU64,
    buffered_total: AtomicU64,
    buffered_now: AtomicU64,
    buffered_bytes: AtomicU64,
    dropped: AtomicU64,
    publish_errors: AtomicU64,
    heartbeats: AtomicU64,
}

/// A copy of [`PublisherStats`] at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Batches acknowledged by JetStream.
    pub published_batches: u64,
    /// Observations in those batches.
    pub published_observations: u64,
    /// Batches that went through the disk buffer.
    pub buffered_total: u64,
    /// Batches in the disk buffer now.
    pub buffered_now: u64,
    /// Bytes on disk of the batches in the buffer now.
    pub buffered_bytes: u64,
    /// Batches dropped because the buffer was full (or unwritable).
    pub dropped: u64,
    /// Publish attempts JetStream did not acknowledge (the batch was buffered or kept).
    pub publish_errors: u64,
    /// Heartbeats published.
    pub heartbeats: u64,
}

impl PublisherStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            published_batches: self.published_batches.load(Ordering::Relaxed),
            published_observations: self.published_observations.load(Ordering::Relaxed),
            buffered_total: self.buffered_total.load(Ordering::Relaxed),
            buffered_now: self.buffered_now.load(Ordering::Relaxed),
            buffered_bytes: self.buffered_bytes.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            publish_errors: self.publish_errors.load(Ordering::Relaxed),
            heartbeats: self.heartbeats.load(Ordering::Relaxed),
        }
    }
}

/// Publishes one zone's observation batches to `faultline.obs.<zone>`.
pub struct Publisher {
    js: Context,
    zone: ZoneName,
    subject: String,
    poller: String,
    boot: u64,
    seq: u64,
    replicas: usize,
    stream_ready: bool,
    buffer: DiskBuffer,
    stats: Arc<PublisherStats>,
    /// Send a [`Signal::PollerHeartbeat`] this often (`None`: never).
    heartbeat: Option<Duration>,
}

impl Publisher {
    /// A publisher for `zone`, named `poller` (the message ids' prefix), buffering in `buffer`.
    /// The stream is created with `replicas` copies when missing.
    pub fn new(
        js: Context,
        zone: ZoneName,
        poller: String,
        buffer: DiskBuffer,
        replicas: usize,
    ) -> Publisher {
        let stats = Arc::new(PublisherStats::default());
        stats
            .buffered_now
            .store(buffer.len() as u64, Ordering::Relaxed);
        stats
            .buffered_bytes
            .store(buffer.bytes(), Ordering::Relaxed);
        Publisher {
            js,
            subject: subject_for(&zone),
            zone,
            poller,
            boot: now_ms(),
            seq: 0,
            replicas,
            stream_ready: false,
            buffer,
            stats,
            heartbeat: None,
        }
    }

    /// Also publish a [`Signal::PollerHeartbeat`] every `every`, so that the correlator can
    /// tell a live poller whose observations are all thinned away from a silent one. A
    /// heartbeat is about now: it is sent only when nothing waits in the buffer (it must not
    /// overtake older batches) and never buffered.
    pub fn with_heartbeat(mut self, every: Duration) -> Publisher {
        self.heartbeat = Some(every);
        self
    }

    /// The publisher's counters (shared; they keep counting while it runs).
    pub fn stats(&self) -> Arc<PublisherStats> {
        self.stats.clone()
    }

    /// Publish every batch from `batches` until `shutdown` or until every sender is gone. At
    /// shutdown, batches still queued go to the disk buffer (sent by the next run).
    pub async fn run(
        mut self,
        mut batches: mpsc::Receiver<Vec<Observation>>,
        shutdown: CancellationToken,
    ) {
        let mut retry = RETRY_FIRST;
        // Without heartbeats the interval is never polled (its period only has to be valid).
        let mut beat = tokio::time::interval(self.heartbeat.unwrap_or(Duration::from_secs(3_600)));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The next attempt at the buffer: a fixed instant, so that batches arriving more often
        // than `retry` do not put it off for ever.
        let mut next_try = tokio::time::Instant::now() + retry;
        loop {
            let waiting = !self.buffer.is_empty();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                got = batches.recv() => match got {
                    Some(b) => self.accept(b).await,
                    None => break,
                },
                _ = tokio::time::sleep_until(next_try), if waiting => {
                    retry = if self.drain().await {
                        self.beat().await;
                        RETRY_FIRST
                    } else {
                        (retry * 2).min(RETRY_MAX)
                    };
                    next_try = tokio::time::Instant::now() + retry;
                }
                _ = beat.tick(), if self.heartbeat.is_some() && !waiting => self.beat().await,
            }
        }
        while let Ok(b) = batches.try_recv() {
            let b = self.wrap(b);
            self.buffer_batch(&b);
        }
        // One last attempt: a clean stop with NATS up leaves nothing behind.
        self.drain().await;
    }

    fn wrap(&mut self, observations: Vec<Observation>) -> WireBatch {
        let id = BatchId {
            poller: self.poller.clone(),
            boot: self.boot,
            seq: self.seq,
        };
        self.seq += 1;
        WireBatch {
            id,
            zone: self.zone.clone(),
            sent: now_ms(),
            observations,
        }
    }

    /// Publish a heartbeat now, unless heartbeats are off; a failed one is not buffered.
    async fn beat(&mut self) {
        if self.heartbeat.is_none() || !self.buffer.is_empty() {
            return;
        }
        let signal = Signal::PollerHeartbeat {
            zone: self.zone.to_string(),
            poller: self.poller.clone(),
        };
        let batch = self.wrap(vec![Observation::new(
            now_ms(),
            Subject::device(""),
            signal,
        )]);
        match self.send(&batch).await {
            Ok(()) => {
                self.stats.heartbeats.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => warn!(error = %e, zone = %self.zone, "heartbeat not acknowledged"),
        }
    }

    /// Publish one batch at once when nothing waits before it, else queue it behind the rest.
    pub async fn accept(&mut self, observations: Vec<Observation>) {
        if observations.is_empty() {
            return;
        }
        let batch = self.wrap(observations);
        if self.buffer.is_empty() {
            match self.send(&batch).await {
                Ok(()) => return,
                Err(e) => {
                    warn!(error = %e, zone = %self.zone, "NATS did not acknowledge; buffering on disk")
                }
            }
        }
        self.buffer_batch(&batch);
    }

    fn buffer_batch(&mut self, batch: &WireBatch) {
        let before = self.buffer.dropped();
        if let Err(e) = self.buffer.push(batch) {
            warn!(error = %e, "cannot buffer a batch; it is dropped");
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.buffered_total.fetch_add(1, Ordering::Relaxed);
        }
        let newly_dropped = self.buffer.dropped() - before;
        self.stats
            .dropped
            .fetch_add(newly_dropped, Ordering::Relaxed);
        self.note_buffer();
    }

    fn note_buffer(&self) {
        self.stats
            .buffered_now
            .store(self.buffer.len() as u64, Ordering::Relaxed);
        self.stats
            .buffered_bytes
            .store(self.buffer.bytes(), Ordering::Relaxed);
    }

    /// Send buffered batches, oldest first, until one fails. True when the buffer is empty.
    async fn drain(&mut self) -> bool {
        let sent_before = self.stats.published_batches.load(Ordering::Relaxed);
        loop {
            let batch = match self.buffer.front() {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => {
                    warn!(error = %e, "cannot read the disk buffer");
                    return false;
                }
            };
            if self.send(&batch).await.is_err() {
                return false;
            }
            if let Err(e) = self.buffer.pop_front() {
                warn!(error = %e, "cannot remove a published batch from the buffer");
                return false;
            }
            self.note_buffer();
        }
        let sent = self.stats.published_batches.load(Ordering::Relaxed) - sent_before;
        if sent > 0 {
            info!(batches = sent, zone = %self.zone, "disk buffer drained to NATS");
        }
        true
    }

    /// Publish one batch with its message id and wait for JetStream's acknowledgement.
    async fn send(&mut self, batch: &WireBatch) -> Result<(), ClusterError> {
        let sent = self.try_send(batch).await;
        match &sent {
            Ok(()) => {
                self.stats.published_batches.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .published_observations
                    .fetch_add(batch.observations.len() as u64, Ordering::Relaxed);
            }
            Err(_) => {
                self.stats.publish_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        sent
    }

    async fn try_send(&mut self, batch: &WireBatch) -> Result<(), ClusterError> {
        if !self.stream_ready {
            ensure_stream(&self.js, self.replicas).await?;
            self.stream_ready = true;
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            batch.id.msg_id().as_str(),
        );
        let ack = self
            .js
            .publish_with_headers(self.subject.clone(), headers, batch.encode()?)
            .await
            .map_err(|e| ClusterError::Publish(e.to_string()))?;
        ack.await
            .map_err(|e| ClusterError::Publish(e.to_string()))?;
        Ok(())
    }
}
