//! SNMPv3: USM (keys, engine discovery, decryption, timeliness) is async-snmp's internal
//! `NotificationReceiver`, fed over loopback relays (one per sender, so replies go back to it
//! from the public address), with the authoritative engine persisted across restarts.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_snmp::{
    AuthoritativeEngine, NotificationAcceptance, NotificationReceiver,
    PersistedAuthoritativeEngine, SecurityLevel, UsmUser,
};
use bytes::Bytes;
use faultline_observe::time::now_ms;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::counters::{Counters, Outputs};
use super::{Queued, RelayMap, TrapConfig, TrapError, log_reject, to_event};

/// Build the internal receiver for the configured v3 users (noAuthNoPriv refused).
pub(super) async fn build_internal(
    config: &TrapConfig,
    counters: Arc<Counters>,
) -> Result<NotificationReceiver, TrapError> {
    // The internal receiver only ever gets v3 datagrams from known sources, relayed by the
    // decoder; it is gated by USM plus a policy that refuses noAuthNoPriv.
    let mut builder = NotificationReceiver::builder()
        .bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0).to_string());
    if !config.v3_users.is_empty() {
        let engine = authoritative_engine(config)?;
        builder = builder.authoritative_engine(engine);
        for u in &config.v3_users {
            let user = u.clone();
            let bad = |reason: String| TrapError::V3User {
                user: u.name.clone(),
                reason,
            };
            if let Some((p, _)) = &user.privacy
                && p.is_des_family()
            {
                return Err(bad(
                    "DES/3DES privacy is not supported by this receiver".into()
                ));
            }
            builder = builder
                .usm_user(user.name.clone(), move |base: UsmUser| {
                    match &user.privacy {
                        Some((p, pp)) => {
                            base.auth_priv(user.auth, user.auth_pass.expose(), *p, pp.expose())
                        }
                        None => base.auth(user.auth, user.auth_pass.expose()),
                    }
                })
                .map_err(|e| bad(e.to_string()))?;
        }
        builder = builder.acceptance_policy(move |env| match env.security_level {
            None => NotificationAcceptance::Accept,
            Some(level) if level >= SecurityLevel::AuthNoPriv => NotificationAcceptance::Accept,
            Some(_) => {
                let n = counters.rejected_auth.fetch_add(1, Ordering::Relaxed) + 1;
                log_reject(n, "SNMPv3 noAuthNoPriv refused", env.source);
                NotificationAcceptance::Reject
            }
        });
    }
    builder
        .build()
        .await
        .map_err(|e| TrapError::Internal(e.to_string()))
}

/// The v3 authoritative engine: restarted from the state file when there is one (boots + 1),
/// installed fresh otherwise.
fn authoritative_engine(config: &TrapConfig) -> Result<AuthoritativeEngine, TrapError> {
    let internal = |e: Box<async_snmp::Error>| TrapError::Internal(e.to_string());
    let Some(path) = config.engine_state.clone() else {
        let id = match &config.engine_id {
            Some(id) => Bytes::from(id.clone()),
            None => async_snmp::generate_engine_id().map_err(internal)?,
        };
        return AuthoritativeEngine::install(id, |_| Ok::<(), std::convert::Infallible>(()))
            .map_err(internal);
    };
    let state_err = |reason: String| TrapError::EngineState {
        path: path.clone(),
        reason,
    };
    let writer = path.clone();
    // Written before the engine uses a new boots value (the library calls this first).
    let persist = move |p: &PersistedAuthoritativeEngine| -> std::io::Result<()> {
        let tmp = writer.with_extension("tmp");
        std::fs::write(
            &tmp,
            format!("{} {}\n", hex(p.engine_id()), p.engine_boots()),
        )?;
        std::fs::rename(&tmp, &writer)
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut parts = text.split_whitespace();
            let id = parts
                .next()
                .and_then(unhex)
                .ok_or_else(|| state_err("no valid hex engine id".into()))?;
            let boots: u32 = parts
                .next()
                .and_then(|b| b.parse().ok())
                .ok_or_else(|| state_err("no valid boots counter".into()))?;
            let previous = PersistedAuthoritativeEngine::new(id, boots)
                .map_err(|e| state_err(e.to_string()))?;
            AuthoritativeEngine::restart(previous, persist).map_err(|e| state_err(e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = match &config.engine_id {
                Some(id) => Bytes::from(id.clone()),
                None => async_snmp::generate_engine_id().map_err(internal)?,
            };
            AuthoritativeEngine::install(id, persist).map_err(|e| state_err(e.to_string()))
        }
        Err(e) => Err(state_err(e.to_string())),
    }
}

fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

struct Relay {
    socket: Arc<UdpSocket>,
    last_used: Instant,
    task: JoinHandle<()>,
}

const RELAY_IDLE: Duration = Duration::from_secs(120);
const RELAY_MAX: usize = 4096;

/// Forward queued v3 datagrams to the internal receiver, each sender through its own relay.
pub(super) async fn relay_loop(
    front: Arc<UdpSocket>,
    internal_addr: SocketAddr,
    mut queue: mpsc::Receiver<Queued>,
    relay_map: RelayMap,
    shutdown: CancellationToken,
) {
    let mut relays: HashMap<SocketAddr, Relay> = HashMap::new();
    loop {
        let item = tokio::select! {
            _ = shutdown.cancelled() => break,
            m = queue.recv() => match m { Some(m) => m, None => break },
        };
        if !relays.contains_key(&item.source) {
            if relays.len() >= RELAY_MAX {
                evict(&mut relays, &relay_map);
            }
            match open_relay(front.clone(), item.source, shutdown.clone()).await {
                Ok((socket, task)) => {
                    if let Ok(addr) = socket.local_addr()
                        && let Ok(mut m) = relay_map.lock()
                    {
                        m.insert(addr, (item.source, item.device_id.clone()));
                    }
                    relays.insert(
                        item.source,
                        Relay {
                            socket,
                            last_used: Instant::now(),
                            task,
                        },
                    );
                }
                Err(e) => {
                    tracing::error!(source = %item.source, error = %e, "cannot open loopback relay socket");
                    continue;
                }
            }
        }
        if let Some(r) = relays.get_mut(&item.source) {
            r.last_used = Instant::now();
            if let Err(e) = r.socket.send_to(&item.data, internal_addr).await {
                tracing::warn!(source = %item.source, error = %e, "relay to decoder failed");
            }
        }
    }
    for (_, r) in relays {
        r.task.abort();
    }
}

/// Drop idle relays; if none is idle, drop the least recently used one.
fn evict(relays: &mut HashMap<SocketAddr, Relay>, relay_map: &RelayMap) {
    let now = Instant::now();
    let mut stale: Vec<SocketAddr> = relays
        .iter()
        .filter(|(_, r)| now.duration_since(r.last_used) > RELAY_IDLE)
        .map(|(k, _)| *k)
        .collect();
    if stale.is_empty()
        && let Some((k, _)) = relays.iter().min_by_key(|(_, r)| r.last_used)
    {
        stale.push(*k);
    }
    for k in stale {
        if let Some(r) = relays.remove(&k) {
            r.task.abort();
            if let (Ok(addr), Ok(mut m)) = (r.socket.local_addr(), relay_map.lock()) {
                m.remove(&addr);
            }
        }
    }
}

/// A loopback socket standing in for one original sender. Whatever the internal receiver
/// sends back to it (inform response, v3 report) goes out of the public socket to that sender.
async fn open_relay(
    front: Arc<UdpSocket>,
    peer: SocketAddr,
    shutdown: CancellationToken,
) -> std::io::Result<(Arc<UdpSocket>, JoinHandle<()>)> {
    let socket =
        Arc::new(UdpSocket::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).await?);
    let s = socket.clone();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        loop {
            let len = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = s.recv_from(&mut buf) => match r { Ok((len, _)) => len, Err(_) => continue },
            };
            if let Err(e) = front.send_to(&buf[..len], peer).await {
                tracing::warn!(%peer, error = %e, "sending inform response failed");
            }
        }
    });
    Ok((socket, task))
}

/// Receives what the internal (v3) receiver accepted and emits events for it.
pub(super) async fn v3_loop(
    internal: NotificationReceiver,
    relay_map: RelayMap,
    out: Arc<Outputs>,
    shutdown: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = internal.recv() => match r {
                Ok(r) => r,
                Err(e) => {
                    // async-snmp reports transient and fatal socket errors alike; pausing keeps
                    // a persistent one from turning this loop into a busy, log-flooding spin.
                    tracing::warn!(error = %e, "SNMPv3 notification receive error");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                    }
                    continue;
                }
            },
        };
        let Some((source, device_id)) = relay_map
            .lock()
            .ok()
            .and_then(|m| m.get(&received.source).cloned())
        else {
            // Not from one of our relays: something else found the internal loopback port.
            out.counters.rejected_source.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        if !out.emit(to_event(
            &received.notification,
            source,
            device_id,
            now_ms(),
        )) {
            return;
        }
    }
}
