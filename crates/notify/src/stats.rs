//! Delivery counters, readable at any time by the collector's `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Live counters (shared with the delivery loop).
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
    /// Re-posts of firing alerts (Alertmanager).
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

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }
}
