//! `[credentials.NAME]`: SNMP credential sets as written, their secrets still unresolved.
//!
//! Each secret follows the workspace's one rule (inline xor `*_env` xor `*_file`, see
//! [`SecretRef`]) and is read only by [`CredentialSet::resolve`], which the collector's
//! construction calls (for `run`, `run --check` and a reload alike): a variable that is not set
//! is reported as exactly that, with the set and the key, never as a parse error.
//!
//! ```toml
//! [credentials.firewalls]
//! version = "v3"
//! user = "monitor"
//! auth = { proto = "sha256", pass_env = "FL_AUTH" }
//! privacy = { proto = "aes", pass_file = "/run/credentials/fl-priv" }
//! ```

use std::path::PathBuf;

use faultline_secret::{Secret, SecretError, SecretRef};
use faultline_snmp::{AuthProto, Credentials, PrivProto};
use serde::Deserialize;

/// One SNMP credential set as configured. Secrets are references, read by
/// [`CredentialSet::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawCredentialSet")]
pub enum CredentialSet {
    V1 {
        community: SecretRef,
    },
    V2c {
        community: SecretRef,
    },
    V3 {
        user: String,
        auth: Option<(AuthProto, SecretRef)>,
        privacy: Option<(PrivProto, SecretRef)>,
        context: String,
    },
}

impl CredentialSet {
    /// A v2c set with an inline community (the demo's `public`).
    pub fn v2c(community: impl Into<String>) -> Self {
        CredentialSet::V2c {
            community: SecretRef::Inline(Secret::new(community)),
        }
    }

    /// "v1", "v2c" or "v3", for reports.
    pub fn version_name(&self) -> &'static str {
        match self {
            CredentialSet::V1 { .. } => "v1",
            CredentialSet::V2c { .. } => "v2c",
            CredentialSet::V3 { .. } => "v3",
        }
    }

    /// Read every secret now. All problems are returned at once, each naming its key
    /// (`community_env: environment variable FL_X is not set`), never a value.
    pub fn resolve(&self) -> Result<Credentials, Vec<String>> {
        let mut problems = Vec::new();
        let mut read = |key: &str, r: &SecretRef| match r.resolve() {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!("{}: {e}", key_of(key, r, &e)));
                None
            }
        };
        let credentials = match self {
            CredentialSet::V1 { community } => {
                read("community", community).map(|community| Credentials::V1 { community })
            }
            CredentialSet::V2c { community } => {
                read("community", community).map(|community| Credentials::V2c { community })
            }
            CredentialSet::V3 {
                user,
                auth,
                privacy,
                context,
            } => {
                let auth = auth
                    .as_ref()
                    .map(|(p, r)| read("auth.pass", r).map(|s| (*p, s)));
                let privacy = privacy
                    .as_ref()
                    .map(|(p, r)| read("privacy.pass", r).map(|s| (*p, s)));
                match (auth, privacy) {
                    (Some(None), _) | (_, Some(None)) => None,
                    (auth, privacy) => Some(Credentials::V3 {
                        user: user.clone(),
                        auth: auth.flatten(),
                        privacy: privacy.flatten(),
                        context: context.clone(),
                    }),
                }
            }
        };
        match credentials {
            Some(c) if problems.is_empty() => Ok(c),
            _ => Err(problems),
        }
    }
}

/// The key a resolution error belongs to: `community_env` for a variable, `community_file` for
/// a file.
fn key_of(key: &str, r: &SecretRef, e: &SecretError) -> String {
    match (r, e) {
        (SecretRef::Env(_), SecretError::Env(_)) => format!("{key}_env"),
        (SecretRef::File(_), SecretError::File { .. }) => format!("{key}_file"),
        _ => key.to_string(),
    }
}

/// The on-disk shape: each secret as a value, `<name>_env` or `<name>_file`.
#[derive(Deserialize)]
#[serde(tag = "version", rename_all = "lowercase", deny_unknown_fields)]
enum RawCredentialSet {
    V1 {
        community: Option<Secret>,
        community_env: Option<String>,
        community_file: Option<PathBuf>,
    },
    V2c {
        community: Option<Secret>,
        community_env: Option<String>,
        community_file: Option<PathBuf>,
    },
    V3 {
        user: String,
        auth: Option<RawPass<AuthProto>>,
        privacy: Option<RawPass<PrivProto>>,
        #[serde(default)]
        context: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPass<P> {
    proto: P,
    pass: Option<Secret>,
    pass_env: Option<String>,
    pass_file: Option<PathBuf>,
}

impl<P> RawPass<P> {
    fn into_ref(self) -> Result<(P, SecretRef), SecretError> {
        let r = SecretRef::required("pass", self.pass, self.pass_env, self.pass_file)?;
        Ok((self.proto, r))
    }
}

impl TryFrom<RawCredentialSet> for CredentialSet {
    type Error = SecretError;

    fn try_from(raw: RawCredentialSet) -> Result<Self, SecretError> {
        Ok(match raw {
            RawCredentialSet::V1 {
                community,
                community_env,
                community_file,
            } => CredentialSet::V1 {
                community: SecretRef::required(
                    "community",
                    community,
                    community_env,
                    community_file,
                )?,
            },
            RawCredentialSet::V2c {
                community,
                community_env,
                community_file,
            } => CredentialSet::V2c {
                community: SecretRef::required(
                    "community",
                    community,
                    community_env,
                    community_file,
                )?,
            },
            RawCredentialSet::V3 {
                user,
                auth,
                privacy,
                context,
            } => CredentialSet::V3 {
                user,
                auth: auth.map(RawPass::into_ref).transpose()?,
                privacy: privacy.map(RawPass::into_ref).transpose()?,
                context,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CredentialSet, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_missing_variable_parses_and_is_reported_when_resolved() {
        let set = parse(
            "version = \"v3\"\nuser = \"u\"\n\
             auth = { proto = \"sha256\", pass_env = \"FL_SURELY_UNSET_AUTH_XYZ\" }\n\
             privacy = { proto = \"aes\", pass_env = \"FL_SURELY_UNSET_PRIV_XYZ\" }\n",
        )
        .expect("parsing never reads the environment");
        let problems = set.resolve().unwrap_err();
        assert_eq!(
            problems,
            [
                "auth.pass_env: environment variable FL_SURELY_UNSET_AUTH_XYZ is not set",
                "privacy.pass_env: environment variable FL_SURELY_UNSET_PRIV_XYZ is not set",
            ]
        );
    }

    #[test]
    fn inline_and_file_secrets_resolve() {
        let set = parse("version = \"v2c\"\ncommunity = \"pub\"\n").unwrap();
        assert_eq!(set.resolve().unwrap(), Credentials::v2c("pub"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("community");
        std::fs::write(&file, "from-file\n").unwrap();
        let set = parse(&format!(
            "version = \"v1\"\ncommunity_file = \"{}\"\n",
            file.display()
        ))
        .unwrap();
        assert_eq!(
            set.resolve().unwrap(),
            Credentials::V1 {
                community: Secret::new("from-file")
            }
        );
    }

    #[test]
    fn two_sources_or_none_are_parse_errors() {
        let err = parse("version = \"v2c\"\ncommunity = \"a\"\ncommunity_env = \"B\"\n");
        assert!(err.unwrap_err().contains("give only one of"));
        let err = parse("version = \"v2c\"\n");
        assert!(err.unwrap_err().contains("missing `community`"));
    }
}
