//! Incremental evaluation.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use std::ops::Deref;

use crate::{CompId, DependencyGraph, NodeId, State};

/// Anything that dereferences to a graph: `&DependencyGraph` for one-shot what-ifs,
/// `Arc<DependencyGraph>` for a long-lived evaluation owned by the engine.
pub trait GraphRef: Deref<Target = DependencyGraph> {}
impl<T: Deref<Target = DependencyGraph>> GraphRef for T {}

/// A gate whose state changed during [`Evaluation::settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The gate.
    pub node: NodeId,
    /// Its state before the settle.
    pub from: State,
    /// Its state after the settle; never equal to `from`.
    pub to: State,
}

/// States of every gate for one assignment of component states.
///
/// Starts with everything up. All arrays are zero-initialised (zero = up, no failed children),
/// so a fresh evaluation of a million-gate graph costs no more than the pages it touches.
#[derive(Debug, Clone)]
pub struct Evaluation<G: GraphRef> {
    g: G,
    /// Own state per component.
    own: Vec<u8>,
    /// State per gate.
    state: Vec<u8>,
    /// Per gate: number of children that are degraded, down, unknown. Up = n - the rest.
    counts: Vec<[u32; 3]>,
    dirty: BinaryHeap<Reverse<NodeId>>,
    queued: Vec<bool>,
}

impl<G: GraphRef> Evaluation<G> {
    /// An evaluation of `g` with every component and gate up.
    pub fn new(g: G) -> Self {
        let (comps, nodes) = (g.canonical.len(), g.nodes.len());
        Evaluation {
            g,
            own: vec![0; comps],
            state: vec![0; nodes],
            counts: vec![[0; 3]; nodes],
            dirty: BinaryHeap::new(),
            queued: vec![false; nodes],
        }
    }

    /// The graph it evaluates.
    pub fn graph(&self) -> &DependencyGraph {
        &self.g
    }

    /// Set a component's own state (what its pollers say about *it*, not its dependencies).
    /// Takes effect at the next [`settle`](Self::settle).
    pub fn set_own(&mut self, c: CompId, s: State) {
        let slot = &mut self.own[c.0 as usize];
        if *slot == s as u8 {
            return;
        }
        *slot = s as u8;
        let g = &*self.g;
        for &n in g.carriers(c) {
            if !self.queued[n as usize] {
                self.queued[n as usize] = true;
                self.dirty.push(Reverse(n));
            }
        }
    }

    /// A component's own state as last set (pending changes included, before a settle).
    pub fn own(&self, c: CompId) -> State {
        State::from_u8(self.own[c.0 as usize])
    }

    /// The state of a gate as of the last settle.
    pub fn state(&self, n: NodeId) -> State {
        State::from_u8(self.state[n as usize])
    }

    /// The state of a component (its canonical gate).
    pub fn component(&self, c: CompId) -> State {
        self.state(self.g.canonical(c))
    }

    /// Children of `n` per state: `[up, degraded, down, unknown]`.
    pub fn child_counts(&self, n: NodeId) -> [u32; 4] {
        let [d, x, u] = self.counts[n as usize];
        let total = self.g.children(n).len() as u32;
        [total - d - x - u, d, x, u]
    }

    /// The state of `n`'s dependencies alone (its children), ignoring its own state. A failed
    /// component whose dependencies are available is a root cause; otherwise a symptom.
    pub fn dependencies_state(&self, n: NodeId) -> State {
        let [up, degraded, _down, unknown] = self.child_counts(n);
        let k = self.g.nodes[n as usize].k;
        let total = self.g.children(n).len() as u32;
        let available = up + degraded;
        if available >= k {
            if up == total {
                State::Up
            } else {
                State::Degraded
            }
        } else if available + unknown >= k {
            State::Unknown
        } else {
            State::Down
        }
    }

    fn compute(&self, n: NodeId) -> State {
        let inner = self.dependencies_state(n);
        let own = match self.g.nodes[n as usize].owner {
            Some(c) => State::from_u8(self.own[c.0 as usize]),
            None => State::Up,
        };
        combine_and(own, inner)
    }

    /// Propagate pending changes upwards, children before parents, each gate once. Returns the
    /// gates whose state changed, in topological order.
    pub fn settle(&mut self) -> Vec<Change> {
        let mut changes = Vec::new();
        while let Some(Reverse(n)) = self.dirty.pop() {
            self.queued[n as usize] = false;
            let old = self.state(n);
            let new = self.compute(n);
            if old == new {
                continue;
            }
            self.state[n as usize] = new as u8;
            changes.push(Change {
                node: n,
                from: old,
                to: new,
            });
            let g = &*self.g;
            for &p in g.parents(n) {
                let c = &mut self.counts[p as usize];
                if old != State::Up {
                    c[old as usize - 1] -= 1;
                }
                if new != State::Up {
                    c[new as usize - 1] += 1;
                }
                if !self.queued[p as usize] {
                    self.queued[p as usize] = true;
                    self.dirty.push(Reverse(p));
                }
            }
        }
        changes
    }
}

/// AND of two states: down dominates, then unknown, then degraded.
pub(crate) fn combine_and(a: State, b: State) -> State {
    use State::*;
    match (a, b) {
        (Down, _) | (_, Down) => Down,
        (Unknown, _) | (_, Unknown) => Unknown,
        (Degraded, _) | (_, Degraded) => Degraded,
        _ => Up,
    }
}
