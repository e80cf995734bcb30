//! Compiling a topology into gates.

use faultline_model::{ComponentRef, Topology};
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;

use crate::{CompId, DependencyGraph, NO_SERVICE, Node, NodeId, Role};

struct Builder<'t> {
    topo: &'t Topology,
    g: DiGraph<Node, ()>,
    canonical: Vec<NodeIndex>,
    via: FxHashMap<(CompId, CompId), NodeIndex>,
    views: FxHashMap<(CompId, CompId), NodeIndex>,
    n_dev: usize,
    n_link: usize,
    n_group: usize,
}

impl Builder<'_> {
    fn cid(&self, c: ComponentRef) -> CompId {
        CompId(match c {
            ComponentRef::Device(i) => i,
            ComponentRef::Link(i) => self.n_dev + i,
            ComponentRef::Group(i) => self.n_dev + self.n_link + i,
            ComponentRef::Service(i) => self.n_dev + self.n_link + self.n_group + i,
        } as u32)
    }

    fn resolve(&self, id: &str) -> ComponentRef {
        // Validation guarantees every reference resolves.
        self.topo.resolve(id).unwrap_or(ComponentRef::Device(0))
    }

    /// The links between two devices, in link order, from the side with fewer links (the
    /// model keeps each device's links; no map of device pairs is needed).
    fn links_between(&self, a: ComponentRef, b: ComponentRef) -> impl Iterator<Item = usize> {
        let t = self.topo;
        let (x, y) = match (a, b) {
            (ComponentRef::Device(x), ComponentRef::Device(y)) => (x, y),
            // No device has this index: an empty scan.
            _ => (t.devices.len(), t.devices.len()),
        };
        let (from, to) = if x < t.devices.len() && t.links_of(x).len() > t.links_of(y).len() {
            (y, x as u32)
        } else {
            (x, y as u32)
        };
        let links = (from < t.devices.len()).then(|| t.links_of(from));
        links.into_iter().flatten().filter(move |&l| {
            let link = &t.links[l];
            link.a_device == to || link.b_device == to
        })
    }

    fn links(&self, a: ComponentRef, b: ComponentRef) -> Option<Vec<usize>> {
        let links: Vec<usize> = self.links_between(a, b).collect();
        (!links.is_empty()).then_some(links)
    }

    /// The gate that stands for "requirer can use target".
    fn requirement(&mut self, requirer: ComponentRef, target: ComponentRef) -> NodeIndex {
        let rc = self.cid(requirer);
        let tc = self.cid(target);
        match target {
            ComponentRef::Device(_) => self.via_or_direct(requirer, target),
            ComponentRef::Group(gi) => {
                let members: Vec<ComponentRef> = self.topo.groups[gi]
                    .members
                    .iter()
                    .map(|m| self.resolve(m))
                    .collect();
                let linked =
                    (members.iter()).any(|m| self.links_between(requirer, *m).next().is_some());
                if !linked {
                    return self.canonical[tc.0 as usize];
                }
                if let Some(&v) = self.views.get(&(rc, tc)) {
                    return v;
                }
                let k = self.topo.groups[gi].mode.needed(members.len()) as u32;
                let view = self.g.add_node(Node {
                    role: Role::GroupView {
                        group: tc,
                        requirer: rc,
                    },
                    owner: Some(tc),
                    k,
                });
                for m in members {
                    let child = self.via_or_direct(requirer, m);
                    self.g.add_edge(view, child, ());
                }
                self.views.insert((rc, tc), view);
                view
            }
            _ => self.canonical[tc.0 as usize],
        }
    }

    fn via_or_direct(&mut self, requirer: ComponentRef, target: ComponentRef) -> NodeIndex {
        let rc = self.cid(requirer);
        let tc = self.cid(target);
        let Some(links) = self.links(requirer, target) else {
            return self.canonical[tc.0 as usize];
        };
        if let Some(&v) = self.via.get(&(rc, tc)) {
            return v;
        }
        let via = self.g.add_node(Node {
            role: Role::Via {
                requirer: rc,
                target: tc,
            },
            owner: None,
            k: 2,
        });
        self.g.add_edge(via, self.canonical[tc.0 as usize], ());
        let link_gate = if links.len() == 1 {
            self.canonical[self.cid(ComponentRef::Link(links[0])).0 as usize]
        } else {
            let set = self.g.add_node(Node {
                role: Role::LinkSet {
                    requirer: rc,
                    target: tc,
                },
                owner: None,
                k: 1,
            });
            for l in links {
                let ln = self.canonical[self.cid(ComponentRef::Link(l)).0 as usize];
                self.g.add_edge(set, ln, ());
            }
            set
        };
        self.g.add_edge(via, link_gate, ());
        self.via.insert((rc, tc), via);
        via
    }
}

impl<'t> Builder<'t> {
    fn new(t: &'t Topology) -> Self {
        Builder {
            topo: t,
            g: DiGraph::with_capacity(t.component_count() * 2, t.component_count() * 3),
            canonical: Vec::with_capacity(t.component_count()),
            via: FxHashMap::default(),
            views: FxHashMap::default(),
            n_dev: t.devices.len(),
            n_link: t.links.len(),
            n_group: t.groups.len(),
        }
    }

    /// One canonical gate per component, in `CompId` order (devices, links, groups,
    /// services). Returns the components in that order.
    fn add_canonical_gates(&mut self) -> Vec<ComponentRef> {
        let t = self.topo;
        let all: Vec<ComponentRef> = (0..t.devices.len())
            .map(ComponentRef::Device)
            .chain((0..t.links.len()).map(ComponentRef::Link))
            .chain((0..t.groups.len()).map(ComponentRef::Group))
            .chain((0..t.services.len()).map(ComponentRef::Service))
            .collect();
        for &c in &all {
            let cid = self.cid(c);
            let k = match c {
                ComponentRef::Group(gi) => t.groups[gi].mode.needed(t.groups[gi].members.len()),
                other => t.requirements(other).len(),
            } as u32;
            let n = self.g.add_node(Node {
                role: Role::Component(cid),
                owner: Some(cid),
                k,
            });
            self.canonical.push(n);
        }
        all
    }

    /// Edges from each canonical gate to what it needs: a group's members as they are, a
    /// device's or service's requirements through the requirer-specific gates.
    fn wire_requirements(&mut self, all: &[ComponentRef]) {
        let t = self.topo;
        for &c in all {
            let me = self.canonical[self.cid(c).0 as usize];
            match c {
                ComponentRef::Group(gi) => {
                    // The shared group gate: members as they are, no requirer-specific links.
                    for m in &t.groups[gi].members {
                        let m = self.resolve(m);
                        let child = self.canonical[self.cid(m).0 as usize];
                        self.g.add_edge(me, child, ());
                    }
                }
                ComponentRef::Link(_) => {}
                other => {
                    for r in t.requirements(other) {
                        let target = self.resolve(r);
                        let child = self.requirement(other, target);
                        self.g.add_edge(me, child, ());
                    }
                }
            }
        }
    }
}

/// The gates renumbered children-first, with their children in CSR form.
struct Renumbered {
    /// New id of each petgraph node index.
    new_id: Vec<u32>,
    nodes: Vec<Node>,
    child_off: Vec<u32>,
    child: Vec<NodeId>,
}

/// Renumber children-first: a node's id is then its topological rank, which lets the
/// evaluator settle dirty gates in id order with each gate visited once.
fn renumber(g: &DiGraph<Node, ()>) -> Renumbered {
    let order = petgraph::algo::toposort(g, None).unwrap_or_else(|_| g.node_indices().collect());
    let n = order.len();
    let mut new_id = vec![0u32; n];
    for (rank, idx) in order.iter().rev().enumerate() {
        new_id[idx.index()] = rank as u32;
    }
    let mut nodes: Vec<Node> = Vec::with_capacity(n);
    let mut child_off = Vec::with_capacity(n + 1);
    let mut child = Vec::with_capacity(g.edge_count());
    child_off.push(0);
    for idx in order.iter().rev() {
        let node = g[*idx].clone();
        let start = child.len();
        for c in g.neighbors(*idx) {
            child.push(new_id[c.index()]);
        }
        // Deterministic child order (petgraph lists neighbours newest first).
        child[start..].reverse();
        nodes.push(node);
        child_off.push(child.len() as u32);
    }
    Renumbered {
        new_id,
        nodes,
        child_off,
        child,
    }
}

/// The parents of each gate in CSR form `(parent_off, parent)`, from the children lists.
fn parent_index(child_off: &[u32], child: &[NodeId]) -> (Vec<u32>, Vec<NodeId>) {
    let n = child_off.len() - 1;
    let mut parent_count = vec![0u32; n];
    for &c in child {
        parent_count[c as usize] += 1;
    }
    let mut parent_off = Vec::with_capacity(n + 1);
    parent_off.push(0u32);
    for c in &parent_count {
        let last = *parent_off.last().unwrap_or(&0);
        parent_off.push(last + c);
    }
    let mut fill = parent_off.clone();
    let mut parent = vec![0 as NodeId; child.len()];
    for p in 0..n {
        for &c in &child[child_off[p] as usize..child_off[p + 1] as usize] {
            parent[fill[c as usize] as usize] = p as NodeId;
            fill[c as usize] += 1;
        }
    }
    (parent_off, parent)
}

/// The gates carrying each component's state in CSR form `(carrier_off, carrier)`: its
/// canonical gate, plus for a group every requirer-specific view of it, sorted.
fn carrier_index(
    canonical: &[NodeId],
    views: &FxHashMap<(CompId, CompId), NodeIndex>,
    new_id: &[u32],
) -> (Vec<u32>, Vec<NodeId>) {
    let mut carriers: Vec<Vec<NodeId>> = canonical.iter().map(|n| vec![*n]).collect();
    for (&(_, group), &view) in views {
        carriers[group.0 as usize].push(new_id[view.index()]);
    }
    let mut carrier_off = Vec::with_capacity(carriers.len() + 1);
    let mut carrier = Vec::new();
    carrier_off.push(0u32);
    for mut c in carriers {
        c.sort_unstable();
        carrier.extend(c);
        carrier_off.push(carrier.len() as u32);
    }
    (carrier_off, carrier)
}

pub(crate) fn build(topo: Topology) -> DependencyGraph {
    let t = &topo;
    let mut b = Builder::new(t);
    // Canonical gates first, so requirements can point at them.
    let all = b.add_canonical_gates();
    b.wire_requirements(&all);

    let Renumbered {
        new_id,
        nodes,
        child_off,
        child,
    } = renumber(&b.g);
    // The petgraph copy is done with: free it before the parent and carrier indices are made.
    let Builder {
        canonical,
        views,
        g,
        ..
    } = b;
    drop(g);
    let (parent_off, parent) = parent_index(&child_off, &child);
    let canonical: Vec<NodeId> = canonical.iter().map(|i| new_id[i.index()]).collect();
    let (carrier_off, carrier) = carrier_index(&canonical, &views, &new_id);
    drop(views);
    let mut service_of = vec![NO_SERVICE; nodes.len()];
    let first_service = t.devices.len() + t.links.len() + t.groups.len();
    for i in 0..t.services.len() {
        service_of[canonical[first_service + i] as usize] = i as u32;
    }
    DependencyGraph {
        topo,
        nodes,
        child_off,
        child,
        parent_off,
        parent,
        canonical,
        carrier_off,
        carrier,
        service_of,
    }
}

impl DependencyGraph {
    /// Compile a validated topology (clones it; see [`DependencyGraph::new`] to move it in).
    pub fn build(topo: &Topology) -> DependencyGraph {
        build(topo.clone())
    }

    /// Compile a validated topology, taking ownership (no copy of a large model).
    pub fn new(topo: Topology) -> DependencyGraph {
        build(topo)
    }
}
