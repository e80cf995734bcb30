//! Topology ids from names the network (or another tool) chose: the rule `faultline discover`
//! and `faultline import` apply, so that a foreign name always becomes a valid id.
//!
//! The rule: every character other than a letter, a digit, `-`, `_`, `.` or `/` becomes `-`;
//! runs of `-` collapse into one (`--` is reserved for link names); leading and trailing `-`
//! go; an empty result becomes `device`. A name taken already gets `-2`, `-3`, ... appended.

use rustc_hash::FxHashSet;

/// `name` made into a valid id (without the uniqueness suffix).
pub fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        let c = if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/') {
            c
        } else {
            '-'
        };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "device".to_owned()
    } else {
        out.to_owned()
    }
}

/// An interface name usable in a link end: `--` (the link separator) collapsed to `-`,
/// surrounding blanks trimmed; empty becomes `?`.
pub fn interface(name: &str) -> String {
    let mut s = name.trim().to_owned();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    if s.is_empty() { "?".to_owned() } else { s }
}

/// Hands out unique ids.
#[derive(Debug, Default)]
pub struct IdAllocator {
    taken: FxHashSet<String>,
}

impl IdAllocator {
    /// Ids that exist already (a merged topology's).
    pub fn with_taken(taken: impl IntoIterator<Item = String>) -> Self {
        IdAllocator {
            taken: taken.into_iter().collect(),
        }
    }

    /// A fresh id for `name` by the module's rule.
    pub fn allocate(&mut self, name: &str) -> String {
        self.allocate_avoiding(name, |_| false)
    }

    /// A fresh id for `name` that is neither taken here nor `elsewhere` (ids the caller holds,
    /// so that they need not be copied in first).
    pub fn allocate_avoiding(&mut self, name: &str, elsewhere: impl Fn(&str) -> bool) -> String {
        let base = sanitize(name);
        let mut id = base.clone();
        let mut n = 2u32;
        while elsewhere(&id) || self.taken.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.taken.insert(id.clone());
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_maps_forbidden_characters_and_never_makes_a_link_separator() {
        assert_eq!(sanitize("core-sw1.example.net"), "core-sw1.example.net");
        assert_eq!(sanitize("Web Server (DMZ)"), "Web-Server-DMZ");
        assert_eq!(sanitize("a -- b"), "a-b");
        assert_eq!(sanitize("   "), "device");
        assert_eq!(sanitize("rtr:1"), "rtr-1");
        assert_eq!(interface("Gi1/0/1 -- uplink"), "Gi1/0/1 - uplink");
    }

    #[test]
    fn allocator_makes_ids_unique() {
        let mut a = IdAllocator::with_taken(["sw".to_owned()]);
        assert_eq!(a.allocate("sw"), "sw-2");
        assert_eq!(a.allocate("sw"), "sw-3");
        assert_eq!(a.allocate("x y"), "x-y");
        let held = ["x-y-2", "z"];
        assert_eq!(a.allocate_avoiding("x y", |id| held.contains(&id)), "x-y-3");
        assert_eq!(a.allocate_avoiding("z", |id| held.contains(&id)), "z-2");
        assert_eq!(
            a.allocate("z"),
            "z",
            "ids held elsewhere are not taken here"
        );
    }
}
