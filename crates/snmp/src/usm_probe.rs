//! A raw SNMPv3 USM probe that tells "wrong credentials" apart from "dead agent".
//!
//! async-snmp 0.18.1 drops the unauthenticated Report an agent sends for an unknown user or a
//! wrong digest, so both look like a timeout (crates.md measured 11 s for a wrong user). After
//! a v3 timeout the poller therefore asks the agent itself, with two hand-built noAuthNoPriv
//! messages that need no keys:
//!
//! 1. engine discovery (empty engine id and user): any Report proves the agent is alive;
//! 2. a GET as `user` at noAuthNoPriv: the agent answers `usmStatsUnknownUserNames`
//!    (1.3.6.1.6.3.15.1.1.3.0) when the user does not exist, or `usmStatsUnsupportedSecLevels`
//!    (…1.1.0) when it exists — then the authenticated request can only have failed on its
//!    passphrase or protocol (the agent counts usmStatsWrongDigests …1.5.0 and answers with an
//!    unauthenticated Report the client must ignore).
//!
//! The parser below is bounds-checked throughout: agent answers are untrusted input.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

const USM_STATS: [u8; 9] = [0x2b, 6, 1, 6, 3, 15, 1, 1, 0]; // 1.3.6.1.6.3.15.1.1 (last arc varies)

/// `Some(explanation)` when the agent is alive but rejects the user; `None` when it does not
/// answer at all (a real timeout) or answers something we cannot interpret.
pub async fn probe(addr: SocketAddr, user: &str, timeout: Duration) -> Option<String> {
    let bind = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = UdpSocket::bind(bind).await.ok()?;
    sock.connect(addr).await.ok()?;
    let wait = timeout.min(Duration::from_secs(2));
    let discovery = exchange(&sock, &message(0x1f01, b"", 0, 0, b""), wait).await?;
    let (engine, boots, time, _) = parse_report(&discovery)?;
    let answer = exchange(
        &sock,
        &message(0x1f02, &engine, boots, time, user.as_bytes()),
        wait,
    )
    .await?;
    let (_, _, _, counter) = parse_report(&answer)?;
    match counter {
        Some(3) => Some(format!(
            "the agent does not know SNMPv3 user {user:?} (usmStatsUnknownUserNames)"
        )),
        Some(1) => Some(format!(
            "SNMPv3 user {user:?} exists but authenticated requests are rejected: wrong auth/privacy passphrase or protocol (usmStatsWrongDigests / decryption error)"
        )),
        Some(n) => Some(format!(
            "the agent rejects SNMPv3 user {user:?} (USM report usmStats.{n})"
        )),
        None => None,
    }
}

async fn exchange(sock: &UdpSocket, msg: &[u8], wait: Duration) -> Option<Vec<u8>> {
    sock.send(msg).await.ok()?;
    let mut buf = vec![0u8; 65_535];
    let n = tokio::time::timeout(wait, sock.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(n);
    Some(buf)
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn int(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    // Minimal two's-complement encoding.
    let mut start = 0;
    while start < 7
        && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    tlv(0x02, &bytes[start..])
}

/// A v3 noAuthNoPriv, reportable GET of sysUpTime.0.
fn message(id: i64, engine: &[u8], boots: i64, time: i64, user: &[u8]) -> Vec<u8> {
    let header = [int(id), int(65_507), tlv(0x04, &[0x04]), int(3)].concat();
    let usm = tlv(
        0x30,
        &[
            tlv(0x04, engine),
            int(boots),
            int(time),
            tlv(0x04, user),
            tlv(0x04, b""),
            tlv(0x04, b""),
        ]
        .concat(),
    );
    let varbind = tlv(
        0x30,
        &[tlv(0x06, &[0x2b, 6, 1, 2, 1, 1, 3, 0]), vec![0x05, 0x00]].concat(),
    );
    let pdu = tlv(
        0xa0,
        &[int(id), int(0), int(0), tlv(0x30, &varbind)].concat(),
    );
    let scoped = tlv(0x30, &[tlv(0x04, engine), tlv(0x04, b""), pdu].concat());
    tlv(
        0x30,
        &[int(3), tlv(0x30, &header), tlv(0x04, &usm), scoped].concat(),
    )
}

/// Read one TLV at the start of `buf`: (tag, content, rest).
fn read(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *buf.first()?;
    let first = *buf.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in buf.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    Some((tag, buf.get(hdr..end)?, buf.get(end..)?))
}

fn read_int(buf: &[u8]) -> Option<(i64, &[u8])> {
    let (tag, c, rest) = read(buf)?;
    if tag != 0x02 || c.is_empty() || c.len() > 8 {
        return None;
    }
    let mut v: i64 = if c[0] & 0x80 != 0 { -1 } else { 0 };
    for b in c {
        v = (v << 8) | i64::from(*b);
    }
    Some((v, rest))
}

/// Parse a v3 Report: (engine id, boots, time, usmStats arc of the first varbind if any).
pub fn parse_report(msg: &[u8]) -> Option<(Vec<u8>, i64, i64, Option<u8>)> {
    let (0x30, body, _) = read(msg)? else {
        return None;
    };
    let (3, rest) = read_int(body)? else {
        return None;
    };
    let (0x30, _header, rest) = read(rest)? else {
        return None;
    };
    let (0x04, usm, rest) = read(rest)? else {
        return None;
    };
    let (0x30, usm, _) = read(usm)? else {
        return None;
    };
    let (0x04, engine, u) = read(usm)? else {
        return None;
    };
    let (boots, u) = read_int(u)?;
    let (time, _) = read_int(u)?;
    // The scoped PDU is plaintext in a noAuthNoPriv Report.
    let (0x30, scoped, _) = read(rest)? else {
        return None;
    };
    let (_, _, s) = read(scoped)?; // contextEngineID
    let (_, _, s) = read(s)?; // contextName
    let (tag, pdu, _) = read(s)?;
    if tag == 0xa2 {
        // A Response (e.g. authorizationError from VACM) rather than a Report: USM accepted
        // the user name at noAuthNoPriv, so the user exists.
        return Some((engine.to_vec(), boots, time, Some(1)));
    }
    if tag != 0xa8 {
        return Some((engine.to_vec(), boots, time, None));
    }
    let (_, p) = read_int(pdu)?;
    let (_, p) = read_int(p)?;
    let (_, p) = read_int(p)?;
    let (0x30, vbs, _) = read(p)? else {
        return None;
    };
    let counter = read(vbs)
        .and_then(|(_, vb, _)| read(vb))
        .and_then(|(tag, oid, _)| match oid {
            // usmStats.N.0: the counter's arc N is the answer. A slice pattern rather than
            // `cond.then_some(oid[8])`, whose argument is indexed even when the OID is short.
            [prefix @ .., arc, 0] if tag == 0x06 && prefix == &USM_STATS[..8] => Some(*arc),
            _ => None,
        });
    Some((engine.to_vec(), boots, time, counter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_what_it_parses() {
        assert_eq!(int(0), vec![2, 1, 0]);
        assert_eq!(int(128), vec![2, 2, 0, 128]);
        assert_eq!(int(-1), vec![2, 1, 0xff]);
        assert_eq!(read_int(&int(65_507)).map(|x| x.0), Some(65_507));
        let long = tlv(0x04, &[7u8; 300]);
        assert_eq!(read(&long).map(|(_, c, _)| c.len()), Some(300));
    }

    /// Found by the `usm_report` fuzz target: a Report whose first varbind has an OID shorter
    /// than usmStats.N.0 panicked (index out of bounds) instead of naming no counter.
    #[test]
    fn report_with_a_short_varbind_oid_is_not_a_panic() {
        let short_oid = tlv(
            0x30,
            &tlv(
                0x30,
                &[tlv(0x06, &[0x2b, 6, 1, 6, 3, 15]), tlv(0x05, &[])].concat(),
            ),
        );
        let report_pdu = tlv(0xa8, &[int(1), int(0), int(0), short_oid].concat());
        let scoped = tlv(
            0x30,
            &[tlv(0x04, b"engine"), tlv(0x04, b""), report_pdu].concat(),
        );
        let usm = tlv(
            0x30,
            &[
                tlv(0x04, b"engine"),
                int(3),
                int(4),
                tlv(0x04, b""),
                tlv(0x04, b""),
                tlv(0x04, b""),
            ]
            .concat(),
        );
        let header = [int(1), int(65_507), tlv(0x04, &[0]), int(3)].concat();
        let msg = tlv(
            0x30,
            &[int(3), tlv(0x30, &header), tlv(0x04, &usm), scoped].concat(),
        );
        assert_eq!(parse_report(&msg), Some((b"engine".to_vec(), 3, 4, None)));
    }

    proptest! {
        // Untrusted datagrams: any bytes, and any truncation of a well-formed message, must
        // give None or a value, never a panic.
        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_report(&bytes);
        }

        #[test]
        fn truncated_messages_never_panic(cut in 0usize..120) {
            let m = message(5, b"engine", 1, 2, b"user");
            let _ = parse_report(&m[..cut.min(m.len())]);
        }
    }
}
