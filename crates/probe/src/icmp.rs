//! ICMP echo reachability for many hosts over one socket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use faultline_observe::Signal;
use serde::Serialize;
use surge_ping::{Client, Config, ICMP, IcmpPacket, PingIdentifier, PingSequence, SurgeError};
use tokio::time::Instant;

use crate::error::ProbeError;

/// How a sweep is run.
#[derive(Debug, Clone)]
pub struct IcmpOptions {
    /// Echo requests per target.
    pub count: u16,
    /// Gap between two requests to the same target.
    pub interval: Duration,
    /// How long to wait for each reply.
    pub timeout: Duration,
    /// Global send rate cap (packets per second) across all targets. Unpaced bursts overflow
    /// the raw socket's receive buffer (crates.md measured 8–17 % loss for 762 packets).
    pub max_pps: u32,
    /// Payload bytes per request.
    pub payload: usize,
}

impl Default for IcmpOptions {
    fn default() -> Self {
        IcmpOptions {
            count: 3,
            interval: Duration::from_millis(200),
            timeout: Duration::from_secs(1),
            max_pps: 20_000,
            payload: 16,
        }
    }
}

/// Result for one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PingResult {
    pub target: IpAddr,
    pub sent: u16,
    pub received: u16,
    /// Mean RTT of the answered requests.
    pub rtt_ms: Option<f64>,
    pub min_rtt_ms: Option<f64>,
    pub max_rtt_ms: Option<f64>,
    /// Why the last unanswered request failed (timeout, unreachable, send error).
    pub last_error: Option<String>,
}

impl PingResult {
    /// Nothing sent yet to `target`; `error` says why, when nothing will be.
    fn unsent(target: IpAddr, error: Option<&str>) -> PingResult {
        PingResult {
            target,
            sent: 0,
            received: 0,
            rtt_ms: None,
            min_rtt_ms: None,
            max_rtt_ms: None,
            last_error: error.map(str::to_owned),
        }
    }

    pub fn loss(&self) -> f64 {
        if self.sent == 0 {
            1.0
        } else {
            1.0 - f64::from(self.received) / f64::from(self.sent)
        }
    }

    /// The faultline signal: reachable if any request was answered.
    pub fn to_signal(&self) -> Signal {
        Signal::Reachability {
            ok: self.received > 0,
            rtt_ms: self.rtt_ms,
            loss: self.loss(),
        }
    }
}

/// An ICMP pinger holding one socket per address family, shared by every target.
#[derive(Clone)]
pub struct IcmpProber {
    v4: Option<Client>,
    v6: Option<Client>,
    /// Identifier base so two probers in one process (or two processes) rarely share idents.
    ident_base: u16,
    kind_raw: bool,
}

const RCVBUF: usize = 4 << 20;

fn open(kind: ICMP) -> Result<Client, std::io::Error> {
    let config = Config::builder().kind(kind).build();
    let client = Client::new(&config)?;
    raise_rcvbuf(&client);
    Ok(client)
}

fn raise_rcvbuf(client: &Client) {
    use std::os::fd::BorrowedFd;
    let fd = client.get_socket().get_native_sock();
    // SAFETY: `fd` belongs to the socket owned by `client`, which outlives this borrow (we
    // hold `client` for the whole function); we only set an option, never close the fd.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&borrowed);
    // Replies to a burst arrive faster than one task drains them; a 4 MiB buffer (the usual
    // rmem_max) holds ~20k replies. The kernel silently caps this at net.core.rmem_max.
    if let Err(e) = sock.set_recv_buffer_size(RCVBUF) {
        tracing::warn!(error = %e, "could not raise SO_RCVBUF on ICMP socket");
    }
}

fn permission_error(e: std::io::Error) -> ProbeError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        ProbeError::IcmpPermission { source: e }
    } else {
        ProbeError::IcmpSocket { source: e }
    }
}

impl IcmpProber {
    /// Open the ICMPv4 socket (and ICMPv6 if available). Fails with
    /// [`ProbeError::IcmpPermission`] when the process may not open ICMP sockets.
    pub fn new() -> Result<Self, ProbeError> {
        let v4 = open(ICMP::V4).map_err(permission_error)?;
        let kind_raw = matches!(v4.get_socket().get_type(), socket2::Type::RAW);
        // IPv6 is optional: many hosts have it disabled; v6 targets then fail per target.
        let v6 = open(ICMP::V6)
            .map_err(|e| tracing::debug!(error = %e, "no ICMPv6 socket"))
            .ok();
        let ident_base = ident_base();
        Ok(IcmpProber {
            v4: Some(v4),
            v6,
            ident_base,
            kind_raw,
        })
    }

    /// True when the kernel gave us a RAW socket (root / CAP_NET_RAW) rather than an
    /// unprivileged DGRAM ICMP socket.
    pub fn is_raw(&self) -> bool {
        self.kind_raw
    }

    /// Ping one target.
    pub async fn ping(&self, target: IpAddr, opts: &IcmpOptions) -> PingResult {
        let r = self.sweep(&[target], opts).await;
        r.into_iter()
            .next()
            .unwrap_or_else(|| PingResult::unsent(target, Some("internal: no result")))
    }

    /// Ping every target `opts.count` times, paced to `opts.max_pps`, all over one socket.
    /// Results come back in the order of `targets`. Duplicate targets are pinged once.
    pub async fn sweep(&self, targets: &[IpAddr], opts: &IcmpOptions) -> Vec<PingResult> {
        let mut unique: Vec<IpAddr> = Vec::with_capacity(targets.len());
        let mut seen = HashMap::with_capacity(targets.len());
        for t in targets {
            if seen.insert(*t, unique.len()).is_none() {
                unique.push(*t);
            }
        }
        let pacer = Arc::new(Pacer::new(opts.max_pps));
        let payload: Arc<[u8]> = vec![0x46u8; opts.payload].into();
        let mut set = tokio::task::JoinSet::new();
        for (i, target) in unique.iter().copied().enumerate() {
            let client = match target {
                IpAddr::V4(_) => self.v4.clone(),
                IpAddr::V6(_) => self.v6.clone(),
            };
            let ident = PingIdentifier(self.ident_base.wrapping_add(i as u16));
            let pacer = pacer.clone();
            let payload = payload.clone();
            let opts = opts.clone();
            set.spawn(async move {
                (
                    i,
                    ping_target(client, target, ident, &opts, &pacer, &payload).await,
                )
            });
        }
        let mut out: Vec<Option<PingResult>> = vec![None; unique.len()];
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined
                && let Some(slot) = out.get_mut(i)
            {
                *slot = Some(r);
            }
        }
        targets
            .iter()
            .map(|t| {
                seen.get(t)
                    .and_then(|&i| out.get(i).cloned().flatten())
                    .unwrap_or_else(|| PingResult::unsent(*t, Some("internal: ping task failed")))
            })
            .collect()
    }
}

/// A per-prober identifier base. Every RAW ICMP socket on the host sees every echo reply, so
/// two probers (in this process or another) must not pick the same (host, ident, seq) keys.
fn ident_base() -> u16 {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Mix pid, time and a counter; spacing by 4099 keeps consecutive probers' ranges apart.
    ((std::process::id() ^ nanos) as u16).wrapping_add((n as u16).wrapping_mul(4099))
}

/// Hands out evenly spaced send slots so the whole sweep never exceeds `max_pps`.
struct Pacer {
    start: Instant,
    next: AtomicU64,
    nanos_per_packet: u64,
}

impl Pacer {
    fn new(max_pps: u32) -> Self {
        Pacer {
            start: Instant::now(),
            next: AtomicU64::new(0),
            nanos_per_packet: 1_000_000_000 / u64::from(max_pps.max(1)),
        }
    }

    /// Wait for our slot. Slots are claimed in order, spaced `1/max_pps` apart; tokio's
    /// millisecond timer releases them in small same-millisecond batches, which is fine.
    async fn wait(&self) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let at = self.start + Duration::from_nanos(n.saturating_mul(self.nanos_per_packet));
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }
}

async fn ping_target(
    client: Option<Client>,
    target: IpAddr,
    ident: PingIdentifier,
    opts: &IcmpOptions,
    pacer: &Pacer,
    payload: &[u8],
) -> PingResult {
    let mut r = PingResult::unsent(target, None);
    let Some(client) = client else {
        r.sent = opts.count;
        r.last_error = Some("no ICMP socket for this address family".into());
        return r;
    };
    let mut pinger = client.pinger(target, ident).await;
    pinger.timeout(opts.timeout);
    let mut rtts = Vec::with_capacity(usize::from(opts.count));
    for seq in 0..opts.count {
        if seq > 0 {
            tokio::time::sleep(opts.interval).await;
        }
        pacer.wait().await;
        r.sent += 1;
        match pinger.ping(PingSequence(seq), payload).await {
            Ok((packet, rtt)) if is_echo_reply(&packet) => rtts.push(rtt.as_secs_f64() * 1000.0),
            Ok((packet, _)) => r.last_error = Some(describe_error_packet(&packet)),
            Err(SurgeError::Timeout { .. }) => {
                r.last_error = Some(format!("timeout after {:?}", opts.timeout))
            }
            Err(e) => r.last_error = Some(e.to_string()),
        }
    }
    r.received = rtts.len() as u16;
    if !rtts.is_empty() {
        r.rtt_ms = Some(rtts.iter().sum::<f64>() / rtts.len() as f64);
        r.min_rtt_ms = rtts.iter().copied().reduce(f64::min);
        r.max_rtt_ms = rtts.iter().copied().reduce(f64::max);
    }
    r
}

fn is_echo_reply(p: &IcmpPacket) -> bool {
    match p {
        IcmpPacket::V4(p) => p.get_icmp_type().0 == 0,
        IcmpPacket::V6(p) => p.get_icmpv6_type().0 == 129,
    }
}

fn describe_error_packet(p: &IcmpPacket) -> String {
    match p {
        IcmpPacket::V4(p) => {
            let (t, c) = (p.get_icmp_type().0, p.get_icmp_code().0);
            match t {
                3 => format!("destination unreachable (code {c}) from {}", p.get_source()),
                11 => format!("time exceeded from {}", p.get_source()),
                _ => format!("ICMP type {t} code {c} from {}", p.get_source()),
            }
        }
        IcmpPacket::V6(p) => format!(
            "ICMPv6 type {} from {}",
            p.get_icmpv6_type().0,
            p.get_source()
        ),
    }
}
