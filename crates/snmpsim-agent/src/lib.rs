//! A simulated SNMP agent for load tests and demos: a tokio UDP responder that answers v1/v2c
//! GET, GETNEXT and GETBULK from an in-memory, OID-ordered table. One agent answers any
//! community, so one socket can stand in for thousands of devices in a throughput test.
//!
//! Tables come from snmpsim's `.snmprec` format (`oid|type|value`, the format of the
//! recordings of real devices in snmpsim-data) or from [`Table::synthetic`]. sysUpTime.0 is
//! live (hundredths of a second since the agent started), so reboot logic sees a real clock.
//!
//! ```no_run
//! use faultline_agent_sim::{SimAgent, Table};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let agent = SimAgent::start("127.0.0.1:0", Table::synthetic("sim-1", 48)).await?;
//! println!("v2c agent on {}", agent.addr());
//! # Ok(())
//! # }
//! ```
//!
//! Protocol fidelity is checked in `tests/fidelity.rs`: the faultline poller decodes a walk
//! recorded from net-snmp's snmpd, served by this agent, exactly as it decodes snmpd itself.

pub mod ber;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub use ber::Val;
use tokio::net::UdpSocket;

const SYS_UPTIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
/// Bound on varbinds in one answer, as real agents bound theirs by message size.
const MAX_VARBINDS: usize = 1_000;

/// Errors loading a table, naming the line.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("line {line}: {what}: {text:?}")]
    Line {
        line: usize,
        what: &'static str,
        text: String,
    },
}

/// An OID-ordered set of objects.
#[derive(Debug, Clone, Default)]
pub struct Table {
    objects: BTreeMap<Vec<u32>, Val>,
}

fn parse_arcs(s: &str) -> Option<Vec<u32>> {
    s.trim()
        .trim_start_matches('.')
        .split('.')
        .map(|a| a.parse().ok())
        .collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

impl Table {
    pub fn insert(&mut self, oid: &[u32], v: Val) {
        self.objects.insert(oid.to_vec(), v);
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Parse snmpsim's `.snmprec`: `oid|tag|value`, tag `4x` etc. meaning hex-encoded value.
    /// Variation modules (`tag:module`) are not supported and are rejected by line.
    pub fn from_snmprec(text: &str) -> Result<Table, TableError> {
        let mut t = Table::default();
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |what| TableError::Line {
                line: line_no,
                what,
                text: line.chars().take(120).collect(),
            };
            let mut parts = line.splitn(3, '|');
            let (Some(oid), Some(tag), Some(raw)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(err("expected oid|type|value"));
            };
            let oid = parse_arcs(oid).ok_or_else(|| err("bad OID"))?;
            let (tag, hex) = match tag.strip_suffix('x') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let bytes = if hex {
                unhex(raw).ok_or_else(|| err("bad hex"))?
            } else {
                raw.as_bytes().to_vec()
            };
            let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
            let num = |what| text().parse::<u64>().map_err(|_| err(what));
            let v = match tag {
                "2" => Val::Int(text().parse().map_err(|_| err("bad integer"))?),
                "4" => Val::Str(bytes.clone()),
                "5" => Val::Null,
                "6" => Val::Oid(parse_arcs(&text()).ok_or_else(|| err("bad OID value"))?),
                "64" => {
                    let ip: std::net::Ipv4Addr = if hex && bytes.len() == 4 {
                        std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
                    } else {
                        text().parse().map_err(|_| err("bad IpAddress"))?
                    };
                    Val::Ip(ip.octets())
                }
                "65" => Val::Counter32(
                    u32::try_from(num("bad Counter32")?)
                        .map_err(|_| err("Counter32 out of range"))?,
                ),
                "66" => Val::Gauge32(
                    u32::try_from(num("bad Gauge32")?).map_err(|_| err("Gauge32 out of range"))?,
                ),
                "67" => Val::Ticks(
                    u32::try_from(num("bad TimeTicks")?)
                        .map_err(|_| err("TimeTicks out of range"))?,
                ),
                "68" => Val::Str(bytes.clone()),
                "70" => Val::Counter64(num("bad Counter64")?),
                _ => return Err(err("unsupported type tag")),
            };
            t.objects.insert(oid, v);
        }
        Ok(t)
    }

    /// A switch-like device: system group, snmpEngineBoots, and `interfaces` rows of
    /// ifTable/ifXTable (odd-numbered ones up, even ones down).
    pub fn synthetic(sys_name: &str, interfaces: u32) -> Table {
        let mut t = Table::default();
        let sys = |n: u32| vec![1, 3, 6, 1, 2, 1, 1, n, 0];
        t.insert(&sys(1), Val::Str(b"faultline simulated agent".to_vec()));
        t.insert(&sys(2), Val::Oid(vec![1, 3, 6, 1, 4, 1, 8072, 3, 2, 10]));
        t.insert(&sys(3), Val::Ticks(0));
        t.insert(&sys(5), Val::Str(sys_name.as_bytes().to_vec()));
        t.insert(&[1, 3, 6, 1, 6, 3, 10, 2, 1, 2, 0], Val::Int(1));
        for i in 1..=interfaces {
            let ift = |col: u32| vec![1, 3, 6, 1, 2, 1, 2, 2, 1, col, i];
            let ifx = |col: u32| vec![1, 3, 6, 1, 2, 1, 31, 1, 1, 1, col, i];
            let up = i % 2 == 1;
            t.insert(&ift(1), Val::Int(i as i32));
            t.insert(
                &ift(2),
                Val::Str(format!("GigabitEthernet0/{i}").into_bytes()),
            );
            t.insert(&ift(3), Val::Int(6));
            t.insert(&ift(7), Val::Int(1));
            t.insert(&ift(8), Val::Int(if up { 1 } else { 2 }));
            t.insert(&ift(9), Val::Ticks(100 + i));
            t.insert(&ift(10), Val::Counter32(i * 1000));
            t.insert(&ift(14), Val::Counter32(0));
            t.insert(&ift(16), Val::Counter32(i * 500));
            t.insert(&ift(20), Val::Counter32(0));
            t.insert(&ifx(1), Val::Str(format!("Gi0/{i}").into_bytes()));
            t.insert(&ifx(6), Val::Counter64(u64::from(i) * 1_000_000));
            t.insert(&ifx(10), Val::Counter64(u64::from(i) * 500_000));
            t.insert(&ifx(19), Val::Ticks(0));
        }
        t
    }

    fn next_after(&self, oid: &[u32], v1: bool) -> Option<(&Vec<u32>, &Val)> {
        let mut it = self
            .objects
            .range::<[u32], _>((Bound::Excluded(oid), Bound::Unbounded));
        // SNMPv1 has no Counter64: like snmpd, skip those objects in v1 walks (RFC 3584 §4.2.2).
        if v1 {
            it.find(|(_, v)| !matches!(v, Val::Counter64(_)))
        } else {
            it.next()
        }
    }
}

/// Counters of what the agent did (for load tests).
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub varbinds: AtomicU64,
    pub dropped: AtomicU64,
}

/// A running simulated agent; stops when dropped.
pub struct SimAgent {
    addr: SocketAddr,
    stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl SimAgent {
    /// Bind `addr` and serve `table` on the current tokio runtime.
    pub async fn start(addr: &str, table: Table) -> std::io::Result<SimAgent> {
        let sock = bind_udp(addr)?;
        let addr = sock.local_addr()?;
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let table = Arc::new(table);
        let started = Instant::now();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65_535];
            loop {
                let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                    continue;
                };
                let uptime = u32::try_from(started.elapsed().as_millis() / 10).unwrap_or(u32::MAX);
                match answer(&table, &buf[..n], uptime) {
                    Some((reply, vbs)) => {
                        st.requests.fetch_add(1, Ordering::Relaxed);
                        st.varbinds.fetch_add(vbs as u64, Ordering::Relaxed);
                        let _ = sock.send_to(&reply, from).await;
                    }
                    None => {
                        st.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        Ok(SimAgent { addr, stats, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for SimAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A UDP socket with a large receive buffer: thousands of simulated devices polled at once
/// arrive as one burst, and the kernel default (~200 KiB) would drop part of it.
fn bind_udp(addr: &str) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let addr: SocketAddr = addr.parse().map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr}: {e}"))
    })?;
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: capped by net.core.rmem_max.
    let _ = sock.set_recv_buffer_size(4 << 20);
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    UdpSocket::from_std(sock.into())
}

/// Answer one request datagram: (response, varbinds answered), or None to drop it (not
/// decodable, not v1/v2c, or an unsupported PDU type), as a real agent does.
pub fn answer(table: &Table, msg: &[u8], uptime_cs: u32) -> Option<(Vec<u8>, usize)> {
    let req = ber::decode_request(msg)?;
    if req.version != 0 && req.version != 1 {
        return None;
    }
    let v1 = req.version == 0;
    let live = Val::Ticks(uptime_cs);
    let fix = |oid: &[u32], v: &Val| -> Val {
        if oid == SYS_UPTIME {
            live.clone()
        } else {
            v.clone()
        }
    };
    let mut out: Vec<(Vec<u32>, Val)> = Vec::new();
    match req.pdu_type {
        // GET
        0xa0 => {
            for (i, oid) in req.oids.iter().enumerate() {
                match table.objects.get(oid) {
                    Some(v) => out.push((oid.clone(), fix(oid, v))),
                    None if v1 => {
                        return Some((
                            ber::encode_response(&req, 2, i as i64 + 1, &borrow(&req_vbs(&req))),
                            0,
                        ));
                    }
                    None => out.push((oid.clone(), Val::NoSuchObject)),
                }
            }
        }
        // GETNEXT
        0xa1 => {
            for (i, oid) in req.oids.iter().enumerate() {
                match table.next_after(oid, v1) {
                    Some((o, v)) => out.push((o.clone(), fix(o, v))),
                    None if v1 => {
                        return Some((
                            ber::encode_response(&req, 2, i as i64 + 1, &borrow(&req_vbs(&req))),
                            0,
                        ));
                    }
                    None => out.push((oid.clone(), Val::EndOfMibView)),
                }
            }
        }
        // GETBULK (v2c only)
        0xa5 if !v1 => {
            let n = req.oids.len();
            let non_rep = usize::try_from(req.p1.max(0)).unwrap_or(0).min(n);
            let reps = usize::try_from(req.p2.max(0)).unwrap_or(0);
            for oid in &req.oids[..non_rep] {
                match table.next_after(oid, false) {
                    Some((o, v)) => out.push((o.clone(), fix(o, v))),
                    None => out.push((oid.clone(), Val::EndOfMibView)),
                }
            }
            let mut cursors: Vec<Vec<u32>> = req.oids[non_rep..].to_vec();
            'rows: for _ in 0..reps {
                if cursors.is_empty() {
                    break;
                }
                let mut all_end = true;
                for c in cursors.iter_mut() {
                    if out.len() >= MAX_VARBINDS {
                        break 'rows;
                    }
                    match table.next_after(c, false) {
                        Some((o, v)) => {
                            out.push((o.clone(), fix(o, v)));
                            *c = o.clone();
                            all_end = false;
                        }
                        None => out.push((c.clone(), Val::EndOfMibView)),
                    }
                }
                if all_end {
                    break;
                }
            }
        }
        _ => return None,
    }
    let count = out.len();
    Some((ber::encode_response(&req, 0, 0, &borrow(&out)), count))
}

fn req_vbs(req: &ber::Request) -> Vec<(Vec<u32>, Val)> {
    req.oids.iter().map(|o| (o.clone(), Val::Null)).collect()
}

fn borrow(v: &[(Vec<u32>, Val)]) -> Vec<(&[u32], &Val)> {
    v.iter().map(|(o, v)| (o.as_slice(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn snmprec_parses_types_and_reports_bad_lines() {
        let t = Table::from_snmprec(
            "1.3.6.1.2.1.1.1.0|4x|6869\n1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.617\n1.3.6.1.2.1.1.3.0|67|5\n1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615\n",
        )
        .unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(
            t.objects[&vec![1, 3, 6, 1, 2, 1, 1, 1, 0]],
            Val::Str(b"hi".to_vec())
        );
        let e = Table::from_snmprec("1.3.6.1|2|x\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn oid_encoding_round_trips() {
        for arcs in [
            vec![1, 3, 6, 1, 4, 1, 2636, 3, 1, 14, 1, 7, 9, 1, 0, 0],
            vec![1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9, 4294967295],
            vec![2, 999, 3],
        ] {
            assert_eq!(ber::parse_oid(&ber::oid_bytes(&arcs)), Some(arcs));
        }
    }

    proptest! {
        #[test]
        fn garbage_requests_are_dropped_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let t = Table::synthetic("x", 3);
            let _ = answer(&t, &bytes, 0);
        }
    }
}
