//! The map's layered layout: services on top, then what they require, layer by layer, down to
//! the edge. Longest-path layering over the requirement graph (acyclic by validation), members
//! of a redundancy group pulled into one layer and kept side by side (the group is drawn as a
//! cluster around them), each layer ordered by the mean position of its requirers (one
//! barycentre sweep) and wrapped into rows so that a 2,000-device data centre stays readable.
//!
//! `layout-rs` (suggested for this) has not been evaluated yet; this layout has no third-party
//! dependency, knows clusters, and is linear in nodes plus edges (the 2,000-device map renders
//! within the 100 ms budget, `benches/render.rs`).

use std::collections::HashMap;

use faultline_model::{ComponentRef, Topology};

/// Most nodes in one row: a wider layer wraps.
const MAX_PER_ROW: usize = 40;
/// Horizontal distance between node centres.
pub(crate) const DX: f64 = 130.0;
/// Vertical distance between rows of one layer.
const DY_ROW: f64 = 80.0;
/// Extra space between layers.
const DY_LAYER: f64 = 50.0;
/// Margin around the drawing.
pub(crate) const MARGIN: f64 = 60.0;
/// Deepest group nesting followed when expanding a group into its members.
const MAX_GROUP_NESTING: usize = 8;

/// A node of the map: a service or a device, by topology index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    Service(usize),
    Device(usize),
}

impl Node {
    pub(crate) fn of(c: ComponentRef) -> Option<Node> {
        match c {
            ComponentRef::Service(i) => Some(Node::Service(i)),
            ComponentRef::Device(i) => Some(Node::Device(i)),
            _ => None,
        }
    }

    pub(crate) fn id(self, t: &Topology) -> &str {
        match self {
            Node::Service(i) => &t.services[i].id,
            Node::Device(i) => &t.devices[i].id,
        }
    }

    pub(crate) fn component(self) -> ComponentRef {
        match self {
            Node::Service(i) => ComponentRef::Service(i),
            Node::Device(i) => ComponentRef::Device(i),
        }
    }
}

/// Where everything goes.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// Every node drawn, with its centre.
    pub nodes: Vec<(Node, f64, f64)>,
    /// Redundancy groups drawn: (group index, x0, y0, x1, y1).
    pub clusters: Vec<(usize, f64, f64, f64, f64)>,
    pub width: f64,
    pub height: f64,
}

impl Layout {
    /// Centre of a node, when it is drawn.
    pub(crate) fn index(&self) -> HashMap<Node, (f64, f64)> {
        self.nodes.iter().map(|&(n, x, y)| (n, (x, y))).collect()
    }
}

/// The nodes a requirement names: a device or service itself, a group's members (nested groups
/// expanded), a link's two ends.
pub(crate) fn targets(t: &Topology, req: &str, out: &mut Vec<Node>) {
    expand(t, req, out, 0);
}

fn expand(t: &Topology, req: &str, out: &mut Vec<Node>, depth: usize) {
    match t.resolve(req) {
        Some(ComponentRef::Group(g)) if depth < MAX_GROUP_NESTING => {
            for m in &t.groups[g].members {
                expand(t, m, out, depth + 1);
            }
        }
        Some(ComponentRef::Link(l)) => {
            let link = &t.links[l];
            out.push(Node::Device(link.a_device as usize));
            out.push(Node::Device(link.b_device as usize));
        }
        Some(c) => out.extend(Node::of(c)),
        None => {}
    }
}

/// Everything `from` depends on (itself included): the service filter's cone.
pub(crate) fn cone(t: &Topology, from: Node) -> Vec<Node> {
    let mut seen = std::collections::HashSet::from([from]);
    let mut stack = vec![from];
    let mut out = vec![from];
    let mut next = Vec::new();
    while let Some(n) = stack.pop() {
        for r in t.requirements(n.component()) {
            next.clear();
            targets(t, r, &mut next);
            for &m in &next {
                if seen.insert(m) {
                    out.push(m);
                    stack.push(m);
                }
            }
        }
    }
    out
}

/// Lay out `nodes` (in topology order: services first).
pub(crate) fn layout(t: &Topology, nodes: &[Node]) -> Layout {
    let pos: HashMap<Node, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    // Requirement edges between drawn nodes: parent (requirer) → child.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut buf = Vec::new();
    for (u, n) in nodes.iter().enumerate() {
        for r in t.requirements(n.component()) {
            buf.clear();
            targets(t, r, &mut buf);
            for m in &buf {
                if let Some(&v) = pos.get(m)
                    && v != u
                {
                    children[u].push(v);
                    parents[v].push(u);
                }
            }
        }
    }
    let mut layer = longest_path(nodes, &children, &parents);
    let group_of = align_groups(t, &pos, &mut layer);
    // One more pass so that every child stays below its requirers after the alignment.
    for u in topo_order(&children, &parents) {
        for &v in &children[u] {
            layer[v] = layer[v].max(layer[u] + 1);
        }
    }
    place(t, nodes, &parents, &layer, &group_of)
}

/// Kahn's order; nodes on a cycle (impossible after validation) come last.
fn topo_order(children: &[Vec<usize>], parents: &[Vec<usize>]) -> Vec<usize> {
    let mut indeg: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut order: Vec<usize> = (0..indeg.len()).filter(|&v| indeg[v] == 0).collect();
    let mut i = 0;
    while i < order.len() {
        let u = order[i];
        i += 1;
        for &v in &children[u] {
            indeg[v] -= 1;
            if indeg[v] == 0 {
                order.push(v);
            }
        }
    }
    if order.len() < indeg.len() {
        let mut done = vec![false; indeg.len()];
        for &u in &order {
            done[u] = true;
        }
        order.extend((0..indeg.len()).filter(|&v| !done[v]));
    }
    order
}

fn longest_path(nodes: &[Node], children: &[Vec<usize>], parents: &[Vec<usize>]) -> Vec<usize> {
    // Services start on top; anything else nobody requires starts one layer below them.
    let mut layer: Vec<usize> = nodes
        .iter()
        .map(|n| usize::from(!matches!(n, Node::Service(_))))
        .collect();
    for u in topo_order(children, parents) {
        for &v in &children[u] {
            layer[v] = layer[v].max(layer[u] + 1);
        }
    }
    layer
}

/// Members of a group share the deepest of their layers. Returns each node's (first) group.
fn align_groups(
    t: &Topology,
    pos: &HashMap<Node, usize>,
    layer: &mut [usize],
) -> Vec<Option<usize>> {
    let mut group_of = vec![None; layer.len()];
    for (g, group) in t.groups.iter().enumerate() {
        let members: Vec<usize> = group
            .members
            .iter()
            .filter_map(|m| t.resolve(m).and_then(Node::of))
            .filter_map(|n| pos.get(&n).copied())
            .collect();
        let Some(deepest) = members.iter().map(|&m| layer[m]).max() else {
            continue;
        };
        for m in members {
            layer[m] = deepest;
            group_of[m].get_or_insert(g);
        }
    }
    group_of
}

fn place(
    t: &Topology,
    nodes: &[Node],
    parents: &[Vec<usize>],
    layer: &[usize],
    group_of: &[Option<usize>],
) -> Layout {
    let depth = layer.iter().copied().max().map_or(0, |d| d + 1);
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (v, &l) in layer.iter().enumerate() {
        by_layer[l].push(v);
    }
    let mut x = vec![f64::NAN; nodes.len()];
    let mut y = vec![0.0; nodes.len()];
    let mut out = Layout::default();
    let mut top = MARGIN;
    let widest = by_layer
        .iter()
        .map(|l| l.len().min(MAX_PER_ROW))
        .max()
        .unwrap_or(1);
    let full_width = (widest.max(1) - 1) as f64 * DX;
    for members in &mut by_layer {
        order_layer(members, parents, &x, group_of);
        for (r, row) in members.chunks(MAX_PER_ROW).enumerate() {
            let row_width = (row.len() - 1) as f64 * DX;
            let left = MARGIN + (full_width - row_width) / 2.0;
            for (c, &v) in row.iter().enumerate() {
                x[v] = left + c as f64 * DX;
                y[v] = top + r as f64 * DY_ROW;
            }
        }
        let rows = members.len().div_ceil(MAX_PER_ROW).max(1);
        top += rows as f64 * DY_ROW + DY_LAYER;
    }
    out.nodes = nodes
        .iter()
        .enumerate()
        .map(|(v, n)| (*n, x[v], y[v]))
        .collect();
    out.clusters = clusters(t, group_of, &x, &y);
    out.width = full_width + 2.0 * MARGIN;
    out.height = top + MARGIN;
    out
}

/// Order one layer: by the mean x of each node's requirers, members of a group together.
fn order_layer(
    members: &mut [usize],
    parents: &[Vec<usize>],
    x: &[f64],
    group_of: &[Option<usize>],
) {
    let bary = |v: usize| {
        let xs: Vec<f64> = parents[v]
            .iter()
            .map(|&p| x[p])
            .filter(|x| !x.is_nan())
            .collect();
        if xs.is_empty() {
            f64::MAX
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    };
    let own: HashMap<usize, f64> = members.iter().map(|&v| (v, bary(v))).collect();
    let mut group_key: HashMap<usize, f64> = HashMap::new();
    for &v in members.iter() {
        if let Some(g) = group_of[v] {
            let e = group_key.entry(g).or_insert(f64::MAX);
            *e = e.min(own[&v]);
        }
    }
    let key = |v: usize| {
        let g = group_of[v];
        (
            g.map_or(own[&v], |g| group_key[&g]),
            g.unwrap_or(usize::MAX),
            own[&v],
            v,
        )
    };
    members.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0)
            .then(ka.1.cmp(&kb.1))
            .then(ka.2.total_cmp(&kb.2))
            .then(ka.3.cmp(&kb.3))
    });
}

/// Half the width and height of the box drawn around a group's members.
const CLUSTER_PAD_X: f64 = 50.0;
const CLUSTER_PAD_Y: f64 = 34.0;

fn clusters(
    t: &Topology,
    group_of: &[Option<usize>],
    x: &[f64],
    y: &[f64],
) -> Vec<(usize, f64, f64, f64, f64)> {
    let mut boxes: HashMap<usize, (f64, f64, f64, f64)> = HashMap::new();
    for (v, g) in group_of.iter().enumerate() {
        let Some(g) = *g else { continue };
        let b = boxes
            .entry(g)
            .or_insert((f64::MAX, f64::MAX, f64::MIN, f64::MIN));
        b.0 = b.0.min(x[v]);
        b.1 = b.1.min(y[v]);
        b.2 = b.2.max(x[v]);
        b.3 = b.3.max(y[v]);
    }
    let mut out: Vec<_> = boxes
        .into_iter()
        .filter(|(g, _)| *g < t.groups.len())
        .map(|(g, (x0, y0, x1, y1))| {
            (
                g,
                x0 - CLUSTER_PAD_X,
                y0 - CLUSTER_PAD_Y,
                x1 + CLUSTER_PAD_X,
                y1 + CLUSTER_PAD_Y,
            )
        })
        .collect();
    out.sort_by_key(|c| c.0);
    out
}
