//! Who is calling: bearer tokens and basic-auth users from `[api.auth]` (and the older
//! `[api] token`), each with a [`Role`]. The guard asks [`Access::identify`] for every request
//! and hands the answer to handlers as an [`Actor`] extension.
//!
//! Passwords are checked against their argon2 PHC hash on a blocking thread. A successful check
//! is remembered as an HMAC of `user, password` under the per-process key (never the password
//! itself), so a browser's every request does not pay argon2's cost again.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use faultline_secret::{Secret, SecretRef};
use hmac::{KeyInit, Mac};
use tracing::debug;

use crate::config::{AuthSettings, Role};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Remembered successful password checks at most; the set is emptied when full.
const VERIFIED_MAX: usize = 1_024;

/// Password checks running at once. Each argon2 check takes tens of milliseconds of one core
/// and ~19 MiB by design, and wrong passwords are never remembered: without a bound, a flood
/// of bad logins would take every core (and the pollers with them). Further checks wait their
/// turn (the API's header timeout and connection limit bound the queue); remembered logins and
/// bearer tokens never wait.
const PASSWORD_CHECKS: usize = 1;

/// The name of the older `[api] token` as an actor.
pub(crate) const LEGACY_TOKEN_NAME: &str = "api-token";

/// The actor of requests on an API without `[api.auth]` (loopback, or `--insecure-listen`).
pub const ANONYMOUS: &str = "anonymous";

/// Who made a request, as the guard established it: every handler behind the guard can take
/// `axum::Extension<Actor>` (e.g. to record who acknowledged an incident).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token's or user's name from `[api.auth]`; [`ANONYMOUS`] without authentication.
    pub name: String,
    /// What the actor may do.
    pub role: Role,
    /// How the actor authenticated.
    pub method: AuthMethod,
}

/// How an [`Actor`] authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The API requires no authentication (`[api.auth]` is empty): everyone is an operator.
    Open,
    /// `Authorization: Bearer`: a script or the CLI. Needs no CSRF token.
    Bearer,
    /// `Authorization: Basic`: a browser (or the CLI with a user). Form posts need the CSRF
    /// token.
    Basic,
}

/// What [`Access::identify`] made of a request's credentials.
#[derive(Debug)]
pub(crate) enum Identity {
    Known(Actor),
    /// No `Authorization` header (and authentication is required).
    Missing,
    /// Credentials that match no token or user.
    Wrong,
}

/// One configured bearer token.
struct Token {
    name: String,
    role: Role,
    secret: Secret,
}

/// One configured basic-auth user.
struct User {
    name: String,
    role: Role,
    /// A PHC string, checked to parse when built.
    hash: String,
}

impl User {
    fn actor(&self) -> Actor {
        Actor {
            name: self.name.clone(),
            role: self.role,
            method: AuthMethod::Basic,
        }
    }
}

/// The resolved `[api.auth]` (secrets read, hashes parsed).
pub(crate) struct Access {
    /// Whether requests must authenticate.
    required: bool,
    open_metrics: bool,
    tokens: Vec<Token>,
    users: Vec<User>,
    verified: Mutex<HashSet<[u8; 32]>>,
    /// [`PASSWORD_CHECKS`] permits.
    checking: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("required", &self.required)
            .field("tokens", &self.tokens.len())
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

/// The per-process key of the CSRF tokens and the remembered password checks: random, never
/// stored, kept across reloads (forms open in a browser stay valid).
pub(crate) fn process_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(rand::random)
}

/// HMAC-SHA256 of `parts` (each followed by a 0 byte) under the process key.
pub(crate) fn mac(parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(process_key()).expect("any key length");
    for p in parts {
        m.update(p);
        m.update(&[0]);
    }
    m.finalize().into_bytes().into()
}

impl Access {
    /// Read `[api.auth]`'s token files and variables and check its hashes; `legacy` is the
    /// `[api] token`, an operator token named [`LEGACY_TOKEN_NAME`]. Every problem is listed.
    pub(crate) fn build(cfg: &AuthSettings, legacy: Option<Secret>) -> Result<Access, Vec<String>> {
        let mut problems = Vec::new();
        let mut names = HashSet::new();
        let mut tokens: Vec<Token> = legacy
            .into_iter()
            .map(|secret| Token {
                name: LEGACY_TOKEN_NAME.to_string(),
                role: Role::Operator,
                secret,
            })
            .collect();
        for t in &cfg.tokens {
            if !names.insert(t.name.clone()) {
                problems.push(format!("auth: token `{}` is listed twice", t.name));
            }
            let what = format!("auth.tokens `{}`: token", t.name);
            match SecretRef::required("token", None, t.token_env.clone(), t.token_file.clone())
                .and_then(|r| r.resolve())
            {
                Ok(secret) => tokens.push(Token {
                    name: t.name.clone(),
                    role: t.role,
                    secret,
                }),
                Err(e) => problems.push(format!("{what}: {e}")),
            }
        }
        let mut users = Vec::new();
        for u in &cfg.users {
            if !names.insert(u.name.clone()) {
                problems.push(format!("auth: `{}` is listed twice", u.name));
            }
            if u.name.contains(':') {
                problems.push(format!(
                    "auth.users `{}`: a basic-auth user name cannot contain `:`",
                    u.name
                ));
            }
            match PasswordHash::new(&u.password_hash) {
                Ok(h) if h.algorithm.as_str().starts_with("argon2") => users.push(User {
                    name: u.name.clone(),
                    role: u.role,
                    hash: u.password_hash.clone(),
                }),
                Ok(h) => problems.push(format!(
                    "auth.users `{}`: password_hash uses {}, not argon2 (make one with \
                     `faultline hash-password`)",
                    u.name, h.algorithm
                )),
                Err(e) => problems.push(format!(
                    "auth.users `{}`: password_hash is not a PHC string ({e}); make one with \
                     `faultline hash-password`",
                    u.name
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Access {
            required: cfg.enabled(),
            open_metrics: cfg.open_metrics,
            tokens,
            users,
            verified: Mutex::new(HashSet::new()),
            checking: tokio::sync::Semaphore::new(PASSWORD_CHECKS),
        })
    }

    /// Whether requests must authenticate.
    pub(crate) fn required(&self) -> bool {
        self.required
    }

    /// Whether `path` answers without authentication: the health probes (load balancers and
    /// orchestrators rarely carry credentials, and they reveal nothing), and `/metrics` when
    /// `open_metrics`.
    pub(crate) fn open_path(&self, path: &str) -> bool {
        use faultline_api::path as p;
        path == p::HEALTHY || path == p::READY_PROBE || (self.open_metrics && path == p::METRICS)
    }

    /// The `WWW-Authenticate` challenges of a 401: `Basic` when users exist (browsers then
    /// ask for a name and password), `Bearer` when tokens do.
    pub(crate) fn challenges(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.users.is_empty() {
            out.push("Basic realm=\"faultline\", charset=\"UTF-8\"");
        }
        if !self.tokens.is_empty() || out.is_empty() {
            out.push("Bearer realm=\"faultline\"");
        }
        out
    }

    /// Who sent `headers`.
    pub(crate) async fn identify(self: &Arc<Self>, headers: &HeaderMap) -> Identity {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let known = match given {
            None => None,
            Some(v) => match scheme(v, "Bearer") {
                Some(token) => self.bearer(token.trim()),
                None => match scheme(v, "Basic").and_then(decode_basic) {
                    Some((user, password)) => self.basic(user, password).await,
                    None => None,
                },
            },
        };
        match (known, self.required, given.is_some()) {
            (Some(actor), _, _) => Identity::Known(actor),
            (None, false, _) => Identity::Known(Actor {
                name: ANONYMOUS.to_string(),
                role: Role::Operator,
                method: AuthMethod::Open,
            }),
            (None, true, false) => Identity::Missing,
            (None, true, true) => Identity::Wrong,
        }
    }

    fn bearer(&self, given: &str) -> Option<Actor> {
        // Every token is compared (in constant time each), so timing does not tell which matched.
        let mut found = None;
        for t in &self.tokens {
            if t.secret.ct_eq(given.as_bytes()) && found.is_none() {
                found = Some(Actor {
                    name: t.name.clone(),
                    role: t.role,
                    method: AuthMethod::Bearer,
                });
            }
        }
        if found.is_none() {
            debug!("API request with an unknown bearer token");
        }
        found
    }

    async fn basic(self: &Arc<Self>, name: String, password: String) -> Option<Actor> {
        let user = self.users.iter().find(|u| u.name == name);
        // An unknown name costs the same check as a wrong password (against another user's
        // hash), so the answer's timing does not tell which names exist.
        let hash = user.or(self.users.first())?.hash.clone();
        let seen = mac(&[b"basic", name.as_bytes(), password.as_bytes()]);
        if user.is_some() && self.remembered(&seen) {
            return user.map(User::actor);
        }
        let _turn = self.checking.acquire().await.ok()?;
        let ok = tokio::task::spawn_blocking(move || verify(&hash, &password))
            .await
            .unwrap_or(false);
        let actor = user.filter(|_| ok).map(User::actor);
        if actor.is_none() {
            debug!("API request with a wrong user name or password");
            return None;
        }
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_MAX {
            verified.clear();
        }
        verified.insert(seen);
        actor
    }

    fn remembered(&self, seen: &[u8; 32]) -> bool {
        let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        verified.contains(seen)
    }
}

/// argon2: tens of milliseconds of CPU and memory by design (a blocking thread's work).
fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The credentials after `Scheme ` (the scheme's name is case-insensitive).
fn scheme<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(name).then_some(rest)
}

/// `base64(user:password)` → (user, password).
fn decode_basic(b64: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// A new argon2id PHC string for `password` (`faultline hash-password`, tests).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::config::{TokenEntry, UserEntry};

    fn access(dir: &std::path::Path) -> Arc<Access> {
        std::fs::write(dir.join("viewer.token"), "v-secret\n").unwrap();
        let cfg = AuthSettings {
            tokens: vec![TokenEntry {
                name: "grafana".into(),
                role: Role::Viewer,
                token_env: None,
                token_file: Some(dir.join("viewer.token")),
            }],
            users: vec![UserEntry {
                name: "ops".into(),
                role: Role::Operator,
                password_hash: hash_password("correct horse").unwrap(),
            }],
            open_metrics: false,
        };
        Arc::new(Access::build(&cfg, None).unwrap())
    }

    fn auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn basic(user: &str, password: &str) -> HeaderMap {
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        auth(&format!("Basic {b64}"))
    }

    #[tokio::test]
    async fn tokens_and_users_are_identified_with_their_roles() {
        let dir = tempfile::tempdir().unwrap();
        let a = access(dir.path());
        let Identity::Known(v) = a.identify(&auth("Bearer v-secret")).await else {
            panic!("the viewer token is known");
        };
        assert_eq!((v.name.as_str(), v.role), ("grafana", Role::Viewer));
        for _ in 0..2 {
            // The second time from the remembered check.
            let Identity::Known(o) = a.identify(&basic("ops", "correct horse")).await else {
                panic!("the user is known");
            };
            assert_eq!((o.name.as_str(), o.method), ("ops", AuthMethod::Basic));
        }
        assert!(matches!(
            a.identify(&basic("ops", "wrong")).await,
            Identity::Wrong
        ));
        assert!(matches!(
            a.identify(&auth("Bearer nope")).await,
            Identity::Wrong
        ));
        assert!(matches!(
            a.identify(&HeaderMap::new()).await,
            Identity::Missing
        ));
    }

    #[test]
    fn bad_hashes_missing_token_files_and_duplicates_are_all_reported() {
        let cfg = AuthSettings {
            tokens: vec![TokenEntry {
                name: "x".into(),
                role: Role::Viewer,
                token_env: None,
                token_file: Some("/nonexistent/faultline.token".into()),
            }],
            users: vec![UserEntry {
                name: "x".into(),
                role: Role::Operator,
                password_hash: "plaintext".into(),
            }],
            open_metrics: false,
        };
        let problems = Access::build(&cfg, None).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("/nonexistent/faultline.token"))
        );
        assert!(problems.iter().any(|p| p.contains("not a PHC string")));
        assert!(problems.iter().all(|p| !p.contains("plaintext")));
    }
}
