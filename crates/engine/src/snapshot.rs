//! Engine snapshots: the engine's whole state, so a restart replays only the journal written
//! since the snapshot instead of all of it.
//!
//! A snapshot is `{version, fingerprint, state}` where `state` is the [`EngineState`]
//! serialized whole: a field added to the state is in the snapshot without anyone having to
//! remember it. A snapshot is valid only for the same format version, topology and engine
//! configuration (a fingerprint of both is stored in it); otherwise [`Engine::restore`] refuses
//! it and the caller replays the whole journal. Restoring then replaying the tail gives exactly
//! the outputs an uninterrupted engine would have given (tested in `tests/scenarios.rs`).

use std::sync::Arc;

use faultline_graph::DependencyGraph;
use serde::{Deserialize, Serialize};

use crate::ids::Idx;
use crate::{Engine, EngineConfig, EngineState};

/// Format version. Bump it whenever [`EngineState`] changes shape or meaning: an older
/// snapshot is then refused (and the journal replayed) instead of misread.
const VERSION: u32 = 10;

/// Why a snapshot cannot be restored. Every case means: replay the whole journal instead.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes are not a snapshot (or not one this build can read).
    #[error("snapshot is not readable: {0}")]
    Decode(String),
    /// Written by a build with another snapshot format.
    #[error("snapshot format version {0} is not supported (expected {VERSION})")]
    Version(u32),
    /// Taken with another topology or engine configuration.
    #[error("snapshot was taken with another topology or engine configuration")]
    Mismatch,
}

#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    fingerprint: u64,
    state: &'a EngineState,
}

/// The header alone (other fields are skipped unread), read first so that an old format is
/// reported as such: its state would not decode.
#[derive(Deserialize)]
struct Header {
    version: u32,
    fingerprint: u64,
}

#[derive(Deserialize)]
struct Snapshot {
    state: EngineState,
}

/// FNV-1a over the topology and the engine configuration as JSON: stable for a given binary,
/// and any change to either invalidates old snapshots (the safe direction).
fn fingerprint(graph: &DependencyGraph, cfg: &EngineConfig) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::fnv::Fnv1a::default();
    h.write(
        serde_json::to_string(graph.topology())
            .unwrap_or_default()
            .as_bytes(),
    );
    h.write(serde_json::to_string(cfg).unwrap_or_default().as_bytes());
    h.finish()
}

impl EngineState {
    /// Every index in the state is within the graph: a snapshot that passed the fingerprint
    /// check but is damaged must be refused, not make the engine panic later.
    fn fits(&self, graph: &DependencyGraph) -> bool {
        let t = graph.topology();
        let n = graph.component_count();
        let comp_ok = |c: &faultline_graph::CompId| c.index() < n;
        self.own.components() == n
            && self
                .own
                .down()
                .chain(self.own.degraded())
                .all(|c| comp_ok(&c))
            && self.tracks.len() == n
            && self.evidence.components() == n
            && self.signals.devices.len() == t.devices.len()
            && self.signals.links.len() == t.links.len()
            && self.signals.probes.len() == t.services.len()
            && self.reach.devices() == t.devices.len()
            && self.touched.iter().all(comp_ok)
            && self.deadlines.iter().all(|d| comp_ok(&d.comp))
            && self.ha.groups().all(|g| g.0 < t.groups.len())
            && self.readiness.fits(t.devices.len(), t.groups.len())
            && self.incidents.services().all(|s| s.0 < t.services.len())
    }
}

impl Engine {
    /// Serialize the engine's state (call between batches, e.g. right after `advance`).
    pub fn snapshot(&self) -> Vec<u8> {
        let snap = SnapshotRef {
            version: VERSION,
            fingerprint: fingerprint(&self.graph, &self.cfg),
            state: &self.state,
        };
        serde_json::to_vec(&snap).unwrap_or_default()
    }

    /// Rebuild an engine from [`snapshot`](Self::snapshot) bytes taken with the same topology
    /// and configuration.
    pub fn restore(
        graph: Arc<DependencyGraph>,
        cfg: EngineConfig,
        bytes: &[u8],
    ) -> Result<Engine, SnapshotError> {
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        if header.version != VERSION {
            return Err(SnapshotError::Version(header.version));
        }
        if header.fingerprint != fingerprint(&graph, &cfg) {
            return Err(SnapshotError::Mismatch);
        }
        let snap: Snapshot =
            serde_json::from_slice(bytes).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        if !snap.state.fits(&graph) {
            return Err(SnapshotError::Mismatch);
        }
        Ok(Engine::with_state(graph, cfg, snap.state))
    }
}
