//! Parsing a probe target as typed on the command line or in config.

use std::net::{IpAddr, SocketAddr};

use crate::error::ProbeError;

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `http://…` or `https://…`
    Http(String),
    /// `host:port` (or `[v6]:port`)
    Tcp { host: String, port: u16 },
    /// A bare host: only meaningful for ICMP.
    Host(String),
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, ProbeError> {
        let bad = |reason: &str| ProbeError::BadTarget {
            target: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        if t.is_empty() {
            return Err(bad("empty"));
        }
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Target::Http(t.to_string()));
        }
        if lower.contains("://") {
            return Err(bad("only http:// and https:// URLs are supported"));
        }
        if let Ok(sa) = t.parse::<SocketAddr>() {
            return Ok(Target::Tcp {
                host: sa.ip().to_string(),
                port: sa.port(),
            });
        }
        if let Ok(ip) = t
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(Target::Host(ip.to_string()));
        }
        match t.rsplit_once(':') {
            Some((host, port)) => {
                if host.is_empty() || host.contains(':') {
                    return Err(bad("expected HOST:PORT"));
                }
                let port: u16 = port
                    .parse()
                    .map_err(|_| bad("port must be a number 1-65535"))?;
                if port == 0 {
                    return Err(bad("port must be 1-65535"));
                }
                Ok(Target::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            None => Ok(Target::Host(t.to_string())),
        }
    }
}

/// How long a name lookup may take.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Resolve a host name or literal to its first address.
pub async fn resolve_host(host: &str) -> Result<IpAddr, ProbeError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    // getaddrinfo can block for tens of seconds on a broken resolver: bound it.
    let lookup = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, 0)))
        .await
        .map_err(|_| ProbeError::Resolve {
            host: host.to_string(),
            reason: format!("no answer from the resolver within {RESOLVE_TIMEOUT:?}"),
        })?;
    let mut it = lookup.map_err(|e| ProbeError::Resolve {
        host: host.to_string(),
        reason: e.to_string(),
    })?;
    it.next()
        .map(|sa| sa.ip())
        .ok_or_else(|| ProbeError::Resolve {
            host: host.to_string(),
            reason: "no addresses".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!(
            Target::parse("https://x/y").unwrap(),
            Target::Http("https://x/y".into())
        );
        assert_eq!(
            Target::parse("db:5432").unwrap(),
            Target::Tcp {
                host: "db".into(),
                port: 5432
            }
        );
        assert_eq!(
            Target::parse("10.0.0.1:22").unwrap(),
            Target::Tcp {
                host: "10.0.0.1".into(),
                port: 22
            }
        );
        assert_eq!(
            Target::parse("[::1]:80").unwrap(),
            Target::Tcp {
                host: "::1".into(),
                port: 80
            }
        );
        assert_eq!(Target::parse("::1").unwrap(), Target::Host("::1".into()));
        assert_eq!(Target::parse("gw").unwrap(), Target::Host("gw".into()));
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("h:99999").is_err());
        assert!(Target::parse("h:0").is_err());
        assert!(Target::parse("").is_err());
    }
}
