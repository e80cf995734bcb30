//! The receiver's counters and the outputs (event and repoll channels) that count what they
//! deliver or drop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::{RepollRequest, TrapEvent};

/// Counters, all monotonic since start.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) received: AtomicU64,
    pub(super) decoded: AtomicU64,
    pub(super) rejected_source: AtomicU64,
    pub(super) rejected_auth: AtomicU64,
    pub(super) malformed: AtomicU64,
    pub(super) dropped_queue_full: AtomicU64,
}

/// Where decoded notifications go: the event channel and the repoll channel, counted.
pub(super) struct Outputs {
    pub(super) counters: Arc<Counters>,
    pub(super) events: mpsc::Sender<TrapEvent>,
    pub(super) repolls: mpsc::Sender<RepollRequest>,
}

impl Outputs {
    /// Count an event dropped on a full channel (logged at powers of two).
    pub(super) fn count_dropped(&self) {
        let n = self
            .counters
            .dropped_queue_full
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if n.is_power_of_two() {
            tracing::warn!(
                total = n,
                "trap event channel full: consumer too slow, event dropped"
            );
        }
    }

    /// Ask for a re-poll of the event's device, if it names one.
    pub(super) fn repoll(&self, event: &TrapEvent) {
        if let Some(d) = &event.repoll {
            // Repolls are idempotent prompts: when the channel is full a repoll is already
            // pending, so dropping this one loses nothing.
            let _ = self.repolls.try_send(RepollRequest {
                device_id: d.clone(),
            });
        }
    }

    /// Emit one event. Returns false when the consumer has gone away.
    pub(super) fn emit(&self, event: TrapEvent) -> bool {
        self.repoll(&event);
        match self.events.try_send(event) {
            Ok(()) => {
                // Counted on delivery, so that received = decoded + rejected_* + malformed +
                // dropped_queue_full holds for v1/v2c.
                self.counters.decoded.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.count_dropped();
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}
