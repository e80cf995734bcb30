//! `why`: the failed part of a service's dependency tree, down to the failed components.

use std::collections::HashSet;
use std::fmt::Write;

use faultline_model::{ComponentRef, GroupMode};
use serde::Serialize;

use crate::{CompId, DependencyGraph, Evaluation, GraphRef, NodeId, Role, State};

/// One node of a why-tree. Only non-up branches are expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhyNode {
    /// The component id (for link requirements: the target device).
    pub id: String,
    /// `device`, `link`, `group`, `service`, `links` (a set of parallel links).
    pub kind: String,
    /// The component's own state in the graph (for a requirement over links: the target's).
    pub state: State,
    /// For a requirement over declared links: the state of the path (the target together
    /// with the links to it), which may be down while the target itself is up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<State>,
    /// Human detail: group arithmetic, the requirer a link view belongs to, "failed itself".
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// True when this component's own state is failed (it is a cause, not only a symptom).
    pub failed_itself: bool,
    /// True when this subtree was already shown above (shared dependency).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
    /// Its dependencies that are not up, each as a why-tree (empty when this node is up or
    /// repeated).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<WhyNode>,
}

impl DependencyGraph {
    /// The why-tree of any component under `ev`.
    pub fn why(&self, ev: &Evaluation<impl GraphRef>, c: CompId) -> WhyNode {
        let mut shown = HashSet::new();
        self.why_node(ev, self.canonical(c), &mut shown)
    }

    fn comp_kind(&self, c: CompId) -> &'static str {
        self.comp_ref(c).kind_name()
    }

    fn why_node(
        &self,
        ev: &Evaluation<impl GraphRef>,
        n: NodeId,
        shown: &mut HashSet<NodeId>,
    ) -> WhyNode {
        let state = ev.state(n);
        // A requirement over links is shown as its target device, annotated, with the failed
        // links as extra children: operators think "fw-b, reached over port2", not in gates.
        if let Role::Via { requirer, .. } = self.role(n) {
            let kids = self.children(n);
            let (target, links) = (kids[0], kids[1]);
            let mut node = self.why_node(ev, target, shown);
            let note = format!(
                "path from {} over declared links {}",
                self.id_of(requirer),
                state.as_str().to_uppercase()
            );
            node.detail = if node.detail.is_empty() {
                note
            } else {
                format!("{}; {note}", node.detail)
            };
            node.path = Some(state);
            if ev.state(links) != State::Up {
                let l = self.why_node(ev, links, shown);
                if matches!(self.role(links), Role::LinkSet { .. }) {
                    node.children.extend(l.children);
                } else {
                    node.children.push(l);
                }
            }
            return node;
        }
        let (id, kind, mut detail) = match self.role(n) {
            Role::Component(c) => (
                self.id_of(c).to_string(),
                self.comp_kind(c).to_string(),
                String::new(),
            ),
            Role::GroupView { group, requirer } => (
                self.id_of(group).to_string(),
                "group".to_string(),
                format!("as reached from {}", self.id_of(requirer)),
            ),
            Role::Via { requirer, target } => (
                self.id_of(target).to_string(),
                self.comp_kind(target).to_string(),
                format!("over its links to {}", self.id_of(requirer)),
            ),
            Role::LinkSet { requirer, target } => (
                format!("{}<->{}", self.id_of(requirer), self.id_of(target)),
                "links".to_string(),
                "any one of the parallel links".to_string(),
            ),
        };
        let failed_itself = self.owner(n).is_some_and(|o| ev.own(o) != State::Up);
        if let Some(o) = self.owner(n)
            && let ComponentRef::Group(gi) = self.comp_ref(o)
        {
            let g = &self.topo.groups[gi];
            let [up, degraded, _, _] = ev.child_counts(n);
            let need = g.mode.needed(g.members.len());
            let arith = match g.mode {
                GroupMode::AtLeast { .. } => format!("at-least {need}"),
                m => m.name().to_string(),
            };
            let text = format!(
                "{arith}: {} of {} available, needs {need}",
                up + degraded,
                g.members.len()
            );
            detail = if detail.is_empty() {
                text
            } else {
                format!("{text}, {detail}")
            };
        }
        if failed_itself {
            let own = self.owner(n).map(|o| ev.own(o)).unwrap_or(State::Up);
            let text = format!("{} itself", own.as_str());
            detail = if detail.is_empty() {
                text
            } else {
                format!("{detail}; {text}")
            };
        }
        let mut node = WhyNode {
            id,
            kind,
            state,
            path: None,
            detail,
            failed_itself,
            repeated: false,
            children: Vec::new(),
        };
        if state == State::Up {
            return node;
        }
        if !shown.insert(n) {
            node.repeated = true;
            return node;
        }
        for &c in self.children(n) {
            if ev.state(c) != State::Up {
                node.children.push(self.why_node(ev, c, shown));
            }
        }
        node
    }
}

impl WhyNode {
    /// Render as an indented tree for terminals.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, "", "");
        out
    }

    fn write_text(&self, out: &mut String, first: &str, rest: &str) {
        let mark = if self.failed_itself {
            "  <- failed"
        } else {
            ""
        };
        let detail = if self.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.detail)
        };
        let again = if self.repeated { " [see above]" } else { "" };
        let _ = writeln!(
            out,
            "{first}{} [{}] {}{detail}{mark}{again}",
            self.id,
            self.kind,
            self.state.as_str().to_uppercase()
        );
        let n = self.children.len();
        for (i, c) in self.children.iter().enumerate() {
            let last = i + 1 == n;
            let (f, r) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            c.write_text(out, &format!("{rest}{f}"), &format!("{rest}{r}"));
        }
    }

    /// The failed components (leaves of the explanation), deduplicated, in tree order.
    pub fn failed_components(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_failed(&mut out);
        out
    }

    fn collect_failed(&self, out: &mut Vec<String>) {
        if self.failed_itself && !out.contains(&self.id) {
            out.push(self.id.clone());
        }
        for c in &self.children {
            c.collect_failed(out);
        }
    }
}
