//! `faultline.toml`: everything the collector needs besides the topology. Secrets (SNMP
//! communities, v3 keys, routing keys, webhook secrets) live here or in the environment
//! (`*_env` keys), never in topology files; all secret types redact themselves.
//!
//! Every number is validated with its unit and range while parsing ([`Interval`], [`Count`],
//! [`Fraction`]): a bad value is reported as `file:line:column: message`, never clamped or left to panic later. Duration keys
//! take a number in the unit their name says (`interval_s = 30`, `timeout_ms = 2000`) or a
//! humantime string (`interval_s = "90s"`, `journal_retention_h = "3d"`).

mod auth;
mod cluster;
mod credentials;
mod units;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use faultline_engine::EngineConfig;
use faultline_notify::NotifyConfig;
use faultline_secret::Secret;
use faultline_store::StoreConfig;
use serde::Deserialize;

pub use auth::{AuthSettings, Role, TlsSettings, TokenEntry, UserEntry};
pub use cluster::ClusterSettings;
pub use credentials::CredentialSet;
pub use units::{Count, DAY_MS, Fraction, HOURS, Interval, MILLIS, OutOfRange, SECONDS};

/// `[poll] interval_s`: 200 ms to a day. Faster polling only loads the devices.
pub type PollInterval = Interval<SECONDS, 200, DAY_MS>;
/// `[icmp] interval_s`: 1 s to a day. A sweep of many hosts is paced over about a second.
pub type SweepInterval = Interval<SECONDS, 1_000, DAY_MS>;
/// `[probe] interval_s`: 200 ms to a day.
pub type ProbeInterval = Interval<SECONDS, 200, DAY_MS>;
/// `[drift] interval_s`: 1 s to a day between two reads of every device's LLDP/CDP tables.
pub type DriftInterval = Interval<SECONDS, 1_000, DAY_MS>;
/// `[snapshot] interval_s`: 1 s to a week. A snapshot serializes the whole engine.
pub type SnapshotInterval = Interval<SECONDS, 1_000, { 7 * DAY_MS }>;
/// `[snapshot] journal_retention_h`: 0 (keep only what the snapshot does not cover) to ten
/// years.
pub type Retention = Interval<HOURS, 0, { 3_650 * DAY_MS }>;
/// `timeout_ms` of SNMP requests and service probes: 50 ms to a minute.
pub type Timeout = Interval<MILLIS, 50, 60_000>;
/// `[poll] port`: a UDP port, not 0.
pub type Port = Count<1, 65_535>;
/// `[poll] retries` per SNMP request: 0 to 10 (each waits a whole timeout).
pub type Retries = Count<0, 10>;
/// `[poll] max_repetitions` of SNMP GETBULK: 1 to 1000 rows per request.
pub type MaxRepetitions = Count<1, 1_000>;
/// `[poll] concurrency`: SNMP requests in flight over all devices, 1 to 100 000.
pub type Concurrency = Count<1, 100_000>;

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read configuration: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A syntax error, an unknown key or a value out of range. The message is toml's, without
    /// the source line (which could hold a secret).
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        /// 1-based; 0 when toml gives no position.
        line: usize,
        column: usize,
        message: String,
    },
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
    #[serde(default)]
    pub drift: DriftSettings,
    /// Named SNMP credential sets; devices pick one with `snmp: NAME` in the topology, else
    /// `default` is used. Devices without an address are not polled. Secrets are read when the
    /// collector is constructed ([`CredentialSet::resolve`]), never while parsing.
    #[serde(default)]
    pub credentials: BTreeMap<String, CredentialSet>,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub snapshot: SnapshotSettings,
    #[serde(default)]
    pub engine: EngineConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    /// Run the built-in demo lab: every device and probed service is simulated on loopback.
    /// Read by `faultline run`, which starts the lab and hands its addresses to the collector
    /// (the collector itself knows nothing of the lab).
    #[serde(default)]
    pub lab: bool,
    /// The distributed shape (NATS JetStream); absent: the single-process collector.
    #[serde(default)]
    pub cluster: Option<ClusterSettings>,
}

/// `[api] max_connections`: connections served at once, 1 to 65 536. The default (512) stays
/// well under the usual 1 024 open-file limit, so a flood of idle or half-sent connections
/// cannot make the process unable to accept (or to open its store).
pub type ApiConnections = Count<1, 65_536>;
/// `[api] header_timeout_ms`: how long a client may take to send a request's headers, 100 ms
/// to 5 minutes.
pub type HeaderTimeout = Interval<MILLIS, 100, 300_000>;
/// `[api] idle_timeout_s`: how long a connection may stay silent (between requests), 1 s to an
/// hour.
pub type IdleTimeout = Interval<SECONDS, 1_000, 3_600_000>;

/// The HTTP API server and who may use it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Where the HTTP API and /metrics listen. Loopback by default. A non-loopback address
    /// needs `[api.auth]` (or `--insecure-listen`). (Pages link to `[notify] public_url`.)
    pub listen: SocketAddr,
    /// Host names (the `Host:` header, port ignored) the API answers to, besides IP addresses
    /// and `localhost`: a name not listed is refused, so a web page cannot read the API through
    /// DNS rebinding. List the names clients use (e.g. `["mon-1", "mon-1.example.com"]`); `"*"`
    /// accepts any.
    pub hosts: Vec<String>,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: ApiConnections,
    /// A connection that has not sent a request's headers in this time is closed.
    pub header_timeout_ms: HeaderTimeout,
    /// A connection silent for this long is closed.
    pub idle_timeout_s: IdleTimeout,
    /// A token that lets a request change something (POST, PUT, DELETE) without a JSON content
    /// type: `Authorization: Bearer TOKEN`. Inline, or `token_env` / `token_file`. Without
    /// one, such requests must be sent as `application/json`, which a browser cannot do
    /// cross-site without asking first.
    pub token: Option<Secret>,
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
    /// `[api.auth]`: bearer tokens and basic-auth users with roles.
    pub auth: AuthSettings,
    /// `[api.tls]`: serve HTTPS.
    pub tls: Option<TlsSettings>,
    /// `--insecure-listen`: allow a non-loopback `listen` without `[api.auth]`. Not a key of
    /// the file: only the command line sets it.
    #[serde(skip)]
    pub insecure_listen: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9180)),
            hosts: Vec::new(),
            max_connections: const { ApiConnections::from_const(512) },
            header_timeout_ms: const { HeaderTimeout::from_millis(10_000) },
            idle_timeout_s: const { IdleTimeout::from_millis(60_000) },
            token: None,
            token_env: None,
            token_file: None,
            auth: AuthSettings::default(),
            tls: None,
            insecure_listen: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollSettings {
    /// Time between two polls of a device (sooner when a re-poll is requested).
    pub interval_s: PollInterval,
    /// Random fraction of the interval added to each device's schedule, so that ten thousand
    /// devices are not polled in the same millisecond.
    pub jitter: Fraction,
    /// SNMP port of devices given by address in the topology.
    pub port: Port,
    /// Per SNMP request.
    pub timeout_ms: Timeout,
    pub retries: Retries,
    pub max_repetitions: MaxRepetitions,
    pub concurrency: Concurrency,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            interval_s: const { PollInterval::from_millis(30_000) },
            jitter: const { Fraction::from_const(0.2) },
            port: const { Port::from_const(161) },
            timeout_ms: const { Timeout::from_millis(2_000) },
            retries: const { Retries::from_const(1) },
            max_repetitions: const { MaxRepetitions::from_const(25) },
            concurrency: const { Concurrency::from_const(256) },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcmpSettings {
    pub enabled: bool,
    /// Time between two sweeps over every device with an IP address.
    pub interval_s: SweepInterval,
}

impl Default for IcmpSettings {
    fn default() -> Self {
        IcmpSettings {
            enabled: true,
            interval_s: const { SweepInterval::from_millis(15_000) },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeSettings {
    /// Time between two probes of a service.
    pub interval_s: ProbeInterval,
    /// Per HTTP probe.
    pub timeout_ms: Timeout,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            interval_s: const { ProbeInterval::from_millis(15_000) },
            timeout_ms: const { Timeout::from_millis(5_000) },
        }
    }
}

/// The cabling watch: every device polled over SNMP has its LLDP/CDP tables read every
/// `interval_s`, and what differs from the declared links becomes evidence on the link and a
/// `topology_drift` incident (severity info). A cable counts as missing only when both its ends
/// speak LLDP/CDP; moved and undeclared cables are always reported.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftSettings {
    pub enabled: bool,
    pub interval_s: DriftInterval,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            enabled: true,
            interval_s: const { DriftInterval::from_millis(300_000) },
        }
    }
}

/// Engine snapshots: a restart replays only the journal written after the latest one. After
/// each snapshot, journal entries older than `journal_retention_h` are pruned (never ones the
/// snapshot does not cover); `faultline replay` works on what is retained.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotSettings {
    pub interval_s: SnapshotInterval,
    pub journal_retention_h: Retention,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        SnapshotSettings {
            interval_s: const { SnapshotInterval::from_millis(300_000) },
            journal_retention_h: const { Retention::from_millis(72 * 3_600_000) },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapSettings {
    pub listen: SocketAddr,
    /// The accepted v1/v2c community: inline, or `community_env` / `community_file` (read when
    /// the collector is constructed). None of the three: v1/v2c traps are refused.
    #[serde(default)]
    pub community: Option<Secret>,
    #[serde(default)]
    pub community_env: Option<String>,
    #[serde(default)]
    pub community_file: Option<PathBuf>,
}

impl Config {
    /// Read and parse a configuration file; relative paths in it are made relative to the file.
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
        for t in &mut cfg.api.auth.tokens {
            if let Some(f) = t.token_file.as_mut()
                && f.is_relative()
            {
                *f = base.join(&*f);
            }
        }
        if let Some(tls) = cfg.api.tls.as_mut() {
            for f in [&mut tls.cert_file, &mut tls.key_file] {
                if f.is_relative() {
                    *f = base.join(&*f);
                }
            }
        }
        if let Some(dir) = cfg.cluster.as_mut().and_then(|c| c.buffer_dir.as_mut())
            && dir.is_relative()
        {
            *dir = base.join(&*dir);
        }
        Ok(cfg)
    }

    /// Parse `text`; `path` labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((0, 0));
            ConfigError::Parse {
                path: path.into(),
                line,
                column,
                message: e.message().trim_end().to_string(),
            }
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
                interval_s: const { PollInterval::from_millis(2_000) },
                timeout_ms: const { Timeout::from_millis(500) },
                retries: const { Retries::from_const(0) },
                ..PollSettings::default()
            },
            icmp: IcmpSettings {
                enabled: false,
                ..IcmpSettings::default()
            },
            probe: ProbeSettings {
                interval_s: const { ProbeInterval::from_millis(2_000) },
                timeout_ms: const { Timeout::from_millis(1_000) },
            },
            traps: None,
            // The lab's simulated agents have no LLDP tables.
            drift: DriftSettings {
                enabled: false,
                ..DriftSettings::default()
            },
            credentials: BTreeMap::from([("default".to_string(), CredentialSet::v2c("public"))]),
            store: StoreConfig::at(store),
            snapshot: SnapshotSettings::default(),
            engine,
            notify: NotifyConfig::default(),
            lab: true,
            cluster: None,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("f.toml")).map_err(|e| e.to_string())
    }

    /// Maintenance windows take TOML datetimes, RFC 3339 strings or milliseconds, and a human
    /// `for` instead of `to`; mistakes are errors, never a silent window.
    #[test]
    fn maintenance_windows_take_datetimes_and_human_durations() {
        let m = |body: &str| {
            parse(&format!(
                "topology = \"t.yaml\"\n[[engine.maintenance]]\ncomponents = [\"fw-b\"]\n{body}\n"
            ))
            .map(|c| c.engine.maintenance[0].clone())
        };
        let start = 1_798_761_600_000; // 2027-01-01T00:00:00Z
        let w = m("from = 2027-01-01T01:00:00+01:00\nfor = \"2h\"").unwrap();
        assert_eq!((w.from, w.to), (start, start + 7_200_000));
        let w = m("from = \"2027-01-01T00:00:00Z\"\nto = 2027-01-01T00:30:00Z").unwrap();
        assert_eq!((w.from, w.to), (start, start + 1_800_000));
        let w = m(&format!("from = {start}\nto = {}", start + 1)).unwrap();
        assert_eq!(w.to, start + 1);
        for (body, says) in [
            ("from = 2027-01-01T00:00:00\nfor = \"1h\"", "offset"),
            ("from = 2027-01-01T00:00:00Z\nfor = \"soon\"", "for"),
            ("from = 2027-01-01T00:00:00Z", "exactly one"),
            (
                "from = 2027-01-01T00:00:00Z\nfor = \"1h\"\nto = 1",
                "exactly one",
            ),
            (
                "from = 2027-01-01T00:00:00Z\nto = 2026-01-01T00:00:00Z",
                "end after",
            ),
        ] {
            let err = m(body).expect_err(body);
            assert!(err.contains(says), "{body}: {err}");
        }
    }

    /// Issue #9 item 16: each of these used to panic (exit 101), panic in every poll task, or
    /// silently become 200 ms polling. Now each is an error at its key's position.
    #[test]
    fn the_cluster_section_is_optional_and_validated() {
        assert!(parse("topology = \"t.yaml\"\n").unwrap().cluster.is_none());
        let c = parse(
            "topology = \"t.yaml\"\n[cluster]\nnats = [\"nats://127.0.0.1:4222\"]\nzone = \"dmz\"\n",
        )
        .unwrap()
        .cluster
        .unwrap();
        assert_eq!(c.zone.as_deref(), Some("dmz"));
        assert_eq!((c.replicas.get(), c.buffer_max_batches.get()), (3, 100_000));
        let err = parse("topology = \"t.yaml\"\n[cluster]\nnats = []\nreplicas = 9\n")
            .expect_err("replicas out of range");
        assert!(err.contains("between"), "{err}");
    }

    #[test]
    fn bad_numbers_are_errors_at_their_position() {
        for (section, key, value) in [
            ("poll", "interval_s", "inf"),
            ("poll", "interval_s", "1e300"),
            ("poll", "interval_s", "-5"),
            ("poll", "interval_s", "0"),
            ("poll", "interval_s", "nan"),
            ("poll", "jitter", "nan"),
            ("poll", "jitter", "-0.5"),
            ("poll", "timeout_ms", "0"),
            ("poll", "port", "0"),
            ("poll", "concurrency", "0"),
            ("icmp", "interval_s", "0.5"),
            ("probe", "interval_s", "-inf"),
            ("probe", "timeout_ms", "\"2h\""),
            ("snapshot", "interval_s", "nan"),
            ("snapshot", "journal_retention_h", "-1"),
        ] {
            let text = format!("topology = \"t.yaml\"\n\n[{section}]\n{key} = {value}\n");
            let err = parse(&text).expect_err(&text);
            assert!(
                err.starts_with(&format!("f.toml:4:{}: ", key.len() + 4)),
                "{section}.{key} = {value}: {err}"
            );
            assert!(err.contains("between"), "names the range: {err}");
        }
    }

    #[test]
    fn durations_take_numbers_in_their_unit_or_humantime_strings() {
        let numbers = parse(
            "topology = \"t.yaml\"\n[poll]\ninterval_s = 90\ntimeout_ms = 1500\n\
             [snapshot]\njournal_retention_h = 0.5\n",
        )
        .unwrap();
        let strings = parse(
            "topology = \"t.yaml\"\n[poll]\ninterval_s = \"90s\"\ntimeout_ms = \"1s 500ms\"\n\
             [snapshot]\njournal_retention_h = \"30m\"\n",
        )
        .unwrap();
        for c in [numbers, strings] {
            assert_eq!(c.poll.interval_s.get(), Duration::from_secs(90));
            assert_eq!(c.poll.timeout_ms.get(), Duration::from_millis(1_500));
            assert_eq!(
                c.snapshot.journal_retention_h.get(),
                Duration::from_secs(1_800)
            );
        }
    }

    #[test]
    fn unknown_keys_and_syntax_errors_have_positions_but_no_source_line() {
        let err = parse("topology = \"t.yaml\"\n[poll]\nintervall_s = 3\n").unwrap_err();
        assert!(err.starts_with("f.toml:3:1: "), "{err}");
        let err = parse("topology = \"t.yaml\"\n[poll]\ninterval_s = = \"s3cret\"\n").unwrap_err();
        assert!(err.starts_with("f.toml:3:"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn the_store_cache_and_the_drift_watch_are_configured_with_their_ranges() {
        let c =
            parse("topology = \"t.yaml\"\n[store]\ncache_mib = 4\n[drift]\ninterval_s = \"10m\"\n")
                .unwrap();
        assert_eq!(c.store.cache_mib.bytes(), 4 << 20);
        assert_eq!(c.drift.interval_s.get(), Duration::from_secs(600));
        let defaults = parse("topology = \"t.yaml\"\n").unwrap();
        assert_eq!(defaults.store.cache_mib.bytes(), 32 << 20);
        assert!(defaults.drift.enabled);
        for bad in ["cache_mib = 0", "cache_mib = -1", "cache_mib = 70000"] {
            let err = parse(&format!("topology = \"t.yaml\"\n[store]\n{bad}\n")).unwrap_err();
            assert!(err.starts_with("f.toml:3:"), "{bad}: {err}");
            assert!(err.contains("1 to 65536"), "{bad}: {err}");
        }
    }

    #[test]
    fn defaults_and_demo_are_in_range() {
        let c = parse("topology = \"t.yaml\"\n").unwrap();
        assert_eq!(c.poll.interval_s.get(), Duration::from_secs(30));
        assert_eq!(c.poll.jitter.get(), 0.2);
        let demo = Config::demo("t.yaml".into(), "s.redb".into());
        assert_eq!(demo.poll.interval_s.get(), Duration::from_secs(2));
        assert!(demo.lab);
    }
}
