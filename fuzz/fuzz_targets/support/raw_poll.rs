//! Shared by the targets that decode an SNMP answer: the message's varbinds as a poll's raw
//! reads.

use async_snmp::DecodeConfig;
use async_snmp::message::Message;
use bytes::Bytes;
use faultline_snmp::decode::{RawPoll, SnmpValue};

/// BER-decode `data` as an SNMP message (async-snmp) and take its PDU's varbinds as raw reads;
/// `None` when it is not a message with a PDU.
pub fn answer(data: &[u8]) -> Option<RawPoll> {
    let outcome = Message::decode(Bytes::copy_from_slice(data), DecodeConfig::default()).ok()?;
    let pdu = outcome.value.into_pdu()?;
    Some(raw_poll(pdu.varbinds()))
}

/// Every varbind as a scalar, and as a table cell under each of its OID's proper prefixes, so
/// that any column a decoder reads can be filled without knowing which.
fn raw_poll(varbinds: &[async_snmp::VarBind]) -> RawPoll {
    let mut raw = RawPoll::default();
    for vb in varbinds {
        let Some(v) = SnmpValue::from_snmp(&vb.value) else {
            continue;
        };
        let oid = vb.oid.to_string();
        for (i, _) in oid.match_indices('.') {
            raw.columns
                .entry(oid[..i].to_string())
                .or_default()
                .insert(oid[i + 1..].to_string(), v.clone());
        }
        raw.scalars.insert(oid, v);
    }
    raw
}
