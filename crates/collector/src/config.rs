//! `faultline.toml`: everything the collector needs besides the topology. Secrets (SNMP
//! communities, v3 keys, routing keys, webhook secrets) live here or in the environment
//! (`*_env` keys), never in topology files; all secret types redact themselves.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use faultline_engine::EngineConfig;
use faultline_notify::NotifyConfig;
use faultline_snmp::Credentials;
use faultline_store::StoreConfig;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read configuration: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Topology file (YAML or JSON), relative to this file.
    pub topology: PathBuf,
    #[serde(default)]
    pub api: ApiConfig,
    #[serde(default)]
    pub poll: PollSettings,
    #[serde(default)]
    pub icmp: IcmpSettings,
    #[serde(default)]
    pub probe: ProbeSettings,
    #[serde(default)]
    pub traps: Option<TrapSettings>,
    /// Named SNMP credential sets; devices pick one with `snmp: NAME` in the topology, else
    /// `default` is used. Devices without an address are not polled.
    #[serde(default)]
    pub credentials: BTreeMap<String, Credentials>,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub snapshot: SnapshotSettings,
    #[serde(default)]
    pub engine: EngineConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    /// Run the built-in demo lab: every device and probed service is simulated on loopback.
    #[serde(default)]
    pub lab: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Where the HTTP API and /metrics listen. Loopback by default: it is unauthenticated.
    /// (Pages link to `[notify] public_url`.)
    pub listen: SocketAddr,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9180)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollSettings {
    pub interval_s: f64,
    /// Random fraction of the interval added to each device's schedule, so that ten thousand
    /// devices are not polled in the same millisecond.
    pub jitter: f64,
    pub port: u16,
    pub timeout_ms: u64,
    pub retries: u32,
    pub max_repetitions: u32,
    pub concurrency: usize,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            interval_s: 30.0,
            jitter: 0.2,
            port: 161,
            timeout_ms: 2000,
            retries: 1,
            max_repetitions: 25,
            concurrency: 256,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcmpSettings {
    pub enabled: bool,
    pub interval_s: f64,
}

impl Default for IcmpSettings {
    fn default() -> Self {
        IcmpSettings {
            enabled: true,
            interval_s: 15.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeSettings {
    pub interval_s: f64,
    pub timeout_ms: u64,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            interval_s: 15.0,
            timeout_ms: 5000,
        }
    }
}

/// Engine snapshots: a restart replays only the journal written after the latest one. After
/// each snapshot, journal entries older than `journal_retention_h` are pruned (never ones the
/// snapshot does not cover); `faultline replay` works on what is retained.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotSettings {
    pub interval_s: f64,
    pub journal_retention_h: f64,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        SnapshotSettings {
            interval_s: 300.0,
            journal_retention_h: 72.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapSettings {
    pub listen: SocketAddr,
    /// Environment variable holding the accepted v1/v2c community.
    #[serde(default)]
    pub community_env: Option<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let mut cfg = Self::parse(&text, path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        if cfg.topology.is_relative() {
            cfg.topology = base.join(&cfg.topology);
        }
        if cfg.store.path.is_relative() {
            cfg.store.path = base.join(&cfg.store.path);
        }
        Ok(cfg)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string(),
        })
    }

    /// The embedded default: the demo lab on the shipped incident topology, fast timers so a
    /// new user sees states change within seconds.
    pub fn demo(topology: PathBuf, store: PathBuf) -> Config {
        let mut engine = EngineConfig::default();
        engine.device.down_ms = 4_000;
        engine.device.up_ms = 6_000;
        engine.link.down_ms = 3_000;
        engine.link.up_ms = 6_000;
        engine.probe.down_ms = 4_000;
        engine.probe.up_ms = 6_000;
        engine.stale_after_ms = 15_000;
        Config {
            topology,
            api: ApiConfig::default(),
            poll: PollSettings {
                interval_s: 2.0,
                timeout_ms: 500,
                retries: 0,
                ..PollSettings::default()
            },
            icmp: IcmpSettings {
                enabled: false,
                interval_s: 15.0,
            },
            probe: ProbeSettings {
                interval_s: 2.0,
                timeout_ms: 1000,
            },
            traps: None,
            credentials: BTreeMap::from([("default".to_string(), Credentials::v2c("public"))]),
            store: StoreConfig { path: store },
            snapshot: SnapshotSettings::default(),
            engine,
            notify: NotifyConfig::default(),
            lab: true,
        }
    }
}
