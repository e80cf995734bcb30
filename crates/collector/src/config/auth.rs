//! `[api.auth]` and `[api.tls]`: who may use the API and console, and the listener's
//! certificate. Tokens come from the environment or a file (never inline in the
//! configuration); basic-auth users carry an argon2 PHC hash (`faultline hash-password`).

use std::path::PathBuf;

use serde::Deserialize;

/// What an authenticated caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything: every GET (pages, API, events, metrics).
    Viewer,
    /// Also act: any request that is not GET, HEAD or OPTIONS (acknowledge, maintenance, lab).
    Operator,
}

impl Role {
    /// `viewer` / `operator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[api.auth]`. With at least one token or user, every request must authenticate (except the
/// health probes, and `/metrics` when `open_metrics`); without, the API is open (loopback only,
/// unless `--insecure-listen`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `[[api.auth.tokens]]`: `Authorization: Bearer TOKEN` callers (scripts, the CLI).
    pub tokens: Vec<TokenEntry>,
    /// `[[api.auth.users]]`: basic-auth users (browsers, the CLI with a user).
    pub users: Vec<UserEntry>,
    /// Serve `/metrics` without authentication (for a scraper without credentials).
    pub open_metrics: bool,
}

impl AuthSettings {
    /// Whether any credential is configured, i.e. whether requests must authenticate.
    pub fn enabled(&self) -> bool {
        !self.tokens.is_empty() || !self.users.is_empty()
    }
}

/// One bearer token: its name (recorded as the actor), its role, where to read it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub name: String,
    pub role: Role,
    /// The environment variable holding the token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The file holding the token (trailing newline ignored), relative to the configuration.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

/// One basic-auth user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub name: String,
    pub role: Role,
    /// The password's argon2 hash as a PHC string (`$argon2id$v=19$...`), from
    /// `faultline hash-password`.
    pub password_hash: String,
}

/// `[api.tls]`: serve HTTPS (rustls) instead of plain HTTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain, the server's certificate first; relative to the configuration.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1); relative to the configuration.
    pub key_file: PathBuf,
}
