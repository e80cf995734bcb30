//! How the HTTP receivers (Alertmanager, webhook, PagerDuty with a `url` override) authenticate
//! and check TLS: `basic_auth` xor `bearer_token`, and a `tls` table (`ca_file`, `cert_file` +
//! `key_file`, `insecure_skip_verify`). Checked and read once by [`crate::Receivers::build`]
//! (files read, PEM parsed, a client built as a trial), so a bad file is a configuration
//! problem naming the receiver, never a delivery failure.
//!
//! Secrets (`password`, `bearer_token`) follow the workspace's one rule (inline xor `*_env` xor
//! `*_file`, `faultline-secret`) and are [`Secret`]s from then on: `Debug`, logs, the API and
//! `/metrics` never see them.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::BuildContext;
use crate::config::{HttpOptions, Secret};

/// The client settings of one `[[notify.receivers]]` entry, as written (secrets unresolved).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientConfig {
    /// `basic_auth = { username = "...", password_env = "..." }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuthConfig>,
    /// `Authorization: Bearer ...`: inline, or `bearer_token_env` / `bearer_token_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<PathBuf>,
    /// `tls = { ca_file = "...", ... }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl HttpClientConfig {
    /// Is anything set (the PagerDuty receiver takes these only with its `url` override)?
    pub fn is_set(&self) -> bool {
        self.basic_auth.is_some() || self.bearer_token_set() || self.tls.is_some()
    }

    /// Is a bearer token given, in any of its three forms?
    fn bearer_token_set(&self) -> bool {
        self.bearer_token.is_some()
            || self.bearer_token_env.is_some()
            || self.bearer_token_file.is_some()
    }
}

/// `basic_auth`: a user name and its password (inline xor `password_env` xor `password_file`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthConfig {
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

/// `tls`: whom to trust and who we are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA certificate(s) to trust *instead of* the system roots (as Prometheus'
    /// `tls_config.ca_file` does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM, chain allowed), with `key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate. For tests only: warned about in the log when the
    /// notifier starts.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// How requests to one receiver authenticate.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: Secret,
    },
    Bearer(Secret),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("none"),
            // The user name is not a secret; the password and token are never shown.
            Auth::Basic { username, .. } => write!(f, "basic({username}, <redacted>)"),
            Auth::Bearer(_) => f.write_str("bearer(<redacted>)"),
        }
    }
}

/// TLS material, read and parsed.
#[derive(Clone, Default)]
pub struct Tls {
    /// `ca_file`'s certificates: the only roots trusted when set.
    roots: Vec<reqwest::Certificate>,
    ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM concatenated, as reqwest takes it).
    identity: Option<reqwest::Identity>,
    cert_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Paths only: the key's contents never print.
        f.debug_struct("Tls")
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

/// One receiver's client settings, resolved: what the delivery transport applies.
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    pub auth: Auth,
    pub tls: Option<Tls>,
}

impl ClientSettings {
    /// Check `cfg` and read its secrets and files; every problem goes to `ctx` (field names as
    /// written: `basic_auth.password_env`, `tls.ca_file`, ...). `None` if anything is wrong.
    pub(crate) fn build(cfg: &HttpClientConfig, ctx: &mut BuildContext<'_>) -> Option<Self> {
        let before = ctx.problem_count();
        let bearer = ctx.secret(
            "bearer_token",
            &cfg.bearer_token,
            &cfg.bearer_token_env,
            &cfg.bearer_token_file,
        );
        let basic = cfg.basic_auth.as_ref().and_then(|b| {
            if b.username.trim().is_empty() {
                ctx.problem("basic_auth.username", "missing or empty");
            }
            let password = ctx.required_secret(
                "basic_auth.password",
                &b.password,
                &b.password_env,
                &b.password_file,
            );
            Some((b.username.clone(), password?))
        });
        if cfg.basic_auth.is_some() && cfg.bearer_token_set() {
            ctx.problem(
                "basic_auth",
                "give only one of `basic_auth` and `bearer_token` (`_env`, `_file`)",
            );
        }
        let auth = match (basic, bearer) {
            (Some((username, password)), None) => Auth::Basic { username, password },
            (None, Some(token)) => Auth::Bearer(token),
            _ => Auth::None,
        };
        let tls = cfg.tls.as_ref().map(|t| read_tls(t, ctx));
        let settings = ClientSettings {
            auth,
            tls: tls.flatten(),
        };
        if ctx.problem_count() > before {
            return None;
        }
        // A trial build: reqwest checks the key against the certificate only here.
        if let Err(e) = settings.client(&HttpOptions::default()) {
            ctx.problem("tls", format!("cannot set up TLS: {}", error_text(&e)));
            return None;
        }
        Some(settings)
    }

    /// The HTTP client for this receiver.
    pub fn client(&self, http: &HttpOptions) -> reqwest::Result<reqwest::Client> {
        let mut b = reqwest::Client::builder()
            .timeout(http.timeout)
            .connect_timeout(http.connect_timeout)
            .user_agent(http.user_agent.clone());
        if let Some(tls) = &self.tls {
            if !tls.roots.is_empty() {
                b = b.tls_certs_only(tls.roots.iter().cloned());
            }
            if let Some(id) = &tls.identity {
                b = b.identity(id.clone());
            }
            if tls.insecure_skip_verify {
                b = b.tls_danger_accept_invalid_certs(true);
            }
        }
        b.build()
    }

    /// Is anything beyond the defaults set (then the receiver gets a client of its own)?
    pub fn is_custom(&self) -> bool {
        !matches!(self.auth, Auth::None) || self.tls.is_some()
    }

    /// Add the credentials to a request.
    pub fn authorize(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Auth::None => req,
            Auth::Basic { username, password } => req.basic_auth(username, Some(password.expose())),
            Auth::Bearer(token) => req.bearer_auth(token.expose()),
        }
    }

    /// Certificate checks are off (`tls.insecure_skip_verify`).
    pub fn insecure(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.insecure_skip_verify)
    }
}

/// Read a PEM file for `field`, reporting a missing or unreadable one.
fn read_pem(ctx: &mut BuildContext<'_>, field: &str, path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.is_empty() => {
            ctx.problem(field, format!("{}: is empty", path.display()));
            None
        }
        Ok(bytes) => Some(bytes),
        Err(e) => {
            ctx.problem(field, format!("{}: {e}", path.display()));
            None
        }
    }
}

fn read_tls(t: &TlsConfig, ctx: &mut BuildContext<'_>) -> Option<Tls> {
    let mut ok = true;
    let mut roots = Vec::new();
    if let Some(path) = &t.ca_file {
        let found = read_pem(ctx, "tls.ca_file", path).and_then(|pem| {
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => Some(certs),
                Ok(_) => {
                    ctx.problem(
                        "tls.ca_file",
                        format!("{}: no PEM certificate in it", path.display()),
                    );
                    None
                }
                Err(e) => {
                    ctx.problem(
                        "tls.ca_file",
                        format!("{}: {}", path.display(), error_text(&e)),
                    );
                    None
                }
            }
        });
        match found {
            Some(certs) => roots = certs,
            None => ok = false,
        }
    }
    let identity = match (&t.cert_file, &t.key_file) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            let cert_pem = read_pem(ctx, "tls.cert_file", cert);
            let key_pem = read_pem(ctx, "tls.key_file", key);
            match (cert_pem, key_pem) {
                (Some(mut pem), Some(key_pem)) => {
                    pem.push(b'\n');
                    pem.extend_from_slice(&key_pem);
                    match reqwest::Identity::from_pem(&pem) {
                        Ok(id) => Some(id),
                        Err(e) => {
                            // reqwest's message names what is missing, never the key.
                            ctx.problem(
                                "tls.cert_file",
                                format!(
                                    "{} with {}: {}",
                                    cert.display(),
                                    key.display(),
                                    error_text(&e)
                                ),
                            );
                            ok = false;
                            None
                        }
                    }
                }
                _ => {
                    ok = false;
                    None
                }
            }
        }
        (Some(_), None) => {
            ctx.problem("tls.key_file", "missing (`cert_file` needs its `key_file`)");
            return None;
        }
        (None, Some(_)) => {
            ctx.problem(
                "tls.cert_file",
                "missing (`key_file` needs its `cert_file`)",
            );
            return None;
        }
    };
    if t.insecure_skip_verify && t.ca_file.is_some() {
        ctx.problem(
            "tls.insecure_skip_verify",
            "`ca_file` is ignored when certificate checks are off: drop one of them",
        );
        ok = false;
    }
    ok.then(|| Tls {
        roots,
        ca_file: t.ca_file.clone(),
        identity,
        cert_file: t.cert_file.clone(),
        insecure_skip_verify: t.insecure_skip_verify,
    })
}

/// An error with its causes (reqwest's own message stops at "builder error").
pub(crate) fn error_text(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let msg = c.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = c.source();
    }
    out
}
