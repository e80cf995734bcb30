//! The id index: a name to the device, group or service declaring it, without a second copy
//! of the names.
//!
//! A map from `String` would hold every id twice (once in the model, once as its key) and
//! hash it with SipHash. This table stores only positions; the names stay where they are
//! declared and the caller passes a function that reads them (`key`), so the same table serves
//! validation (names still in the parsed file) and the model (the same names, moved in, in the
//! same order).

use std::hash::BuildHasher;

use crate::ComponentRef;

const EMPTY: u32 = u32::MAX;

/// An open-addressing hash table of `u32` payloads whose keys live elsewhere: the caller
/// gives each lookup the key's hash and a test of whether a payload stands for that key.
/// Linear probing, at most half full (sized once for the number of payloads it will hold).
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    slots: Vec<u32>,
}

impl Slots {
    /// A table for up to `n` payloads (each below `u32::MAX`).
    pub(crate) fn new(n: usize) -> Slots {
        Slots {
            slots: vec![EMPTY; (n * 2).max(8).next_power_of_two()],
        }
    }

    /// The slot holding a payload `is_key` accepts, or the empty slot where it would go.
    fn probe(&self, hash: u64, is_key: impl Fn(u32) -> bool) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let p = self.slots[i];
            if p == EMPTY || is_key(p) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The payload stored under the key.
    pub(crate) fn get(&self, hash: u64, is_key: impl Fn(u32) -> bool) -> Option<u32> {
        match self.slots[self.probe(hash, is_key)] {
            EMPTY => None,
            p => Some(p),
        }
    }

    /// Store `payload` under the key unless it is taken: then the payload that has it.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        payload: u32,
        is_key: impl Fn(u32) -> bool,
    ) -> Option<u32> {
        let i = self.probe(hash, is_key);
        match self.slots[i] {
            EMPTY => {
                self.slots[i] = payload;
                None
            }
            p => Some(p),
        }
    }
}

/// The hash the tables use.
pub(crate) fn hash<T: std::hash::Hash>(key: T) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// Ids to components: a payload is a dense position, devices, then groups, then services.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdIndex {
    slots: Slots,
    devices: u32,
    groups: u32,
}

impl IdIndex {
    /// An empty index for `devices + groups + services` ids.
    pub(crate) fn new(devices: usize, groups: usize, services: usize) -> IdIndex {
        IdIndex {
            slots: Slots::new(devices + groups + services),
            devices: devices as u32,
            groups: groups as u32,
        }
    }

    fn decode(&self, p: u32) -> ComponentRef {
        decode(self.devices, self.groups, p)
    }

    fn encode(&self, c: ComponentRef) -> u32 {
        match c {
            ComponentRef::Device(i) => i as u32,
            ComponentRef::Group(i) => self.devices + i as u32,
            ComponentRef::Service(i) => self.devices + self.groups + i as u32,
            // Links are not indexed (see `Topology::resolve`); never passed in.
            ComponentRef::Link(_) => EMPTY,
        }
    }

    /// The component declaring `name`; `key` gives the id of a component.
    pub(crate) fn get<'k>(
        &self,
        name: &str,
        key: impl Fn(ComponentRef) -> &'k str,
    ) -> Option<ComponentRef> {
        let p = self
            .slots
            .get(hash(name), |p| key(self.decode(p)) == name)?;
        Some(self.decode(p))
    }

    /// Declare `c` under `name` unless the name is taken: then the component that has it.
    pub(crate) fn insert<'k>(
        &mut self,
        name: &str,
        c: ComponentRef,
        key: impl Fn(ComponentRef) -> &'k str,
    ) -> Option<ComponentRef> {
        let (payload, devices, groups) = (self.encode(c), self.devices, self.groups);
        let is_key = |p| key(decode(devices, groups, p)) == name;
        let p = self.slots.insert(hash(name), payload, is_key)?;
        Some(self.decode(p))
    }
}

/// The component at dense position `p` of `devices` devices, then `groups` groups, then
/// services.
fn decode(devices: u32, groups: u32, p: u32) -> ComponentRef {
    if p < devices {
        ComponentRef::Device(p as usize)
    } else if p < devices + groups {
        ComponentRef::Group((p - devices) as usize)
    } else {
        ComponentRef::Service((p - devices - groups) as usize)
    }
}
