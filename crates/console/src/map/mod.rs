//! `/map`: the topology as an inline SVG, laid out in layers ([`layout`]).
//!
//! Every node is an element with `data-id`, `data-kind` and `data-state`, drawn with a colour
//! *and* a shape per state (circle up, diamond degraded, square down, triangle unknown), and
//! links to its page. Redundancy groups are clusters labelled with their mode; links carry
//! their interface names; edges along which a failure propagates are highlighted.

mod layout;

use std::collections::HashMap;

use faultline_api::State;
use faultline_model::{ComponentRef, GroupMode, Topology};
use maud::{Markup, html};

use crate::format::{component_href, state_class, why_href};
use crate::shell::{Ctx, page};
use layout::{Layout, Node};

/// Above this many nodes, interface names move from labels into tooltips: the map stays legible.
const LABEL_LIMIT: usize = 300;
/// Longest node label drawn; the whole id is in the tooltip and the link.
const LABEL_CHARS: usize = 18;

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// Only this service and what it depends on (`/map?service=portal`).
    pub service: Option<String>,
}

/// Why a map cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// `?service=` names no service of the topology.
    UnknownService(String),
}

impl std::fmt::Display for MapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapError::UnknownService(s) => write!(f, "no service `{s}` in the topology"),
        }
    }
}

impl std::error::Error for MapError {}

/// `/map`: the page around [`map_svg`], with the legend and the service filter.
pub fn map_page(
    ctx: &Ctx,
    topo: &Topology,
    states: &HashMap<String, State>,
    opts: &MapOptions,
) -> Result<Markup, MapError> {
    let svg = map_svg(topo, states, opts)?;
    let body = html! {
        h1 { "Map" @if let Some(s) = &opts.service { " of " a href=(why_href(s)) { (s) } } }
        form.filter method="get" action="/map" {
            label { "Service " select name="service" {
                option value="" { "all" }
                @for s in &topo.services {
                    option value=(s.id) selected[opts.service.as_deref() == Some(s.id.as_str())] { (s.name) }
                }
            } }
            " " button type="submit" { "Show" }
        }
        p.legend {
            span.s-up { "● up" } " " span.s-degraded { "◆ degraded" } " "
            span.s-down { "■ down" } " " span.s-unknown { "▲ unknown" } " "
            span.failed-key { "━ failed path" }
        }
        div.map-wrap { (svg) }
    };
    Ok(page(ctx, "Map", "/map", body))
}

/// The map as an inline `<svg>` element.
pub fn map_svg(
    topo: &Topology,
    states: &HashMap<String, State>,
    opts: &MapOptions,
) -> Result<Markup, MapError> {
    let nodes: Vec<Node> = match &opts.service {
        Some(s) => match topo.resolve(s) {
            Some(ComponentRef::Service(i)) => {
                let mut cone = layout::cone(topo, Node::Service(i));
                cone.sort_by_key(|n| match n {
                    Node::Service(i) => (0, *i),
                    Node::Device(i) => (1, *i),
                });
                cone
            }
            _ => return Err(MapError::UnknownService(s.clone())),
        },
        None => (0..topo.services.len())
            .map(Node::Service)
            .chain((0..topo.devices.len()).map(Node::Device))
            .collect(),
    };
    let lay = layout::layout(topo, &nodes);
    let state = |id: &str| states.get(id).copied().unwrap_or(State::Unknown);
    let labels = nodes.len() <= LABEL_LIMIT;
    Ok(html! {
        svg.map xmlns="http://www.w3.org/2000/svg" role="img" aria-label="topology map"
            viewBox=(format!("0 0 {:.0} {:.0}", lay.width, lay.height))
            width=(format!("{:.0}", lay.width)) height=(format!("{:.0}", lay.height))
            data-nodes=(nodes.len()) {
            (clusters(topo, &lay, &state))
            (edges(topo, &lay, &state, labels))
            g.nodes { @for &(n, x, y) in &lay.nodes { (node(topo, n, x, y, state(n.id(topo)))) } }
        }
    })
}

fn mode_label(mode: GroupMode, n: usize) -> String {
    match mode {
        GroupMode::All => format!("all {n}"),
        GroupMode::Any => format!("any of {n}"),
        GroupMode::AtLeast { min } => format!("at least {min} of {n}"),
        GroupMode::ActiveStandby => "active-standby".to_string(),
    }
}

fn clusters(topo: &Topology, lay: &Layout, state: &dyn Fn(&str) -> State) -> Markup {
    html! {
        g.clusters { @for &(g, x0, y0, x1, y1) in &lay.clusters {
            @let group = &topo.groups[g];
            @let st = state(&group.id);
            a href=(component_href("group", &group.id)) {
                g class={ "cluster " (state_class(st)) } data-id=(group.id) data-kind="group" data-state=(st.as_str()) {
                    rect x=(fmt(x0)) y=(fmt(y0)) width=(fmt(x1 - x0)) height=(fmt(y1 - y0)) rx="10" {}
                    text x=(fmt(x0 + 8.0)) y=(fmt(y0 + 14.0)) { (group.id) " · " (mode_label(group.mode, group.members.len())) }
                    title { (group.id) ": " (mode_label(group.mode, group.members.len())) ", " (st.as_str()) }
                }
            }
        } }
    }
}

/// Requirement edges (requirer → required) and physical links (with interface names).
fn edges(topo: &Topology, lay: &Layout, state: &dyn Fn(&str) -> State, labels: bool) -> Markup {
    let at = lay.index();
    let mut reqs = String::new();
    let mut buf = Vec::new();
    for &(n, x, y) in &lay.nodes {
        let from = state(n.id(topo));
        for r in topo.requirements(n.component()) {
            if matches!(topo.resolve(r), Some(ComponentRef::Link(_))) {
                continue; // drawn as the link itself
            }
            buf.clear();
            layout::targets(topo, r, &mut buf);
            let to = state(r);
            for m in &buf {
                if let Some(&(x2, y2)) = at.get(m) {
                    let class = if failing(from, to.max(state(m.id(topo)))) {
                        "req failed"
                    } else {
                        "req"
                    };
                    reqs.push_str(&format!(
                        r#"<line class="{class}" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
                        fmt(x),
                        fmt(y + 14.0),
                        fmt(x2),
                        fmt(y2 - 14.0)
                    ));
                }
            }
        }
    }
    html! {
        // Built as text: only numbers and fixed class names go in, nothing from the topology.
        g.reqs { (maud::PreEscaped(reqs)) }
        g.links { @for l in &topo.links {
            @let (a, b) = (Node::Device(l.a_device as usize), Node::Device(l.b_device as usize));
            @if let (Some(&(x1, y1)), Some(&(x2, y2))) = (at.get(&a), at.get(&b)) {
                @let st = state(l.id());
                g class={ "link " (state_class(st)) @if st == State::Down { " failed" } }
                    data-id=(l.id()) data-state=(st.as_str()) {
                    line x1=(fmt(x1)) y1=(fmt(y1)) x2=(fmt(x2)) y2=(fmt(y2)) {}
                    title { (l.id()) ": " (st.as_str()) }
                    @if labels {
                        text.ifname x=(fmt(x1 + (x2 - x1) * 0.2)) y=(fmt(y1 + (y2 - y1) * 0.2)) { (l.a().interface) }
                        text.ifname x=(fmt(x1 + (x2 - x1) * 0.8)) y=(fmt(y1 + (y2 - y1) * 0.8)) { (l.b().interface) }
                    }
                }
            }
        } }
    }
}

/// A failure propagates along a requirement edge when the required side is down or unknown and
/// the requirer is not up.
fn failing(from: State, to: State) -> bool {
    from != State::Up && matches!(to, State::Down | State::Unknown)
}

fn node(topo: &Topology, n: Node, x: f64, y: f64, st: State) -> Markup {
    let id = n.id(topo);
    let (kind, href, name) = match n {
        Node::Service(i) => ("service", why_href(id), topo.services[i].name.as_str()),
        Node::Device(_) => ("device", component_href("device", id), ""),
    };
    let label: String = if id.chars().count() > LABEL_CHARS {
        id.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
    } else {
        id.to_string()
    };
    html! {
        a href=(href) {
            g class={ "node " (kind) " " (state_class(st)) } data-id=(id) data-kind=(kind) data-state=(st.as_str())
                transform=(format!("translate({} {})", fmt(x), fmt(y))) {
                (shape(st))
                text y="28" { (label) }
                title { (id) @if !name.is_empty() { " (" (name) ")" } " [" (kind) "]: " (st.as_str()) }
            }
        }
    }
}

/// One shape per state, so that colour is never the only sign.
fn shape(st: State) -> Markup {
    match st {
        State::Up => html! { circle.shape r="12" {} },
        State::Degraded => html! { path.shape d="M0 -14 L14 0 L0 14 L-14 0 Z" {} },
        State::Down => html! { path.shape d="M-11 -11 H11 V11 H-11 Z M-6 -6 L6 6 M6 -6 L-6 6" {} },
        State::Unknown => html! { path.shape d="M0 -14 L13 10 L-13 10 Z" {} },
    }
}

/// Coordinates with one decimal at most: compact and stable.
fn fmt(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
