//! A redacting wrapper for credentials.

use std::fmt;

/// A credential (community string, v3 pass phrase) that must never be printed.
///
/// `Debug` and `Display` both render `<redacted>`, so a secret can sit inside configs and errors
/// that get logged without leaking. The only way to read it is [`Secret::expose`], which makes
/// every use site greppable.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The cleartext value. Only for handing to the protocol layer.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(v: &str) -> Self {
        Secret::new(v)
    }
}

impl From<String> for Secret {
    fn from(v: String) -> Self {
        Secret(v)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Compare two byte strings in time independent of where they differ, so that a sender probing
/// communities cannot learn a prefix from response timing (we never answer a wrong community,
/// but the comparison cost still shows up under load).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug_and_display() {
        let s = Secret::new("hunter2-community");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-community");
    }

    #[test]
    fn constant_time_compare_matches_eq() {
        assert!(ct_eq(b"public", b"public"));
        assert!(!ct_eq(b"public", b"publiX"));
        assert!(!ct_eq(b"public", b"publi"));
        assert!(ct_eq(b"", b""));
    }
}
