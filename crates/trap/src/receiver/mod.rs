//! The socket side: a front UDP socket that counts and filters, a bounded queue, and a decoder.
//!
//! We own the public socket rather than letting async-snmp's `NotificationReceiver` own it,
//! because that receiver silently skips datagrams it cannot parse or whose community it
//! refuses: it could not tell us how many garbage or rejected datagrams arrived, and it parses
//! before any source check. So:
//!
//! * the front task only reads, counts, and refuses unknown sources (no BER parsing, cheap
//!   under a flood), then `try_send`s into a bounded queue; a full queue is a counted drop,
//!   never a stall. One readiness wakeup drains every datagram waiting (nonblocking reads, up
//!   to 64) and queues them as one batch, so at 5–10k/s a trap costs a fraction of a wakeup
//!   and of a channel hand-off instead of one each; the queue stays bounded in datagrams;
//! * the decoder task parses v1/v2c with async-snmp's message codec, checks the community
//!   (constant time), acks v2c informs, and emits events;
//! * SNMPv3 needs USM (keys, engine discovery, decryption, timeliness), which async-snmp does
//!   well, so v3 datagrams are relayed over loopback to an internal `NotificationReceiver`.
//!   Each v3 sender gets its own relay socket so replies (inform acks, discovery reports) go
//!   back to the right sender from the public address, and events keep the real source.

mod community;
mod counters;
mod front;
mod usm;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use async_snmp::{AuthProtocol, Notification, NotificationReceiver, PrivProtocol};
use bytes::Bytes;
use faultline_observe::{Observation, UnixMillis};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::decode::{interpret, render_varbinds};
use crate::secret::Secret;
use counters::{Counters, Outputs};

pub use community::decode_event;

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
        let front = front::bind_front(config.listen, config.recv_buffer_bytes)?;
        let local_addr = front.local_addr().map_err(|source| TrapError::Bind {
            addr: config.listen,
            source,
        })?;
        let front = Arc::new(front);
        let counters = Arc::new(Counters::default());
        let capacity = config.queue_capacity.max(1);
        // Batches of datagrams; the backlog bounds what they hold to `capacity` datagrams.
        let (queue_tx, queue_rx) = mpsc::channel::<Vec<Queued>>(capacity);
        let backlog = Arc::new(front::Backlog::default());
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
            let internal = usm::build_internal(&config, counters.clone()).await?;
            let (relay_tx, relay_rx) = mpsc::channel::<Queued>(capacity.min(4096));
            let relay_map: RelayMap = Arc::new(Mutex::new(HashMap::new()));
            tasks.push(tokio::spawn(usm::relay_loop(
                front.clone(),
                internal.local_addr(),
                relay_rx,
                relay_map.clone(),
                shutdown.clone(),
            )));
            tasks.push(tokio::spawn(usm::v3_loop(
                internal.clone(),
                relay_map,
                out.clone(),
                shutdown.clone(),
            )));
            (Some(internal), Some(relay_tx))
        };
        tasks.push(tokio::spawn(front::front_loop(
            front.clone(),
            config.clone(),
            counters.clone(),
            queue_tx,
            backlog.clone(),
            shutdown.clone(),
        )));
        tasks.push(tokio::spawn(community::decoder_loop(
            front,
            config,
            queue_rx,
            backlog,
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
