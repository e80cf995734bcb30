//! Reachability: which failed-looking devices are merely behind a failure (no live path from
//! the collector that polls them: their zone's, else the default one), so that they are
//! unknown rather than down, and never root causes.

use std::collections::{BTreeMap, VecDeque};

use faultline_graph::{CompId, DependencyGraph, State};
use faultline_model::{ComponentRef, Topology};
use serde::{Deserialize, Serialize};

use crate::ids::{DeviceIdx, IdxVec, LinkIdx};
use crate::track::Track;

/// The link map of the topology and where each device is judged from (static: built from
/// the graph, never serialized).
///
/// A vantage is a collector device: the topology's `collector` or a zone's
/// (`zone_collectors`). A device is judged from its own zone's collector when its zone has one,
/// else from `collector`; the poller that polls it sits there, so only a failure on the path
/// from there hides it.
#[derive(Debug, Clone)]
pub(crate) struct Neighbourhood {
    /// Device → neighbour devices over links (once per link: parallel links repeat).
    neighbours: IdxVec<DeviceIdx, Vec<DeviceIdx>>,
    /// The distinct collector devices, in a fixed order (the default collector first, then the
    /// zones' in zone order).
    vantages: Vec<Vantage>,
    /// Device → index in `vantages` of the collector it is judged from; `None` when no
    /// collector applies to it (then it is judged on its own data only).
    judged_from: IdxVec<DeviceIdx, Option<u32>>,
}

/// One collector device and the hop distances from it.
#[derive(Debug, Clone)]
struct Vantage {
    device: DeviceIdx,
    /// Hop distance from `device` over links; `None` when not connected to it.
    distance: IdxVec<DeviceIdx, Option<u32>>,
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
        let device = |id: &str| match t.resolve(id) {
            Some(ComponentRef::Device(i)) => Some(DeviceIdx(i)),
            _ => None,
        };
        let default = t.collector.as_deref().and_then(device);
        let zoned: BTreeMap<&str, DeviceIdx> = (t.zone_collectors.iter())
            .filter_map(|(z, c)| Some((z.as_str(), device(c)?)))
            .collect();
        let mut vantages: Vec<Vantage> = Vec::new();
        let mut slot = |d: DeviceIdx| match vantages.iter().position(|v| v.device == d) {
            Some(i) => i as u32,
            None => {
                vantages.push(Vantage {
                    device: d,
                    distance: hops_from(&neighbours, d),
                });
                (vantages.len() - 1) as u32
            }
        };
        let default_slot = default.map(&mut slot);
        let zone_slots: BTreeMap<&str, u32> =
            zoned.into_iter().map(|(z, d)| (z, slot(d))).collect();
        let judged_from = IdxVec::from_fn(t.devices.len(), |d: DeviceIdx| {
            let own = t.devices[d.0].zone.as_deref();
            own.and_then(|z| zone_slots.get(z).copied())
                .or(default_slot)
        });
        Neighbourhood {
            neighbours,
            vantages,
            judged_from,
        }
    }

    /// Ids of device `d` and of its neighbours one hop closer to the collector it is judged
    /// from: what to re-poll when `d` looks failed.
    pub(crate) fn repoll_set(&self, t: &Topology, d: DeviceIdx) -> Vec<String> {
        let mut ids = vec![t.devices[d.0].id.clone()];
        let Some(v) = self.judged_from[d] else {
            return ids;
        };
        let distance = &self.vantages[v as usize].distance;
        let closer = |n: &&DeviceIdx| match (distance[**n], distance[d]) {
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

/// Hop distances from `from` over the topology's links (BFS).
fn hops_from(
    neighbours: &IdxVec<DeviceIdx, Vec<DeviceIdx>>,
    from: DeviceIdx,
) -> IdxVec<DeviceIdx, Option<u32>> {
    let mut distance: IdxVec<DeviceIdx, Option<u32>> = IdxVec::filled(neighbours.len(), None);
    distance[from] = Some(0);
    let mut queue = VecDeque::from([(from, 0)]);
    while let Some((d, hops)) = queue.pop_front() {
        for &nb in &neighbours[d] {
            if distance[nb].is_none() {
                distance[nb] = Some(hops + 1);
                queue.push_back((nb, hops + 1));
            }
        }
    }
    distance
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

    /// Which failed devices cannot be told apart from "behind a failure", each judged from its
    /// own collector: BFS from every collector over links, through devices and links that are
    /// neither failed nor pending failure. A failed device adjacent to the region its collector
    /// reaches is really down; one that is not is unreachable. Redundant paths count: one live
    /// uplink is enough. Devices whose verdict flips are added to `touched`.
    pub(crate) fn update(
        &mut self,
        nbh: &Neighbourhood,
        graph: &DependencyGraph,
        tracks: &IdxVec<CompId, Track>,
        touched: &mut Vec<CompId>,
    ) {
        if nbh.vantages.is_empty() {
            return;
        }
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
        let reached: Vec<IdxVec<DeviceIdx, bool>> = (nbh.vantages.iter())
            .map(|v| live_region(v.device, &blocked, &adj_ok))
            .collect();
        for (d, was) in self.unreachable.iter_mut().enumerate() {
            let d = DeviceIdx(d);
            // Devices with no links at all cannot be placed: judge them on their own data.
            let placed = !nbh.neighbours[d].is_empty();
            let now = match nbh.judged_from[d] {
                Some(v) if placed => {
                    let (col, reach) = (nbh.vantages[v as usize].device, &reached[v as usize]);
                    d != col && !reach[d] && !adj_ok[d].iter().any(|nb| reach[*nb])
                }
                _ => false,
            };
            if now != *was {
                *was = now;
                touched.push(d.comp(graph));
            }
        }
    }
}

/// The devices reachable from collector `col` through devices and links that do not block
/// paths (none when the collector itself does).
fn live_region(
    col: DeviceIdx,
    blocked: &IdxVec<DeviceIdx, bool>,
    adj_ok: &IdxVec<DeviceIdx, Vec<DeviceIdx>>,
) -> IdxVec<DeviceIdx, bool> {
    let mut reach: IdxVec<DeviceIdx, bool> = IdxVec::filled(blocked.len(), false);
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
    reach
}
