//! The public socket and the front task: read, count, refuse unknown sources, queue. No BER
//! parsing here, so a flood costs little.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

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

/// Read datagrams until shutdown; queue those from allowed sources for the decoder.
pub(super) async fn front_loop(
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
