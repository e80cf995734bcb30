//! The socket side: a front UDP socket that counts and filters, a bounded queue, and a decoder.
//!
//! We own the public socket rather than letting async-snmp's `NotificationReceiver` own it,
//! because that receiver silently skips datagrams it cannot parse or whose community it
//! refuses: it could not tell us how many garbage or rejected datagrams arrived, and it parses
//! before any source check. So:
//!
//! * the front task only reads, counts, and refuses unknown sources (no BER parsing, cheap
//!   under a flood), then `try_send`s into a bounded queue; a full queue is a counted drop,
//!   never a stall;
//! * the decoder task parses v1/v2c with async-snmp's message codec, checks the community
//!   (constant time), acks v2c informs, and emits events;
//! * SNMPv3 needs USM (keys, engine discovery, decryption, timeliness), which async-snmp does
//!   well, so v3 datagrams are relayed over loopback to an internal `NotificationReceiver`.
//!   Each v3 sender gets its own relay socket so replies (inform acks, discovery reports) go
//!   back to the right sender from the public address, and events keep the real source.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_snmp::message::{CommunityMessage, CommunityPdu, Message};
use async_snmp::{
    AuthProtocol, AuthoritativeEngine, DecodeConfig, Notification, NotificationAcceptance,
    NotificationReceiver, PduType, PersistedAuthoritativeEngine, PrivProtocol, ResponsePdu,
    SecurityLevel, UsmUser, Value, Version,
};
use bytes::Bytes;
use faultline_observe::{Observation, UnixMillis};
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::decode::{interpret, render_varbinds};
use crate::secret::Secret;

/// Maps a source IP to a device id. Return `None` for unknown sources.
pub type SourceResolver = Arc<dyn Fn(IpAddr) -> Option<String> + Send + Sync>;

/// One SNMPv3 user allowed to send traps and informs.
#[derive(Clone, Debug)]
pub struct V3User {
    pub name: String,
    pub auth: AuthProtocol,
    pub auth_pass: Secret,
    /// Privacy protocol and pass phrase; `None` for authNoPriv. DES is refused (it needs a
    /// durable salt store we do not keep).
    pub privacy: Option<(PrivProtocol, Secret)>,
}

/// Receiver configuration.
#[derive(Clone)]
pub struct TrapConfig {
    pub listen: SocketAddr,
    /// Known sources: IP → device id.
    pub sources: HashMap<IpAddr, String>,
    /// Consulted for IPs not in `sources` (e.g. backed by the topology).
    pub resolver: Option<SourceResolver>,
    /// Accept traps from sources that neither `sources` nor `resolver` know (device id = None).
    /// Off by default: only known devices may prompt repolls.
    pub accept_unknown_sources: bool,
    /// Allowed v1/v2c communities. Empty means v1/v2c traps are refused altogether unless
    /// `accept_any_community` is set.
    pub communities: Vec<Secret>,
    pub accept_any_community: bool,
    /// Allowed v3 users (authNoPriv or authPriv only; noAuthNoPriv is refused).
    pub v3_users: Vec<V3User>,
    /// SNMPv3 engine id of this receiver (informs are sent to it). Random if `None`.
    pub engine_id: Option<Vec<u8>>,
    /// File holding the v3 engine id and boots counter across restarts (RFC 3414 needs boots
    /// to grow so that senders' cached timeliness is refreshed). Without it, a restarted
    /// receiver starts again at boots 1 with a fresh engine id.
    pub engine_state: Option<std::path::PathBuf>,
    /// Capacity of the queue between the socket and the decoder, and of the event channel.
    pub queue_capacity: usize,
    /// Requested SO_RCVBUF of the public socket, in bytes (the kernel may cap it).
    pub recv_buffer_bytes: usize,
}

impl std::fmt::Debug for TrapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrapConfig")
            .field("listen", &self.listen)
            .field("sources", &self.sources)
            .field("resolver", &self.resolver.is_some())
            .field("accept_unknown_sources", &self.accept_unknown_sources)
            .field("communities", &self.communities)
            .field("accept_any_community", &self.accept_any_community)
            .field("v3_users", &self.v3_users)
            .field("queue_capacity", &self.queue_capacity)
            .finish()
    }
}

impl TrapConfig {
    /// A config listening on `listen` with defaults: no sources, no credentials, queue 65,536.
    pub fn new(listen: SocketAddr) -> Self {
        TrapConfig {
            listen,
            sources: HashMap::new(),
            resolver: None,
            accept_unknown_sources: false,
            communities: Vec::new(),
            accept_any_community: false,
            v3_users: Vec::new(),
            engine_id: None,
            engine_state: None,
            // Each queued datagram may be up to 64 KiB: 4096 bounds the queue at 256 MiB worst
            // case (spoofable sources) while absorbing bursts far above the measured 73k/s.
            queue_capacity: 4096,
            recv_buffer_bytes: 8 << 20,
        }
    }
}

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum TrapError {
    #[error("cannot bind trap socket on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid SNMPv3 user {user:?}: {reason}")]
    V3User { user: String, reason: String },
    #[error("SNMPv3 engine state file {path}: {reason}")]
    EngineState {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("cannot start internal SNMP notification receiver: {0}")]
    Internal(String),
}

/// Counters, all monotonic since start.
#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    decoded: AtomicU64,
    rejected_source: AtomicU64,
    rejected_auth: AtomicU64,
    malformed: AtomicU64,
    dropped_queue_full: AtomicU64,
}

/// A snapshot of the receiver's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TrapStats {
    /// Datagrams read from the public socket.
    pub received: u64,
    /// Notifications decoded and delivered as events.
    pub decoded: u64,
    /// Datagrams from sources not allowed.
    pub rejected_source: u64,
    /// Wrong community, unknown v3 user, bad digest, undecryptable, or below authNoPriv.
    pub rejected_auth: u64,
    /// Datagrams that are not a parsable SNMP message.
    pub malformed: u64,
    /// Dropped because the decode queue or the event channel was full.
    pub dropped_queue_full: u64,
}

/// "Please re-poll this device now": traps are prompts, polled state is the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepollRequest {
    pub device_id: String,
}

/// One decoded notification.
#[derive(Debug, Clone, Serialize)]
pub struct TrapEvent {
    pub received_at: UnixMillis,
    pub source: SocketAddr,
    pub device_id: Option<String>,
    /// "v1", "v2c" or "v3".
    pub version: &'static str,
    /// True for an inform (which was acknowledged before this event was emitted).
    pub inform: bool,
    pub trap_oid: String,
    /// sysUpTime.0 of the sender (or the v1 time-stamp), hundredths of a second.
    pub uptime_cs: u32,
    pub observations: Vec<Observation>,
    /// The device to re-poll (also sent on the repoll channel).
    pub repoll: Option<String>,
    pub varbinds: Vec<(String, String)>,
}

/// A running trap receiver. Dropping it stops the background tasks.
pub struct TrapReceiver {
    local_addr: SocketAddr,
    counters: Arc<Counters>,
    internal: Option<NotificationReceiver>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    repoll_rx: Option<mpsc::Receiver<RepollRequest>>,
}

use faultline_observe::time::now_ms;

/// Log a reject at warn on the 1st, 2nd, 4th, 8th… occurrence and at debug otherwise, so a
/// flood is visible without flooding the log.
fn log_reject(count: u64, what: &str, source: SocketAddr) {
    if count.is_power_of_two() {
        tracing::warn!(%source, total = count, "trap rejected: {what}");
    } else {
        tracing::debug!(%source, total = count, "trap rejected: {what}");
    }
}

struct Queued {
    data: Bytes,
    source: SocketAddr,
    device_id: Option<String>,
}

/// Reverse map for the relay: relay socket address → (original source, device id).
type RelayMap = Arc<Mutex<HashMap<SocketAddr, (SocketAddr, Option<String>)>>>;

impl TrapReceiver {
    /// Bind the public socket and start the receiver.
    ///
    /// Returns the receiver (for stats, repoll requests and shutdown) and the event stream.
    pub async fn bind(
        config: TrapConfig,
    ) -> Result<(TrapReceiver, mpsc::Receiver<TrapEvent>), TrapError> {
        Self::bind_with_shutdown(config, CancellationToken::new()).await
    }

    /// Like [`bind`](Self::bind), stopping when `shutdown` is cancelled.
    pub async fn bind_with_shutdown(
        config: TrapConfig,
        shutdown: CancellationToken,
    ) -> Result<(TrapReceiver, mpsc::Receiver<TrapEvent>), TrapError> {
        let front = bind_front(config.listen, config.recv_buffer_bytes)?;
        let local_addr = front.local_addr().map_err(|source| TrapError::Bind {
            addr: config.listen,
            source,
        })?;
        let front = Arc::new(front);
        let counters = Arc::new(Counters::default());
        let capacity = config.queue_capacity.max(1);
        let (queue_tx, queue_rx) = mpsc::channel::<Queued>(capacity);
        let (event_tx, event_rx) = mpsc::channel::<TrapEvent>(capacity);
        let (repoll_tx, repoll_rx) = mpsc::channel::<RepollRequest>(capacity);
        let out = Arc::new(Outputs {
            counters: counters.clone(),
            events: event_tx,
            repolls: repoll_tx,
        });
        let config = Arc::new(config);
        let mut tasks = Vec::new();

        // The v3 path exists only when v3 users are configured.
        let (internal, relay_tx) = if config.v3_users.is_empty() {
            (None, None)
        } else {
            let internal = build_internal(&config, counters.clone()).await?;
            let (relay_tx, relay_rx) = mpsc::channel::<Queued>(capacity.min(4096));
            let relay_map: RelayMap = Arc::new(Mutex::new(HashMap::new()));
            tasks.push(tokio::spawn(relay_loop(
                front.clone(),
                internal.local_addr(),
                relay_rx,
                relay_map.clone(),
                shutdown.clone(),
            )));
            tasks.push(tokio::spawn(v3_loop(
                internal.clone(),
                relay_map,
                out.clone(),
                shutdown.clone(),
            )));
            (Some(internal), Some(relay_tx))
        };
        tasks.push(tokio::spawn(front_loop(
            front.clone(),
            config.clone(),
            counters.clone(),
            queue_tx,
            shutdown.clone(),
        )));
        tasks.push(tokio::spawn(decoder_loop(
            front,
            config,
            queue_rx,
            relay_tx,
            out,
            shutdown.clone(),
        )));
        tracing::info!(listen = %local_addr, "trap receiver started");
        Ok((
            TrapReceiver {
                local_addr,
                counters,
                internal,
                shutdown,
                tasks,
                repoll_rx: Some(repoll_rx),
            },
            event_rx,
        ))
    }

    /// The bound public address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The repoll request stream. Returns `None` after the first call.
    pub fn take_repoll_requests(&mut self) -> Option<mpsc::Receiver<RepollRequest>> {
        self.repoll_rx.take()
    }

    /// Current counters.
    pub fn stats(&self) -> TrapStats {
        let c = &self.counters;
        // USM failures are counted inside async-snmp; unknown engine ids are left out because
        // they are the normal first step of v3 inform discovery, not an attack.
        let usm = self.internal.as_ref().map_or(0, |i| {
            u64::from(i.usm_unknown_usernames())
                + u64::from(i.usm_wrong_digests())
                + u64::from(i.usm_decryption_errors())
                + u64::from(i.usm_unsupported_sec_levels())
        });
        TrapStats {
            received: c.received.load(Ordering::Relaxed),
            decoded: c.decoded.load(Ordering::Relaxed),
            rejected_source: c.rejected_source.load(Ordering::Relaxed),
            rejected_auth: c.rejected_auth.load(Ordering::Relaxed) + usm,
            malformed: c.malformed.load(Ordering::Relaxed),
            dropped_queue_full: c.dropped_queue_full.load(Ordering::Relaxed),
        }
    }

    /// Stop all tasks and wait for them to finish.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for TrapReceiver {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn bind_front(addr: SocketAddr, rcvbuf: usize) -> Result<UdpSocket, TrapError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let err = |source| TrapError::Bind { addr, source };
    let socket =
        Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(err)?;
    // A bigger receive buffer is what absorbs bursts while the decoder catches up. The kernel
    // caps it at net.core.rmem_max; failing to raise it is not fatal.
    if let Err(e) = socket.set_recv_buffer_size(rcvbuf) {
        tracing::warn!(%addr, error = %e, "could not raise SO_RCVBUF on trap socket");
    }
    socket.set_nonblocking(true).map_err(err)?;
    socket.bind(&addr.into()).map_err(err)?;
    UdpSocket::from_std(socket.into()).map_err(err)
}

async fn build_internal(
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
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

fn resolve(config: &TrapConfig, ip: IpAddr) -> Option<String> {
    // IPv4-mapped IPv6 sources (dual-stack sockets) resolve as their IPv4 address.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    config
        .sources
        .get(&ip)
        .cloned()
        .or_else(|| config.resolver.as_ref().and_then(|r| r(ip)))
}

async fn front_loop(
    socket: Arc<UdpSocket>,
    config: Arc<TrapConfig>,
    counters: Arc<Counters>,
    queue: mpsc::Sender<Queued>,
    shutdown: CancellationToken,
) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (len, source) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    // ICMP errors from earlier sends (ECONNREFUSED) surface here on Linux;
                    // they are not fatal to a listening socket.
                    tracing::debug!(error = %e, "trap socket receive error");
                    continue;
                }
            },
        };
        counters.received.fetch_add(1, Ordering::Relaxed);
        let device_id = resolve(&config, source.ip());
        if device_id.is_none() && !config.accept_unknown_sources {
            let n = counters.rejected_source.fetch_add(1, Ordering::Relaxed) + 1;
            log_reject(n, "unknown source", source);
            continue;
        }
        let data = Bytes::copy_from_slice(&buf[..len]);
        if queue
            .try_send(Queued {
                data,
                source,
                device_id,
            })
            .is_err()
        {
            let n = counters.dropped_queue_full.fetch_add(1, Ordering::Relaxed) + 1;
            log_reject(n, "decode queue full", source);
        }
    }
}

/// What the decoder made of one datagram.
pub(crate) enum Decoded {
    /// A v1/v2c notification, with the encoded inform response to send back, if any.
    Notification(Box<Notification>, Option<Bytes>),
    /// An SNMPv3 message: USM work for the internal receiver.
    V3,
    Malformed(&'static str),
    BadCommunity,
}

/// Decode one v1/v2c datagram into a notification (pure: no I/O).
pub(crate) fn decode_datagram(data: Bytes, config: &TrapConfig) -> Decoded {
    let outcome = match Message::decode(data, DecodeConfig::default()) {
        Ok(o) => o,
        Err(_) => return Decoded::Malformed("not an SNMP message"),
    };
    let anomalies = outcome.anomalies;
    let msg = match outcome.value {
        Message::Community(m) => m,
        Message::V3(_) => return Decoded::V3,
    };
    let (version, community, pdu) = msg.into_parts();
    let c = community.as_bytes();
    if !(config.accept_any_community || config.communities.iter().any(|s| s.ct_eq(c))) {
        return Decoded::BadCommunity;
    }
    match pdu {
        CommunityPdu::TrapV1(trap) => Decoded::Notification(
            Box::new(Notification::TrapV1 {
                community,
                trap,
                decode_anomalies: anomalies,
            }),
            None,
        ),
        CommunityPdu::Standard(pdu) => {
            let pdu_type = pdu.pdu_type();
            if !matches!(pdu_type, PduType::TrapV2 | PduType::InformRequest)
                || version != Version::V2c
            {
                return Decoded::Malformed("not a notification PDU");
            }
            let (request_id, _body, mut varbinds) = pdu.into_raw_parts();
            // RFC 3416: sysUpTime.0 then snmpTrapOID.0 open every v2 notification.
            let (uptime, trap_oid) = match varbinds.get(..2) {
                Some([u, t]) => match (&u.value, &t.value) {
                    (Value::TimeTicks(u), Value::ObjectIdentifier(o)) => (*u, o.clone()),
                    _ => return Decoded::Malformed("notification without sysUpTime/snmpTrapOID"),
                },
                _ => return Decoded::Malformed("notification without sysUpTime/snmpTrapOID"),
            };
            if pdu_type == PduType::InformRequest {
                // The ack echoes the request's varbinds (RFC 3416 4.2.7).
                let ack = ResponsePdu::success(Version::V2c, request_id, varbinds.clone())
                    .and_then(|r| CommunityMessage::v2c(community.clone(), r))
                    .and_then(|m| m.encode());
                let vbs = varbinds.split_off(2);
                let n = Notification::InformV2c {
                    community,
                    uptime,
                    trap_oid,
                    varbinds: vbs,
                    request_id,
                    decode_anomalies: anomalies,
                };
                match ack {
                    Ok(ack) => Decoded::Notification(Box::new(n), Some(ack)),
                    Err(_) => Decoded::Malformed("inform cannot be acknowledged"),
                }
            } else {
                let vbs = varbinds.split_off(2);
                Decoded::Notification(
                    Box::new(Notification::TrapV2c {
                        community,
                        uptime,
                        trap_oid,
                        varbinds: vbs,
                        request_id,
                        decode_anomalies: anomalies,
                    }),
                    None,
                )
            }
        }
    }
}

/// Decode one v1/v2c datagram into the event the receiver would emit, without a socket: the
/// whole untrusted-input path (BER, community check, interpretation). `None` when the receiver
/// would count the datagram as malformed, refused or SNMPv3. For replay tools and fuzzing.
pub fn decode_event(
    data: &[u8],
    config: &TrapConfig,
    source: SocketAddr,
    at: UnixMillis,
) -> Option<TrapEvent> {
    match decode_datagram(Bytes::copy_from_slice(data), config) {
        Decoded::Notification(n, _ack) => Some(to_event(&n, source, None, at)),
        Decoded::V3 | Decoded::Malformed(_) | Decoded::BadCommunity => None,
    }
}

struct Outputs {
    counters: Arc<Counters>,
    events: mpsc::Sender<TrapEvent>,
    repolls: mpsc::Sender<RepollRequest>,
}

impl Outputs {
    /// Emit one event. Returns false when the consumer has gone away.
    fn count_dropped(&self) {
        let n = self
            .counters
            .dropped_queue_full
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if n.is_power_of_two() {
            tracing::warn!(
                total = n,
                "trap event channel full: consumer too slow, event dropped"
            );
        }
    }

    fn repoll(&self, event: &TrapEvent) {
        if let Some(d) = &event.repoll {
            // Repolls are idempotent prompts: when the channel is full a repoll is already
            // pending, so dropping this one loses nothing.
            let _ = self.repolls.try_send(RepollRequest {
                device_id: d.clone(),
            });
        }
    }

    fn emit(&self, event: TrapEvent) -> bool {
        self.repoll(&event);
        match self.events.try_send(event) {
            Ok(()) => {
                // Counted on delivery, so that received = decoded + rejected_* + malformed +
                // dropped_queue_full holds for v1/v2c.
                self.counters.decoded.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.count_dropped();
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

async fn decoder_loop(
    front: Arc<UdpSocket>,
    config: Arc<TrapConfig>,
    mut queue: mpsc::Receiver<Queued>,
    relay: Option<mpsc::Sender<Queued>>,
    out: Arc<Outputs>,
    shutdown: CancellationToken,
) {
    loop {
        let item = tokio::select! {
            _ = shutdown.cancelled() => return,
            m = queue.recv() => match m { Some(m) => m, None => return },
        };
        let counters = &out.counters;
        match decode_datagram(item.data.clone(), &config) {
            Decoded::Notification(n, ack) => {
                let n = *n;
                let event = to_event(&n, item.source, item.device_id, now_ms());
                let Some(ack) = ack else {
                    if !out.emit(event) {
                        return;
                    }
                    continue;
                };
                // An inform is acknowledged only once its event holds a place in the channel:
                // an acked inform is never resent, so acking and then dropping would lose it.
                // Without room, no ack: the sender retransmits.
                let permit = match out.events.try_reserve() {
                    Ok(p) => p,
                    Err(mpsc::error::TrySendError::Full(())) => {
                        out.count_dropped();
                        continue;
                    }
                    Err(mpsc::error::TrySendError::Closed(())) => return,
                };
                if let Err(e) = front.send_to(&ack, item.source).await {
                    tracing::warn!(source = %item.source, error = %e, "sending inform response failed");
                }
                out.repoll(&event);
                permit.send(event);
                counters.decoded.fetch_add(1, Ordering::Relaxed);
            }
            Decoded::V3 => match &relay {
                Some(relay) => {
                    if relay.try_send(item).is_err() {
                        counters.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None => {
                    let n = counters.rejected_auth.fetch_add(1, Ordering::Relaxed) + 1;
                    log_reject(n, "SNMPv3 message but no v3 users configured", item.source);
                }
            },
            Decoded::Malformed(what) => {
                let n = counters.malformed.fetch_add(1, Ordering::Relaxed) + 1;
                log_reject(n, what, item.source);
            }
            Decoded::BadCommunity => {
                let n = counters.rejected_auth.fetch_add(1, Ordering::Relaxed) + 1;
                log_reject(n, "community not allowed", item.source);
            }
        }
    }
}

struct Relay {
    socket: Arc<UdpSocket>,
    last_used: Instant,
    task: JoinHandle<()>,
}

const RELAY_IDLE: Duration = Duration::from_secs(120);
const RELAY_MAX: usize = 4096;

async fn relay_loop(
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
async fn v3_loop(
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

/// Build the event for one decoded notification. Pure apart from the inputs.
pub fn to_event(
    n: &Notification,
    source: SocketAddr,
    device_id: Option<String>,
    at: UnixMillis,
) -> TrapEvent {
    let version = match n.version() {
        async_snmp::Version::V1 => "v1",
        async_snmp::Version::V2c => "v2c",
        async_snmp::Version::V3 => "v3",
        _ => "unknown",
    };
    let trap_oid = n.trap_oid().ok();
    let uptime = n.uptime();
    let varbinds = n.varbinds();
    // An unknown-but-accepted source is named by its address so observations still say who.
    let subject_device = device_id.clone().unwrap_or_else(|| source.ip().to_string());
    let observations = match &trap_oid {
        Some(oid) => interpret(&subject_device, at, uptime, oid, varbinds),
        None => Vec::new(),
    };
    TrapEvent {
        received_at: at,
        source,
        repoll: device_id.clone(),
        device_id,
        version,
        inform: n.is_confirmed(),
        trap_oid: trap_oid.map(|o| o.to_string()).unwrap_or_default(),
        uptime_cs: uptime,
        observations,
        varbinds: render_varbinds(varbinds),
    }
}
