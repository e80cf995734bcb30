//! Probe errors (setup problems; per-target failures are results, not errors).

/// Problems that stop a probe from running at all.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(
        "this process may not open ICMP sockets (permission denied). Either allow unprivileged ICMP for \
         your group: `sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`, or give the binary \
         raw-socket capability: `setcap cap_net_raw+ep $(command -v faultline)`, or run as root"
    )]
    IcmpPermission { source: std::io::Error },
    #[error("cannot open ICMP socket: {source}")]
    IcmpSocket { source: std::io::Error },
    #[error("invalid probe target {target:?}: {reason}")]
    BadTarget { target: String, reason: String },
    #[error("cannot resolve {host:?}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("invalid body regex {pattern:?}: {source}")]
    BadRegex {
        pattern: String,
        source: regex::Error,
    },
    #[error("cannot build HTTP client: {0}")]
    HttpClient(String),
}
