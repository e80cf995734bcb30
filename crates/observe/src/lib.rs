//! The one type that crosses from faultline's imperative shell into its pure core.
//!
//! Pollers (SNMP, ICMP), service probes and the trap receiver know nothing about the
//! dependency graph; the engine knows nothing about sockets. They meet here: every fact the
//! shell learns becomes an [`Observation`] — *when*, *about what*, *which signal*, *what value* —
//! and the engine consumes a stream of them together with the clock. Because time is a field
//! rather than a call to `now()`, a recorded stream replays exactly.
//!
//! Subjects are addressed by their topology ids (`fw-a`, `portal`), never by addresses or dense
//! indices, so a journal stays readable and survives a topology reload.
//!
//! ```
//! use faultline_observe::{Observation, Subject, Signal, HaRole};
//!
//! let obs = Observation::new(
//!     1_700_000_000_000,
//!     Subject::device("fw-b"),
//!     Signal::HaRole { role: HaRole::Active, peer: Some(HaRole::Failed), in_sync: Some(false) },
//! );
//! let line = serde_json::to_string(&obs).unwrap();
//! let back: Observation = serde_json::from_str(&line).unwrap();
//! assert_eq!(obs, back);
//! ```
//!
//! See also: [`time`] for the one wall clock and the formatting of instants for people;
//! [`octets`] for the one hex rendering of octet strings (MACs, chassis ids);
//! `faultline_engine`, which consumes observations.

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

pub mod octets;
pub mod time;

/// Milliseconds since the Unix epoch. The engine's only notion of time.
pub type UnixMillis = u64;

/// One fact about one subject at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// When the fact was observed (for polls: when the answer arrived).
    pub at: UnixMillis,
    /// What it is about.
    pub subject: Subject,
    /// Which signal, with its value.
    pub signal: Signal,
}

impl Observation {
    /// An observation of `signal` about `subject` at `at`.
    pub fn new(at: UnixMillis, subject: Subject, signal: Signal) -> Self {
        Self {
            at,
            subject,
            signal,
        }
    }
}

/// What an observation is about, named by topology ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// A device as a whole (reachability, uptime, HA role as seen by the device itself).
    Device {
        /// Topology id of the device.
        device: String,
    },
    /// One interface of a device, by its name as the device reports it (ifName, else ifDescr).
    Interface {
        /// Topology id of the device.
        device: String,
        /// The interface's name as the device reports it.
        interface: String,
    },
    /// A customer-facing service, as seen by a service probe.
    Service {
        /// Topology id of the service.
        service: String,
    },
}

impl Subject {
    /// A device, by topology id.
    pub fn device(id: impl Into<String>) -> Self {
        Subject::Device { device: id.into() }
    }
    /// An interface of a device, by the device's topology id and the interface's name.
    pub fn interface(device: impl Into<String>, interface: impl Into<String>) -> Self {
        Subject::Interface {
            device: device.into(),
            interface: interface.into(),
        }
    }
    /// A service, by topology id.
    pub fn service(id: impl Into<String>) -> Self {
        Subject::Service { service: id.into() }
    }
    /// The device this subject belongs to, if any.
    pub fn device_id(&self) -> Option<&str> {
        match self {
            Subject::Device { device } | Subject::Interface { device, .. } => Some(device),
            Subject::Service { .. } => None,
        }
    }
}

/// Normalized high-availability role of one member of a redundancy group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HaRole {
    /// Carrying the traffic.
    Active,
    /// Ready to take over.
    Standby,
    /// Changing role (election, sync in progress).
    Transition,
    /// The HA subsystem reports this member as failed / faulted.
    Failed,
    /// HA not configured on this device.
    Standalone,
    /// The MIB gave no role this build understands.
    Unknown,
}

/// Interface operational or administrative status (IF-MIB encoding, normalized).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfStatus {
    /// Passing traffic (`up(1)`).
    Up,
    /// Not passing traffic (`down(2)`).
    Down,
    /// In test mode (`testing(3)`).
    Testing,
    /// Status unknown, or a value out of range.
    Unknown,
    /// Waiting for an external event (`dormant(5)`).
    Dormant,
    /// A component is missing (`notPresent(6)`).
    NotPresent,
    /// Down because a layer below is (`lowerLayerDown(7)`).
    LowerLayerDown,
}

impl IfStatus {
    /// Decode IF-MIB's ifOperStatus / ifAdminStatus integer. Out-of-range values read as
    /// `Unknown`: an agent's garbage must never read as up.
    pub fn from_mib(v: i64) -> Self {
        match v {
            1 => IfStatus::Up,
            2 => IfStatus::Down,
            3 => IfStatus::Testing,
            5 => IfStatus::Dormant,
            6 => IfStatus::NotPresent,
            7 => IfStatus::LowerLayerDown,
            _ => IfStatus::Unknown,
        }
    }
}

/// Why a poll of an agent failed. Kept apart because "credentials wrong" and "device down" mean
/// different pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollFailure {
    /// No answer within the timeout and retries.
    Timeout,
    /// The agent answered with an authentication / USM error report, or refused the community.
    AuthFailure,
    /// The agent answered, but with something that could not be decoded.
    Malformed,
    /// Local error (socket, resolution).
    Local,
    /// The agent answered, but not the objects the device's profile names (noSuchObject):
    /// the profile does not match the device, or the vendor MIB is not enabled. Not a failed
    /// poll: what was read is used, and what the profile could not read is unknown.
    ProfileMismatch,
}

/// A value read for a readiness check (see [`Signal::Readiness`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// An integer (INTEGER, counters, gauges, or an aggregate such as a row count).
    Int(i64),
    /// A string (OCTET STRING as text, hex when not printable; OBJECT IDENTIFIER dotted).
    Text(String),
    /// The agent answered noSuchObject / noSuchInstance / endOfMibView (or, for a table,
    /// had no rows): the object is not there. Distinct from "not read" (then no observation).
    Absent,
}

/// How the engine judges a standby's [`Fact`] against its HA group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessRule {
    /// The standby's value must equal the active member's (config checksum, IP forwarding).
    MatchActive,
    /// Every member must have this value (sync status "synchronized").
    Equal {
        /// The value every member must have.
        value: Fact,
    },
    /// No member may have this value (VRRP priority 0: stepping down).
    NotEqual {
        /// The value no member may have.
        value: Fact,
    },
    /// Numeric: within this many percent of the active member's value (route count).
    WithinPercentOfActive {
        /// Largest allowed difference from the active member, in percent.
        percent: f64,
    },
    /// Numeric: at least this much on every member (default routes >= 1).
    AtLeast {
        /// Smallest allowed value.
        min: i64,
    },
}

/// The signal carried by an observation, with its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    /// ICMP (or other reachability check) result for a device.
    Reachability {
        /// At least one probe answered.
        ok: bool,
        /// Round-trip time of the successful answers, in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rtt_ms: Option<f64>,
        /// Fraction of probes lost, 0.0..=1.0.
        loss: f64,
    },
    /// The SNMP agent answered a poll (the device's management plane is alive).
    AgentUp,
    /// A poll of the SNMP agent failed.
    AgentDown {
        /// Why the poll failed.
        reason: PollFailure,
    },
    /// sysUpTime (hundredths of a second) and, where exposed, snmpEngineBoots.
    Uptime {
        /// sysUpTime in hundredths of a second.
        sys_uptime_cs: u64,
        /// snmpEngineBoots (SNMPv3 agents).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        engine_boots: Option<u32>,
    },
    /// The device restarted (uptime went backwards, engine boots incremented, or a
    /// coldStart/warmStart trap).
    Rebooted {
        /// A cold start (power cycle) rather than an agent restart.
        cold: bool,
    },
    /// Interface status. `last_change_cs` is ifLastChange (sysUpTime ticks) where known.
    Interface {
        /// Operational status (ifOperStatus).
        oper: IfStatus,
        /// Administrative status (ifAdminStatus): down means disabled on purpose.
        admin: IfStatus,
        /// ifLastChange in sysUpTime ticks, where known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_change_cs: Option<u64>,
    },
    /// Traffic rate on an interface (octets per second in and out), computed from HC counters
    /// with discontinuity handling.
    Traffic {
        /// Octets per second received.
        in_bps: f64,
        /// Octets per second sent.
        out_bps: f64,
    },
    /// HA role of a group member as the member itself reports it, with its view of the peer and
    /// configuration-sync status where the MIB has them.
    HaRole {
        /// The member's own role.
        role: HaRole,
        /// Its view of its peer's role.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<HaRole>,
        /// Whether its configuration is in sync with the peer's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_sync: Option<bool>,
    },
    /// One fact for a standby-readiness check ("can this member take over?"), read on every
    /// poll for every check the device's profiles define. The engine compares members of an HA
    /// group by `check` under `rule`.
    Readiness {
        /// The check's name from the profile, e.g. `ip_forwarding`, `config_checksum`.
        check: String,
        /// The value read.
        value: Fact,
        /// The value as a human reads it (`notForwarding`), from the profile's value map.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shown: Option<String>,
        /// How the engine judges this value against the group.
        rule: ReadinessRule,
    },
    /// A service probe (HTTP, TCP) result: what customers see.
    Probe {
        /// The probe's expectations held (status code, body, connect).
        ok: bool,
        /// HTTP status code, for HTTP probes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Time to the answer, in milliseconds.
        latency_ms: f64,
        /// What went wrong, for people (connection refused, body mismatch, ...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// The zone (vantage point) the probe ran from: a poller's `[cluster] zone`. Absent:
        /// the collector's own single vantage (and every observation journaled before zones).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// A trap that no profile decoded, kept rather than dropped.
    RawTrap {
        /// snmpTrapOID, dotted.
        trap_oid: String,
        /// The varbinds as (OID, value) text pairs.
        varbinds: Vec<(String, String)>,
    },
    /// What the collector's LLDP/CDP watch finds different from the declared cabling now: the
    /// whole current set (empty: everything it could judge is as declared). About the network
    /// as a whole, so sent with the empty device subject.
    Cabling {
        /// Every difference found, in a stable order.
        findings: Vec<CableFinding>,
    },
    /// The collector (re)started at this instant. Journaled so that a replay knows the gap
    /// before it was the collector's downtime, not every device falling silent.
    CollectorStarted,
    /// The engine's clock was advanced to this instant and that produced transitions (a
    /// hold-down expired between observation batches). Journaled before those transitions are
    /// paged, so a replay fires the same deadlines at the same instant (same incident ids).
    ClockAdvance,
    /// An operator acknowledged an incident: it stays open and recorded, but is not paged
    /// again until it is unacknowledged or resolves. Journaled like any observation, so a
    /// replay acknowledges at the same instant.
    Acknowledge {
        /// The incident's id (`root@opened_at`).
        incident: String,
        /// Who acknowledged (the authenticated user, or `api` / `console` / the CLI's user).
        by: String,
        /// Why, for people.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
    /// An operator withdrew an acknowledgement: the incident pages again on its next change.
    Unacknowledge {
        /// The incident's id.
        incident: String,
        /// Who withdrew it.
        by: String,
    },
    /// An operator put components under maintenance at run time (combined with the
    /// configuration's windows, under the same rule).
    MaintenanceStart {
        /// The window's id, unique among windows.
        window: String,
        /// Topology ids of the components under maintenance.
        components: Vec<String>,
        /// Start of the window (inclusive, ms since the epoch).
        from: UnixMillis,
        /// End of the window (exclusive, ms since the epoch).
        to: UnixMillis,
        /// Why, for people.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        /// Who added it.
        by: String,
    },
    /// An operator ended a run-time maintenance window early (at the observation's `at`).
    MaintenanceEnd {
        /// The window's id.
        window: String,
        /// Who ended it.
        by: String,
    },
    /// Every signal of the subject's device (its own and its interfaces') was seen again,
    /// unchanged, since the device's last `Steady`: it stands for those repetitions, which
    /// thinning holds back (the engine's `thin.rs`), so a quiet device costs one journal record
    /// per poll instead of one per signal. Made by the engine's thinning, never by a poller.
    Steady,
    /// A zone's poller is alive at this instant (`faultline poller` publishes one every few
    /// seconds, even when thinning holds everything else back). About the poller, not a
    /// topology component, so sent with the empty device subject. A correlator judges a zone
    /// whose poller fell silent `unknown`, never `down`.
    PollerHeartbeat {
        /// The poller's zone (`[cluster] zone`).
        zone: String,
        /// The poller's name (`[cluster] poller`, else the zone).
        poller: String,
    },
}

/// How a cable differs from the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CableDrift {
    /// Declared, seen from neither end although both ends speak LLDP or CDP.
    Missing,
    /// Seen between two topology devices, not declared.
    Unexpected,
    /// Declared; one end is the same, the other end is now another port or device.
    Moved,
}

impl CableDrift {
    /// The name as in `faultline drift --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            CableDrift::Missing => "missing",
            CableDrift::Unexpected => "unexpected",
            CableDrift::Moved => "moved",
        }
    }
}

/// One cabling difference (see [`Signal::Cabling`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CableFinding {
    /// Which difference.
    pub drift: CableDrift,
    /// The cable as `a:if--b:if`: the declared one for `missing` and `moved`, the one seen for
    /// `unexpected`.
    pub link: String,
    /// For `moved`: the end that stayed (`device:if`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// For `moved`: the other end as declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
    /// For `moved`: the other end as seen now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
}

impl CableFinding {
    /// The finding in words: "fw-b:port2 is now cabled to sw-2:gi5, declared sw-1:gi2".
    pub fn describe(&self) -> String {
        match (self.drift, &self.end, &self.declared, &self.seen) {
            (CableDrift::Moved, Some(end), Some(declared), Some(seen)) => {
                format!("{end} is now cabled to {seen}, declared {declared}")
            }
            (CableDrift::Missing, ..) => format!(
                "declared cable {} is seen from neither end (LLDP/CDP)",
                self.link
            ),
            (CableDrift::Unexpected, ..) => {
                format!("cable {} is seen (LLDP/CDP) but not declared", self.link)
            }
            (CableDrift::Moved, ..) => format!("declared cable {} has moved", self.link),
        }
    }

    /// The devices the finding is about (both ends, and the far end seen for a move).
    pub fn devices(&self) -> Vec<&str> {
        fn dev(end: &str) -> &str {
            end.split_once(':').map_or(end, |(d, _)| d)
        }
        let (a, b) = self.link.split_once("--").unwrap_or((&self.link, ""));
        let mut out: Vec<&str> = [Some(a), Some(b), self.seen.as_deref()]
            .into_iter()
            .flatten()
            .filter(|e| !e.is_empty())
            .map(dev)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Signal {
    /// A short stable name for the signal kind (used as a key by the engine and in metrics).
    pub fn name(&self) -> &'static str {
        match self {
            Signal::Reachability { .. } => "reachability",
            Signal::AgentUp => "agent_up",
            Signal::AgentDown { .. } => "agent_down",
            Signal::Uptime { .. } => "uptime",
            Signal::Rebooted { .. } => "rebooted",
            Signal::Interface { .. } => "interface",
            Signal::Traffic { .. } => "traffic",
            Signal::HaRole { .. } => "ha_role",
            Signal::Readiness { .. } => "readiness",
            Signal::Probe { .. } => "probe",
            Signal::RawTrap { .. } => "raw_trap",
            Signal::Cabling { .. } => "cabling",
            Signal::CollectorStarted => "collector_started",
            Signal::ClockAdvance => "clock_advance",
            Signal::Acknowledge { .. } => "acknowledge",
            Signal::Unacknowledge { .. } => "unacknowledge",
            Signal::MaintenanceStart { .. } => "maintenance_start",
            Signal::MaintenanceEnd { .. } => "maintenance_end",
            Signal::Steady => "steady",
            Signal::PollerHeartbeat { .. } => "poller_heartbeat",
        }
    }

    /// An operator's action (acknowledge, maintenance) rather than something observed.
    pub fn is_operator_action(&self) -> bool {
        matches!(
            self,
            Signal::Acknowledge { .. }
                | Signal::Unacknowledge { .. }
                | Signal::MaintenanceStart { .. }
                | Signal::MaintenanceEnd { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_flat_and_tagged() {
        let obs = Observation::new(
            5,
            Subject::interface("fw-a", "port1"),
            Signal::Interface {
                oper: IfStatus::Down,
                admin: IfStatus::Up,
                last_change_cs: Some(42),
            },
        );
        let v = serde_json::to_value(&obs).unwrap();
        assert_eq!(v["subject"]["kind"], "interface");
        assert_eq!(v["subject"]["interface"], "port1");
        assert_eq!(v["signal"]["signal"], "interface");
        assert_eq!(v["signal"]["oper"], "down");
    }

    #[test]
    fn readiness_json_shape() {
        let obs = Observation::new(
            7,
            Subject::device("fw-b"),
            Signal::Readiness {
                check: "ip_forwarding".into(),
                value: Fact::Int(2),
                shown: Some("notForwarding".into()),
                rule: ReadinessRule::MatchActive,
            },
        );
        let v = serde_json::to_value(&obs).unwrap();
        assert_eq!(v["signal"]["signal"], "readiness");
        assert_eq!(v["signal"]["check"], "ip_forwarding");
        assert_eq!(v["signal"]["value"]["int"], 2);
        assert_eq!(v["signal"]["shown"], "notForwarding");
        assert_eq!(v["signal"]["rule"], "match_active");
        assert_eq!(serde_json::from_value::<Observation>(v).unwrap(), obs);

        let sig = Signal::Readiness {
            check: "vrrp_priority".into(),
            value: Fact::Absent,
            shown: None,
            rule: ReadinessRule::NotEqual {
                value: Fact::Int(0),
            },
        };
        let v = serde_json::to_value(&sig).unwrap();
        assert_eq!(v["value"], "absent");
        assert!(v.get("shown").is_none(), "None is skipped: {v}");
        assert_eq!(v["rule"]["not_equal"]["value"]["int"], 0);
        assert_eq!(serde_json::from_value::<Signal>(v).unwrap(), sig);
        for rule in [
            ReadinessRule::Equal {
                value: Fact::Text("OK".into()),
            },
            ReadinessRule::WithinPercentOfActive { percent: 10.0 },
            ReadinessRule::AtLeast { min: 1 },
        ] {
            let text = serde_json::to_string(&rule).unwrap();
            assert_eq!(serde_json::from_str::<ReadinessRule>(&text).unwrap(), rule);
        }
    }

    /// A probe result names its vantage zone when it has one; a journal line written before
    /// zones (no `zone`) still loads, as the collector's own vantage.
    #[test]
    fn probe_zone_is_optional_on_the_wire() {
        let old = r#"{"at":1,"subject":{"kind":"service","service":"portal"},
            "signal":{"signal":"probe","ok":false,"status":503,"latency_ms":4.0}}"#;
        let obs: Observation = serde_json::from_str(old).unwrap();
        assert!(matches!(obs.signal, Signal::Probe { zone: None, .. }));
        assert!(!serde_json::to_string(&obs).unwrap().contains("zone"));
        let zoned = Signal::Probe {
            ok: true,
            status: Some(200),
            latency_ms: 3.0,
            detail: None,
            zone: Some("outside".into()),
        };
        let v = serde_json::to_value(&zoned).unwrap();
        assert_eq!(v["zone"], "outside");
        assert_eq!(serde_json::from_value::<Signal>(v).unwrap(), zoned);
    }

    #[test]
    fn garbage_interface_status_is_unknown_not_up() {
        for v in [0, 4, 8, -1, i64::MAX] {
            assert_eq!(IfStatus::from_mib(v), IfStatus::Unknown);
        }
        assert_eq!(IfStatus::from_mib(1), IfStatus::Up);
        assert_eq!(IfStatus::from_mib(7), IfStatus::LowerLayerDown);
    }
}
