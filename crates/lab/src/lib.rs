//! A demo lab that needs nothing installed: every device of a topology becomes a simulated SNMP
//! agent on loopback (system group, an ifTable row per declared link end, FortiGate-style HA
//! tables for active-standby pairs), and every service with a probe becomes a small HTTP
//! server whose answer follows the lab's state.
//!
//! Failures are injected by id: [`Lab::fail`] silences a device's agent (the poller times out,
//! exactly like a dead box) or takes a link's interfaces down on both ends. HA pairs fail over
//! by themselves about two seconds after their active member dies. The portal reproduces the
//! incident faultline was built for: after a failover it answers **404 Not Found** because the
//! spare's configuration is out of sync (the NAT rule never made it across), until
//! [`Lab::fix`] copies it over.
//!
//! The collector knows nothing of the lab: the lab implements its
//! [`faultline_collector::TargetOverrides`] (every device's SNMP agent, every
//! probed service's URL) and serves its own HTTP routes ([`api::routes`]), which `faultline run`
//! hands to the collector.
//!
//! ```no_run
//! # async fn demo(topo: faultline_model::Topology) -> std::io::Result<()> {
//! let lab = faultline_lab::Lab::start(topo).await?;
//! println!("fw-a answers SNMP on {}", lab.agent_addr("fw-a").unwrap());
//! lab.fail("fw-a").unwrap();
//! # Ok(()) }
//! ```

pub mod api;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::routing::get;
use faultline_agent_sim::{Table, Val, answer};
use faultline_collector::{SnmpAgent, TargetOverrides};
use faultline_graph::{DependencyGraph, State};
use faultline_model::{ComponentRef, DeviceKind, GroupMode, Topology};
use tokio::net::UdpSocket;

/// How long an HA pair takes to notice its active member died and promote the spare.
pub const FAILOVER_DELAY: Duration = Duration::from_secs(2);

const FORTIGATE_OID: &[u32] = &[1, 3, 6, 1, 4, 1, 12356, 101, 1, 1000];
const NETSNMP_OID: &[u32] = &[1, 3, 6, 1, 4, 1, 8072, 3, 2, 10];
const HA_MODE: &[u32] = &[1, 3, 6, 1, 4, 1, 12356, 101, 13, 1, 1, 0];
const SELF_SERIAL: &[u32] = &[1, 3, 6, 1, 4, 1, 12356, 100, 1, 1, 1, 0];
const HA_STATS: &[u32] = &[1, 3, 6, 1, 4, 1, 12356, 101, 13, 2, 1, 1];
/// IP-MIB ipForwarding.0: forwarding(1), notForwarding(2) (a readiness check of every profile).
const IP_FORWARDING: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 1, 0];
/// IP-MIB ipv6IpForwarding.0, same encoding.
const IPV6_FORWARDING: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 25, 0];
/// IP-FORWARD-MIB inetCidrRouteNumber.0.
const ROUTE_NUMBER: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 24, 6, 0];
/// Routes every lab device reports: the same on every member, so route counts match.
const LAB_ROUTES: u32 = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LabError {
    #[error("unknown component `{0}` in the lab")]
    Unknown(String),
    #[error("`{0}` is a {1}; only devices and links can be failed")]
    NotFailable(String, &'static str),
    #[error("unknown drift `{0}` (known: forwarding)")]
    UnknownDrift(String),
    #[error("`{0}` is not a device of the lab")]
    NotADevice(String),
}

/// A configuration drift the lab can inject into a device (`faultline lab drift ID WHAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Drift {
    /// IP forwarding switched off: ipForwarding answers notForwarding(2).
    Forwarding,
}

impl Drift {
    /// Every drift, for parsing and help.
    pub const ALL: [Drift; 1] = [Drift::Forwarding];

    /// Its name on the command line and in the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Drift::Forwarding => "forwarding",
        }
    }

    /// The drift with this name.
    pub fn from_name(name: &str) -> Result<Drift, LabError> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| LabError::UnknownDrift(name.to_string()))
    }
}

struct Agent {
    addr: SocketAddr,
    table: Arc<RwLock<Table>>,
    silent: Arc<AtomicBool>,
    /// ifIndex per interface name.
    if_index: BTreeMap<String, u32>,
    /// Serves FortiGate HA tables.
    fortigate: bool,
    task: tokio::task::JoinHandle<()>,
}

/// What the lab looks like now (for `faultline lab status`): the API's type, so the routes
/// serve it as it is.
pub use faultline_api::LabStatus;

struct LabState {
    failed: BTreeSet<String>,
    active: BTreeMap<String, String>,
    primary: BTreeMap<String, String>,
    fixed: bool,
    /// Drifts injected per device.
    drift: BTreeMap<String, BTreeSet<Drift>>,
}

struct Inner {
    graph: DependencyGraph,
    state: Mutex<LabState>,
    agents: BTreeMap<String, Agent>,
    services: Mutex<BTreeMap<String, SocketAddr>>,
    started: Instant,
}

/// The running lab. Cheap to clone; everything stops when the last clone is dropped.
#[derive(Clone)]
pub struct Lab {
    inner: Arc<Inner>,
}

fn serial(id: &str) -> Vec<u8> {
    format!("FGT-{id}").into_bytes()
}

impl Lab {
    /// Start an agent per device and an HTTP server per probed service, all on 127.0.0.1.
    pub async fn start(topo: Topology) -> std::io::Result<Lab> {
        let graph = DependencyGraph::new(topo);
        let t = graph.topology();
        let mut primary = BTreeMap::new();
        for g in &t.groups {
            if g.mode == GroupMode::ActiveStandby
                && let Some(first) = g.members.first()
            {
                primary.insert(g.id.clone(), first.clone());
            }
        }
        let mut agents = BTreeMap::new();
        for (i, d) in t.devices.iter().enumerate() {
            let mut table = Table::default();
            let sys = |n: u32| vec![1, 3, 6, 1, 2, 1, 1, n, 0];
            let fortigate = d.kind == DeviceKind::Firewall && ha_group(t, &d.id).is_some();
            table.insert(
                &sys(1),
                Val::Str(format!("faultline lab {} {}", d.kind.as_str(), d.id).into_bytes()),
            );
            table.insert(
                &sys(2),
                Val::Oid(
                    if fortigate {
                        FORTIGATE_OID
                    } else {
                        NETSNMP_OID
                    }
                    .to_vec(),
                ),
            );
            table.insert(&sys(3), Val::Ticks(0));
            table.insert(&sys(5), Val::Str(d.id.as_bytes().to_vec()));
            table.insert(&[1, 3, 6, 1, 6, 3, 10, 2, 1, 2, 0], Val::Int(1));
            table.insert(IP_FORWARDING, Val::Int(1));
            table.insert(IPV6_FORWARDING, Val::Int(1));
            table.insert(ROUTE_NUMBER, Val::Gauge32(LAB_ROUTES));
            let mut if_index = BTreeMap::new();
            for l in t.links_of(i) {
                if let Some(end) = t.links[l].end_on(i as u32) {
                    let idx = if_index.len() as u32 + 1;
                    if_index.insert(end.interface.to_string(), idx);
                    let ift = |col: u32| vec![1, 3, 6, 1, 2, 1, 2, 2, 1, col, idx];
                    let ifx = |col: u32| vec![1, 3, 6, 1, 2, 1, 31, 1, 1, 1, col, idx];
                    table.insert(&ift(1), Val::Int(idx as i32));
                    table.insert(&ift(2), Val::Str(end.interface.as_bytes().to_vec()));
                    table.insert(&ift(3), Val::Int(6));
                    table.insert(&ift(5), Val::Gauge32(1_000_000_000));
                    table.insert(&ift(7), Val::Int(1));
                    table.insert(&ift(8), Val::Int(1));
                    table.insert(&ift(9), Val::Ticks(0));
                    table.insert(&ifx(1), Val::Str(end.interface.as_bytes().to_vec()));
                    table.insert(&ifx(6), Val::Counter64(0));
                    table.insert(&ifx(10), Val::Counter64(0));
                }
            }
            table.insert(
                &[1, 3, 6, 1, 2, 1, 2, 1, 0],
                Val::Int(if_index.len() as i32),
            );
            if fortigate {
                table.insert(HA_MODE, Val::Int(3));
                table.insert(SELF_SERIAL, Val::Str(serial(&d.id)));
            }
            agents.insert(d.id.clone(), spawn_agent(table, if_index, fortigate).await?);
        }
        let inner = Arc::new(Inner {
            state: Mutex::new(LabState {
                failed: BTreeSet::new(),
                active: primary.clone(),
                primary,
                fixed: false,
                drift: BTreeMap::new(),
            }),
            graph,
            agents,
            services: Mutex::new(BTreeMap::new()),
            started: Instant::now(),
        });
        let lab = Lab { inner };
        lab.refresh_ha();
        let t = lab.inner.graph.topology();
        for s in &t.services {
            if s.probe.is_none() {
                continue;
            }
            let app = axum::Router::new()
                .fallback(get(portal))
                .with_state((lab.clone(), s.id.clone()));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::warn!(error = %e, "lab service stopped");
                }
            });
            lab.lock_services().insert(s.id.clone(), addr);
        }
        Ok(lab)
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, LabState> {
        // A poisoned lock only means a panic elsewhere; the data is still usable for a demo.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_services(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, SocketAddr>> {
        self.inner
            .services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn topology(&self) -> &Topology {
        self.inner.graph.topology()
    }

    /// Where the simulated SNMP agent of a device listens (community: any).
    pub fn agent_addr(&self, device: &str) -> Option<SocketAddr> {
        self.inner.agents.get(device).map(|a| a.addr)
    }

    /// The URL that probes a service in the lab.
    pub fn service_url(&self, service: &str) -> Option<String> {
        let addr = *self.lock_services().get(service)?;
        let path = self
            .topology()
            .service(service)
            .and_then(|s| s.probe.as_ref())
            .and_then(|p| p.url.as_deref())
            .and_then(|u| u.splitn(4, '/').nth(3))
            .unwrap_or("");
        Some(format!("http://{addr}/{path}"))
    }

    pub fn status(&self) -> LabStatus {
        let st = self.lock_state();
        LabStatus {
            failed: st.failed.iter().cloned().collect(),
            active: st.active.clone(),
            fixed: st.fixed,
            drift: st
                .drift
                .iter()
                .map(|(d, set)| {
                    (
                        d.clone(),
                        set.iter().map(|x| x.as_str().to_string()).collect(),
                    )
                })
                .collect(),
            agents: self
                .inner
                .agents
                .iter()
                .map(|(k, a)| (k.clone(), a.addr.to_string()))
                .collect(),
            services: self
                .lock_services()
                .iter()
                .map(|(k, a)| (k.clone(), format!("http://{a}/")))
                .collect(),
        }
    }

    /// Fail a device (its agent stops answering) or a link (both interfaces go down).
    pub fn fail(&self, id: &str) -> Result<(), LabError> {
        self.set_failed(id, true)
    }

    /// Undo [`fail`](Self::fail). A healed HA member comes back as standby.
    pub fn heal(&self, id: &str) -> Result<(), LabError> {
        self.set_failed(id, false)
    }

    /// Copy the active member's configuration to the spare (the fix for the seed incident);
    /// injected drifts are undone with it.
    pub fn fix(&self) {
        self.lock_state().fixed = true;
        self.clear_drift();
        self.refresh_ha();
    }

    /// Inject a configuration drift into a device: `Drift::Forwarding` makes its agent answer
    /// ipForwarding = notForwarding(2), the standby-readiness warning of issue #10.
    pub fn drift(&self, device: &str, what: Drift) -> Result<(), LabError> {
        let agent = self
            .inner
            .agents
            .get(device)
            .ok_or_else(|| LabError::NotADevice(device.to_string()))?;
        match what {
            Drift::Forwarding => agent.write(IP_FORWARDING, Val::Int(2)),
        }
        self.lock_state()
            .drift
            .entry(device.to_string())
            .or_default()
            .insert(what);
        Ok(())
    }

    /// Undo every injected drift.
    fn clear_drift(&self) {
        let drifted = std::mem::take(&mut self.lock_state().drift);
        for (device, set) in drifted {
            let Some(agent) = self.inner.agents.get(&device) else {
                continue;
            };
            for d in set {
                match d {
                    Drift::Forwarding => agent.write(IP_FORWARDING, Val::Int(1)),
                }
            }
        }
    }

    /// Heal everything and break the spare's configuration again.
    pub fn reset(&self) {
        {
            let mut st = self.lock_state();
            st.failed.clear();
            st.fixed = false;
            st.active = st.primary.clone();
        }
        for a in self.inner.agents.values() {
            a.silent.store(false, Ordering::Relaxed);
        }
        self.clear_drift();
        for (i, _) in self.topology().links.iter().enumerate() {
            self.set_link(i, true);
        }
        self.refresh_ha();
    }

    fn set_failed(&self, id: &str, failed: bool) -> Result<(), LabError> {
        let t = self.topology();
        match t.resolve(id) {
            Some(ComponentRef::Device(d)) => {
                let dev = t.devices[d].id.clone();
                if let Some(a) = self.inner.agents.get(&dev) {
                    a.silent.store(failed, Ordering::Relaxed);
                }
                let mut st = self.lock_state();
                if failed {
                    st.failed.insert(dev.clone());
                } else {
                    st.failed.remove(&dev);
                }
                drop(st);
                if failed {
                    // The pair notices after a moment, as real HA does.
                    let lab = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(FAILOVER_DELAY).await;
                        lab.failover(&dev);
                    });
                }
                Ok(())
            }
            Some(ComponentRef::Link(l)) => {
                let lid = t.links[l].id().to_string();
                let mut st = self.lock_state();
                if failed {
                    st.failed.insert(lid);
                } else {
                    st.failed.remove(&lid);
                }
                drop(st);
                self.set_link(l, !failed);
                Ok(())
            }
            Some(other) => Err(LabError::NotFailable(id.to_string(), other.kind_name())),
            None => Err(LabError::Unknown(id.to_string())),
        }
    }

    fn set_link(&self, l: usize, up: bool) {
        let t = self.topology();
        let link = &t.links[l];
        let uptime = self.uptime_cs();
        for end in [link.a(), link.b()] {
            if let Some(a) = self.inner.agents.get(end.device)
                && let Some(&idx) = a.if_index.get(end.interface)
            {
                let mut table = a.table.write().unwrap_or_else(|e| e.into_inner());
                table.insert(
                    &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8, idx],
                    Val::Int(if up { 1 } else { 2 }),
                );
                table.insert(&[1, 3, 6, 1, 2, 1, 2, 2, 1, 9, idx], Val::Ticks(uptime));
            }
        }
    }

    fn uptime_cs(&self) -> u32 {
        u32::try_from(self.inner.started.elapsed().as_millis() / 10).unwrap_or(u32::MAX)
    }

    /// Promote a live member of every active-standby group whose active member is `dead`.
    fn failover(&self, dead: &str) {
        let t = self.topology();
        {
            let mut st = self.lock_state();
            if !st.failed.contains(dead) {
                return;
            }
            for g in &t.groups {
                if g.mode == GroupMode::ActiveStandby
                    && st.active.get(&g.id).map(String::as_str) == Some(dead)
                {
                    let next = g.members.iter().find(|m| !st.failed.contains(*m)).cloned();
                    if let Some(n) = next {
                        tracing::info!(group = %g.id, from = dead, to = %n, "lab: HA failover");
                        st.active.insert(g.id.clone(), n);
                    }
                }
            }
        }
        self.refresh_ha();
    }

    /// Rewrite the HA tables of every active-standby member from the lab state.
    fn refresh_ha(&self) {
        let t = self.topology();
        let st = self.lock_state();
        for g in &t.groups {
            if g.mode != GroupMode::ActiveStandby {
                continue;
            }
            let Some(active) = st.active.get(&g.id) else {
                continue;
            };
            let on_spare = st.primary.get(&g.id) != Some(active);
            for m in &g.members {
                let Some(a) = self.inner.agents.get(m) else {
                    continue;
                };
                if !a.fortigate {
                    continue;
                }
                let mut table = a.table.write().unwrap_or_else(|e| e.into_inner());
                for (row, peer) in g.members.iter().enumerate() {
                    let row = row as u32 + 1;
                    let col = |c: u32| {
                        let mut o = HA_STATS.to_vec();
                        o.push(c);
                        o.push(row);
                        o
                    };
                    table.insert(&col(1), Val::Int(row as i32));
                    table.insert(&col(2), Val::Str(serial(peer)));
                    table.insert(&col(16), Val::Str(serial(active)));
                    // The seed bug: the spare's configuration differs until fixed.
                    let in_sync = st.fixed || !on_spare;
                    table.insert(&col(12), Val::Int(i32::from(in_sync)));
                    let sum = if in_sync || peer != active {
                        "5f3a9c"
                    } else {
                        "77e10b"
                    };
                    table.insert(&col(15), Val::Str(sum.as_bytes().to_vec()));
                }
            }
        }
    }

    /// What a service's probe sees now.
    fn service_answer(&self, service: &str) -> (StatusCode, &'static str) {
        let g = &self.inner.graph;
        let st = self.lock_state();
        let down: Vec<&str> = st.failed.iter().map(String::as_str).collect();
        let state = g
            .what_if(&down)
            .ok()
            .and_then(|r| r.services.into_iter().find(|s| s.id == service))
            .map(|s| s.state)
            .unwrap_or(State::Up);
        if state == State::Down {
            return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n");
        }
        // Redundancy carried the failure, but if a spare is active with its stale config, the
        // published address has no NAT rule behind it.
        let Ok(svc) = g.lookup(service) else {
            return (StatusCode::OK, "OK\n");
        };
        let closure = g.owners(&g.descendants(g.canonical(svc)));
        let t = g.topology();
        let on_broken_spare = closure.iter().any(|c| match g.comp_ref(*c) {
            ComponentRef::Group(gi) => {
                let id = &t.groups[gi].id;
                st.active.get(id) != st.primary.get(id) && !st.fixed
            }
            _ => false,
        });
        if on_broken_spare {
            (StatusCode::NOT_FOUND, "Not Found\n")
        } else {
            (StatusCode::OK, "OK\n")
        }
    }
}

/// The lab stands in for every device (its simulated agent, community `public`; any community
/// is answered) and every probed service (its local HTTP server).
impl TargetOverrides for Lab {
    fn snmp_agent(&self, device: &str) -> Option<SnmpAgent> {
        Some(SnmpAgent {
            addr: self.agent_addr(device)?,
            credentials: faultline_snmp::Credentials::v2c("public"),
        })
    }

    fn probe_url(&self, service: &str) -> Option<String> {
        self.service_url(service)
    }
}

fn ha_group<'t>(t: &'t Topology, device: &str) -> Option<&'t str> {
    t.groups
        .iter()
        .find(|g| g.mode == GroupMode::ActiveStandby && g.members.iter().any(|m| m == device))
        .map(|g| g.id.as_str())
}

async fn portal(AxState((lab, service)): AxState<(Lab, String)>) -> (StatusCode, &'static str) {
    lab.service_answer(&service)
}

async fn spawn_agent(
    table: Table,
    if_index: BTreeMap<String, u32>,
    fortigate: bool,
) -> std::io::Result<Agent> {
    let sock = UdpSocket::bind("127.0.0.1:0").await?;
    let addr = sock.local_addr()?;
    let table = Arc::new(RwLock::new(table));
    let silent = Arc::new(AtomicBool::new(false));
    let (tb, sl) = (table.clone(), silent.clone());
    let started = Instant::now();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                continue;
            };
            if sl.load(Ordering::Relaxed) {
                continue; // a dead device: no answer at all
            }
            let uptime = u32::try_from(started.elapsed().as_millis() / 10).unwrap_or(u32::MAX);
            let reply = {
                let t = tb.read().unwrap_or_else(|e| e.into_inner());
                answer(&t, &buf[..n], uptime)
            };
            if let Some((reply, _)) = reply {
                let _ = sock.send_to(&reply, from).await;
            }
        }
    });
    Ok(Agent {
        addr,
        table,
        silent,
        if_index,
        fortigate,
        task,
    })
}

impl Agent {
    /// Set one object of the agent's table.
    fn write(&self, oid: &[u32], value: Val) {
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        table.insert(oid, value);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for a in self.agents.values() {
            a.task.abort();
        }
    }
}
