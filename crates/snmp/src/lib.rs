//! SNMP polling for faultline: a client layer on `async-snmp` (v1, v2c, v3 USM) plus
//! data-driven device profiles that turn MIB data into normalized
//! [`Observation`](faultline_observe::Observation)s.
//!
//! - [`SnmpPoller`] polls [`Target`]s with global and per-device concurrency limits and a
//!   per-device circuit breaker, so a dead agent never delays the others.
//! - [`Profiles`] holds the embedded vendor profiles (TOML) plus any from a user directory;
//!   the generic part (system group, IF-MIB, HC counters, LLDP) applies to every device.
//! - [`decode`] is the pure half: raw varbinds + previous [`PollState`] → [`DeviceReport`],
//!   observations (AgentUp/Down, Uptime, Rebooted, Interface, Traffic, HaRole) and new state.
//! - [`Credentials`] keeps communities and passphrases in a redacting [`Secret`].
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
mod poller;
pub mod profile;
mod secret;
pub mod usm_probe;

pub use decode::{DeviceReport, HaReport, InterfaceReport, LldpNeighbor, PollState, SystemInfo};
pub use poller::{PollError, PollOutcome, PollerConfig, SnmpPoller, Target, classify_error};
pub use profile::{HaSpec, Profile, ProfileError, Profiles};
pub use secret::{AuthProto, CredentialError, Credentials, PrivProto, Secret};
