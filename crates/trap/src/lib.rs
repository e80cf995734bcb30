//! SNMP trap and inform receiver (v1, v2c, v3) for faultline.
//!
//! Holds [`TrapReceiver`], which listens on a UDP port, refuses unknown sources and wrong
//! credentials (counted), survives floods and garbage (bounded queue, counted drops), acks
//! informs, and turns each notification into [`faultline_observe::Observation`]s right away:
//! linkDown/linkUp → `Signal::Interface`, coldStart/warmStart → `Signal::Rebooted`, vendor HA
//! traps (FortiGate, PAN-OS, Junos SRX, keepalived, VRRP, Cisco) → `Signal::HaRole`, anything
//! else → `Signal::RawTrap`. Every decoded trap also yields a [`RepollRequest`]: traps are
//! prompts, polled state stays the truth. The pure mapping lives in [`decode`].
//!
//! ```no_run
//! use std::collections::HashMap;
//! use faultline_trap::{TrapConfig, TrapReceiver, Secret};
//!
//! # async fn run() -> Result<(), faultline_trap::TrapError> {
//! let mut config = TrapConfig::new("127.0.0.1:1162".parse().unwrap());
//! config.sources = HashMap::from([("10.0.0.1".parse().unwrap(), "fw-a".to_string())]);
//! config.communities = vec![Secret::new("public")];
//! let (mut receiver, mut events) = TrapReceiver::bind(config).await?;
//! let mut repolls = receiver.take_repoll_requests().unwrap();
//! while let Some(event) = events.recv().await {
//!     for obs in &event.observations {
//!         println!("{}", serde_json::to_string(obs).unwrap());
//!     }
//! }
//! println!("{:?}", receiver.stats());
//! # drop(repolls);
//! # Ok(()) }
//! ```

pub mod decode;
mod receiver;
mod secret;

pub use async_snmp::{AuthProtocol, PrivProtocol};
pub use receiver::{
    RepollRequest, SourceResolver, TrapConfig, TrapError, TrapEvent, TrapReceiver, TrapStats,
    V3User, decode_event, to_event,
};
pub use secret::Secret;
