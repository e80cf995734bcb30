//! Restore at start: the latest engine snapshot (if it matches this topology and engine
//! configuration) plus the journal written after it; otherwise the whole journal through a
//! fresh engine. Either is deterministic, so the engine reaches the same incidents with the same
//! ids. Transitions past the recorded engine sequence number (produced before a crash but never
//! enqueued) are enqueued now.

use std::sync::Arc;

use faultline_engine::{Engine, EngineConfig, Output};
use faultline_graph::DependencyGraph;
use faultline_incident::IncidentTransition;
use faultline_notify::Notifier;
use faultline_observe::Observation;
use faultline_store::{Store, StoreError};
use tracing::{info, warn};

use crate::CollectorError;
use crate::persist::{SNAPSHOT, enqueue, split_snapshot};

/// The state of the previous run.
pub(crate) struct Restored {
    /// The engine, caught up with the whole journal.
    pub engine: Engine,
    /// Sequence number of the last journal entry the engine has seen (0 for an empty journal).
    pub journal_seq: u64,
    /// Transitions the previous run produced but never enqueued, whose enqueue failed again
    /// now: the engine task retries them before anything else.
    pub unsent: Vec<IncidentTransition>,
}

/// Rebuild the engine from the store and enqueue what the previous run left unsent.
pub(crate) async fn restore(
    store: &Store,
    notifier: &Notifier,
    graph: Arc<DependencyGraph>,
    cfg: EngineConfig,
) -> Result<Restored, CollectorError> {
    let st = store.clone();
    let (snapshot, enqueued_seq) =
        blocking(move || Ok((st.snapshot(SNAPSHOT)?, st.engine_seq()?))).await?;
    let (mut engine, from) = from_snapshot(snapshot.as_deref(), graph, cfg);
    let st = store.clone();
    let journal = blocking(move || st.journal_from(from)).await?;
    let replayed = journal.len();
    let journal_seq = journal
        .last()
        .map(|(s, _)| *s)
        .unwrap_or(from.saturating_sub(1));
    let observations: Vec<Observation> = journal.into_iter().map(|(_, o)| o).collect();
    let missed = replay(&mut engine, &observations, enqueued_seq);
    let mut unsent = Vec::new();
    if !missed.is_empty() {
        info!(
            count = missed.len(),
            "enqueueing transitions that were produced before a crash but never enqueued"
        );
        unsent = enqueue(notifier, missed).await.unwrap_or_default();
    }
    info!(
        observations = replayed,
        open_incidents = engine.open_incidents().len(),
        seq = engine.seq(),
        "state restored from the journal"
    );
    Ok(Restored {
        engine,
        journal_seq,
        unsent,
    })
}

/// The engine from the snapshot, and the first journal sequence number it has not seen; a fresh
/// engine and 0 when there is no usable snapshot.
fn from_snapshot(
    snapshot: Option<&[u8]>,
    graph: Arc<DependencyGraph>,
    cfg: EngineConfig,
) -> (Engine, u64) {
    let Some((seq, bytes)) = snapshot.and_then(split_snapshot) else {
        return (Engine::new(graph, cfg), 0);
    };
    match Engine::restore(graph.clone(), cfg.clone(), bytes) {
        Ok(engine) => {
            info!(journal_seq = seq, "engine restored from snapshot");
            (engine, seq + 1)
        }
        Err(e) => {
            warn!(error = %e, "engine snapshot not used; replaying the whole journal");
            (Engine::new(graph, cfg), 0)
        }
    }
}

/// Feed the journal to the engine, up to the time of its last entry; the transitions past
/// `enqueued_seq` (never enqueued) come back.
fn replay(
    engine: &mut Engine,
    observations: &[Observation],
    enqueued_seq: u64,
) -> Vec<IncidentTransition> {
    let mut outs = engine.ingest(observations);
    if let Some(last) = observations.last() {
        outs.extend(engine.advance(last.at));
    }
    outs.into_iter()
        .filter_map(|o| match o {
            Output::Transition(t) if t.seq > enqueued_seq => Some(t),
            _ => None,
        })
        .collect()
}

/// Run a store read on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, CollectorError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CollectorError::Join(e.to_string()))?
        .map_err(CollectorError::from)
}
