//! faultline's dependency graph: from component states to service states, with explanations.
//!
//! [`DependencyGraph::build`] compiles a validated [`Topology`] into a DAG of *gates*. Every
//! gate has an optional owner component (whose own state it carries) and `k`-of-`n` children:
//! a device or service is `all` of its requirements, a group `k` of its members, and a
//! requirement on a device over declared links is "the device AND any of those links". Nodes are
//! numbered children-first, so a node's id is its topological rank.
//!
//! [`Evaluation`] holds states and propagates changes incrementally: each gate keeps counts of
//! its children per state, a change touches only the gates above it, and propagation stops where
//! a state does not change. Evaluation is linear in the changed cone; there is no recursive
//! path enumeration (the exponential-reachability bug class of Icinga #10523 cannot occur).
//!
//! ```
//! use faultline_model::Topology;
//! use faultline_graph::{DependencyGraph, State};
//!
//! let topo = Topology::from_yaml_str(r#"
//! name: demo
//! devices:
//!   - {id: fw-a, kind: firewall}
//!   - {id: fw-b, kind: firewall}
//! groups:
//!   - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
//! services:
//!   - {id: portal, requires: [fw-pair]}
//! "#, "demo.yaml").unwrap();
//! let graph = DependencyGraph::build(&topo);
//!
//! let report = graph.what_if(&["fw-a"]).unwrap();
//! assert_eq!(report.services[0].state, State::Degraded);
//! assert_eq!(report.services[0].causes, vec!["fw-a".to_string()]);
//!
//! let report = graph.what_if(&["fw-a", "fw-b"]).unwrap();
//! assert_eq!(report.services[0].state, State::Down);
//!
//! assert!(graph.spof("portal").unwrap().is_empty());
//! ```

#![warn(missing_docs)]

mod build;
mod eval;
mod explain;
mod export;
mod render;
mod spof;

use faultline_model::{ComponentRef, Topology};
use serde::Serialize;

pub use eval::{Change, Evaluation, GraphRef};
pub use explain::WhyNode;
pub use export::{ExportEdge, ExportNode, GraphExport, export};
pub use render::{Format, render};

/// Dense index of a component: devices, then links, groups, services.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct CompId(
    /// Position in that order: device `i` is `i`, link `i` is `devices + i`, and so on
    /// ([`DependencyGraph::comp_id`]); below [`DependencyGraph::component_count`].
    pub u32,
);

/// Index of a gate in the graph; also its topological rank (children have smaller ids).
pub type NodeId = u32;

/// The state of a component, gate or service.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum State {
    /// Working, with all redundancy intact.
    #[default]
    Up = 0,
    /// Still working, but something it depends on has failed: redundancy consumed.
    Degraded = 1,
    /// Not working.
    Down = 2,
    /// Not known (stale or unreachable data). Never counted as working.
    Unknown = 3,
}

impl State {
    /// Lower-case name, as serialised (`up`, `degraded`, `down`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Up => "up",
            State::Degraded => "degraded",
            State::Down => "down",
            State::Unknown => "unknown",
        }
    }
    /// Up or degraded: the thing works.
    pub fn is_available(self) -> bool {
        matches!(self, State::Up | State::Degraded)
    }
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Up,
            1 => State::Degraded,
            2 => State::Down,
            _ => State::Unknown,
        }
    }
}

/// What a gate stands for (for explanations and rendering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The canonical gate of a component.
    Component(CompId),
    /// A group as seen from one requirer that has links to some of its members: each member
    /// counts only together with a link to it.
    GroupView {
        /// The group.
        group: CompId,
        /// The component that requires the group.
        requirer: CompId,
    },
    /// A requirement from `requirer` on device `target` that also needs one of their links.
    Via {
        /// The component that has the requirement.
        requirer: CompId,
        /// The device it requires.
        target: CompId,
    },
    /// "Any of the parallel links between `requirer` and `target`".
    LinkSet {
        /// The component that has the requirement.
        requirer: CompId,
        /// The device at the links' other end.
        target: CompId,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub role: Role,
    /// Component whose own state this gate carries, if any.
    pub owner: Option<CompId>,
    /// Children that must be available.
    pub k: u32,
}

/// The compiled dependency graph. Immutable; share it behind an `Arc` and evaluate many times.
#[derive(Debug)]
pub struct DependencyGraph {
    pub(crate) topo: Topology,
    pub(crate) nodes: Vec<Node>,
    pub(crate) child_off: Vec<u32>,
    pub(crate) child: Vec<NodeId>,
    pub(crate) parent_off: Vec<u32>,
    pub(crate) parent: Vec<NodeId>,
    /// Canonical gate per component.
    pub(crate) canonical: Vec<NodeId>,
    /// Gates that carry each component's own state (canonical + group views), CSR.
    pub(crate) carrier_off: Vec<u32>,
    pub(crate) carrier: Vec<NodeId>,
    /// For each node, the service it is the canonical gate of.
    pub(crate) service_of: Vec<u32>,
}

const NO_SERVICE: u32 = u32::MAX;

/// One service's state in a what-if.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceImpact {
    /// The service's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its tier as written (`critical`, `high`, `normal`, `low`).
    pub tier: String,
    /// Its state with the what-if's components down.
    pub state: State,
    /// Failed components in the service's dependency closure (empty when up).
    pub causes: Vec<String>,
}

/// The result of a what-if.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactReport {
    /// The components assumed down, by canonical id, sorted by component order, each once.
    pub down: Vec<String>,
    /// Every service, in topology order, up ones included.
    pub services: Vec<ServiceImpact>,
    /// Every device that is not up, in topology order.
    pub components: Vec<ComponentImpact>,
}

/// A device that is not up in a what-if.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentImpact {
    /// The device's id.
    pub id: String,
    /// Why it is not up.
    pub state: ComponentState,
}

/// Why a device is not up in a what-if (Nagios' words: a device that did not fail itself but
/// lost what it requires is *unreachable*, not down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentState {
    /// Assumed failed.
    Down,
    /// Not failed itself; something it requires is unavailable.
    Unreachable,
    /// Working with redundancy consumed below it.
    Degraded,
}

/// A component name that does not exist in the topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownComponent {
    /// The name as the user gave it.
    pub name: String,
    /// The closest existing id, for "did you mean"; `None` when nothing is close.
    pub suggestion: Option<String>,
}

impl std::error::Error for UnknownComponent {}

impl std::fmt::Display for UnknownComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown component `{}`", self.name)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

impl DependencyGraph {
    /// The topology it was compiled from.
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// Number of gates: one per component plus the gates for requirements over links and for
    /// group views.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of parent-to-child edges between gates.
    pub fn edge_count(&self) -> usize {
        self.child.len()
    }

    /// Number of components (devices, links, groups, services); [`CompId`]s run below it.
    pub fn component_count(&self) -> usize {
        self.canonical.len()
    }

    /// The dense id of a topology component.
    pub fn comp_id(&self, c: ComponentRef) -> CompId {
        let t = &self.topo;
        let (d, l, g) = (t.devices.len(), t.links.len(), t.groups.len());
        CompId(match c {
            ComponentRef::Device(i) => i,
            ComponentRef::Link(i) => d + i,
            ComponentRef::Group(i) => d + l + i,
            ComponentRef::Service(i) => d + l + g + i,
        } as u32)
    }

    /// The topology component a dense id stands for (inverse of [`comp_id`](Self::comp_id)).
    pub fn comp_ref(&self, c: CompId) -> ComponentRef {
        let t = &self.topo;
        let (d, l, g) = (t.devices.len(), t.links.len(), t.groups.len());
        let i = c.0 as usize;
        if i < d {
            ComponentRef::Device(i)
        } else if i < d + l {
            ComponentRef::Link(i - d)
        } else if i < d + l + g {
            ComponentRef::Group(i - d - l)
        } else {
            ComponentRef::Service(i - d - l - g)
        }
    }

    /// Resolve a user-supplied name (id, link end or link id).
    pub fn lookup(&self, name: &str) -> Result<CompId, UnknownComponent> {
        match self.topo.resolve(name) {
            Some(c) => Ok(self.comp_id(c)),
            None => Err(UnknownComponent {
                name: name.to_string(),
                suggestion: self.topo.suggest(name).map(str::to_string),
            }),
        }
    }

    /// The component's canonical id (a link's `a:if--b:if`).
    pub fn id_of(&self, c: CompId) -> &str {
        self.topo.id_of(self.comp_ref(c))
    }

    /// The component's canonical gate, whose state is the component's state.
    pub fn canonical(&self, c: CompId) -> NodeId {
        self.canonical[c.0 as usize]
    }

    /// The canonical gate of service number `i` (topology order).
    pub fn service_node(&self, i: usize) -> NodeId {
        self.canonical(self.comp_id(ComponentRef::Service(i)))
    }

    /// The gates `n` depends on (all smaller than `n`).
    pub fn children(&self, n: NodeId) -> &[NodeId] {
        let n = n as usize;
        &self.child[self.child_off[n] as usize..self.child_off[n + 1] as usize]
    }

    /// The gates that depend on `n` (all larger than `n`).
    pub fn parents(&self, n: NodeId) -> &[NodeId] {
        let n = n as usize;
        &self.parent[self.parent_off[n] as usize..self.parent_off[n + 1] as usize]
    }

    pub(crate) fn carriers(&self, c: CompId) -> &[NodeId] {
        let c = c.0 as usize;
        &self.carrier[self.carrier_off[c] as usize..self.carrier_off[c + 1] as usize]
    }

    /// What gate `n` stands for.
    pub fn role(&self, n: NodeId) -> Role {
        self.nodes[n as usize].role
    }

    /// The component whose own state gate `n` carries (ANDed into the gate's state); `None`
    /// for gates that only combine others (link sets, requirements over links).
    pub fn owner(&self, n: NodeId) -> Option<CompId> {
        self.nodes[n as usize].owner
    }

    /// How many of gate `n`'s children must be available for it to be (`k` of `k`-of-`n`).
    pub fn needed(&self, n: NodeId) -> u32 {
        self.nodes[n as usize].k
    }

    /// Services (by topology index) whose dependency closure contains any of `comps`.
    /// Walks parents upwards once with a visited set: linear in the cone.
    pub fn services_above(&self, comps: &[CompId]) -> Vec<usize> {
        let (mut stamp, mut epoch, mut out) = (Vec::new(), 0, Vec::new());
        self.services_above_with(comps, &mut stamp, &mut epoch, &mut out);
        out
    }

    /// Every gate below `n` (its dependency closure), including `n`, in id order.
    pub fn descendants(&self, n: NodeId) -> Vec<NodeId> {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![n];
        seen.insert(n);
        while let Some(x) = stack.pop() {
            for &c in self.children(x) {
                if seen.insert(c) {
                    stack.push(c);
                }
            }
        }
        let mut out: Vec<NodeId> = seen.into_iter().collect();
        out.sort_unstable();
        out
    }

    /// Components whose own state a gate carries, over a set of gates (deduplicated).
    pub fn owners(&self, nodes: &[NodeId]) -> Vec<CompId> {
        let mut out: Vec<CompId> = nodes.iter().filter_map(|n| self.owner(*n)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Like [`services_above`](Self::services_above) but with a caller-owned visited buffer
    /// (stamp per gate), so a hot loop over many components allocates nothing per call.
    pub fn services_above_with(
        &self,
        comps: &[CompId],
        stamp: &mut Vec<u32>,
        epoch: &mut u32,
        out: &mut Vec<usize>,
    ) {
        if stamp.len() != self.nodes.len() {
            *stamp = vec![0; self.nodes.len()];
            *epoch = 0;
        }
        *epoch = epoch.wrapping_add(1);
        if *epoch == 0 {
            stamp.iter_mut().for_each(|s| *s = 0);
            *epoch = 1;
        }
        let e = *epoch;
        out.clear();
        let mut stack: Vec<NodeId> = Vec::new();
        for &c in comps {
            for &n in self.carriers(c) {
                if stamp[n as usize] != e {
                    stamp[n as usize] = e;
                    stack.push(n);
                }
            }
        }
        while let Some(n) = stack.pop() {
            let s = self.service_of[n as usize];
            if s != NO_SERVICE {
                out.push(s as usize);
            }
            for &p in self.parents(n) {
                if stamp[p as usize] != e {
                    stamp[p as usize] = e;
                    stack.push(p);
                }
            }
        }
        out.sort_unstable();
    }

    /// What-if: mark the named components down and report every service's state and causes.
    pub fn what_if(&self, down: &[&str]) -> Result<ImpactReport, UnknownComponent> {
        let comps = down
            .iter()
            .map(|n| self.lookup(n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ev = Evaluation::new(self);
        for &c in &comps {
            ev.set_own(c, State::Down);
        }
        ev.settle();
        Ok(self.impact_report(&ev, &comps))
    }

    /// Every service's state under `ev`, with causes drawn from `failed`.
    pub fn impact_report(&self, ev: &Evaluation<impl GraphRef>, failed: &[CompId]) -> ImpactReport {
        // causes[svc] = failed components below it; one upward walk per failed component.
        let mut causes: Vec<Vec<String>> = vec![Vec::new(); self.topo.services.len()];
        let mut sorted: Vec<CompId> = failed.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let (mut stamp, mut epoch, mut above) = (Vec::new(), 0, Vec::new());
        for &c in &sorted {
            self.services_above_with(&[c], &mut stamp, &mut epoch, &mut above);
            for &s in &above {
                causes[s].push(self.id_of(c).to_string());
            }
        }
        let services = self
            .topo
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let state = ev.state(self.service_node(i));
                ServiceImpact {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    tier: s.tier.as_str().to_string(),
                    state,
                    causes: if state == State::Up {
                        Vec::new()
                    } else {
                        std::mem::take(&mut causes[i])
                    },
                }
            })
            .collect();
        let components = (0..self.topo.devices.len())
            .filter_map(|i| {
                let c = self.comp_id(ComponentRef::Device(i));
                let state = if sorted.binary_search(&c).is_ok() {
                    ComponentState::Down
                } else {
                    match ev.state(self.canonical(c)) {
                        State::Up => return None,
                        State::Degraded => ComponentState::Degraded,
                        State::Down | State::Unknown => ComponentState::Unreachable,
                    }
                };
                Some(ComponentImpact {
                    id: self.topo.devices[i].id.clone(),
                    state,
                })
            })
            .collect();
        ImpactReport {
            down: sorted.iter().map(|c| self.id_of(*c).to_string()).collect(),
            services,
            components,
        }
    }

    /// Every single device or link whose failure alone takes the service down.
    pub fn spof(&self, service: &str) -> Result<Vec<String>, UnknownComponent> {
        let c = self.lookup(service)?;
        Ok(spof::kill_set(self, self.canonical(c))
            .into_iter()
            .map(|c| self.id_of(c).to_string())
            .collect())
    }
}
