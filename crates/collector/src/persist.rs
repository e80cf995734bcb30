//! The collector's writes to the store, each on the blocking pool: journal appends, outbox
//! enqueues (with the engine sequence number, in one transaction), engine snapshots and journal
//! pruning.
//!
//! The order is the correctness rule of the collector: an observation batch is appended to the
//! journal *before* the engine ingests it, and the transitions the engine produces are enqueued
//! together with the engine sequence number they reach. A crash between any two steps is
//! repaired at the next start by replaying the journal ([`crate::restore`]). A batch the
//! journal refuses is never processed (the engine task retries it first).

use std::sync::Arc;

use faultline_incident::IncidentTransition;
use faultline_notify::Notifier;
use faultline_observe::{Observation, UnixMillis};
use tracing::{info, warn};

use crate::Shared;

/// Name of the engine snapshot in the store.
pub(crate) const SNAPSHOT: &str = "engine";

/// Store layout of a snapshot: the journal sequence it covers (u64, little endian), then the
/// engine's bytes.
pub(crate) fn split_snapshot(b: &[u8]) -> Option<(u64, &[u8])> {
    let (seq, rest) = b.split_at_checked(8)?;
    Some((u64::from_le_bytes(seq.try_into().ok()?), rest))
}

/// Why a journal append failed.
pub(crate) enum AppendError {
    /// The store refused the write (disk full, I/O error, re-opening, ...): the batch comes
    /// back, untouched, for the caller to retry.
    Store {
        batch: Vec<Observation>,
        error: faultline_store::StoreError,
    },
    /// The blocking task died and took the batch with it (a bug: the store never panics).
    Lost(String),
}

/// Append a batch to the journal and hand the batch back, with the journal sequence number of
/// its last entry (`None` if the batch was empty). The batch moves to the blocking pool and
/// back, so a storm's worth of observations is never copied.
pub(crate) async fn append_journal(
    shared: &Shared,
    batch: Vec<Observation>,
) -> Result<(Vec<Observation>, Option<u64>), AppendError> {
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || {
        let r = store.append_observations(&batch);
        (r, batch)
    })
    .await
    {
        Ok((Ok(seq), batch)) => Ok((batch, seq)),
        Ok((Err(error), batch)) => Err(AppendError::Store { batch, error }),
        Err(e) => Err(AppendError::Lost(e.to_string())),
    }
}

/// Durably enqueue transitions and record the engine sequence number they reached, in one
/// transaction. Returns the transitions when that failed, for the caller to retry with the next
/// ones (the sequence number did not advance, so a restart re-derives them too).
pub(crate) async fn enqueue(
    notifier: &Notifier,
    ts: Vec<IncidentTransition>,
) -> Option<Vec<IncidentTransition>> {
    let max = ts.iter().map(|t| t.seq).max().unwrap_or(0);
    let n = notifier.clone();
    // Kept in case the blocking task itself dies: transitions are few, the copy is cheap.
    let keep = ts.clone();
    // One transaction: the outbox entries, the incidents and the engine sequence number, so a
    // crash leaves either all of it or none (then the replay re-derives it).
    let r = tokio::task::spawn_blocking(move || {
        let r = n.enqueue_many_with(&ts, |txn| txn.set_engine_seq(max));
        (r, ts)
    })
    .await;
    match r {
        Ok((Ok(()), _)) => None,
        Ok((Err(e), ts)) => {
            warn!(error = %e, pending = ts.len(), "could not enqueue incident transitions; retrying with the next batch");
            Some(ts)
        }
        Err(e) => {
            warn!(error = %e, "enqueue task failed; retrying with the next batch");
            Some(keep)
        }
    }
}

/// Save the engine's state as covering the journal up to `journal_seq`; `false` if it failed
/// (logged).
pub(crate) async fn save_snapshot(shared: &Arc<Shared>, journal_seq: u64) -> bool {
    let mut bytes = journal_seq.to_le_bytes().to_vec();
    bytes.extend(shared.engine().snapshot());
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.put_snapshot(SNAPSHOT, &bytes)).await {
        Ok(Ok(())) => {
            tracing::debug!(journal_seq, "engine snapshot saved");
            true
        }
        Ok(Err(e)) => {
            warn!(error = %e, "engine snapshot not saved");
            false
        }
        Err(e) => {
            warn!(error = %e, "snapshot task failed");
            false
        }
    }
}

/// Drop journal entries past retention that the saved snapshot already covers.
pub(crate) async fn prune_journal(shared: &Arc<Shared>, keep_from: u64, older_than: UnixMillis) {
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.prune_journal(keep_from, older_than)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => info!(entries = n, "journal pruned past retention"),
        Ok(Err(e)) => warn!(error = %e, "journal pruning failed"),
        Err(e) => warn!(error = %e, "journal pruning task failed"),
    }
}
