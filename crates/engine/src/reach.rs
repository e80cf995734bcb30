//! Reachability: which failed-looking devices are merely behind a failure (no live path from
//! the collector), so that they are unknown rather than down, and never root causes.

use std::collections::VecDeque;

use faultline_graph::{CompId, DependencyGraph, State};
use faultline_model::{ComponentRef, Topology};
use serde::{Deserialize, Serialize};

use crate::ids::{DeviceIdx, IdxVec, LinkIdx};
use crate::track::Track;

/// The link map of the topology (static: built from the graph, never serialized).
#[derive(Debug, Clone)]
pub(crate) struct Neighbourhood {
    /// Device → neighbour devices over links (once per link: parallel links repeat).
    neighbours: IdxVec<DeviceIdx, Vec<DeviceIdx>>,
    /// Hop distance from the collector over links; `None` when not connected to it.
    distance: IdxVec<DeviceIdx, Option<u32>>,
    /// The device the collector runs on, when the topology names one.
    collector: Option<DeviceIdx>,
}

impl Neighbourhood {
    pub(crate) fn new(t: &Topology) -> Self {
        let mut neighbours = IdxVec::filled(t.devices.len(), Vec::new());
        for l in &t.links {
            let (a, b) = (
                DeviceIdx(l.a_device as usize),
                DeviceIdx(l.b_device as usize),
            );
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
        let collector = t.collector.as_deref().and_then(|c| match t.resolve(c) {
            Some(ComponentRef::Device(i)) => Some(DeviceIdx(i)),
            _ => None,
        });
        let mut distance: IdxVec<DeviceIdx, Option<u32>> = IdxVec::filled(t.devices.len(), None);
        if let Some(c) = collector {
            distance[c] = Some(0);
            let mut queue = VecDeque::from([(c, 0)]);
            while let Some((d, hops)) = queue.pop_front() {
                for &nb in &neighbours[d] {
                    if distance[nb].is_none() {
                        distance[nb] = Some(hops + 1);
                        queue.push_back((nb, hops + 1));
                    }
                }
            }
        }
        Neighbourhood {
            neighbours,
            distance,
            collector,
        }
    }

    /// Ids of device `d` and of its neighbours one hop closer to the collector: what to re-poll
    /// when `d` looks failed.
    pub(crate) fn repoll_set(&self, t: &Topology, d: DeviceIdx) -> Vec<String> {
        let mut ids = vec![t.devices[d.0].id.clone()];
        let closer = |n: &&DeviceIdx| match (self.distance[**n], self.distance[d]) {
            (Some(theirs), Some(mine)) => theirs < mine,
            _ => false,
        };
        let mut up: Vec<&DeviceIdx> = self.neighbours[d].iter().filter(closer).collect();
        up.sort_unstable();
        up.dedup();
        ids.extend(up.into_iter().map(|n| t.devices[n.0].id.clone()));
        ids
    }
}

/// Which devices are unreachable now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Reachability {
    unreachable: IdxVec<DeviceIdx, bool>,
}

/// Failed, or failing and waiting out its hold-down: no path goes through it.
fn blocks_paths(tr: &Track) -> bool {
    tr.effective == State::Down || tr.raw == State::Down
}

impl Reachability {
    pub(crate) fn new(devices: usize) -> Self {
        Reachability {
            unreachable: IdxVec::filled(devices, false),
        }
    }

    pub(crate) fn devices(&self) -> usize {
        self.unreachable.len()
    }

    pub(crate) fn is_unreachable(&self, d: DeviceIdx) -> bool {
        self.unreachable[d]
    }

    /// Which failed devices cannot be told apart from "behind a failure": BFS from the
    /// collector over links, through devices and links that are neither failed nor pending
    /// failure. A failed device adjacent to the reachable region is really down; one that is
    /// not is unreachable. Redundant paths count: one live uplink is enough. Devices whose
    /// verdict flips are added to `touched`.
    pub(crate) fn update(
        &mut self,
        nbh: &Neighbourhood,
        graph: &DependencyGraph,
        tracks: &IdxVec<CompId, Track>,
        touched: &mut Vec<CompId>,
    ) {
        let Some(col) = nbh.collector else { return };
        let t = graph.topology();
        let n = t.devices.len();
        let blocked: IdxVec<DeviceIdx, bool> =
            IdxVec::from_fn(n, |d: DeviceIdx| blocks_paths(&tracks[d.comp(graph)]));
        // Usable links between device pairs.
        let mut adj_ok: IdxVec<DeviceIdx, Vec<DeviceIdx>> = IdxVec::filled(n, Vec::new());
        for (i, l) in t.links.iter().enumerate() {
            if !blocks_paths(&tracks[LinkIdx(i).comp(graph)]) {
                let (a, b) = (
                    DeviceIdx(l.a_device as usize),
                    DeviceIdx(l.b_device as usize),
                );
                adj_ok[a].push(b);
                adj_ok[b].push(a);
            }
        }
        let mut reach: IdxVec<DeviceIdx, bool> = IdxVec::filled(n, false);
        if !blocked[col] {
            reach[col] = true;
            let mut queue = VecDeque::from([col]);
            while let Some(d) = queue.pop_front() {
                for &nb in &adj_ok[d] {
                    if !reach[nb] && !blocked[nb] {
                        reach[nb] = true;
                        queue.push_back(nb);
                    }
                }
            }
        }
        for (d, was) in self.unreachable.iter_mut().enumerate() {
            let d = DeviceIdx(d);
            // Devices with no links at all cannot be placed: judge them on their own data.
            let placed = !nbh.neighbours[d].is_empty();
            let now = placed && d != col && !reach[d] && !adj_ok[d].iter().any(|nb| reach[*nb]);
            if now != *was {
                *was = now;
                touched.push(d.comp(graph));
            }
        }
    }
}
