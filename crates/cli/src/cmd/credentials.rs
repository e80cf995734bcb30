//! The SNMP credential flags of every command that talks to agents (`poll`, `discover`,
//! `drift`, `get`, `walk`): faultline's long names plus net-snmp's short ones (`-v -c -u -l -a
//! -A -x -X -n`), one set of environment variables, secrets never echoed.

use faultline_snmp::{AuthProto, Credentials, PrivProto, Secret};

/// Shown under `--help` of every command with these flags.
pub const SECRETS_HELP: &str = "\
Keep secrets out of shell history and process lists (`ps`) by passing them in the environment:
  FAULTLINE_COMMUNITY   community (v1/v2c), instead of -c/--community
  FAULTLINE_AUTH_PASS   v3 authentication passphrase, instead of -A (or the variable named by
                        --auth-pass-env)
  FAULTLINE_PRIV_PASS   v3 privacy passphrase, instead of -X (or the variable named by
                        --priv-pass-env)
-A and -X are accepted as in net-snmp, but anything on a command line is visible to every
local user in `ps` and stays in shell history.";

/// USM security level, net-snmp's `-l` (the variants carry the RFC 3411 level names).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecLevel {
    NoAuthNoPriv,
    AuthNoPriv,
    AuthPriv,
}

impl std::str::FromStr for SecLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "noauthnopriv" | "noauth" | "nanp" => Ok(SecLevel::NoAuthNoPriv),
            "authnopriv" | "auth" | "anp" => Ok(SecLevel::AuthNoPriv),
            "authpriv" | "priv" | "ap" => Ok(SecLevel::AuthPriv),
            _ => Err(format!(
                "{s:?}: expected noAuthNoPriv, authNoPriv or authPriv"
            )),
        }
    }
}

impl SecLevel {
    fn name(self) -> &'static str {
        match self {
            SecLevel::NoAuthNoPriv => "noAuthNoPriv",
            SecLevel::AuthNoPriv => "authNoPriv",
            SecLevel::AuthPriv => "authPriv",
        }
    }
}

/// The SNMP credential flags.
#[derive(clap::Args, Debug)]
pub(crate) struct CredentialArgs {
    /// SNMP version: 1, 2c or 3 (net-snmp's -v; the program's own version is `faultline -V`).
    #[arg(
        long = "version",
        short = 'v',
        value_name = "1|2c|3",
        default_value = "2c"
    )]
    pub snmp_version: String,
    /// Community (v1/v2c).
    #[arg(
        long,
        short = 'c',
        env = "FAULTLINE_COMMUNITY",
        hide_env_values = true,
        default_value = "public"
    )]
    pub community: Secret,
    /// SNMPv3 user name.
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// SNMPv3 security level: noAuthNoPriv, authNoPriv or authPriv; checked against -a and -x.
    #[arg(long = "sec-level", short = 'l', value_name = "LEVEL")]
    pub level: Option<SecLevel>,
    /// SNMPv3 authentication protocol: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512
    /// (case-insensitive; also md5, sha, sha224, ...).
    #[arg(long, short = 'a', value_name = "PROTO")]
    pub auth_proto: Option<AuthProto>,
    /// SNMPv3 authentication passphrase on the command line (visible in `ps`: prefer
    /// FAULTLINE_AUTH_PASS).
    #[arg(long = "auth-pass", short = 'A', value_name = "PASSPHRASE")]
    pub auth_pass: Option<Secret>,
    /// Name of the environment variable holding the authentication passphrase.
    #[arg(long, value_name = "VAR", default_value = "FAULTLINE_AUTH_PASS")]
    pub auth_pass_env: String,
    /// SNMPv3 privacy protocol: AES, AES-192, AES-256 (case-insensitive; also aes128, aes192,
    /// aes256). DES is recognised and refused: not supported yet.
    #[arg(long, short = 'x', value_name = "PROTO")]
    pub priv_proto: Option<PrivProto>,
    /// SNMPv3 privacy passphrase on the command line (visible in `ps`: prefer
    /// FAULTLINE_PRIV_PASS).
    #[arg(long = "priv-pass", short = 'X', value_name = "PASSPHRASE")]
    pub priv_pass: Option<Secret>,
    /// Name of the environment variable holding the privacy passphrase.
    #[arg(long, value_name = "VAR", default_value = "FAULTLINE_PRIV_PASS")]
    pub priv_pass_env: String,
    /// SNMPv3 context name.
    #[arg(long, short = 'n', default_value = "")]
    pub context: String,
}

impl CredentialArgs {
    /// The credentials the flags describe; passphrases from -A/-X, else from the named
    /// variables. `Err` is a usage error: it names flags and variables, never a secret.
    pub(crate) fn credentials(&self) -> Result<Credentials, String> {
        match self.snmp_version.to_ascii_lowercase().as_str() {
            "1" | "v1" => Ok(Credentials::V1 {
                community: self.community.clone(),
            }),
            "2c" | "v2c" | "2" => Ok(Credentials::V2c {
                community: self.community.clone(),
            }),
            "3" | "v3" => self.v3(),
            other => Err(format!("unknown SNMP version {other:?} (use 1, 2c or 3)")),
        }
    }

    fn v3(&self) -> Result<Credentials, String> {
        let user = self
            .user
            .clone()
            .ok_or("SNMPv3 (-v 3) needs a user name (-u/--user)")?;
        self.check_level()?;
        if self.auth_proto.is_none() && self.auth_pass.is_some() {
            return Err("-A/--auth-pass given without -a/--auth-proto".into());
        }
        if self.priv_proto == Some(PrivProto::Des) {
            // async-snmp needs a durable salt store for DES; refused here, before any request.
            return Err("-x DES is not supported (yet): use AES, AES-192 or AES-256".into());
        }
        if self.priv_proto.is_none() && self.priv_pass.is_some() {
            return Err("-X/--priv-pass given without -x/--priv-proto".into());
        }
        if self.priv_proto.is_some() && self.auth_proto.is_none() {
            // USM has no privacy without authentication (authPriv needs both).
            return Err("-x/--priv-proto needs -a/--auth-proto (authPriv)".into());
        }
        let auth = match self.auth_proto {
            Some(p) => Some((
                p,
                passphrase(&self.auth_pass, &self.auth_pass_env, "authentication", "-A")?,
            )),
            None => None,
        };
        let privacy = match self.priv_proto {
            Some(p) => Some((
                p,
                passphrase(&self.priv_pass, &self.priv_pass_env, "privacy", "-X")?,
            )),
            None => None,
        };
        Ok(Credentials::V3 {
            user,
            auth,
            privacy,
            context: self.context.clone(),
        })
    }

    /// `-l` must agree with the protocols given: a level needing authentication or privacy
    /// has its protocol, and a level without them has none.
    fn check_level(&self) -> Result<(), String> {
        let Some(level) = self.level else {
            return Ok(());
        };
        let (auth, privacy) = (self.auth_proto.is_some(), self.priv_proto.is_some());
        let problem = match level {
            SecLevel::NoAuthNoPriv if auth || privacy => {
                "takes no -a/--auth-proto or -x/--priv-proto"
            }
            SecLevel::AuthNoPriv | SecLevel::AuthPriv if !auth => {
                "needs an authentication protocol (-a MD5|SHA|SHA-224|SHA-256|SHA-384|SHA-512)"
            }
            SecLevel::AuthNoPriv if privacy => "takes no -x/--priv-proto (use -l authPriv)",
            SecLevel::AuthPriv if !privacy => "needs a privacy protocol (-x AES|AES-192|AES-256)",
            _ => return Ok(()),
        };
        Err(format!("-l {} {problem}", level.name()))
    }
}

/// The passphrase from the command line, else from environment variable `var`.
fn passphrase(given: &Option<Secret>, var: &str, what: &str, flag: &str) -> Result<Secret, String> {
    match given {
        Some(s) if !s.expose().is_empty() => Ok(s.clone()),
        Some(_) => Err(format!("{flag}: the {what} passphrase is empty")),
        None => Secret::from_env(var)
            .map_err(|e| format!("{what} passphrase: {e} (or give it with {flag})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        creds: CredentialArgs,
    }

    fn creds(argv: &[&str]) -> Result<Credentials, String> {
        let mut full = vec!["t"];
        full.extend_from_slice(argv);
        Cli::try_parse_from(full)
            .map_err(|e| e.to_string())?
            .creds
            .credentials()
    }

    #[test]
    fn net_snmp_flags_build_v3_credentials() {
        let c = creds(&[
            "-v3", "-l", "authPriv", "-u", "mon", "-a", "SHA-256", "-A", "s3cret-a", "-x",
            "AES-256", "-X", "s3cret-x", "-n", "ctx",
        ])
        .expect("v3");
        match c {
            Credentials::V3 {
                user,
                auth: Some((AuthProto::Sha256, a)),
                privacy: Some((PrivProto::Aes256, x)),
                context,
            } => {
                assert_eq!((user.as_str(), context.as_str()), ("mon", "ctx"));
                assert_eq!((a.expose(), x.expose()), ("s3cret-a", "s3cret-x"));
            }
            other => panic!("unexpected {other:?}"),
        }
        for (given, want) in [
            ("md5", AuthProto::Md5),
            ("SHA", AuthProto::Sha),
            ("sha512", AuthProto::Sha512),
        ] {
            let c = creds(&["-v", "3", "-u", "u", "-a", given, "-A", "p"]).expect(given);
            assert!(
                matches!(c, Credentials::V3 { auth: Some((p, _)), .. } if p == want),
                "{given}"
            );
        }
        assert!(matches!(
            creds(&["-v", "1", "-c", "private"]),
            Ok(Credentials::V1 { community }) if community.expose() == "private"
        ));
        assert!(matches!(creds(&["-v2c"]), Ok(Credentials::V2c { .. })));
        assert!(matches!(
            creds(&["-v3", "-u", "u", "-l", "noAuthNoPriv"]),
            Ok(Credentials::V3 {
                auth: None,
                privacy: None,
                ..
            })
        ));
    }

    #[test]
    fn levels_must_agree_with_protocols_and_errors_hide_secrets() {
        let bad: [&[&str]; 6] = [
            &["-v3", "-u", "u", "-l", "authPriv", "-A", "hunter2-secret"],
            &["-v3", "-u", "u", "-l", "authNoPriv"],
            &[
                "-v3",
                "-u",
                "u",
                "-l",
                "noAuthNoPriv",
                "-a",
                "SHA",
                "-A",
                "hunter2-secret",
            ],
            &[
                "-v3",
                "-u",
                "u",
                "-l",
                "authPriv",
                "-a",
                "SHA",
                "-A",
                "hunter2-secret",
            ],
            &[
                "-v3",
                "-u",
                "u",
                "-l",
                "authNoPriv",
                "-a",
                "SHA",
                "-A",
                "hunter2-secret",
                "-x",
                "AES",
                "-X",
                "hunter2-secret",
            ],
            &[
                "-v3",
                "-u",
                "u",
                "-X",
                "hunter2-secret",
                "-a",
                "SHA",
                "-A",
                "hunter2-secret",
            ],
        ];
        for argv in bad {
            let e = creds(argv).expect_err("usage error");
            assert!(e.contains("-l ") || e.contains("-X"), "{argv:?}: {e}");
            assert!(!e.contains("hunter2"), "secret in error: {e}");
        }
        assert!(creds(&["-v3", "-l", "everything", "-u", "u"]).is_err());
        let des = creds(&[
            "-v3", "-u", "u", "-a", "SHA", "-A", "p", "-x", "DES", "-X", "p",
        ]);
        assert!(des.is_err_and(|e| e.contains("DES")));
        assert!(creds(&["-v", "4"]).is_err());
    }
}
