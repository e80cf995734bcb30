//! The live why-tree, with what only the engine knows: under an active-standby group, the
//! member that took over, its role and its recent evidence (the first suspect when the
//! failover did not work), even when that member is up and the graph would not show it.

use faultline_graph::WhyNode;
use faultline_observe::HaRole;
use faultline_observe::time::format_utc;

use crate::Engine;
use crate::ids::{Comp, TypedComponents};

/// Evidence lines shown for a member that took over.
const TAKEOVER_EVIDENCE: usize = 3;

impl Engine {
    /// Add (or annotate) the active member under every active-standby group node of `tree`.
    pub(crate) fn show_takeovers(&self, node: &mut WhyNode) {
        for child in &mut node.children {
            self.show_takeovers(child);
        }
        if node.kind != "group" || node.repeated {
            return;
        }
        let Some(Comp::Group(g)) = self.graph.lookup(&node.id).ok().map(|c| self.graph.comp(c))
        else {
            return;
        };
        if !self.layout.ha_groups.contains(&g) {
            return;
        }
        let t = self.graph.topology();
        for m in self
            .member_roles(g)
            .into_iter()
            .filter(|m| m.role == HaRole::Active)
        {
            let comp = m.device.comp(&self.graph);
            let id = t.devices[m.device.0].id.clone();
            let signals = &self.state.signals.devices[m.device];
            let mut notes = vec![match signals.role_change {
                Some(rc) if rc.value.to == HaRole::Active => {
                    format!("active: took over at {}", format_utc(rc.at))
                }
                _ => "active".to_string(),
            }];
            if let Some(false) = signals.ha.and_then(|h| h.value.in_sync) {
                notes.push("configuration not in sync with its peer".into());
            }
            let recent: Vec<_> = self.state.evidence.recent(comp).collect();
            let skip = recent.len().saturating_sub(TAKEOVER_EVIDENCE);
            notes.extend(
                recent[skip..]
                    .iter()
                    .map(|e| format!("{}: {}", format_utc(e.at), e.text)),
            );
            let detail = notes.join("; ");
            match node.children.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.detail = if c.detail.is_empty() {
                        detail
                    } else {
                        format!("{}; {detail}", c.detail)
                    };
                }
                None => node.children.push(WhyNode {
                    id,
                    kind: "device".into(),
                    state: self.eval.component(comp),
                    path: None,
                    detail,
                    failed_itself: false,
                    repeated: false,
                    children: Vec::new(),
                }),
            }
        }
    }
}
