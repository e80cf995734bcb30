//! Credentials and the redacting [`Secret`] newtype.

use serde::{Deserialize, Deserializer, Serialize};

/// A secret string (community, USM passphrase): the workspace's redacting type, so a `Target`
/// can be logged or dumped as JSON safely.
pub use faultline_secret::Secret;

/// A secret in a config file comes inline (`community = "..."`), as the name of an environment
/// variable holding it (`community_env = "FL_COMMUNITY"`) or as a file (`community_file`), so
/// that secrets can stay out of faultline.toml: the workspace's one rule,
/// [`faultline_secret::SecretRef`].
fn resolve(
    what: &str,
    inline: Option<String>,
    env: Option<String>,
    file: Option<std::path::PathBuf>,
) -> Result<Secret, String> {
    faultline_secret::SecretRef::required(what, inline.map(Secret::new), env, file)
        .and_then(|r| r.resolve())
        .map_err(|e| e.to_string())
}

/// SNMPv3 authentication protocols (USM, RFC 3414 / RFC 7860).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthProto {
    Md5,
    #[serde(alias = "sha1")]
    Sha,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl std::str::FromStr for AuthProto {
    type Err = CredentialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => AuthProto::Md5,
            "sha" | "sha1" => AuthProto::Sha,
            "sha224" => AuthProto::Sha224,
            "sha256" => AuthProto::Sha256,
            "sha384" => AuthProto::Sha384,
            "sha512" => AuthProto::Sha512,
            _ => {
                return Err(CredentialError::UnknownProtocol {
                    value: s.to_owned(),
                });
            }
        })
    }
}

impl AuthProto {
    pub(crate) fn to_snmp(self) -> async_snmp::AuthProtocol {
        use async_snmp::AuthProtocol as A;
        match self {
            AuthProto::Md5 => A::Md5,
            AuthProto::Sha => A::Sha1,
            AuthProto::Sha224 => A::Sha224,
            AuthProto::Sha256 => A::Sha256,
            AuthProto::Sha384 => A::Sha384,
            AuthProto::Sha512 => A::Sha512,
        }
    }
}

/// SNMPv3 privacy protocols. `Aes` is AES-128 (RFC 3826); `Aes192`/`Aes256` use the
/// Blumenthal key extension, which is what net-snmp calls AES-192/AES-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrivProto {
    Des,
    #[serde(alias = "aes128")]
    Aes,
    Aes192,
    Aes256,
}

impl std::str::FromStr for PrivProto {
    type Err = CredentialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().replace('-', "").as_str() {
            "des" => PrivProto::Des,
            "aes" | "aes128" => PrivProto::Aes,
            "aes192" => PrivProto::Aes192,
            "aes256" => PrivProto::Aes256,
            _ => {
                return Err(CredentialError::UnknownProtocol {
                    value: s.to_owned(),
                });
            }
        })
    }
}

impl PrivProto {
    pub(crate) fn to_snmp(self) -> async_snmp::PrivProtocol {
        use async_snmp::PrivProtocol as P;
        match self {
            PrivProto::Des => P::Des,
            PrivProto::Aes => P::Aes128,
            PrivProto::Aes192 => P::Aes192Blumenthal,
            PrivProto::Aes256 => P::Aes256Blumenthal,
        }
    }
}

/// How to authenticate to an agent. Deserializes from faultline.toml, e.g.
///
/// ```toml
/// version = "v3"
/// user = "monitor"
/// auth = { proto = "sha256", pass_env = "FL_AUTH" }
/// privacy = { proto = "aes", pass_env = "FL_PRIV" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "version", rename_all = "lowercase")]
pub enum Credentials {
    V1 {
        community: Secret,
    },
    V2c {
        community: Secret,
    },
    V3 {
        user: String,
        auth: Option<(AuthProto, Secret)>,
        privacy: Option<(PrivProto, Secret)>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        context: String,
    },
}

impl Credentials {
    pub fn v2c(community: impl Into<String>) -> Self {
        Credentials::V2c {
            community: Secret::new(community),
        }
    }

    /// "v1", "v2c" or "v3", for reports.
    pub fn version_name(&self) -> &'static str {
        match self {
            Credentials::V1 { .. } => "v1",
            Credentials::V2c { .. } => "v2c",
            Credentials::V3 { .. } => "v3",
        }
    }

    pub(crate) fn to_auth(&self) -> Result<async_snmp::Auth, CredentialError> {
        use async_snmp::{Auth, UsmConfig};
        Ok(match self {
            Credentials::V1 { community } => Auth::v1(community.expose()),
            Credentials::V2c { community } => Auth::v2c(community.expose()),
            Credentials::V3 {
                user,
                auth,
                privacy,
                context,
            } => {
                let base = UsmConfig::new(bytes::Bytes::copy_from_slice(user.as_bytes()));
                let cfg =
                    match (auth, privacy) {
                        (None, None) => base,
                        (Some((ap, apass)), None) => base
                            .auth(ap.to_snmp(), apass.expose())
                            .map_err(|e| CredentialError::Usm {
                                user: user.clone(),
                                reason: e.to_string(),
                            })?,
                        (Some(_), Some((PrivProto::Des, _))) => {
                            // async-snmp needs a durable DES salt-state store for DES privacy,
                            // which faultline does not keep yet; refuse clearly instead of failing
                            // later on the wire.
                            return Err(CredentialError::Usm {
                                user: user.clone(),
                                reason: "DES privacy is not supported yet; use AES".into(),
                            });
                        }
                        (Some((ap, apass)), Some((pp, ppass))) => base
                            .auth_priv(ap.to_snmp(), apass.expose(), pp.to_snmp(), ppass.expose())
                            .map_err(|e| CredentialError::Usm {
                                user: user.clone(),
                                reason: e.to_string(),
                            })?,
                        (None, Some(_)) => {
                            return Err(CredentialError::PrivacyWithoutAuth { user: user.clone() });
                        }
                    };
                Auth::from(cfg.context_name(bytes::Bytes::copy_from_slice(context.as_bytes())))
            }
        })
    }
}

/// The on-disk shape: each secret as a value, `<name>_env` or `<name>_file`.
#[derive(Deserialize)]
#[serde(tag = "version", rename_all = "lowercase", deny_unknown_fields)]
enum RawCredentials {
    V1 {
        community: Option<String>,
        community_env: Option<String>,
        community_file: Option<std::path::PathBuf>,
    },
    V2c {
        community: Option<String>,
        community_env: Option<String>,
        community_file: Option<std::path::PathBuf>,
    },
    V3 {
        user: String,
        auth: Option<RawProtoSecret<AuthProto>>,
        privacy: Option<RawProtoSecret<PrivProto>>,
        #[serde(default)]
        context: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtoSecret<P> {
    proto: P,
    pass: Option<String>,
    pass_env: Option<String>,
    pass_file: Option<std::path::PathBuf>,
}

impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = RawCredentials::deserialize(d)?;
        Ok(match raw {
            RawCredentials::V1 {
                community,
                community_env,
                community_file,
            } => Credentials::V1 {
                community: resolve("community", community, community_env, community_file)
                    .map_err(D::Error::custom)?,
            },
            RawCredentials::V2c {
                community,
                community_env,
                community_file,
            } => Credentials::V2c {
                community: resolve("community", community, community_env, community_file)
                    .map_err(D::Error::custom)?,
            },
            RawCredentials::V3 {
                user,
                auth,
                privacy,
                context,
            } => {
                let auth = match auth {
                    Some(a) => Some((
                        a.proto,
                        resolve("pass", a.pass, a.pass_env, a.pass_file)
                            .map_err(D::Error::custom)?,
                    )),
                    None => None,
                };
                let privacy = match privacy {
                    Some(p) => Some((
                        p.proto,
                        resolve("pass", p.pass, p.pass_env, p.pass_file)
                            .map_err(D::Error::custom)?,
                    )),
                    None => None,
                };
                Credentials::V3 {
                    user,
                    auth,
                    privacy,
                    context,
                }
            }
        })
    }
}

/// Errors building credentials. They name variables and users, never secret values.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("unknown protocol name {value:?}")]
    UnknownProtocol { value: String },
    #[error("SNMPv3 user {user:?}: privacy needs authentication")]
    PrivacyWithoutAuth { user: String },
    #[error("SNMPv3 user {user:?}: {reason}")]
    Usm { user: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = Credentials::V3 {
            user: "mon".into(),
            auth: Some((AuthProto::Sha256, Secret::new("hunter2-auth"))),
            privacy: Some((PrivProto::Aes, Secret::new("hunter2-priv"))),
            context: String::new(),
        };
        let dbg = format!("{c:?}");
        let json = serde_json::to_string(&c).unwrap_or_default();
        for out in [&dbg, &json] {
            assert!(!out.contains("hunter2"), "leaked: {out}");
            assert!(out.contains("<redacted>"));
        }
        assert!(json.contains("\"user\":\"mon\""));
    }

    #[test]
    fn loads_inline_and_env_secrets() {
        // A unique variable name so parallel tests never collide.
        let var = format!("FL_TEST_COMMUNITY_{}", std::process::id());
        // SAFETY: set_var is unsafe in edition 2024 because other threads may read the
        // environment concurrently; this variable name is unique to this test and process.
        unsafe { std::env::set_var(&var, "from-env") };
        let c: Credentials =
            toml::from_str(&format!("version = \"v2c\"\ncommunity_env = \"{var}\"")).unwrap();
        assert_eq!(c, Credentials::v2c("from-env"));
        let c: Credentials = toml::from_str("version = \"v1\"\ncommunity = \"pub\"").unwrap();
        assert_eq!(
            c,
            Credentials::V1 {
                community: Secret::new("pub")
            }
        );
        let c: Credentials = toml::from_str(
            "version = \"v3\"\nuser = \"u\"\nauth = { proto = \"sha256\", pass = \"authpass1\" }\nprivacy = { proto = \"aes\", pass = \"privpass1\" }",
        )
        .unwrap();
        assert!(matches!(
            c,
            Credentials::V3 {
                auth: Some((AuthProto::Sha256, _)),
                privacy: Some((PrivProto::Aes, _)),
                ..
            }
        ));
        let err = toml::from_str::<Credentials>(
            "version = \"v2c\"\ncommunity_env = \"FL_SURELY_UNSET_VAR_XYZ\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("FL_SURELY_UNSET_VAR_XYZ"));
        let err = toml::from_str::<Credentials>(
            "version = \"v2c\"\ncommunity = \"a\"\ncommunity_env = \"B\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("give only one"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("community");
        std::fs::write(&file, "from-file\n").unwrap();
        let c: Credentials = toml::from_str(&format!(
            "version = \"v2c\"\ncommunity_file = \"{}\"",
            file.display()
        ))
        .unwrap();
        assert!(matches!(c, Credentials::V2c { community } if community.expose() == "from-file"));
    }
}
