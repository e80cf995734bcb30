//! Typed indices into the topology, vectors that accept only their own index, and values
//! stamped with the instant they were observed.
//!
//! The topology numbers devices, links, groups and services separately (and the graph numbers
//! all of them together as [`CompId`]). A bare `usize` says none of that; these newtypes do, so
//! a device index cannot index the per-link state by mistake.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use faultline_graph::{CompId, DependencyGraph};
use faultline_model::ComponentRef;
use faultline_observe::UnixMillis;
use serde::{Deserialize, Serialize};

/// A dense index usable as the key of an [`IdxVec`].
pub(crate) trait Idx: Copy {
    /// The index for position `i`.
    fn from_index(i: usize) -> Self;
    /// The position this index stands for.
    fn index(self) -> usize;
}

impl Idx for CompId {
    fn from_index(i: usize) -> Self {
        // The graph numbers components with u32 (it refuses topologies larger than that).
        CompId(i as u32)
    }
    fn index(self) -> usize {
        self.0 as usize
    }
}

macro_rules! topology_index {
    ($(#[$doc:meta])* $name:ident => $variant:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub(crate) struct $name(pub usize);

        impl Idx for $name {
            fn from_index(i: usize) -> Self {
                $name(i)
            }
            fn index(self) -> usize {
                self.0
            }
        }

        impl $name {
            /// The graph's id of this component.
            pub(crate) fn comp(self, graph: &DependencyGraph) -> CompId {
                graph.comp_id(ComponentRef::$variant(self.0))
            }
        }
    };
}

topology_index!(
    /// A device, by its position in the topology's device list.
    DeviceIdx => Device
);
topology_index!(
    /// A link, by its position in the topology's link list.
    LinkIdx => Link
);
topology_index!(
    /// A group, by its position in the topology's group list.
    GroupIdx => Group
);
topology_index!(
    /// A service, by its position in the topology's service list.
    ServiceIdx => Service
);

/// A component of the topology with its typed index: [`ComponentRef`] without bare integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comp {
    Device(DeviceIdx),
    Link(LinkIdx),
    Group(GroupIdx),
    Service(ServiceIdx),
}

impl From<ComponentRef> for Comp {
    fn from(c: ComponentRef) -> Self {
        match c {
            ComponentRef::Device(i) => Comp::Device(DeviceIdx(i)),
            ComponentRef::Link(i) => Comp::Link(LinkIdx(i)),
            ComponentRef::Group(i) => Comp::Group(GroupIdx(i)),
            ComponentRef::Service(i) => Comp::Service(ServiceIdx(i)),
        }
    }
}

/// Typed views of the graph's component numbering.
pub(crate) trait TypedComponents {
    /// Which topology component `c` is.
    fn comp(&self, c: CompId) -> Comp;
    /// Resolve a topology name (id, link end or link id) to a typed component.
    fn resolve_comp(&self, name: &str) -> Option<Comp>;
}

impl TypedComponents for DependencyGraph {
    fn comp(&self, c: CompId) -> Comp {
        self.comp_ref(c).into()
    }
    fn resolve_comp(&self, name: &str) -> Option<Comp> {
        self.topology().resolve(name).map(Comp::from)
    }
}

/// A vector indexed by one kind of index only (`IdxVec<DeviceIdx, T>` takes no `LinkIdx`).
/// Serialized as a plain sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct IdxVec<I, T> {
    items: Vec<T>,
    #[serde(skip)]
    index: PhantomData<fn(I)>,
}

impl<I: Idx, T> IdxVec<I, T> {
    /// `n` items made by `f` from their index.
    pub(crate) fn from_fn(n: usize, mut f: impl FnMut(I) -> T) -> Self {
        IdxVec {
            items: (0..n).map(|i| f(I::from_index(i))).collect(),
            index: PhantomData,
        }
    }

    /// `n` copies of `value`.
    pub(crate) fn filled(n: usize, value: T) -> Self
    where
        T: Clone,
    {
        IdxVec {
            items: vec![value; n],
            index: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// Items with their index, in index order.
    pub(crate) fn iter_enumerated(&self) -> impl Iterator<Item = (I, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, t)| (I::from_index(i), t))
    }
}

impl<I: Idx, T> Index<I> for IdxVec<I, T> {
    type Output = T;
    fn index(&self, i: I) -> &T {
        &self.items[i.index()]
    }
}

impl<I: Idx, T> IndexMut<I> for IdxVec<I, T> {
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.items[i.index()]
    }
}

/// A value and the instant it was observed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Timed<T> {
    pub value: T,
    pub at: UnixMillis,
}

impl<T> Timed<T> {
    pub(crate) fn new(value: T, at: UnixMillis) -> Self {
        Timed { value, at }
    }
}
