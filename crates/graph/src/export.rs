//! The graph as data: components as nodes and their relations as edges, for
//! `faultline graph --json` and any tool that draws or diffs topologies itself.

use faultline_model::ComponentRef;
use serde::Serialize;

use crate::{DependencyGraph, Evaluation, GraphRef, State};

/// Every component and relation of a topology, optionally with states from a what-if.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphExport {
    /// The topology's name.
    pub name: String,
    /// Every component: devices, links, groups, services, each in topology order.
    pub nodes: Vec<ExportNode>,
    /// Requirements first, then group memberships, then links.
    pub edges: Vec<ExportEdge>,
}

/// One component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportNode {
    /// The component's canonical id.
    pub id: String,
    /// `device`, `link`, `group` or `service`.
    pub kind: &'static str,
    /// Display text: the device id, the service's name, the group's id.
    pub label: String,
    /// Device kind, group mode or service tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
    /// Present when rendered with an evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
}

/// One relation between two components, by canonical id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportEdge {
    /// The requirer, the group, or a link's first device.
    pub from: String,
    /// What is required, the member, or a link's second device.
    pub to: String,
    /// `requires` (from needs to), `member` (group from has member to), or `link` (a cable
    /// from device to device; `link` names it).
    pub kind: &'static str,
    /// For a `link` edge: the link's id (`a:if--b:if`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Export the graph; with an evaluation every node carries its state.
pub fn export(g: &DependencyGraph, ev: Option<&Evaluation<impl GraphRef>>) -> GraphExport {
    let t = g.topology();
    let state = |c: ComponentRef| ev.map(|e| e.component(g.comp_id(c)));
    let mut nodes = Vec::with_capacity(t.component_count());
    for (i, d) in t.devices.iter().enumerate() {
        nodes.push(ExportNode {
            id: d.id.clone(),
            kind: "device",
            label: d.id.clone(),
            detail: Some(d.kind.as_str()),
            state: state(ComponentRef::Device(i)),
        });
    }
    for (i, l) in t.links.iter().enumerate() {
        nodes.push(ExportNode {
            id: l.id().to_string(),
            kind: "link",
            label: l.id().to_string(),
            detail: None,
            state: state(ComponentRef::Link(i)),
        });
    }
    for (i, grp) in t.groups.iter().enumerate() {
        nodes.push(ExportNode {
            id: grp.id.clone(),
            kind: "group",
            label: grp.id.clone(),
            detail: Some(grp.mode.name()),
            state: state(ComponentRef::Group(i)),
        });
    }
    for (i, s) in t.services.iter().enumerate() {
        nodes.push(ExportNode {
            id: s.id.clone(),
            kind: "service",
            label: s.name.clone(),
            detail: Some(s.tier.as_str()),
            state: state(ComponentRef::Service(i)),
        });
    }
    let mut edges: Vec<ExportEdge> = crate::render::requirement_edges(g)
        .into_iter()
        .map(|(from, to)| edge(from, to, "requires", None))
        .collect();
    for grp in &t.groups {
        for m in &grp.members {
            let to = match t.resolve(m) {
                Some(c) => t.id_of(c),
                None => m.as_str(),
            };
            edges.push(edge(&grp.id, to, "member", None));
        }
    }
    for l in &t.links {
        edges.push(edge(
            l.a().device,
            l.b().device,
            "link",
            Some(l.id().to_string()),
        ));
    }
    GraphExport {
        name: t.name.clone(),
        nodes,
        edges,
    }
}

fn edge(from: &str, to: &str, kind: &'static str, link: Option<String>) -> ExportEdge {
    ExportEdge {
        from: from.to_string(),
        to: to.to_string(),
        kind,
        link,
    }
}
