//! Pictures of the graph: Graphviz DOT and Mermaid.

use std::fmt::Write;

use faultline_model::ComponentRef;

use crate::{DependencyGraph, Evaluation, GraphRef, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
}

fn colour(s: State) -> &'static str {
    match s {
        State::Up => "#2e7d32",
        State::Degraded => "#f9a825",
        State::Down => "#c62828",
        State::Unknown => "#757575",
    }
}

/// Node name safe for both DOT and Mermaid.
fn key(id: &str) -> String {
    let mut k = String::from("n_");
    for ch in id.chars() {
        k.push(if ch.is_ascii_alphanumeric() { ch } else { '_' });
    }
    k
}

/// Render the topology: groups as clusters, services as distinct shapes, requirements as
/// arrows, physical links as dashed lines. With an evaluation, nodes are coloured by state.
pub fn render(
    g: &DependencyGraph,
    ev: Option<&Evaluation<impl GraphRef>>,
    format: Format,
) -> String {
    let t = g.topology();
    let state = |c: ComponentRef| ev.map(|e| e.component(g.comp_id(c)));
    let mut out = String::new();
    match format {
        Format::Dot => {
            let _ = writeln!(
                out,
                "digraph \"{}\" {{\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];",
                t.name
            );
            for (gi, grp) in t.groups.iter().enumerate() {
                let s = state(ComponentRef::Group(gi));
                let _ = writeln!(out, "  subgraph cluster_{} {{", key(&grp.id));
                let col = s.map(colour).unwrap_or("#555555");
                let _ = writeln!(
                    out,
                    "    label=\"{} ({})\"; color=\"{col}\"; style=rounded;",
                    grp.id,
                    grp.mode.name()
                );
                for m in &grp.members {
                    if matches!(t.resolve(m), Some(ComponentRef::Device(_))) {
                        let _ = writeln!(out, "    {};", key(m));
                    }
                }
                let _ = writeln!(out, "  }}");
            }
            for (i, d) in t.devices.iter().enumerate() {
                let fill = state(ComponentRef::Device(i))
                    .map(colour)
                    .unwrap_or("#e3f2fd");
                let font = if ev.is_some() { "white" } else { "black" };
                let _ = writeln!(
                    out,
                    "  {} [label=\"{}\\n{}\", shape=box, style=filled, fillcolor=\"{fill}\", fontcolor={font}];",
                    key(&d.id),
                    d.id,
                    d.kind.as_str()
                );
            }
            for (i, s) in t.services.iter().enumerate() {
                let fill = state(ComponentRef::Service(i))
                    .map(colour)
                    .unwrap_or("#fff3e0");
                let _ = writeln!(
                    out,
                    "  {} [label=\"{}\\n({})\", shape=doubleoctagon, style=filled, fillcolor=\"{fill}\"];",
                    key(&s.id),
                    s.name,
                    s.tier.as_str()
                );
            }
            // Groups are clusters; an invisible anchor node lets arrows point at a group.
            for grp in &t.groups {
                let _ = writeln!(
                    out,
                    "  {} [label=\"{}\", shape=point];",
                    key(&grp.id),
                    grp.id
                );
            }
            let requirers = t
                .devices
                .iter()
                .map(|d| (&d.id, &d.requires))
                .chain(t.services.iter().map(|s| (&s.id, &s.requires)));
            for (from, reqs) in requirers {
                for r in reqs {
                    let target = match t.resolve(r) {
                        Some(ComponentRef::Link(i)) => t.links[i].id(),
                        _ => r,
                    };
                    let _ = writeln!(out, "  {} -> {};", key(from), key(target));
                }
            }
            for (i, l) in t.links.iter().enumerate() {
                let col = state(ComponentRef::Link(i))
                    .map(colour)
                    .unwrap_or("#9e9e9e");
                let _ = writeln!(
                    out,
                    "  {} -> {} [dir=none, style=dashed, color=\"{col}\", taillabel=\"{}\", headlabel=\"{}\", fontsize=8];",
                    key(l.a().device),
                    key(l.b().device),
                    l.a().interface,
                    l.b().interface
                );
            }
            out.push_str("}\n");
        }
        Format::Mermaid => {
            out.push_str("flowchart BT\n");
            for grp in &t.groups {
                let _ = writeln!(
                    out,
                    "  subgraph {}[\"{} ({})\"]",
                    key(&grp.id),
                    grp.id,
                    grp.mode.name()
                );
                for m in &grp.members {
                    let _ = writeln!(out, "    {}", key(m));
                }
                out.push_str("  end\n");
            }
            for d in &t.devices {
                let _ = writeln!(out, "  {}[\"{} ({})\"]", key(&d.id), d.id, d.kind.as_str());
            }
            for s in &t.services {
                let _ = writeln!(
                    out,
                    "  {}{{{{\"{} ({})\"}}}}",
                    key(&s.id),
                    s.name,
                    s.tier.as_str()
                );
            }
            let requirers = t
                .devices
                .iter()
                .map(|d| (&d.id, &d.requires))
                .chain(t.services.iter().map(|s| (&s.id, &s.requires)));
            for (from, reqs) in requirers {
                for r in reqs {
                    if !matches!(t.resolve(r), Some(ComponentRef::Link(_))) {
                        let _ = writeln!(out, "  {} --> {}", key(from), key(r));
                    }
                }
            }
            for l in &t.links {
                let _ = writeln!(
                    out,
                    "  {} -. \"{}/{}\" .- {}",
                    key(l.a().device),
                    l.a().interface,
                    l.b().interface,
                    key(l.b().device)
                );
            }
            if let Some(ev) = ev {
                for (i, d) in t.devices.iter().enumerate() {
                    let s = ev.component(g.comp_id(ComponentRef::Device(i)));
                    if s != State::Up {
                        let _ =
                            writeln!(out, "  style {} fill:{},color:#fff", key(&d.id), colour(s));
                    }
                }
                for (i, sv) in t.services.iter().enumerate() {
                    let s = ev.component(g.comp_id(ComponentRef::Service(i)));
                    let _ = writeln!(out, "  style {} fill:{},color:#fff", key(&sv.id), colour(s));
                }
            }
        }
    }
    out
}
