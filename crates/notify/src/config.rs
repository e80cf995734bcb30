//! The `[notify]` configuration section as parsed: plain data, secrets still unresolved (their
//! `*_env` / `*_file` references are read by [`crate::Receivers::build`], never here). Each
//! receiver kind's own settings live next to it in `receivers/*.rs`.

use std::time::Duration;

use faultline_incident::{Incident, Severity};
use serde::{Deserialize, Serialize};

use crate::receivers::client::{BasicAuthConfig, HttpClientConfig, TlsConfig};
use crate::receivers::{KindConfig, ReceiverKind};

/// A secret (routing key, webhook secret): the workspace's redacting type. `Debug`, `Display`
/// and `Serialize` print `<redacted>`; only `Secret::expose` gives the value.
pub use faultline_secret::Secret;

/// Deliveries in flight at once per receiver, by default.
const DEFAULT_MAX_IN_FLIGHT: usize = 16;

/// The `[notify]` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Base URL of faultline's own web view; pages link to `{public_url}/why/{service}`.
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub receivers: Vec<ReceiverConfig>,
    #[serde(default)]
    pub retry: RetryConfig,
    /// Deliveries in flight at once per receiver.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
}

fn default_max_in_flight() -> usize {
    DEFAULT_MAX_IN_FLIGHT
}

/// Exponential backoff with jitter, for transient failures (connection refused, 5xx, 429).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    #[serde(default = "default_base_ms")]
    pub base_ms: u64,
    #[serde(default = "default_max_ms")]
    pub max_ms: u64,
    /// Give up on an entry after this many failed attempts and dead-letter it with its last
    /// error. Unset (the default): retry forever, since a page must not be lost to an outage
    /// however long; set it to keep one event a receiver always rejects with 5xx from delaying
    /// the receiver's other events forever.
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

fn default_base_ms() -> u64 {
    1_000
}
fn default_max_ms() -> u64 {
    300_000
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            base_ms: default_base_ms(),
            max_ms: default_max_ms(),
            max_attempts: None,
        }
    }
}

/// One `[[notify.receivers]]` entry: the settings every kind has, plus `kind = "..."` and that
/// kind's own settings (unknown keys are refused by the kind's section).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawReceiverConfig")]
pub struct ReceiverConfig {
    pub name: String,
    /// `kind` and the kind's own fields (`url`, `routing_key`, ...).
    #[serde(flatten)]
    pub kind: KindConfig,
    /// Route filter: page only incidents touching a service of one of these tiers (empty = any).
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Route filter: page only incidents touching a service with one of these tags (empty = any).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Route filter: page only incidents at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Events per minute allowed by the receiver (PagerDuty: ~120 per routing key, the default;
    /// others: unlimited unless set).
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// Authentication and TLS (`basic_auth`, `bearer_token`, `tls`) of the HTTP receivers.
    #[serde(flatten)]
    pub http: HttpClientConfig,
}

/// [`ReceiverConfig`] as read: `kind` and the common fields are parsed in place (so an error
/// points at its line), the rest is kept for the kind's section.
#[derive(Deserialize)]
struct RawReceiverConfig {
    name: String,
    kind: ReceiverKind,
    #[serde(default)]
    tiers: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    min_severity: Option<Severity>,
    #[serde(default)]
    rate_per_minute: Option<u32>,
    /// Read by hand: serde's "invalid type" error would echo a `basic_auth = "user:password"`.
    #[serde(default)]
    basic_auth: Option<toml::Value>,
    #[serde(default)]
    bearer_token: Option<Secret>,
    #[serde(default)]
    bearer_token_env: Option<String>,
    #[serde(default)]
    bearer_token_file: Option<std::path::PathBuf>,
    #[serde(default)]
    tls: Option<TlsConfig>,
    #[serde(flatten)]
    fields: toml::Table,
}

impl TryFrom<RawReceiverConfig> for ReceiverConfig {
    type Error = String;

    fn try_from(raw: RawReceiverConfig) -> Result<Self, Self::Error> {
        let kind = KindConfig::from_fields(raw.kind, raw.fields)
            .map_err(|e| format!("receiver {}: {}", raw.name, e.message()))?;
        let basic_auth = match raw.basic_auth {
            None => None,
            Some(v @ toml::Value::Table(_)) => Some(
                BasicAuthConfig::deserialize(v)
                    .map_err(|e| format!("receiver {}: basic_auth: {}", raw.name, e.message()))?,
            ),
            Some(_) => {
                return Err(format!(
                    "receiver {}: basic_auth: must be a table, {{ username = \"...\", password_file = \"...\" }}",
                    raw.name
                ));
            }
        };
        Ok(ReceiverConfig {
            name: raw.name,
            kind,
            tiers: raw.tiers,
            tags: raw.tags,
            min_severity: raw.min_severity,
            rate_per_minute: raw.rate_per_minute,
            http: HttpClientConfig {
                basic_auth,
                bearer_token: raw.bearer_token,
                bearer_token_env: raw.bearer_token_env,
                bearer_token_file: raw.bearer_token_file,
                tls: raw.tls,
            },
        })
    }
}

impl ReceiverConfig {
    /// Does the route filter select this incident for a *new* page? (Once paged, an incident's
    /// updates and resolve always follow, whatever the filter says now.)
    pub fn matches(&self, inc: &Incident) -> bool {
        if let Some(min) = self.min_severity
            && inc.severity < min
        {
            return false;
        }
        if !self.tiers.is_empty()
            && !inc
                .affected_services
                .iter()
                .any(|s| self.tiers.contains(&s.tier))
        {
            return false;
        }
        if !self.tags.is_empty()
            && !inc
                .affected_services
                .iter()
                .any(|s| s.tags.iter().any(|t| self.tags.contains(t)))
        {
            return false;
        }
        true
    }
}

/// HTTP client settings for the notifier.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub user_agent: String,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            user_agent: concat!("faultline/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// The part of `faultline.toml` the pager commands read: `[store]` and `[notify]`. Other tables
/// (the collector's) are ignored, so the same file serves both.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PagerFileConfig {
    #[serde(default)]
    pub store: faultline_store::StoreConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
}

impl PagerFileConfig {
    /// Read and parse a TOML file.
    pub fn load(path: &std::path::Path) -> crate::Result<PagerFileConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::NotifyError::ConfigFile {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse TOML text; `name` labels errors. The error gives the line and toml's message but
    /// never the offending source line, which could hold a secret.
    pub fn parse(text: &str, name: &str) -> crate::Result<PagerFileConfig> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .and_then(|s| text.get(..s.start))
                .map(|before| before.matches('\n').count() + 1);
            let detail = match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            };
            crate::NotifyError::ConfigFile {
                path: name.to_string(),
                detail,
            }
        })
    }
}
