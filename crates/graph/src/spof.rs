//! Single points of failure by kill sets.
//!
//! kill(n) = the devices and links whose failure *alone* makes gate n down. For a gate with
//! owner o, k needed of n children: kill(n) = {o if o is a device or link} ∪ {c : c is in the
//! kill sets of at least n-k+1 children}. This is exact for single failures (states are
//! monotone), computed bottom-up once per gate of the service's closure: linear in the sum of
//! kill-set sizes, never one full evaluation per candidate.

use faultline_model::ComponentRef;
use rustc_hash::FxHashMap;

use crate::{CompId, DependencyGraph, NodeId};

pub(crate) fn kill_set(g: &DependencyGraph, root: NodeId) -> Vec<CompId> {
    // The closure below root, in id order = children first.
    let mut seen = vec![false; root as usize + 1];
    let mut stack = vec![root];
    seen[root as usize] = true;
    let mut closure = Vec::new();
    while let Some(n) = stack.pop() {
        closure.push(n);
        for &c in g.children(n) {
            if !seen[c as usize] {
                seen[c as usize] = true;
                stack.push(c);
            }
        }
    }
    closure.sort_unstable();
    let mut kill: FxHashMap<NodeId, Vec<u32>> =
        FxHashMap::with_capacity_and_hasher(closure.len(), Default::default());
    let mut counter: FxHashMap<u32, u32> = FxHashMap::default();
    for &n in &closure {
        let children = g.children(n);
        let k = g.needed(n) as usize;
        let mut set: Vec<u32> = Vec::new();
        if k > 0 && !children.is_empty() {
            let threshold = children.len() - k + 1;
            if threshold == 1 {
                for c in children {
                    if let Some(s) = kill.get(c) {
                        set.extend_from_slice(s);
                    }
                }
                set.sort_unstable();
                set.dedup();
            } else {
                counter.clear();
                for c in children {
                    if let Some(s) = kill.get(c) {
                        for &x in s {
                            *counter.entry(x).or_default() += 1;
                        }
                    }
                }
                set.extend(
                    counter
                        .iter()
                        .filter(|(_, n)| **n as usize >= threshold)
                        .map(|(x, _)| *x),
                );
                set.sort_unstable();
            }
        }
        if let Some(o) = g.owner(n)
            && matches!(
                g.comp_ref(o),
                ComponentRef::Device(_) | ComponentRef::Link(_)
            )
            && let Err(pos) = set.binary_search(&o.0)
        {
            set.insert(pos, o.0);
        }
        kill.insert(n, set);
    }
    kill.remove(&root)
        .unwrap_or_default()
        .into_iter()
        .map(CompId)
        .collect()
}
