//! Reachability and service probes for faultline.
//!
//! Holds the ICMP prober ([`IcmpProber`]: thousands of targets over one socket, paced, one
//! identifier per host so replies match) and the service probes ([`HttpProber`] for HTTP(S)
//! with status / body checks and named TLS errors, [`tcp_probe`] for TCP connect). Results
//! turn into `Signal::Reachability` and `Signal::Probe` observations via `to_signal()`.
//!
//! ```no_run
//! use std::time::Duration;
//! use faultline_probe::{HttpCheck, HttpProber, IcmpOptions, IcmpProber};
//!
//! # async fn run() -> Result<(), faultline_probe::ProbeError> {
//! let icmp = IcmpProber::new()?; // needs root, CAP_NET_RAW or ping_group_range
//! let results = icmp.sweep(&["127.0.0.1".parse().unwrap()], &IcmpOptions::default()).await;
//! println!("{:?}", results[0].to_signal());
//!
//! let http = HttpProber::new()?;
//! let mut check = HttpCheck::new("http://127.0.0.1:8080/health");
//! check.expect_status = vec![200];
//! check.body_contains = Some("ok".into());
//! check.timeout = Duration::from_secs(5);
//! println!("{:?}", http.probe(&check).await.to_signal());
//! # Ok(()) }
//! ```

mod error;
mod icmp;
mod service;
mod target;

pub use error::ProbeError;
pub use icmp::{IcmpOptions, IcmpProber, PingResult};
pub use service::{FailureKind, HttpCheck, HttpProber, ProbeOutcome, tcp_probe};
pub use target::{Target, resolve_host};
