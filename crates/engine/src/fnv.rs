//! FNV-1a: the engine's one hash for values that are saved (snapshot fingerprints, the
//! thinning memory's keys). `std`'s `DefaultHasher` may change between Rust releases, and a
//! snapshot written by one build is restored by the next.

use std::hash::{Hash, Hasher};

/// FNV-1a 64-bit.
pub(crate) struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// `v` hashed with [`Fnv1a`].
pub(crate) fn hash_of(v: impl Hash) -> u64 {
    let mut h = Fnv1a::default();
    v.hash(&mut h);
    h.finish()
}
