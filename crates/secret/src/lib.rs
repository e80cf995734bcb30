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
use std::path::PathBuf;

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

/// Where a configured secret comes from: exactly one of an inline value, an environment
/// variable (`<name>_env`) or a file (`<name>_file`, for systemd `LoadCredential` and container
/// secrets). Kept unresolved in parsed configuration so that a missing variable is reported by
/// the code that builds the running configuration (`run`, `run --check`, a reload), with the
/// variable's name, and never as a parse error.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The value itself, written in the configuration file.
    Inline(Secret),
    /// The name of an environment variable holding the value.
    Env(String),
    /// A file whose contents (one trailing newline removed) are the value.
    File(PathBuf),
}

/// A secret could not be read, or was configured more than one way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(transparent)]
    Env(#[from] SecretEnvError),
    #[error("secret file {path}: {problem}")]
    File { path: PathBuf, problem: String },
    #[error("give only one of `{what}`, `{what}_env` and `{what}_file`")]
    Ambiguous { what: String },
    #[error("missing `{what}` (or `{what}_env`, `{what}_file`)")]
    Missing { what: String },
}

impl SecretRef {
    /// The one rule for secrets in configuration: inline xor `*_env` xor `*_file`. `Ok(None)`
    /// when none is given (the caller decides whether that is allowed).
    pub fn from_parts(
        what: &str,
        inline: Option<Secret>,
        env: Option<String>,
        file: Option<PathBuf>,
    ) -> Result<Option<SecretRef>, SecretError> {
        match (inline, env, file) {
            (None, None, None) => Ok(None),
            (Some(s), None, None) => Ok(Some(SecretRef::Inline(s))),
            (None, Some(v), None) => Ok(Some(SecretRef::Env(v))),
            (None, None, Some(p)) => Ok(Some(SecretRef::File(p))),
            _ => Err(SecretError::Ambiguous {
                what: what.to_owned(),
            }),
        }
    }

    /// Like [`SecretRef::from_parts`], but one of the three is required.
    pub fn required(
        what: &str,
        inline: Option<Secret>,
        env: Option<String>,
        file: Option<PathBuf>,
    ) -> Result<SecretRef, SecretError> {
        Self::from_parts(what, inline, env, file)?.ok_or_else(|| SecretError::Missing {
            what: what.to_owned(),
        })
    }

    /// Read the value now. Errors name the variable or file, never a value.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        match self {
            SecretRef::Inline(s) => Ok(s.clone()),
            SecretRef::Env(var) => Ok(Secret::from_env(var)?),
            SecretRef::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| SecretError::File {
                    path: path.clone(),
                    problem: e.to_string(),
                })?;
                let value = text.strip_suffix('\n').unwrap_or(&text);
                let value = value.strip_suffix('\r').unwrap_or(value);
                if value.is_empty() {
                    return Err(SecretError::File {
                        path: path.clone(),
                        problem: "is empty".to_owned(),
                    });
                }
                Ok(Secret::new(value))
            }
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Inline(_) => f.write_str("SecretRef::Inline(<redacted>)"),
            SecretRef::Env(v) => write!(f, "SecretRef::Env({v})"),
            SecretRef::File(p) => write!(f, "SecretRef::File({})", p.display()),
        }
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

    #[test]
    fn one_source_only_and_files_trimmed() {
        let both = SecretRef::from_parts("key", Some(Secret::new("a")), Some("B".into()), None);
        assert_eq!(
            both.unwrap_err().to_string(),
            "give only one of `key`, `key_env` and `key_file`"
        );
        assert_eq!(SecretRef::from_parts("key", None, None, None), Ok(None));
        let dir = std::env::temp_dir().join(format!("fl-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "s3cret\n").unwrap();
        let r = SecretRef::required("key", None, None, Some(path.clone())).unwrap();
        assert_eq!(r.resolve().unwrap().expose(), "s3cret");
        assert!(!format!("{r:?}").contains("s3cret"));
        std::fs::write(&path, "").unwrap();
        assert!(r.resolve().unwrap_err().to_string().contains("is empty"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
