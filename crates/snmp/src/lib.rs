//! SNMP polling for faultline: a client layer on `async-snmp` (v1, v2c, v3 USM) plus
//! data-driven device profiles that turn MIB data into normalized
//! [`Observation`](faultline_observe::Observation)s.
//!
//! - [`SnmpPoller`] polls [`Target`]s with global and per-device concurrency limits and a
//!   per-device circuit breaker, so a dead agent never delays the others.
//! - [`Profiles`] holds the embedded vendor profiles (TOML) plus any from a user directory;
//!   the generic part (system group, IF-MIB, HC counters, LLDP) applies to every device.
//! - [`decode`] is the pure half: raw varbinds + previous [`PollState`] → [`DeviceReport`],
//!   observations (AgentUp/Down, Uptime, Rebooted, Interface, Traffic, HaRole) and new state;
//!   [`readiness`] adds one `Readiness` fact per check of the device's profiles.
//! - [`Credentials`] keeps communities and passphrases in a redacting [`Secret`].
//! - [`names`] is the one table of object names faultline knows (`IF-MIB::ifOperStatus.3` ↔
//!   `1.3.6.1.2.1.2.2.1.8.3`); [`shown`] prints varbinds as net-snmp does, for
//!   [`SnmpPoller::get_varbinds`] / [`SnmpPoller::walk_varbinds`] (`faultline get|walk`).
//!
//! ## Profiles are data
//!
//! A profile names the sysObjectID prefixes it matches (longest wins, else `generic`) and
//! where the vendor keeps the HA role. Drop a file like this into the profiles directory
//! (`Profiles::load(Some(dir))`, `faultline poll --profiles-dir DIR`) to add a vendor:
//!
//! ```toml
//! name = "acme-fw"
//! sys_object_id_prefixes = ["1.3.6.1.4.1.99999.1"]
//! sys_descr_contains = ["AcmeOS"]           # optional: sysDescr must also match
//! [ha]
//! kind = "scalar"                      # or "table" (one row per member/instance), "serial"
//! role_oid = "1.3.6.1.4.1.99999.2.1.0"
//! peer_oid = "1.3.6.1.4.1.99999.2.2.0"
//! [ha.roles]                           # value (integer or string, case-insensitive) -> role
//! "1" = "active"
//! "2" = "standby"
//! "3" = "failed"
//!
//! [[readiness]]                        # standby readiness: one fact per check and poll
//! name = "acme_config_hash"
//! oid = "1.3.6.1.4.1.99999.3.1.0"      # a scalar (optional `fallback_oid` if absent) ...
//! rule = "match_active"                # the standby's value must equal the active's
//!
//! [[readiness]]
//! name = "acme_links_down"
//! table = "1.3.6.1.4.1.99999.4.1"      # ... or a table entry + column + aggregate
//! column = 3
//! aggregate = "count_where"            # count, count_where, min, max, any_equal, own_row
//! matching = [2]
//! rule = "equal"                       # equal / not_equal (`value`), at_least (`min`),
//! value = 0                            # within_percent_of_active (`tolerance_percent`)
//! values = { "0" = "all up" }          # optional raw value -> shown form
//! ```
//!
//! ## Standby readiness
//!
//! Every poll emits `Signal::Readiness { check, value, shown, rule }` about the device for
//! every check of the generic profile plus its vendor profile (a vendor check replaces the
//! generic one of the same name); the engine compares HA group members with them. `value`
//! is `Fact::Absent` when the agent says the object is not there; a check whose read failed
//! emits nothing. Scalars ride in the GETs the poll makes anyway (the generic ones, and a
//! named profile's, in the first), table columns in the walk of the HA columns. See
//! [`readiness`] and the comments in `profiles/*.toml` for what each vendor check reads.
//!
//! ## Failure classification
//!
//! | what happened | `PollFailure` | how we know |
//! |---|---|---|
//! | no answer | `Timeout` | async-snmp timeout after the target's retries |
//! | wrong v1/v2c community | `Timeout` | agents drop such requests silently: indistinguishable, the error text says so |
//! | unknown v3 user | `AuthFailure` | raw USM probe: `usmStatsUnknownUserNames` Report ([`usm_probe`]) |
//! | wrong v3 passphrase/protocol | `AuthFailure` | raw USM probe: the agent is alive and knows the user, yet the authenticated request got no valid answer |
//! | undecodable or semantically broken answer | `Malformed` (or `Timeout` when async-snmp discards the datagram) | |
//! | socket, config | `Local` | |
//!
//! ## Circuit breaker
//!
//! After [`PollerConfig::breaker_threshold`] (default 3) consecutive failures a device's
//! circuit opens: its *scheduled* polls fail at once (as `Timeout`, "circuit open") for
//! [`PollerConfig::breaker_base`] (default 30 s), doubling with each further failure up to
//! [`PollerConfig::breaker_max`] (default 600 s), so dead devices do not hold global
//! concurrency slots. Two rules keep it from hiding a device that came back:
//!
//! - the skip never reaches past one [`Target::poll_interval`] after the failed poll started,
//!   so the next scheduled poll always goes out and a returning device is seen within one
//!   interval (without a `poll_interval`, only `breaker_max` bounds it);
//! - a re-poll, `poll_with(target, prev, PollReason::Repoll)` (a trap arrived, the engine
//!   wants fresh data), always asks the agent; a success closes the circuit.
//!
//! [`SnmpPoller::circuit_open_for`] tells how long a device's circuit stays open.
//!
//! ```no_run
//! use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
//!
//! # async fn demo() {
//! let poller = SnmpPoller::new(PollerConfig::default());
//! let target = Target::new("fw-a", "192.0.2.1:161".parse().unwrap(), Credentials::v2c("public"));
//! let first = poller.poll(&target, None).await;
//! // The next poll gets the previous state: rates, reboots and flaps need it.
//! let second = poller.poll(&target, Some(&first.state)).await;
//! for obs in &second.observations {
//!     println!("{}", serde_json::to_string(obs).unwrap());
//! }
//! # }
//! ```

pub mod decode;
pub mod names;
mod poller;
pub mod profile;
pub mod readiness;
mod secret;
pub mod shown;
pub mod usm_probe;

pub use decode::{DeviceReport, HaReport, InterfaceReport, LldpNeighbor, PollState, SystemInfo};
pub use poller::{
    PollError, PollOutcome, PollReason, PollerConfig, SnmpPoller, Target, WalkOutcome,
    classify_error,
};
pub use profile::{HaSpec, Profile, ProfileError, Profiles};
pub use readiness::{ReadinessCheck, ReadinessReport, ReadinessSpec};
pub use secret::{AuthProto, CredentialError, Credentials, PrivProto, Secret};
pub use shown::ShownVarbind;
