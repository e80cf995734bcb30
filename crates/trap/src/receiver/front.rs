//! The public socket and the front task: read, count, refuse unknown sources, queue. No BER
//! parsing here, so a flood costs little.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::counters::Counters;
use super::{Queued, TrapConfig, TrapError, log_reject};

/// Bind the public socket with a receive buffer of `rcvbuf` bytes (best effort).
pub(super) fn bind_front(addr: SocketAddr, rcvbuf: usize) -> Result<UdpSocket, TrapError> {
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

/// The device id of a source address, from the configured sources or the resolver.
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

/// Datagrams read per readiness wakeup at most, and so at most per batch handed on.
pub(super) const MAX_BATCH: usize = 64;

/// After a wakeup that emptied the socket, the front waits this long before waiting for the
/// next datagram (interrupt moderation, as NICs do): at a few thousand traps a second each
/// wakeup then reads several, so the wakeups, context switches and hand-offs of the front, the
/// decoder and whoever takes the events are shared among them instead of paid per trap. A trap
/// is delayed by at most this (plus the timer's 1 ms granularity); the socket's receive buffer
/// holds what arrives meanwhile (100k/s for 2 ms is ~200 datagrams).
pub(super) const COALESCE: std::time::Duration = std::time::Duration::from_millis(1);

/// Datagrams queued for the decoder and not yet taken: the queue is bounded in datagrams (its
/// configured capacity), not in batches, so batching does not change how much it may hold.
#[derive(Debug, Default)]
pub(super) struct Backlog(AtomicUsize);

impl Backlog {
    /// Room for one more datagram, counting `pending` ones not yet handed on.
    fn has_room(&self, pending: usize, capacity: usize) -> bool {
        self.0.load(Ordering::Relaxed) + pending < capacity
    }

    fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The decoder took `n` datagrams off the queue.
    pub(super) fn taken(&self, n: usize) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Read datagrams until shutdown; queue those from allowed sources for the decoder.
///
/// One readiness wakeup reads every datagram waiting (up to [`MAX_BATCH`]) with nonblocking
/// receives, and the allowed ones go to the decoder as one batch: one channel send and at most
/// one decoder wakeup per batch, not per datagram. A wakeup that emptied the socket is followed
/// by [`COALESCE`], so that batches fill at moderate rates too.
pub(super) async fn front_loop(
    socket: Arc<UdpSocket>,
    config: Arc<TrapConfig>,
    counters: Arc<Counters>,
    queue: mpsc::Sender<Vec<Queued>>,
    backlog: Arc<Backlog>,
    shutdown: CancellationToken,
) {
    let capacity = config.queue_capacity.max(1);
    let mut buf = vec![0u8; 65_536];
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = socket.readable() => if let Err(e) = r {
                tracing::warn!(error = %e, "trap socket not readable");
                continue;
            },
        }
        let mut batch = Vec::new();
        let mut drained = false;
        // Bounded in reads, not in datagrams kept: a flood of refused or dropped datagrams (or
        // an error that keeps coming back) must still give way to the decoder after one batch.
        for _ in 0..MAX_BATCH {
            let (len, source) = match socket.try_recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    drained = true;
                    break;
                }
                Err(e) => {
                    // ICMP errors from earlier sends (ECONNREFUSED) surface here on Linux;
                    // they are not fatal to a listening socket, but end this batch.
                    tracing::debug!(error = %e, "trap socket receive error");
                    break;
                }
            };
            counters.received.fetch_add(1, Ordering::Relaxed);
            let device_id = resolve(&config, source.ip());
            if device_id.is_none() && !config.accept_unknown_sources {
                let n = counters.rejected_source.fetch_add(1, Ordering::Relaxed) + 1;
                log_reject(n, "unknown source", source);
                continue;
            }
            if !backlog.has_room(batch.len(), capacity) {
                let n = counters.dropped_queue_full.fetch_add(1, Ordering::Relaxed) + 1;
                log_reject(n, "decode queue full", source);
                continue;
            }
            batch.push(Queued {
                data: Bytes::copy_from_slice(&buf[..len]),
                source,
                device_id,
            });
        }
        if !batch.is_empty() && !hand_on(batch, &queue, &backlog, &counters) {
            return;
        }
        if drained {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(COALESCE) => {}
            }
        }
    }
}

/// Queue a batch for the decoder; `false` when the decoder is gone (shutdown).
fn hand_on(
    batch: Vec<Queued>,
    queue: &mpsc::Sender<Vec<Queued>>,
    backlog: &Backlog,
    counters: &Counters,
) -> bool {
    let n = batch.len();
    backlog.add(n);
    // The backlog bounds the queue in datagrams, and every batch holds at least one, so a
    // channel as deep as the capacity is never full; a closed one means shutdown.
    match queue.try_send(batch) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Closed(_)) => false,
        Err(mpsc::error::TrySendError::Full(lost)) => {
            backlog.taken(n);
            let total = counters
                .dropped_queue_full
                .fetch_add(n as u64, Ordering::Relaxed)
                + n as u64;
            log_reject(total, "decode queue full", lost[0].source);
            true
        }
    }
}
