//! Pictures of the graph: Graphviz DOT and Mermaid.
//!
//! Node ids are derived from component ids by an injective encoding (`fw-a` and `fw_a` stay two
//! nodes), and every label is escaped for its format: ids are validated by the model, but
//! service names are free text and may hold quotes, backslashes, angle brackets or newlines.

use std::fmt::Write;

use faultline_model::ComponentRef;

use crate::{DependencyGraph, Evaluation, GraphRef, State};

/// The picture format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (renders in GitHub and GitLab Markdown).
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

/// Node name safe for both DOT and Mermaid, and injective: ASCII letters and digits stand for
/// themselves, `_` is written `__`, and any other character `_XX_` (its code point in hex), so
/// no two ids share a key.
fn key(id: &str) -> String {
    let mut k = String::with_capacity(id.len() + 2);
    k.push_str("n_");
    for ch in id.chars() {
        match ch {
            'a'..='z' | 'A'..='Z' | '0'..='9' => k.push(ch),
            '_' => k.push_str("__"),
            other => {
                let _ = write!(k, "_{:x}_", u32::from(other));
            }
        }
    }
    k
}

/// Text for inside a DOT double-quoted string: quotes and backslashes escaped, line breaks as
/// DOT's `\n` (centred line), other control characters dropped.
fn dot_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a Mermaid `"..."` label: Mermaid has no backslash escapes, it takes HTML
/// entities, so quotes, `#`, angle brackets and `&` become entity codes and line breaks `<br>`.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '\n' => out.push_str("<br>"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Render the topology: groups as clusters, services as distinct shapes, requirements as
/// arrows, physical links as dashed lines. With an evaluation, nodes are coloured by state.
pub fn render(
    g: &DependencyGraph,
    ev: Option<&Evaluation<impl GraphRef>>,
    format: Format,
) -> String {
    match format {
        Format::Dot => dot(g, ev),
        Format::Mermaid => mermaid(g, ev),
    }
}

/// Every requirement arrow: (requirer id, required component's canonical id). A link named by
/// one of its ends points at the link's id.
pub(crate) fn requirement_edges(g: &DependencyGraph) -> Vec<(&str, &str)> {
    let t = g.topology();
    let requirers = t
        .devices
        .iter()
        .map(|d| (&d.id, &d.requires))
        .chain(t.services.iter().map(|s| (&s.id, &s.requires)));
    let mut edges = Vec::new();
    for (from, reqs) in requirers {
        for r in reqs {
            let target = match t.resolve(r) {
                Some(ComponentRef::Link(i)) => t.links[i].id(),
                _ => r.as_str(),
            };
            edges.push((from.as_str(), target));
        }
    }
    edges
}

fn dot(g: &DependencyGraph, ev: Option<&Evaluation<impl GraphRef>>) -> String {
    let t = g.topology();
    let state = |c: ComponentRef| ev.map(|e| e.component(g.comp_id(c)));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "digraph \"{}\" {{\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];",
        dot_text(&t.name)
    );
    for (gi, grp) in t.groups.iter().enumerate() {
        let s = state(ComponentRef::Group(gi));
        let _ = writeln!(out, "  subgraph cluster_{} {{", key(&grp.id));
        let col = s.map(colour).unwrap_or("#555555");
        let _ = writeln!(
            out,
            "    label=\"{} ({})\"; color=\"{col}\"; style=rounded;",
            dot_text(&grp.id),
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
            dot_text(&d.id),
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
            dot_text(&s.name),
            s.tier.as_str()
        );
    }
    // Groups are clusters; an invisible anchor node lets arrows point at a group.
    for grp in &t.groups {
        let _ = writeln!(
            out,
            "  {} [label=\"{}\", shape=point];",
            key(&grp.id),
            dot_text(&grp.id)
        );
    }
    for (from, to) in requirement_edges(g) {
        let _ = writeln!(out, "  {} -> {};", key(from), key(to));
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
            dot_text(l.a().interface),
            dot_text(l.b().interface)
        );
    }
    out.push_str("}\n");
    out
}

fn mermaid(g: &DependencyGraph, ev: Option<&Evaluation<impl GraphRef>>) -> String {
    let t = g.topology();
    let mut out = String::from("flowchart BT\n");
    for grp in &t.groups {
        let _ = writeln!(
            out,
            "  subgraph {}[\"{} ({})\"]",
            key(&grp.id),
            mermaid_text(&grp.id),
            grp.mode.name()
        );
        for m in &grp.members {
            let _ = writeln!(out, "    {}", key(m));
        }
        out.push_str("  end\n");
    }
    for d in &t.devices {
        let _ = writeln!(
            out,
            "  {}[\"{} ({})\"]",
            key(&d.id),
            mermaid_text(&d.id),
            d.kind.as_str()
        );
    }
    for s in &t.services {
        let _ = writeln!(
            out,
            "  {}{{{{\"{} ({})\"}}}}",
            key(&s.id),
            mermaid_text(&s.name),
            s.tier.as_str()
        );
    }
    for (from, to) in requirement_edges(g) {
        // Links are drawn as the dotted lines between their devices, not as nodes.
        if !matches!(t.resolve(to), Some(ComponentRef::Link(_))) {
            let _ = writeln!(out, "  {} --> {}", key(from), key(to));
        }
    }
    for l in &t.links {
        let _ = writeln!(
            out,
            "  {} -. \"{}/{}\" .- {}",
            key(l.a().device),
            mermaid_text(l.a().interface),
            mermaid_text(l.b().interface),
            key(l.b().device)
        );
    }
    if let Some(ev) = ev {
        for (i, d) in t.devices.iter().enumerate() {
            let s = ev.component(g.comp_id(ComponentRef::Device(i)));
            if s != State::Up {
                let _ = writeln!(out, "  style {} fill:{},color:#fff", key(&d.id), colour(s));
            }
        }
        for (i, sv) in t.services.iter().enumerate() {
            let s = ev.component(g.comp_id(ComponentRef::Service(i)));
            let _ = writeln!(out, "  style {} fill:{},color:#fff", key(&sv.id), colour(s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_injective_and_plain() {
        let ids = [
            "fw-a", "fw_a", "fw.a", "fw/a", "fw__a", "fw_2d_a", "fwa", "fw-_a",
        ];
        let keys: std::collections::BTreeSet<String> = ids.iter().map(|i| key(i)).collect();
        assert_eq!(keys.len(), ids.len(), "{keys:?}");
        for k in &keys {
            assert!(
                k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{k}"
            );
        }
    }

    #[test]
    fn labels_escape_every_special_character() {
        assert_eq!(dot_text("a\"b\\c\nd<e>"), "a\\\"b\\\\c\\nd<e>");
        assert_eq!(
            mermaid_text("a\"b\\c\nd<e>&#"),
            "a#quot;b\\c<br>d#lt;e#gt;#amp;#35;"
        );
    }
}
