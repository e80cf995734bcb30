//! What to watch and how: the SNMP/ICMP poll targets per device and the check per probed
//! service, from the topology and the configuration, with optional [`TargetOverrides`] (the demo
//! lab answers for every device and service on loopback).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use faultline_engine::EngineConfig;
use faultline_graph::DependencyGraph;
use faultline_model::{Address, Device, Service, Topology};
use faultline_snmp::Credentials;
use tracing::warn;

use crate::config::Config;

/// How long resolving a device's host name at start may take. A hung resolver must not stall
/// start-up; a name that does not resolve leaves the device unwatched (unknown, never up).
pub(crate) const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to reach devices and services instead of their addresses in the topology.
///
/// The demo lab implements it: each device is a simulated SNMP agent and each probed service a
/// small HTTP server, all on loopback. A device with an override is polled only over SNMP at the
/// given agent: it is neither pinged nor matched to trap sources, since the address is not its
/// own. `None` keeps the topology's address (or probe).
pub trait TargetOverrides: Send + Sync {
    /// The SNMP agent to poll for `device`, instead of its address and credential set.
    fn snmp_agent(&self, device: &str) -> Option<SnmpAgent>;
    /// The URL to probe for `service` (HTTP), instead of its topology probe's URL or TCP
    /// address. Expected statuses and body checks still come from the topology.
    fn probe_url(&self, service: &str) -> Option<String>;
}

/// An SNMP agent standing in for a device.
#[derive(Debug, Clone)]
pub struct SnmpAgent {
    /// Where the agent listens (UDP).
    pub addr: SocketAddr,
    /// What to poll it with.
    pub credentials: Credentials,
}

/// What the pollers need to know about one device.
#[derive(Clone)]
pub(crate) struct PollTarget {
    pub device: String,
    /// How to poll it over SNMP; `None`: no address or no credentials.
    pub snmp: Option<faultline_snmp::Target>,
    /// Its IP address, for ICMP sweeps and to recognise its traps.
    pub ip: Option<IpAddr>,
}

/// How one service is probed.
pub(crate) enum Check {
    Http(faultline_probe::HttpCheck),
    /// `host:port`, resolved at each probe.
    Tcp(String),
}

/// One probed service.
pub(crate) struct ProbePlan {
    pub service: String,
    pub check: Check,
    /// The zone the probe runs from, stamped on its results (a poller's zone); `None`: the
    /// collector's own single vantage.
    pub vantage: Option<String>,
}

/// Everything decided before the collector starts: what to poll, what to probe, and the
/// engine's configuration.
pub(crate) struct Plan {
    pub topology_name: String,
    pub graph: Arc<DependencyGraph>,
    /// The configuration's, with every watched component marked monitored.
    pub engine: EngineConfig,
    pub targets: Vec<PollTarget>,
    pub probes: Vec<ProbePlan>,
}

impl Plan {
    /// Plan the watch of `topology` with the resolved credential sets (a device whose set is
    /// missing is not polled over SNMP: construction reports it before planning).
    pub(crate) async fn new(
        cfg: &Config,
        credentials: &BTreeMap<String, Credentials>,
        topology: Topology,
        overrides: Option<&dyn TargetOverrides>,
    ) -> Plan {
        let targets = poll_targets(cfg, credentials, &topology, overrides).await;
        let probes = probes(cfg, &topology, overrides);
        let engine = engine_config(cfg, &topology, &targets);
        Plan {
            topology_name: topology.name.clone(),
            graph: Arc::new(DependencyGraph::new(topology)),
            engine,
            targets,
            probes,
        }
    }
}

impl Plan {
    /// Keep only the poll targets whose device's `zone:` `keep` accepts and the probes of
    /// services one of whose zones it accepts (no zone: `keep(None)`); the kept probes' results
    /// carry `vantage` (the engine's configuration keeps every monitored component).
    pub(crate) fn retain_zone(
        &mut self,
        keep: impl Fn(Option<&str>) -> bool,
        vantage: Option<&str>,
    ) {
        let graph = self.graph.clone();
        let t = graph.topology();
        let device_zone = |id: &str| t.devices.iter().find(|d| d.id == id)?.zone.as_deref();
        let service_kept = |id: &str| match t.services.iter().find(|s| s.id == id) {
            Some(s) if !s.zones.is_empty() => s.zones.iter().any(|z| keep(Some(z))),
            _ => keep(None),
        };
        self.targets.retain(|x| keep(device_zone(&x.device)));
        self.probes.retain(|p| service_kept(&p.service));
        for p in &mut self.probes {
            p.vantage = vantage.map(str::to_string);
        }
    }
}

/// Devices to poll and how.
async fn poll_targets(
    cfg: &Config,
    credentials: &BTreeMap<String, Credentials>,
    topology: &Topology,
    overrides: Option<&dyn TargetOverrides>,
) -> Vec<PollTarget> {
    let mut out = Vec::new();
    for d in &topology.devices {
        let target = match overrides.and_then(|o| o.snmp_agent(&d.id)) {
            Some(agent) => PollTarget {
                device: d.id.clone(),
                snmp: Some(snmp_target(cfg, d, agent.addr, agent.credentials)),
                ip: None,
            },
            None => configured_target(cfg, credentials, d).await,
        };
        if target.snmp.is_some() || target.ip.is_some() {
            out.push(target);
        }
    }
    out
}

/// A device as the topology and the credential sets describe it.
async fn configured_target(
    cfg: &Config,
    credentials: &BTreeMap<String, Credentials>,
    d: &Device,
) -> PollTarget {
    let port = cfg.poll.port.get() as u16;
    let (addr, ip) = match &d.address {
        Some(Address::Ip(ip)) => (Some(SocketAddr::new(*ip, port)), Some(*ip)),
        Some(Address::Host(h)) => {
            let addr = resolve(&d.id, h, port).await;
            (addr, addr.map(|a| a.ip()))
        }
        None => (None, None),
    };
    let set = credentials.get(d.snmp.as_deref().unwrap_or("default"));
    let snmp = match (addr, set) {
        (Some(addr), Some(set)) => Some(snmp_target(cfg, d, addr, set.clone())),
        _ => None,
    };
    PollTarget {
        device: d.id.clone(),
        snmp,
        ip,
    }
}

/// Resolve a host name once, bounded by [`RESOLVE_TIMEOUT`]; failures are logged.
async fn resolve(device: &str, host: &str, port: u16) -> Option<SocketAddr> {
    match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(mut addrs)) => addrs.next(),
        Ok(Err(e)) => {
            warn!(device, host, error = %e, "cannot resolve device address");
            None
        }
        Err(_) => {
            warn!(device, host, "resolving the device address timed out");
            None
        }
    }
}

fn snmp_target(
    cfg: &Config,
    d: &Device,
    addr: SocketAddr,
    credentials: Credentials,
) -> faultline_snmp::Target {
    let mut target = faultline_snmp::Target::new(d.id.clone(), addr, credentials);
    target.profile = d.profile.clone();
    target.timeout = cfg.poll.timeout_ms.get();
    target.retries = cfg.poll.retries.get() as u32;
    target.max_repetitions = cfg.poll.max_repetitions.get() as u32;
    target.poll_interval = Some(cfg.poll.interval_s.get());
    target
}

/// The engine's configuration: the file's, plus every component somebody watches.
fn engine_config(cfg: &Config, topology: &Topology, targets: &[PollTarget]) -> EngineConfig {
    let mut engine = cfg.engine.clone();
    engine.monitored.extend(monitored(topology, targets));
    engine
}

/// Ids the engine should treat as monitored (unknown until seen, stale when silent).
fn monitored(t: &Topology, targets: &[PollTarget]) -> Vec<String> {
    let polled: BTreeSet<&str> = targets
        .iter()
        .filter(|x| x.snmp.is_some())
        .map(|x| x.device.as_str())
        .collect();
    let mut ids: Vec<String> = targets.iter().map(|x| x.device.clone()).collect();
    for l in &t.links {
        if polled.contains(l.a().device) || polled.contains(l.b().device) {
            ids.push(l.id().to_string());
        }
    }
    ids.extend(
        t.services
            .iter()
            .filter(|s| s.probe.is_some())
            .map(|s| s.id.clone()),
    );
    ids
}

/// The check of every service with a probe (HTTP when it has a URL, else TCP).
fn probes(
    cfg: &Config,
    topology: &Topology,
    overrides: Option<&dyn TargetOverrides>,
) -> Vec<ProbePlan> {
    topology
        .services
        .iter()
        .filter_map(|s| {
            let check = probe_check(cfg, s, overrides)?;
            Some(ProbePlan {
                service: s.id.clone(),
                check,
                vantage: None,
            })
        })
        .collect()
}

fn probe_check(
    cfg: &Config,
    s: &Service,
    overrides: Option<&dyn TargetOverrides>,
) -> Option<Check> {
    let p = s.probe.as_ref()?;
    let url = overrides
        .and_then(|o| o.probe_url(&s.id))
        .or_else(|| p.url.clone());
    if let Some(url) = url {
        let mut check = faultline_probe::HttpCheck::new(url);
        check.expect_status = p.expect_status.clone();
        check.body_contains = p.body_contains.clone();
        check.timeout = cfg.probe.timeout_ms.get();
        Some(Check::Http(check))
    } else {
        p.tcp.clone().map(Check::Tcp)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const TOPOLOGY: &str = "name: t\n\
        devices:\n  - {id: a, kind: switch, address: 192.0.2.1}\n  - {id: b, kind: switch, address: 192.0.2.2, snmp: core}\n  - {id: c, kind: switch}\n\
        services:\n  - {id: web, requires: [a], probe: {url: 'http://192.0.2.1/x', expect_status: [200]}}\n  - {id: db, requires: [b], probe: {tcp: '192.0.2.2:5432'}}\n";

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("f.toml")).unwrap()
    }

    fn topology() -> Topology {
        Topology::from_yaml_str(TOPOLOGY, "t.yaml").unwrap()
    }

    /// Stands in for `a` and `web` only.
    struct Lab;
    impl TargetOverrides for Lab {
        fn snmp_agent(&self, device: &str) -> Option<SnmpAgent> {
            (device == "a").then(|| SnmpAgent {
                addr: "127.0.0.1:1161".parse().unwrap(),
                credentials: Credentials::v2c("public"),
            })
        }
        fn probe_url(&self, service: &str) -> Option<String> {
            (service == "web").then(|| "http://127.0.0.1:8080/x".to_string())
        }
    }

    #[tokio::test]
    async fn overrides_replace_address_and_credentials_of_their_devices() {
        let cfg = config(
            "topology = \"t.yaml\"\n[poll]\nport = 1161\ntimeout_ms = 700\n\
             [credentials.core]\nversion = \"v2c\"\ncommunity = \"x\"\n",
        );
        let sets = BTreeMap::from([("core".to_string(), Credentials::v2c("x"))]);
        let plain = poll_targets(&cfg, &sets, &topology(), None).await;
        let devices: Vec<&str> = plain.iter().map(|t| t.device.as_str()).collect();
        assert_eq!(devices, ["a", "b"], "c has no address");
        assert!(plain[0].snmp.is_none(), "a has no credentials: only pinged");
        assert_eq!(plain[1].ip, Some("192.0.2.2".parse().unwrap()));
        let snmp = plain[1].snmp.as_ref().unwrap();
        assert_eq!(snmp.addr, "192.0.2.2:1161".parse().unwrap());
        assert_eq!(snmp.timeout, Duration::from_millis(700));

        let lab = poll_targets(&cfg, &sets, &topology(), Some(&Lab)).await;
        let a = lab.iter().find(|t| t.device == "a").unwrap();
        assert_eq!(a.ip, None, "an overridden device is not pinged");
        assert_eq!(
            a.snmp.as_ref().map(|s| s.addr),
            Some("127.0.0.1:1161".parse().unwrap())
        );
        let monitored = engine_config(&cfg, &topology(), &lab).monitored;
        assert_eq!(monitored, ["a", "b", "web", "db"]);
    }

    #[test]
    fn probes_use_the_override_url_and_keep_the_topology_checks() {
        let cfg = config("topology = \"t.yaml\"\n");
        for (overrides, url) in [
            (None, "http://192.0.2.1/x"),
            (
                Some(&Lab as &dyn TargetOverrides),
                "http://127.0.0.1:8080/x",
            ),
        ] {
            let plans = probes(&cfg, &topology(), overrides);
            assert_eq!(plans.len(), 2);
            match &plans[0].check {
                Check::Http(c) => {
                    assert_eq!(c.url, url);
                    assert_eq!(c.expect_status, [200]);
                }
                Check::Tcp(_) => panic!("web is probed over HTTP"),
            }
            assert!(matches!(&plans[1].check, Check::Tcp(a) if a == "192.0.2.2:5432"));
        }
    }

    /// A poller keeps the probes of the services one of whose zones is its own and stamps its
    /// zone on them; the single process keeps every probe, unstamped.
    #[test]
    fn a_zone_probes_the_services_listing_it_and_stamps_its_zone() {
        let cfg = config("topology = \"t.yaml\"\n");
        let text = TOPOLOGY
            .replace("requires: [a],", "requires: [a], zones: [inside, outside],")
            .replace("requires: [b],", "requires: [b], zone: inside,");
        let t = Topology::from_yaml_str(&text, "t.yaml").unwrap();
        let plan = |keep: &dyn Fn(Option<&str>) -> bool, vantage: Option<&str>| {
            let mut p = Plan {
                topology_name: "t".into(),
                probes: probes(&cfg, &t, None),
                graph: Arc::new(DependencyGraph::new(t.clone())),
                engine: EngineConfig::default(),
                targets: Vec::new(),
            };
            p.retain_zone(keep, vantage);
            p.probes
                .into_iter()
                .map(|p| (p.service, p.vantage))
                .collect::<Vec<_>>()
        };
        let outside = plan(&|z| z == Some("outside"), Some("outside"));
        assert_eq!(outside, [("web".to_string(), Some("outside".to_string()))]);
        let inside = plan(&|z| z == Some("inside"), Some("inside"));
        let names: Vec<&str> = inside.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["web", "db"]);
        assert!(inside.iter().all(|(_, v)| v.as_deref() == Some("inside")));
        let single = plan(&|_| true, None);
        assert_eq!(single.len(), 2);
        assert!(single.iter().all(|(_, v)| v.is_none()));
    }
}
