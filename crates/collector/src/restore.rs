//! Restore at start: the latest engine snapshot (if it matches this topology and engine
//! configuration) plus the journal written after it; otherwise the whole journal through a
//! fresh engine. Either is deterministic, so the engine reaches the same incidents with the same
//! ids. Transitions past the recorded engine sequence number (produced before a crash but never
//! enqueued) are enqueued now. Then the pages are reconciled with the restored state: an
//! incident still paged at a receiver that this run does not have open (its component left the
//! topology, or the store lost journal entries) is resolved there, so no alert fires forever.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use faultline_engine::{Engine, EngineConfig, Output};
use faultline_graph::DependencyGraph;
use faultline_incident::{IncidentStatus, IncidentTransition, TransitionAction};
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
    if unsent.is_empty() {
        resolve_orphans(store, notifier, &engine).await;
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

/// Resolve, at every receiver where they are still paged, the incidents the restored engine does
/// not have open. Their resolve carries the incident as last paged, resolved now. Nothing is
/// journaled: the engine never had them open, so a replay has nothing to reproduce. Failures
/// are logged (the next start tries again: the paged records stay until a resolve is enqueued).
async fn resolve_orphans(store: &Store, notifier: &Notifier, engine: &Engine) {
    let open: BTreeSet<String> = engine
        .open_incidents()
        .iter()
        .map(|i| i.id.clone())
        .collect();
    let st = store.clone();
    let paged = match blocking(move || st.paged(None)).await {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "cannot read the paged incidents to reconcile them");
            return;
        }
    };
    // One resolve per incident: the notifier sends it to every receiver where it is paged.
    let orphans: BTreeMap<String, faultline_incident::Incident> = paged
        .into_iter()
        .filter(|r| !open.contains(&r.incident.id))
        .map(|r| (r.incident.id.clone(), r.incident))
        .collect();
    if orphans.is_empty() {
        return;
    }
    let now = faultline_observe::time::now_ms();
    let ids: Vec<&str> = orphans.keys().map(String::as_str).collect();
    warn!(
        incidents = ?ids,
        "resolving incidents still paged that this run does not have open (a component left the \
         topology, or journal entries were lost)"
    );
    let resolves: Vec<IncidentTransition> = orphans
        .into_values()
        .map(|mut incident| {
            incident.status = IncidentStatus::Resolved;
            incident.resolved_at = Some(now);
            incident.updated_at = now;
            IncidentTransition {
                seq: engine.seq(),
                action: TransitionAction::Resolve,
                at: now,
                incident,
            }
        })
        .collect();
    let n = notifier.clone();
    match tokio::task::spawn_blocking(move || n.enqueue_many(&resolves)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => warn!(error = %e, "could not enqueue the resolves of orphaned incidents"),
        Err(e) => warn!(error = %e, "enqueue task failed"),
    }
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
