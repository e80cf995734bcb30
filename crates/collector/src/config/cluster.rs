//! `[cluster]`: the distributed shape (NATS JetStream). Absent: the single-process collector.
//!
//! A correlator's file lists the servers only; a poller's also names its `zone` (and is started
//! with `faultline poller`). The collector only parses this section: the NATS side lives in
//! `faultline-cluster`, wired by the CLI.

use std::path::PathBuf;

use serde::Deserialize;

use super::{Count, Interval, MILLIS};

/// `[cluster] replicas` of the observation stream when it is created: 1 to 5 (JetStream's
/// limit; 3 survives the loss of one node).
pub type Replicas = Count<1, 5>;

/// `[cluster] buffer_max_batches`: batches a poller keeps on disk while NATS is unreachable,
/// 1 to 10 million (one batch per poll, probe or sweep: a zone of 100 devices polled every 30 s
/// fills 100 000 in about eight hours).
pub type BufferBatches = Count<1, 10_000_000>;

/// `[cluster] lease_ms`: how long a correlator's leadership lasts without renewal, 1 s to
/// 5 min. The leader renews every third of it; a standby takes over within two of it after the
/// leader died.
pub type LeaseTtl = Interval<MILLIS, 1_000, 300_000>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// NATS server URLs (`nats://host:4222`); the client uses any that answers.
    pub nats: Vec<String>,
    /// A poller's zone (a topology `zone:`): which devices and services it watches and the
    /// subject it publishes to, `faultline.obs.<zone>`. Not set for a correlator.
    #[serde(default)]
    pub zone: Option<String>,
    /// A poller's name in message ids and `cluster status` (default: the zone).
    #[serde(default)]
    pub poller: Option<String>,
    /// Where a poller buffers batches while NATS is unreachable (default: `<store path>.buffer`).
    #[serde(default)]
    pub buffer_dir: Option<PathBuf>,
    #[serde(default = "default_buffer")]
    pub buffer_max_batches: BufferBatches,
    #[serde(default = "default_replicas")]
    pub replicas: Replicas,
    /// A correlator's name: its leader lease's holder and its stream consumer
    /// (`faultline-correlator-<name>`); default: the host name. Two correlators on one stream
    /// need two names.
    #[serde(default)]
    pub name: Option<String>,
    /// A correlator's leadership lease: only the holder pages.
    #[serde(default = "default_lease")]
    pub lease_ms: LeaseTtl,
}

fn default_lease() -> LeaseTtl {
    const { LeaseTtl::from_millis(10_000) }
}

fn default_buffer() -> BufferBatches {
    const { BufferBatches::from_const(100_000) }
}

fn default_replicas() -> Replicas {
    const { Replicas::from_const(3) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_defaults_to_ten_seconds_and_is_checked() {
        let c: ClusterSettings = toml::from_str("nats = [\"nats://127.0.0.1:4222\"]").unwrap();
        assert_eq!(c.lease_ms.get(), std::time::Duration::from_secs(10));
        assert_eq!(c.name, None);
        let c: ClusterSettings =
            toml::from_str("nats = []\nname = \"corr-b\"\nlease_ms = \"3s\"").unwrap();
        assert_eq!(c.lease_ms.get(), std::time::Duration::from_secs(3));
        assert_eq!(c.name.as_deref(), Some("corr-b"));
        for bad in ["lease_ms = 500", "lease_ms = \"1h\""] {
            let e = toml::from_str::<ClusterSettings>(&format!("nats = []\n{bad}")).unwrap_err();
            assert!(e.to_string().contains("out of range"), "{bad}: {e}");
        }
    }
}
