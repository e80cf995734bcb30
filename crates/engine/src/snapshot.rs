//! Engine snapshots: the engine's whole mutable state, so a restart replays only the journal
//! written since the snapshot instead of all of it.
//!
//! A snapshot is valid only for the same topology and engine configuration (a fingerprint of
//! both is stored in it); otherwise [`Engine::restore`] refuses it and the caller replays the
//! whole journal. Restoring then replaying the tail gives exactly the outputs an uninterrupted
//! engine would have given (tested in `tests/scenarios.rs`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use faultline_graph::{CompId, DependencyGraph, State};
use faultline_incident::{Evidence, Incident};
use faultline_observe::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::track::Track;
use crate::{
    DeadlineKind, DeviceSignals, Engine, EngineConfig, OpenIncident, ProbeObs, TimelineEntry,
};

const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot is not readable: {0}")]
    Decode(String),
    #[error("snapshot format version {0} is not supported (expected {VERSION})")]
    Version(u32),
    #[error("snapshot was taken with another topology or engine configuration")]
    Mismatch,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    fingerprint: u64,
    now: UnixMillis,
    seq: u64,
    dirty: bool,
    own: Vec<State>,
    tracks: Vec<Track>,
    devices: Vec<DeviceSignals>,
    link_ends: Vec<[Option<(bool, UnixMillis)>; 2]>,
    probes: Vec<Option<ProbeObs>>,
    deadlines: Vec<(UnixMillis, DeadlineKind, u32)>,
    events: Vec<VecDeque<Evidence>>,
    timeline: VecDeque<TimelineEntry>,
    open: Vec<(String, Incident, String)>,
    resolved: VecDeque<Incident>,
    unreachable: Vec<bool>,
    split_since: BTreeMap<usize, UnixMillis>,
    no_active_since: BTreeMap<usize, UnixMillis>,
    service_host: Vec<(usize, String)>,
    touched: Vec<CompId>,
}

/// FNV-1a over the topology and the engine configuration as JSON: stable for a given binary,
/// and any change to either invalidates old snapshots (the safe direction).
fn fingerprint(graph: &DependencyGraph, cfg: &EngineConfig) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(
        serde_json::to_string(graph.topology())
            .unwrap_or_default()
            .as_bytes(),
    );
    feed(serde_json::to_string(cfg).unwrap_or_default().as_bytes());
    h
}

impl Engine {
    /// Serialize the engine's state (call between batches, e.g. right after `advance`).
    pub fn snapshot(&self) -> Vec<u8> {
        let n = self.graph.component_count();
        let snap = Snapshot {
            version: VERSION,
            fingerprint: fingerprint(&self.graph, &self.cfg),
            now: self.now,
            seq: self.seq,
            dirty: self.dirty,
            own: (0..n).map(|i| self.eval.own(CompId(i as u32))).collect(),
            tracks: self.tracks.clone(),
            devices: self.devices.clone(),
            link_ends: self.link_ends.clone(),
            probes: self.probes.clone(),
            deadlines: self.deadlines.iter().map(|Reverse(d)| *d).collect(),
            events: self.events.clone(),
            timeline: self.timeline.clone(),
            open: self
                .open
                .iter()
                .map(|(k, o)| (k.clone(), o.incident.clone(), o.fingerprint.clone()))
                .collect(),
            resolved: self.resolved.clone(),
            unreachable: self.unreachable.clone(),
            split_since: self.split_since.clone(),
            no_active_since: self.no_active_since.clone(),
            service_host: self
                .service_host
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            touched: self.touched.clone(),
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
        let snap: Snapshot =
            serde_json::from_slice(bytes).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        if snap.version != VERSION {
            return Err(SnapshotError::Version(snap.version));
        }
        if snap.fingerprint != fingerprint(&graph, &cfg) {
            return Err(SnapshotError::Mismatch);
        }
        let n = graph.component_count();
        let (nd, nl, ns) = (
            graph.topology().devices.len(),
            graph.topology().links.len(),
            graph.topology().services.len(),
        );
        if snap.own.len() != n
            || snap.tracks.len() != n
            || snap.devices.len() != nd
            || snap.link_ends.len() != nl
            || snap.probes.len() != ns
            || snap.events.len() != n
            || snap.unreachable.len() != nd
        {
            return Err(SnapshotError::Mismatch);
        }
        let mut e = Engine::new(graph, cfg);
        // The evaluation is a function of the own states: replaying them rebuilds it exactly.
        e.own_down.clear();
        for (i, s) in snap.own.iter().enumerate() {
            let c = CompId(i as u32);
            e.eval.set_own(c, *s);
            if *s == State::Down {
                e.own_down.insert(c);
            }
        }
        e.eval.settle();
        e.now = snap.now;
        e.seq = snap.seq;
        e.dirty = snap.dirty;
        e.tracks = snap.tracks;
        e.devices = snap.devices;
        e.link_ends = snap.link_ends;
        e.probes = snap.probes;
        e.deadlines = snap.deadlines.into_iter().map(Reverse).collect();
        e.events = snap.events;
        e.timeline = snap.timeline;
        e.open = snap
            .open
            .into_iter()
            .map(|(k, incident, fingerprint)| {
                (
                    k,
                    OpenIncident {
                        incident,
                        fingerprint,
                    },
                )
            })
            .collect();
        e.resolved = snap.resolved;
        e.unreachable = snap.unreachable;
        e.split_since = snap.split_since;
        e.no_active_since = snap.no_active_since;
        e.service_host = snap.service_host.into_iter().collect();
        e.touched = snap.touched;
        Ok(e)
    }
}
