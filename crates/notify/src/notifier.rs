//! The [`Notifier`]: durable outbox plus delivery loop over ready [`Receivers`].

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use faultline_store::{DeadLetter, OutboxEntry, Store};

use crate::Result;
use crate::config::HttpOptions;
use crate::queue::{QEntry, Queues, RecvQueue};
use crate::receivers::Receivers;
use crate::stats::{NotifyStats, StatsSnapshot};
use crate::test_page::TestPageReport;
use crate::transport::Transport;

pub(crate) struct Inner {
    pub store: Store,
    pub t: Transport,
    pub queues: Mutex<Queues>,
    pub wake: tokio::sync::Notify,
    pub stats: Arc<NotifyStats>,
    /// The hand-over with other processes paging from the same stream, once set.
    pub gate: std::sync::OnceLock<Arc<dyn crate::PageGate>>,
}

/// The pager: durable outbox plus delivery loop. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("store", &self.inner.store)
            .field("receivers", &self.inner.t.receivers.names())
            .finish()
    }
}

impl Notifier {
    /// Build the HTTP client and load the pending outbox from the store for receivers built by
    /// [`Receivers::build`]. Blocks (reads the store). Delivery starts with [`Self::run`].
    pub fn new(store: Store, receivers: Receivers, http: HttpOptions) -> Result<Notifier> {
        let t = Transport::new(receivers, http)?;
        let now = Instant::now();
        let mut queues = Queues {
            recv: t
                .receivers
                .list
                .iter()
                .map(|c| RecvQueue::new(now, c.receiver.resend_interval()))
                .collect(),
            buckets: HashMap::new(),
        };
        let stats = Arc::new(NotifyStats::default());
        let mut pending = 0;
        for entry in store.outbox()? {
            // Entries for receivers no longer configured stay in the store (visible with
            // `faultline outbox`) rather than being silently dropped.
            if let Some(i) = t.receivers.position(&entry.receiver) {
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
                gate: std::sync::OnceLock::new(),
            }),
        })
    }

    /// Deliver through `gate` from now on (a correlator with a standby): entries it reports
    /// delivered elsewhere are acknowledged unsent, and every delivery is reported to it. Set
    /// once; a second call is ignored.
    pub fn set_gate(&self, gate: Arc<dyn crate::PageGate>) {
        let _ = self.inner.gate.set(gate);
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Queues> {
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

    /// Send a test event (trigger, then resolve, dedup key `faultline-test-<millis>`) straight
    /// to one receiver, bypassing the outbox, and report its answers.
    pub async fn test_page(&self, receiver: &str) -> Result<TestPageReport> {
        self.inner.t.test_page(receiver).await
    }
}
