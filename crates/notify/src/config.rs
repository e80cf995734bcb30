//! The `[notify]` configuration section, and the redacting [`Secret`] type.

use std::time::Duration;

use faultline_incident::{Incident, Severity};
use serde::{Deserialize, Serialize};

/// The real PagerDuty Events API v2 endpoint (the default `url` of a `pagerduty` receiver).
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// A secret (routing key, webhook secret): the workspace's redacting type. `Debug`, `Display`
/// and `Serialize` print `<redacted>`; only `Secret::expose` gives the value.
pub use faultline_secret::Secret;

/// Which API a receiver speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiverKind {
    Pagerduty,
    Alertmanager,
    Webhook,
}

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
    16
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

/// One `[[notify.receivers]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    pub name: String,
    pub kind: ReceiverKind,
    /// Endpoint. PagerDuty defaults to [`PAGERDUTY_EVENTS_URL`]; Alertmanager takes its base URL
    /// (`http://am:9093`, `/api/v2/alerts` is appended); a webhook takes the full URL.
    #[serde(default)]
    pub url: Option<String>,
    /// PagerDuty integration (routing) key, or the name of the environment variable holding it.
    #[serde(default)]
    pub routing_key: Option<Secret>,
    #[serde(default)]
    pub routing_key_env: Option<String>,
    /// Webhook HMAC secret, or the environment variable holding it.
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Route filter: page only incidents touching a service of one of these tiers (empty = any).
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Route filter: page only incidents touching a service with one of these tags (empty = any).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Route filter: page only incidents at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Alertmanager: re-post firing alerts this often (Alertmanager expires them otherwise).
    #[serde(default)]
    pub resend_interval_secs: Option<u64>,
    /// Events per minute allowed by the receiver (PagerDuty: ~120 per routing key, the default).
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// `payload.source` for PagerDuty (default `faultline`).
    #[serde(default)]
    pub source: Option<String>,
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

    pub(crate) fn resend_interval(&self) -> Duration {
        // Bounded: Alertmanager expires alerts after its resolve_timeout (minutes), and an
        // absurd value would overflow `Instant` arithmetic.
        Duration::from_secs(self.resend_interval_secs.unwrap_or(60).clamp(1, 86_400))
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
