//! The breadth-first walk: poll the seeds, read their LLDP/CDP tables, follow the neighbours'
//! management addresses level by level within the depth and size limits. Every neighbour
//! that is announced but not polled (unreachable, beyond a limit, no address) is kept as a
//! node with the reason, never dropped.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use faultline_snmp::{Credentials, PollerConfig, Profiles, SnmpPoller, Target};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::mib::{self, Caps, LldpView, Remote};

/// sysObjectID of net-snmp's agent on Linux: a server or host, not a network device.
const NET_SNMP_LINUX: &str = "1.3.6.1.4.1.8072.3.2.10";

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub seeds: Vec<SocketAddr>,
    pub credentials: Credentials,
    /// SNMP port of neighbours reached through their management address.
    pub port: u16,
    /// Levels of neighbours to follow past the seeds (0: the seeds only).
    pub max_depth: u32,
    /// Devices polled at most (the walk stops following neighbours past it).
    pub max_devices: usize,
    pub timeout: Duration,
    pub retries: u32,
    pub max_repetitions: u32,
    pub profiles: Profiles,
}

/// An interface from the device's ifTable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interface {
    pub index: String,
    pub name: String,
    pub descr: String,
}

/// Whether and how a node was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum NodeStatus {
    Polled,
    /// Asked, no usable answer (timeout, authentication, malformed).
    Unreachable(String),
    /// Announced by a neighbour, not asked (depth or size limit, no management address).
    NotPolled(String),
}

/// One device found: polled, or known only from a neighbour's announcement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// sysName (polled), the announced system name, or empty when neither is known.
    pub sys_name: String,
    pub address: Option<IpAddr>,
    /// SNMP port the device was (or would be) polled on.
    pub port: u16,
    pub status: NodeStatus,
    /// Hops from a seed.
    pub depth: u32,
    pub object_id: Option<String>,
    pub profile: Option<String>,
    pub caps: Caps,
    /// Chassis id (`subtype:id`), the identity that merges a device reached twice.
    pub chassis: Option<String>,
    pub interfaces: Vec<Interface>,
    pub lldp: LldpView,
    /// Reads that failed while the device otherwise answered (a table not walked).
    pub errors: Vec<String>,
}

impl Node {
    pub fn polled(&self) -> bool {
        self.status == NodeStatus::Polled
    }

    /// The topology kind guessed from the profile, sysObjectID and LLDP capabilities.
    pub fn kind(&self) -> faultline_model::DeviceKind {
        use faultline_model::DeviceKind as K;
        let firewall_profiles = ["fortigate", "paloalto", "checkpoint", "cisco-asa"];
        if self
            .profile
            .as_deref()
            .is_some_and(|p| firewall_profiles.contains(&p))
        {
            K::Firewall
        } else if self.caps.router {
            K::Router
        } else if self.caps.bridge {
            K::Switch
        } else if self.object_id.as_deref() == Some(NET_SNMP_LINUX) || self.caps.station {
            K::Host
        } else {
            K::Other
        }
    }
}

/// Progress of a walk, reported after each device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub depth: u32,
    pub polled: usize,
    pub unreachable: usize,
    pub queued: usize,
}

/// Everything a walk found, in discovery order (seeds first).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Discovery {
    pub nodes: Vec<Node>,
}

impl Discovery {
    /// The node a neighbour entry points at: by chassis id, management address, then name.
    pub fn find(&self, r: &Remote) -> Option<usize> {
        let by = |f: &dyn Fn(&Node) -> bool| self.nodes.iter().position(f);
        (!r.chassis.is_empty())
            .then(|| by(&|n| n.chassis.as_deref() == Some(r.chassis.as_str())))
            .flatten()
            .or_else(|| by(&|n| n.address.is_some_and(|a| r.mgmt.contains(&a))))
            .or_else(|| {
                (!r.sys_name.is_empty())
                    .then(|| by(&|n| n.sys_name == r.sys_name))
                    .flatten()
            })
    }
}

/// A queued address and the announcement that led to it (none for seeds).
struct Queued {
    addr: SocketAddr,
    announced: Option<Remote>,
}

/// Walk from the seeds. `progress` is called after each device answered or failed.
pub async fn walk(opts: &WalkOptions, progress: &mut dyn FnMut(Progress)) -> Discovery {
    let poller = SnmpPoller::new(PollerConfig {
        profiles: opts.profiles.clone(),
        // The walk reads the whole LLDP-MIB itself.
        lldp: false,
        breaker_threshold: u32::MAX,
        ..PollerConfig::default()
    });
    let mut found = Discovery::default();
    let mut asked: HashSet<IpAddr> = HashSet::new();
    let mut level: Vec<Queued> = vec![];
    for s in &opts.seeds {
        if asked.insert(s.ip()) {
            level.push(Queued {
                addr: *s,
                announced: None,
            });
        }
    }
    let mut counts = Progress {
        depth: 0,
        polled: 0,
        unreachable: 0,
        queued: level.len(),
    };
    for depth in 0..=opts.max_depth {
        counts.depth = depth;
        let first_new = found.nodes.len();
        let mut pending: FuturesUnordered<_> = level
            .drain(..)
            .map(|q| {
                let poller = &poller;
                async move { (probe(poller, opts, q.addr).await, q) }
            })
            .collect();
        while let Some((result, q)) = pending.next().await {
            counts.queued = counts.queued.saturating_sub(1);
            let mut node = match result {
                Ok(node) => {
                    counts.polled += 1;
                    node
                }
                Err(reason) => {
                    counts.unreachable += 1;
                    announced_node(
                        q.announced.as_ref(),
                        Some(q.addr),
                        NodeStatus::Unreachable(reason),
                    )
                }
            };
            node.depth = depth;
            node.port = q.addr.port();
            let duplicate =
                node.chassis.is_some() && found.nodes.iter().any(|n| n.chassis == node.chassis);
            if !duplicate {
                found.nodes.push(node);
            }
            progress(counts);
        }
        level = next_level(&mut found, first_new, depth, opts, &mut asked);
        counts.queued = level.len();
        if level.is_empty() {
            break;
        }
    }
    found
}

/// The neighbours of the nodes polled in this level that nobody has asked yet: queued when
/// within the limits and they announce an address, else kept as not-polled nodes.
fn next_level(
    found: &mut Discovery,
    first_new: usize,
    depth: u32,
    opts: &WalkOptions,
    asked: &mut HashSet<IpAddr>,
) -> Vec<Queued> {
    let remotes: Vec<Remote> = found.nodes[first_new..]
        .iter()
        .filter(|n| n.polled())
        .flat_map(|n| n.lldp.remotes.iter().cloned())
        .collect();
    let mut next = vec![];
    let mut queued_names: HashMap<String, ()> = HashMap::new();
    for r in remotes {
        if found.find(&r).is_some() || r.mgmt.iter().any(|a| asked.contains(a)) {
            continue;
        }
        let name_key = if r.chassis.is_empty() {
            r.sys_name.clone()
        } else {
            r.chassis.clone()
        };
        if queued_names.insert(name_key, ()).is_some() {
            continue;
        }
        let polled = found.nodes.iter().filter(|n| n.polled()).count();
        let why_not = if depth >= opts.max_depth {
            Some(format!("beyond --depth {}", opts.max_depth))
        } else if polled + next.len() >= opts.max_devices {
            Some(format!("beyond --max-devices {}", opts.max_devices))
        } else if r.mgmt.is_empty() {
            Some("no management address announced".to_owned())
        } else {
            None
        };
        match why_not {
            Some(reason) => {
                let mut n = announced_node(Some(&r), None, NodeStatus::NotPolled(reason));
                n.depth = depth + 1;
                n.port = opts.port;
                found.nodes.push(n);
            }
            None => {
                // Prefer an IPv4 address: the one most agents listen on.
                let ip = r.mgmt.iter().find(|a| a.is_ipv4()).unwrap_or(&r.mgmt[0]);
                asked.insert(*ip);
                next.push(Queued {
                    addr: SocketAddr::new(*ip, opts.port),
                    announced: Some(r),
                });
            }
        }
    }
    next
}

/// A node known from a neighbour's announcement only.
fn announced_node(r: Option<&Remote>, addr: Option<SocketAddr>, status: NodeStatus) -> Node {
    Node {
        sys_name: r.map(|r| r.sys_name.clone()).unwrap_or_default(),
        address: addr
            .map(|a| a.ip())
            .or_else(|| r.and_then(|r| r.mgmt.first().copied())),
        port: addr.map_or(161, |a| a.port()),
        status,
        depth: 0,
        object_id: None,
        profile: None,
        caps: r.map(|r| r.caps).unwrap_or_default(),
        chassis: r.map(|r| r.chassis.clone()).filter(|c| !c.is_empty()),
        interfaces: vec![],
        lldp: LldpView::default(),
        errors: vec![],
    }
}

/// Read each of `targets` once (each with its own credentials), without following
/// neighbours: the nodes of the devices a topology declares, in `targets`' order, for
/// comparing their cabling with it (the collector's drift watch). At most `concurrency` reads
/// at a time.
pub async fn read_targets(
    poller: &SnmpPoller,
    targets: &[Target],
    concurrency: usize,
) -> Discovery {
    // The futures are built first (not in a closure over the stream) so the returned future is
    // `Send` for any lifetime, as `tokio::spawn` needs.
    let mut reads = Vec::with_capacity(targets.len());
    for t in targets {
        reads.push(read_or_unreachable(poller, t));
    }
    Discovery {
        nodes: futures::stream::iter(reads)
            .buffered(concurrency.max(1))
            .collect()
            .await,
    }
}

/// [`read_node`], a failure kept as an unreachable node.
async fn read_or_unreachable(poller: &SnmpPoller, t: &Target) -> Node {
    match read_node(poller, t).await {
        Ok(node) => node,
        Err(reason) => announced_node(None, Some(t.addr), NodeStatus::Unreachable(reason)),
    }
}

/// Poll one device (system group, ifTable, profile) and read its LLDP/CDP tables.
async fn probe(poller: &SnmpPoller, opts: &WalkOptions, addr: SocketAddr) -> Result<Node, String> {
    let target = Target {
        device_id: addr.to_string(),
        addr,
        credentials: opts.credentials.clone(),
        profile: None,
        max_repetitions: opts.max_repetitions,
        timeout: opts.timeout,
        retries: opts.retries,
        poll_interval: None,
    };
    read_node(poller, &target).await
}

/// Poll `target` and read its LLDP/CDP tables.
async fn read_node(poller: &SnmpPoller, target: &Target) -> Result<Node, String> {
    let addr = target.addr;
    let outcome = poller.poll(target, None).await;
    let report = outcome.report;
    if report.failure().is_some() {
        let why = report
            .errors
            .first()
            .map_or_else(|| "no answer".to_owned(), |e| e.message.clone());
        return Err(why);
    }
    let system = report.system.unwrap_or_default();
    let (raw, read_errors) = poller
        .read(target, &mib::oids::LOC_SCALARS, &mib::oids::WALKS)
        .await
        .map_err(|e| e.to_string())?;
    let lldp = mib::decode(&raw);
    let mut errors: Vec<String> = report.errors.iter().map(|e| e.message.clone()).collect();
    errors.extend(read_errors.iter().map(ToString::to_string));
    Ok(Node {
        sys_name: if system.name.is_empty() {
            lldp.sys_name.clone().unwrap_or_default()
        } else {
            system.name
        },
        address: Some(addr.ip()),
        port: addr.port(),
        status: NodeStatus::Polled,
        depth: 0,
        object_id: Some(system.object_id).filter(|o| !o.is_empty()),
        profile: report.profile,
        caps: lldp.caps,
        chassis: lldp.chassis.clone(),
        interfaces: report
            .interfaces
            .into_iter()
            .map(|i| Interface {
                index: i.index,
                name: i.name,
                descr: i.descr,
            })
            .collect(),
        lldp,
        errors,
    })
}
