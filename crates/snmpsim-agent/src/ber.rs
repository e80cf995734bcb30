//! Just enough BER for SNMPv1/v2c messages. Every read is bounds-checked: requests are
//! untrusted input and a bad one is dropped, never a panic.

/// An SNMP value as the simulated agent stores and sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Int(i32),
    Str(Vec<u8>),
    Oid(Vec<u32>),
    Ip([u8; 4]),
    Counter32(u32),
    Gauge32(u32),
    Ticks(u32),
    Counter64(u64),
    Null,
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

pub fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend([0x81, len as u8]);
    } else if len <= 0xffff {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    } else {
        out.extend([0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
}

fn signed(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut s = 0;
    while s < 7 && ((b[s] == 0 && b[s + 1] & 0x80 == 0) || (b[s] == 0xff && b[s + 1] & 0x80 != 0)) {
        s += 1;
    }
    b[s..].to_vec()
}

fn unsigned(v: u64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut s = 0;
    while s < 7 && b[s] == 0 {
        s += 1;
    }
    // A leading 1 bit would read as negative: prefix a zero octet.
    let mut out = if b[s] & 0x80 != 0 { vec![0] } else { vec![] };
    out.extend_from_slice(&b[s..]);
    out
}

pub fn int(out: &mut Vec<u8>, v: i64) {
    tlv(out, 0x02, &signed(v));
}

pub fn oid_bytes(arcs: &[u32]) -> Vec<u8> {
    let mut out = vec![];
    if arcs.len() < 2 {
        return vec![0];
    }
    let first = u64::from(arcs[0]) * 40 + u64::from(arcs[1]);
    for a in std::iter::once(first).chain(arcs[2..].iter().map(|a| u64::from(*a))) {
        let mut stack = vec![(a & 0x7f) as u8];
        let mut v = a >> 7;
        while v > 0 {
            stack.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(stack.iter().rev());
    }
    out
}

pub fn value(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Int(i) => int(out, i64::from(*i)),
        Val::Str(s) => tlv(out, 0x04, s),
        Val::Oid(o) => tlv(out, 0x06, &oid_bytes(o)),
        Val::Ip(a) => tlv(out, 0x40, a),
        Val::Counter32(c) => tlv(out, 0x41, &unsigned(u64::from(*c))),
        Val::Gauge32(g) => tlv(out, 0x42, &unsigned(u64::from(*g))),
        Val::Ticks(t) => tlv(out, 0x43, &unsigned(u64::from(*t))),
        Val::Counter64(c) => tlv(out, 0x46, &unsigned(*c)),
        Val::Null => tlv(out, 0x05, &[]),
        Val::NoSuchObject => tlv(out, 0x80, &[]),
        Val::NoSuchInstance => tlv(out, 0x81, &[]),
        Val::EndOfMibView => tlv(out, 0x82, &[]),
    }
}

/// Read one TLV: (tag, content, rest).
pub fn read(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
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

pub fn read_int(buf: &[u8]) -> Option<(i64, &[u8])> {
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

pub fn parse_oid(c: &[u8]) -> Option<Vec<u32>> {
    let mut arcs = vec![];
    let mut acc: u64 = 0;
    for (i, b) in c.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if acc > u64::from(u32::MAX) * 40 {
            return None;
        }
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (x, y) = if acc < 80 {
                    (acc / 40, acc % 40)
                } else {
                    (2, acc - 80)
                };
                arcs.push(u32::try_from(x).ok()?);
                arcs.push(u32::try_from(y).ok()?);
            } else {
                arcs.push(u32::try_from(acc).ok()?);
            }
            acc = 0;
        } else if i + 1 == c.len() {
            return None;
        }
    }
    (!arcs.is_empty()).then_some(arcs)
}

/// A decoded v1/v2c request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub version: i64,
    pub community: Vec<u8>,
    pub pdu_type: u8,
    pub request_id: i64,
    /// GETBULK non-repeaters / max-repetitions (error-status / index for other PDUs).
    pub p1: i64,
    pub p2: i64,
    pub oids: Vec<Vec<u32>>,
}

pub fn decode_request(msg: &[u8]) -> Option<Request> {
    let (0x30, body, _) = read(msg)? else {
        return None;
    };
    let (version, rest) = read_int(body)?;
    let (0x04, community, rest) = read(rest)? else {
        return None;
    };
    let (pdu_type, pdu, _) = read(rest)?;
    let (request_id, p) = read_int(pdu)?;
    let (p1, p) = read_int(p)?;
    let (p2, p) = read_int(p)?;
    let (0x30, mut vbs, _) = read(p)? else {
        return None;
    };
    let mut oids = vec![];
    while !vbs.is_empty() {
        let (0x30, vb, rest) = read(vbs)? else {
            return None;
        };
        let (0x06, oid, _) = read(vb)? else {
            return None;
        };
        oids.push(parse_oid(oid)?);
        vbs = rest;
    }
    Some(Request {
        version,
        community: community.to_vec(),
        pdu_type,
        request_id,
        p1,
        p2,
        oids,
    })
}

/// Encode a Response PDU message.
pub fn encode_response(
    req: &Request,
    error_status: i64,
    error_index: i64,
    varbinds: &[(&[u32], &Val)],
) -> Vec<u8> {
    let mut vbs = Vec::with_capacity(varbinds.len() * 24);
    let mut one = Vec::with_capacity(64);
    for (oid, v) in varbinds {
        one.clear();
        tlv(&mut one, 0x06, &oid_bytes(oid));
        value(&mut one, v);
        tlv(&mut vbs, 0x30, &one);
    }
    let mut pdu = Vec::with_capacity(vbs.len() + 16);
    int(&mut pdu, req.request_id);
    int(&mut pdu, error_status);
    int(&mut pdu, error_index);
    tlv(&mut pdu, 0x30, &vbs);
    let mut body = Vec::with_capacity(pdu.len() + req.community.len() + 16);
    int(&mut body, req.version);
    tlv(&mut body, 0x04, &req.community);
    tlv(&mut body, 0xa2, &pdu);
    let mut out = Vec::with_capacity(body.len() + 4);
    tlv(&mut out, 0x30, &body);
    out
}
