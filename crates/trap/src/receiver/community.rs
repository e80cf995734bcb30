//! SNMPv1/v2c: decoding a datagram (BER, community check, inform ack) and the decoder task
//! that emits events, acks informs and hands SNMPv3 datagrams to the USM path.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_snmp::message::{CommunityMessage, CommunityPdu, Message};
use async_snmp::{DecodeConfig, Notification, PduType, ResponsePdu, Value, Version};
use bytes::Bytes;
use faultline_observe::UnixMillis;
use faultline_observe::time::now_ms;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::counters::Outputs;
use super::front::Backlog;
use super::{Queued, TrapConfig, TrapEvent, log_reject, to_event};

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

/// Decode queued batches of datagrams until shutdown: v1/v2c here, v3 to `relay` (refused
/// without it).
pub(super) async fn decoder_loop(
    front: Arc<UdpSocket>,
    config: Arc<TrapConfig>,
    mut queue: mpsc::Receiver<Vec<Queued>>,
    backlog: Arc<Backlog>,
    relay: Option<mpsc::Sender<Queued>>,
    out: Arc<Outputs>,
    shutdown: CancellationToken,
) {
    loop {
        let batch = tokio::select! {
            _ = shutdown.cancelled() => return,
            m = queue.recv() => match m { Some(m) => m, None => return },
        };
        backlog.taken(batch.len());
        for item in batch {
            if !decode_one(&front, &config, item, relay.as_ref(), &out).await {
                return;
            }
        }
    }
}

/// Decode one queued datagram and deliver, relay or count it. False when the consumer is gone.
async fn decode_one(
    front: &UdpSocket,
    config: &TrapConfig,
    item: Queued,
    relay: Option<&mpsc::Sender<Queued>>,
    out: &Outputs,
) -> bool {
    let counters = &out.counters;
    match decode_datagram(item.data.clone(), config) {
        Decoded::Notification(n, ack) => {
            let n = *n;
            let event = to_event(&n, item.source, item.device_id, now_ms());
            let Some(ack) = ack else {
                return out.emit(event);
            };
            // An inform is acknowledged only once its event holds a place in the channel:
            // an acked inform is never resent, so acking and then dropping would lose it.
            // Without room, no ack: the sender retransmits.
            let permit = match out.events.try_reserve() {
                Ok(p) => p,
                Err(mpsc::error::TrySendError::Full(())) => {
                    out.count_dropped();
                    return true;
                }
                Err(mpsc::error::TrySendError::Closed(())) => return false,
            };
            if let Err(e) = front.send_to(&ack, item.source).await {
                tracing::warn!(source = %item.source, error = %e, "sending inform response failed");
            }
            out.repoll(&event);
            permit.send(event);
            counters.decoded.fetch_add(1, Ordering::Relaxed);
        }
        Decoded::V3 => match relay {
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
    true
}
