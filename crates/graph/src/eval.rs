//! Incremental evaluation.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::{CompId, DependencyGraph, NodeId, State};

/// A gate whose state changed during [`Evaluation::settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub node: NodeId,
    pub from: State,
    pub to: State,
}

/// States of every gate for one assignment of component states.
///
/// Starts with everything up. All arrays are zero-initialised (zero = up, no failed children),
/// so a fresh evaluation of a million-gate graph costs no more than the pages it touches.
#[derive(Debug, Clone)]
pub struct Evaluation<'g> {
    g: &'g DependencyGraph,
    /// Own state per component.
    own: Vec<u8>,
    /// State per gate.
    state: Vec<u8>,
    /// Per gate: number of children that are degraded, down, unknown. Up = n - the rest.
    counts: Vec<[u32; 3]>,
    dirty: BinaryHeap<Reverse<NodeId>>,
    queued: Vec<bool>,
}

impl<'g> Evaluation<'g> {
    pub fn new(g: &'g DependencyGraph) -> Self {
        Evaluation {
            g,
            own: vec![0; g.canonical.len()],
            state: vec![0; g.nodes.len()],
            counts: vec![[0; 3]; g.nodes.len()],
            dirty: BinaryHeap::new(),
            queued: vec![false; g.nodes.len()],
        }
    }

    pub fn graph(&self) -> &'g DependencyGraph {
        self.g
    }

    /// Set a component's own state (what its pollers say about *it*, not its dependencies).
    /// Takes effect at the next [`settle`](Self::settle).
    pub fn set_own(&mut self, c: CompId, s: State) {
        let slot = &mut self.own[c.0 as usize];
        if *slot == s as u8 {
            return;
        }
        *slot = s as u8;
        for &n in self.g.carriers(c) {
            self.mark(n);
        }
    }

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

    fn mark(&mut self, n: NodeId) {
        if !self.queued[n as usize] {
            self.queued[n as usize] = true;
            self.dirty.push(Reverse(n));
        }
    }

    fn compute(&self, n: NodeId) -> State {
        let [up, degraded, _down, unknown] = self.child_counts(n);
        let k = self.g.nodes[n as usize].k;
        let total = self.g.children(n).len() as u32;
        let available = up + degraded;
        let inner = if available >= k {
            if up == total {
                State::Up
            } else {
                State::Degraded
            }
        } else if available + unknown >= k {
            State::Unknown
        } else {
            State::Down
        };
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
            for &p in self.g.parents(n) {
                let c = &mut self.counts[p as usize];
                if old != State::Up {
                    c[old as usize - 1] -= 1;
                }
                if new != State::Up {
                    c[new as usize - 1] += 1;
                }
                self.mark(p);
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
