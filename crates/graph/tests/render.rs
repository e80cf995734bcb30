//! DOT and Mermaid output stay well-formed for any topology: node ids are injective (`fw-a` and
//! `fw_a` are two nodes) and free-text names cannot break out of their quotes.

use std::collections::BTreeSet;

use faultline_graph::{DependencyGraph, Evaluation, Format, State, export, render};
use faultline_model::Topology;

/// Ids use every character the model allows; the service name every character that needs
/// escaping in some format.
const TRICKY: &str = r#"
name: 'tricky "dc"'
devices:
  - {id: fw-a, kind: firewall}
  - {id: fw_a, kind: firewall}
  - {id: fw.a, kind: firewall}
  - {id: fw/a, kind: firewall}
  - {id: web-1, kind: server, requires: [fw-pair]}
links:
  - [fw-a:port1, web-1:eth0]
  - [fw_a:port1, web-1:eth1]
groups:
  - {id: fw-pair, mode: any, members: [fw-a, fw_a, fw.a, fw/a]}
services:
  - {id: portal, name: "Portal \"main\" \\ <beta> & #1\nsecond line", requires: [web-1]}
"#;

const NAME: &str = "Portal \"main\" \\ <beta> & #1\nsecond line";

fn graph() -> DependencyGraph {
    let t = Topology::from_yaml_str(TRICKY, "tricky.yaml").expect("valid topology");
    assert_eq!(t.services[0].name, NAME);
    DependencyGraph::build(&t)
}

/// The quoted strings of one line of DOT, unescaped; panics on an unterminated string.
fn dot_strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next() {
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some(e) => s.push(e),
                    None => panic!("dangling escape in {line}"),
                },
                Some(ch) => s.push(ch),
                None => panic!("unterminated string in {line}"),
            }
        }
        out.push(s);
    }
    out
}

/// The node statements of a DOT graph: (node id, label).
fn dot_nodes(dot: &str) -> Vec<(String, String)> {
    dot.lines()
        .filter(|l| l.contains("[label=") && !l.contains("->"))
        .map(|l| {
            let id = l.trim().split(' ').next().unwrap_or_default().to_string();
            (id, dot_strings(l)[0].clone())
        })
        .collect()
}

#[test]
fn dot_node_ids_are_injective_and_labels_escaped() {
    let g = graph();
    let ev = Evaluation::new(&g);
    let dot = render(&g, Some(&ev), Format::Dot);
    let nodes = dot_nodes(&dot);
    let ids: BTreeSet<&str> = nodes.iter().map(|(id, _)| id.as_str()).collect();
    // 5 devices, 1 service, 1 group anchor: each its own node.
    assert_eq!(nodes.len(), 7, "{dot}");
    assert_eq!(ids.len(), 7, "two components share a node id:\n{dot}");
    for id in &ids {
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{id}"
        );
    }
    // Every line's strings terminate, and labels come back exactly.
    for line in dot.lines() {
        dot_strings(line);
    }
    let labels: BTreeSet<&str> = nodes.iter().map(|(_, l)| l.as_str()).collect();
    assert!(
        labels.contains(format!("{NAME}\n(normal)").as_str()),
        "{labels:?}"
    );
    assert!(labels.contains("fw_a\nfirewall"), "{labels:?}");
    assert!(dot.starts_with("digraph \"tricky \\\"dc\\\"\" {"), "{dot}");
}

#[test]
fn mermaid_node_ids_are_injective_and_labels_escaped() {
    let g = graph();
    let mermaid = render(&g, None::<&Evaluation<&DependencyGraph>>, Format::Mermaid);
    let mut ids = BTreeSet::new();
    for line in mermaid.lines() {
        // A label is the only quoted text on its line and holds no quote, no line break.
        assert_eq!(line.matches('"').count() % 2, 0, "{line}");
        if let Some((id, _)) = line.trim().split_once("[\"") {
            assert!(
                ids.insert(id.trim_start_matches("subgraph ").to_string()),
                "{line}"
            );
        }
    }
    // 5 devices and 1 group subgraph, all distinct.
    assert_eq!(ids.len(), 6, "{mermaid}");
    let service = mermaid
        .lines()
        .find(|l| l.contains("{{\""))
        .expect("service node");
    assert!(
        service.contains(
            "Portal #quot;main#quot; \\ #lt;beta#gt; #amp; #35;1<br>second line (normal)"
        ),
        "{service}"
    );
}

#[test]
fn export_lists_every_component_and_relation() {
    let g = graph();
    let mut ev = Evaluation::new(&g);
    let fw = g.lookup("fw_a").expect("fw_a");
    ev.set_own(fw, State::Down);
    ev.settle();
    let x = export(&g, Some(&ev));
    assert_eq!(x.nodes.len(), g.topology().component_count());
    let fw_a = x.nodes.iter().find(|n| n.id == "fw_a").expect("fw_a node");
    assert_eq!((fw_a.kind, fw_a.state), ("device", Some(State::Down)));
    let members = x.edges.iter().filter(|e| e.kind == "member").count();
    let links = x.edges.iter().filter(|e| e.kind == "link").count();
    let requires = x.edges.iter().filter(|e| e.kind == "requires").count();
    assert_eq!((members, links, requires), (4, 2, 2));
    let service = x
        .nodes
        .iter()
        .find(|n| n.kind == "service")
        .expect("service");
    assert_eq!(service.label, NAME);
}
