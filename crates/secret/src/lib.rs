//! One type for every credential faultline handles — SNMP communities, SNMPv3 pass phrases,
//! pager routing keys, webhook secrets — so that the rule "secrets never appear in logs, API
//! output or pages" is enforced in one place.
//!
//! `Debug`, `Display` and `Serialize` all render `<redacted>`; the only way to read the value is
//! [`Secret::expose`], which keeps every use site greppable. Deserialization is transparent (a
//! plain string), and [`Secret::from_env`] reads one from the environment with an error that
//! names the variable, never a value.
//!
//! ```
//! use faultline_secret::Secret;
//!
//! let s = Secret::new("public");
//! assert_eq!(format!("{s} {s:?}"), "<redacted> Secret(<redacted>)");
//! assert_eq!(serde_json::to_string(&s).unwrap(), "\"<redacted>\"");
//! assert_eq!(s.expose(), "public");
//! assert!(s.ct_eq(b"public") && !s.ct_eq(b"publiX"));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// Reading a secret from the environment failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretEnvError {
    #[error("environment variable {var} is not set")]
    Missing { var: String },
    #[error("environment variable {var} is empty")]
    Empty { var: String },
}

/// A credential that must never be printed.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The cleartext value: call only where it goes onto the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Read a secret from an environment variable.
    pub fn from_env(var: &str) -> Result<Self, SecretEnvError> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret(v)),
            Ok(_) => Err(SecretEnvError::Empty {
                var: var.to_owned(),
            }),
            Err(_) => Err(SecretEnvError::Missing {
                var: var.to_owned(),
            }),
        }
    }

    /// Compare with `other` in time independent of where they differ, so that a sender probing
    /// communities cannot learn a prefix from response timing.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        let a = self.0.as_bytes();
        if a.len() != other.len() {
            return false;
        }
        a.iter().zip(other).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
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

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_errors_name_the_variable_only() {
        let e = Secret::from_env("FAULTLINE_SECRET_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable FAULTLINE_SECRET_TEST_SURELY_UNSET is not set"
        );
    }

    #[test]
    fn constant_time_compare() {
        let s = Secret::new("public");
        assert!(s.ct_eq(b"public"));
        assert!(!s.ct_eq(b"publi"));
        assert!(!s.ct_eq(b"Public"));
        assert!(Secret::new("").ct_eq(b""));
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        let s: Secret = serde_json::from_str("\"k3y\"").unwrap();
        assert_eq!(s.expose(), "k3y");
    }
}
