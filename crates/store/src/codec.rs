//! The journal's record format: one leading format byte, then the observation.
//!
//! - [`FORMAT_POSTCARD`] (`0x01`): compact binary ([postcard] over the mirror types below:
//!   varints, no field names). What the store writes.
//! - JSON (`{`, the first byte of every entry written before the format byte existed): read
//!   as ever, so old journals keep working, and a journal may hold both.
//!
//! The mirror types exist because [`Observation`]'s serde form is made for JSON (internally
//! tagged enums, omitted empty fields), which a format without field names cannot read back.
//! The conversions are exhaustive matches: a new signal does not compile until it has its
//! binary form. Variants are encoded by position: **append** new ones, never reorder.

use faultline_observe::{
    CableDrift, CableFinding, Fact, HaRole, IfStatus, Observation, PollFailure, ReadinessRule,
    Signal, Subject, UnixMillis,
};
use serde::{Deserialize, Serialize};

/// The format byte of a compact binary record.
pub const FORMAT_POSTCARD: u8 = 0x01;

/// Why a journal record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// An old JSON record that is not an observation.
    #[error("JSON record: {0}")]
    Json(#[from] serde_json::Error),
    /// A binary record that is not an observation.
    #[error("binary record: {0}")]
    Binary(#[from] postcard::Error),
    /// Empty, or a format byte this build does not know.
    #[error("unknown record format {0:?}")]
    Format(Option<u8>),
    /// A binary record with bytes after its observation (damage, not a record this build
    /// wrote).
    #[error("binary record: {0} bytes after the observation")]
    Trailing(usize),
}

/// Encode an observation as a journal record (format byte + postcard).
pub fn encode_observation(obs: &Observation) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_extend(&WireObs::from(obs), vec![FORMAT_POSTCARD])
}

/// Decode a journal record of either format.
pub fn decode_observation(bytes: &[u8]) -> Result<Observation, DecodeError> {
    match bytes.first() {
        Some(&FORMAT_POSTCARD) => {
            let (wire, rest): (WireObs, _) = postcard::take_from_bytes(&bytes[1..])?;
            if !rest.is_empty() {
                return Err(DecodeError::Trailing(rest.len()));
            }
            Ok(wire.into())
        }
        Some(b'{') => Ok(serde_json::from_slice(bytes)?),
        other => Err(DecodeError::Format(other.copied())),
    }
}

#[derive(Serialize, Deserialize)]
struct WireObs {
    at: UnixMillis,
    subject: WireSubject,
    signal: WireSignal,
}

#[derive(Serialize, Deserialize)]
enum WireSubject {
    Device(String),
    Interface(String, String),
    Service(String),
}

#[derive(Serialize, Deserialize)]
struct WireFinding {
    drift: CableDrift,
    link: String,
    end: Option<String>,
    declared: Option<String>,
    seen: Option<String>,
}

#[derive(Serialize, Deserialize)]
enum WireSignal {
    Reachability(bool, Option<f64>, f64),
    AgentUp,
    AgentDown(PollFailure),
    Uptime(u64, Option<u32>),
    Rebooted(bool),
    Interface(IfStatus, IfStatus, Option<u64>),
    Traffic(f64, f64),
    HaRole(HaRole, Option<HaRole>, Option<bool>),
    Readiness(String, Fact, Option<String>, ReadinessRule),
    Probe(bool, Option<u16>, f64, Option<String>, Option<String>),
    RawTrap(String, Vec<(String, String)>),
    Cabling(Vec<WireFinding>),
    CollectorStarted,
    ClockAdvance,
    Acknowledge(String, String, String),
    Unacknowledge(String, String),
    MaintenanceStart(String, Vec<String>, UnixMillis, UnixMillis, String, String),
    MaintenanceEnd(String, String),
    // New variants go last: a variant's position is its number in the journal's records.
    Steady,
    PollerHeartbeat(String, String),
}

impl From<&Observation> for WireObs {
    fn from(o: &Observation) -> Self {
        let subject = match &o.subject {
            Subject::Device { device } => WireSubject::Device(device.clone()),
            Subject::Interface { device, interface } => {
                WireSubject::Interface(device.clone(), interface.clone())
            }
            Subject::Service { service } => WireSubject::Service(service.clone()),
        };
        WireObs {
            at: o.at,
            subject,
            signal: WireSignal::from(o.signal.clone()),
        }
    }
}

impl From<WireObs> for Observation {
    fn from(w: WireObs) -> Self {
        let subject = match w.subject {
            WireSubject::Device(d) => Subject::device(d),
            WireSubject::Interface(d, i) => Subject::interface(d, i),
            WireSubject::Service(s) => Subject::service(s),
        };
        Observation::new(w.at, subject, w.signal.into())
    }
}

impl From<Signal> for WireSignal {
    fn from(s: Signal) -> Self {
        use WireSignal as W;
        match s {
            Signal::Reachability { ok, rtt_ms, loss } => W::Reachability(ok, rtt_ms, loss),
            Signal::AgentUp => W::AgentUp,
            Signal::AgentDown { reason } => W::AgentDown(reason),
            Signal::Uptime {
                sys_uptime_cs,
                engine_boots,
            } => W::Uptime(sys_uptime_cs, engine_boots),
            Signal::Rebooted { cold } => W::Rebooted(cold),
            Signal::Interface {
                oper,
                admin,
                last_change_cs,
            } => W::Interface(oper, admin, last_change_cs),
            Signal::Traffic { in_bps, out_bps } => W::Traffic(in_bps, out_bps),
            Signal::HaRole {
                role,
                peer,
                in_sync,
            } => W::HaRole(role, peer, in_sync),
            Signal::Readiness {
                check,
                value,
                shown,
                rule,
            } => W::Readiness(check, value, shown, rule),
            Signal::Probe {
                ok,
                status,
                latency_ms,
                detail,
                zone,
            } => W::Probe(ok, status, latency_ms, detail, zone),
            Signal::RawTrap { trap_oid, varbinds } => W::RawTrap(trap_oid, varbinds),
            Signal::Cabling { findings } => W::Cabling(
                findings
                    .into_iter()
                    .map(|f| WireFinding {
                        drift: f.drift,
                        link: f.link,
                        end: f.end,
                        declared: f.declared,
                        seen: f.seen,
                    })
                    .collect(),
            ),
            Signal::CollectorStarted => W::CollectorStarted,
            Signal::ClockAdvance => W::ClockAdvance,
            Signal::Acknowledge {
                incident,
                by,
                comment,
            } => W::Acknowledge(incident, by, comment),
            Signal::Unacknowledge { incident, by } => W::Unacknowledge(incident, by),
            Signal::MaintenanceStart {
                window,
                components,
                from,
                to,
                reason,
                by,
            } => W::MaintenanceStart(window, components, from, to, reason, by),
            Signal::MaintenanceEnd { window, by } => W::MaintenanceEnd(window, by),
            Signal::Steady => W::Steady,
            Signal::PollerHeartbeat { zone, poller } => W::PollerHeartbeat(zone, poller),
        }
    }
}

impl From<WireSignal> for Signal {
    fn from(w: WireSignal) -> Self {
        use WireSignal as W;
        match w {
            W::Reachability(ok, rtt_ms, loss) => Signal::Reachability { ok, rtt_ms, loss },
            W::AgentUp => Signal::AgentUp,
            W::AgentDown(reason) => Signal::AgentDown { reason },
            W::Uptime(sys_uptime_cs, engine_boots) => Signal::Uptime {
                sys_uptime_cs,
                engine_boots,
            },
            W::Rebooted(cold) => Signal::Rebooted { cold },
            W::Interface(oper, admin, last_change_cs) => Signal::Interface {
                oper,
                admin,
                last_change_cs,
            },
            W::Traffic(in_bps, out_bps) => Signal::Traffic { in_bps, out_bps },
            W::HaRole(role, peer, in_sync) => Signal::HaRole {
                role,
                peer,
                in_sync,
            },
            W::Readiness(check, value, shown, rule) => Signal::Readiness {
                check,
                value,
                shown,
                rule,
            },
            W::Probe(ok, status, latency_ms, detail, zone) => Signal::Probe {
                ok,
                status,
                latency_ms,
                detail,
                zone,
            },
            W::RawTrap(trap_oid, varbinds) => Signal::RawTrap { trap_oid, varbinds },
            W::Cabling(findings) => Signal::Cabling {
                findings: findings
                    .into_iter()
                    .map(|f| CableFinding {
                        drift: f.drift,
                        link: f.link,
                        end: f.end,
                        declared: f.declared,
                        seen: f.seen,
                    })
                    .collect(),
            },
            W::CollectorStarted => Signal::CollectorStarted,
            W::ClockAdvance => Signal::ClockAdvance,
            W::Acknowledge(incident, by, comment) => Signal::Acknowledge {
                incident,
                by,
                comment,
            },
            W::Unacknowledge(incident, by) => Signal::Unacknowledge { incident, by },
            W::MaintenanceStart(window, components, from, to, reason, by) => {
                Signal::MaintenanceStart {
                    window,
                    components,
                    from,
                    to,
                    reason,
                    by,
                }
            }
            W::MaintenanceEnd(window, by) => Signal::MaintenanceEnd { window, by },
            W::Steady => Signal::Steady,
            W::PollerHeartbeat(zone, poller) => Signal::PollerHeartbeat { zone, poller },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One observation of every signal, with every optional field set and unset.
    fn every_signal() -> Vec<Observation> {
        let rule = ReadinessRule::WithinPercentOfActive { percent: 5.5 };
        let finding = |end: Option<&str>| CableFinding {
            drift: CableDrift::Moved,
            link: "a:1--b:2".into(),
            end: end.map(Into::into),
            declared: end.map(|_| "b:2".into()),
            seen: None,
        };
        let signals = vec![
            Signal::Reachability {
                ok: true,
                rtt_ms: Some(0.25),
                loss: 0.0,
            },
            Signal::Reachability {
                ok: false,
                rtt_ms: None,
                loss: 1.0,
            },
            Signal::AgentUp,
            Signal::AgentDown {
                reason: PollFailure::ProfileMismatch,
            },
            Signal::Uptime {
                sys_uptime_cs: 123_456_789,
                engine_boots: Some(7),
            },
            Signal::Rebooted { cold: true },
            Signal::Interface {
                oper: IfStatus::LowerLayerDown,
                admin: IfStatus::Up,
                last_change_cs: None,
            },
            Signal::Traffic {
                in_bps: 1.5e9,
                out_bps: 0.0,
            },
            Signal::HaRole {
                role: HaRole::Standby,
                peer: Some(HaRole::Active),
                in_sync: Some(false),
            },
            Signal::Readiness {
                check: "routes".into(),
                value: Fact::Text("ok".into()),
                shown: Some("fine".into()),
                rule,
            },
            Signal::Readiness {
                check: "fwd".into(),
                value: Fact::Absent,
                shown: None,
                rule: ReadinessRule::Equal {
                    value: Fact::Int(-3),
                },
            },
            Signal::Probe {
                ok: false,
                status: Some(503),
                latency_ms: 12.5,
                detail: Some("body".into()),
                zone: Some("outside".into()),
            },
            Signal::RawTrap {
                trap_oid: "1.3.6".into(),
                varbinds: vec![("1.3".into(), "x".into())],
            },
            Signal::Cabling {
                findings: vec![finding(Some("a:1")), finding(None)],
            },
            Signal::CollectorStarted,
            Signal::ClockAdvance,
            Signal::Acknowledge {
                incident: "fw@1".into(),
                by: "ann".into(),
                comment: String::new(),
            },
            Signal::Unacknowledge {
                incident: "fw@1".into(),
                by: "ann".into(),
            },
            Signal::MaintenanceStart {
                window: "w".into(),
                components: vec!["fw".into()],
                from: 1,
                to: 2,
                reason: "r".into(),
                by: "ann".into(),
            },
            Signal::MaintenanceEnd {
                window: "w".into(),
                by: "ann".into(),
            },
            Signal::Steady,
            Signal::PollerHeartbeat {
                zone: "dmz".into(),
                poller: "dmz-1".into(),
            },
        ];
        let subjects = [
            Subject::device("fw-a"),
            Subject::interface("sw-1", "ge-0/0/1"),
            Subject::service("portal"),
        ];
        signals
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Observation::new(1_700_000_000_000 + i as u64, subjects[i % 3].clone(), s)
            })
            .collect()
    }

    /// A record's bytes are its meaning in every journal written so far: a variant's number
    /// is its position in the mirror, so a reordered mirror would misread old journals.
    #[test]
    fn records_keep_their_bytes() {
        let at_one = |signal| Observation::new(1, Subject::device("a"), signal);
        // Format byte, then `at` (varint 1), the subject (Device = 0, "a"), the signal.
        let head = [FORMAT_POSTCARD, 1, 0, 1, b'a'];
        let heartbeat = Signal::PollerHeartbeat {
            zone: "z".into(),
            poller: "p".into(),
        };
        let golden: [(Signal, &[u8]); 5] = [
            (Signal::AgentUp, &[1]),
            (Signal::CollectorStarted, &[12]),
            (Signal::ClockAdvance, &[13]),
            (Signal::Steady, &[18]),
            (heartbeat, &[19, 1, b'z', 1, b'p']),
        ];
        for (signal, tail) in golden {
            let bytes = encode_observation(&at_one(signal.clone())).unwrap();
            assert_eq!(bytes, [&head[..], tail].concat(), "{signal:?}");
            assert_eq!(decode_observation(&bytes).unwrap(), at_one(signal));
        }
    }

    #[test]
    fn both_formats_round_trip_every_signal() {
        for obs in every_signal() {
            let bin = encode_observation(&obs).unwrap();
            assert_eq!(bin[0], FORMAT_POSTCARD);
            assert_eq!(decode_observation(&bin).unwrap(), obs);
            let json = serde_json::to_vec(&obs).unwrap();
            assert_eq!(decode_observation(&json).unwrap(), obs);
            assert!(
                bin.len() < json.len(),
                "{obs:?}: {} >= {}",
                bin.len(),
                json.len()
            );
        }
    }

    /// A journal written before the format byte (JSON records) and continued by this build
    /// (binary records) reads whole, in order, and salvages whole.
    #[test]
    fn one_journal_holds_old_json_and_new_binary_records() {
        use crate::Store;
        use crate::tables::{JOURNAL, META, META_JOURNAL_NEXT};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fl.redb");
        let store = Store::open(&path).unwrap();
        let all = every_signal();
        let (old, new) = all.split_at(all.len() / 2);
        // What an older build wrote: JSON records under consecutive sequence numbers.
        store
            .transact(|txn| {
                let tx = txn.raw();
                let mut journal = tx.open_table(JOURNAL).unwrap();
                for (i, o) in old.iter().enumerate() {
                    let seq = i as u64 + 1;
                    journal
                        .insert(seq, serde_json::to_vec(o).unwrap().as_slice())
                        .unwrap();
                }
                drop(journal);
                let mut meta = tx.open_table(META).unwrap();
                meta.insert(META_JOURNAL_NEXT, old.len() as u64).unwrap();
                Ok(())
            })
            .unwrap();
        store.append_observations(new).unwrap();
        let read: Vec<Observation> = store
            .journal()
            .unwrap()
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        assert_eq!(read, all);
        let seqs: Vec<u64> = store
            .journal_from(3)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(seqs, (3..=all.len() as u64).collect::<Vec<_>>());
        // Pruning finds its cut in either format (every entry is older than the cut).
        assert_eq!(store.prune_journal(4, u64::MAX).unwrap(), 3);
        drop(store);
        let copy = dir.path().join("salvaged.redb");
        let report = Store::salvage(&path, &copy).unwrap();
        assert!(report.is_complete(), "{}", report.lost_summary());
        let salvaged = Store::open(&copy).unwrap();
        let read: Vec<Observation> = salvaged
            .journal()
            .unwrap()
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        assert_eq!(read, all[3..]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            decode_observation(&[]),
            Err(DecodeError::Format(None))
        ));
        assert!(matches!(
            decode_observation(&[7, 1, 2]),
            Err(DecodeError::Format(Some(7)))
        ));
        assert!(matches!(
            decode_observation(&[FORMAT_POSTCARD, 0xff]),
            Err(DecodeError::Binary(_))
        ));
        assert!(matches!(
            decode_observation(b"{\"at\":"),
            Err(DecodeError::Json(_))
        ));
        // A good record with bytes appended is damage, not the record.
        let mut long = encode_observation(&every_signal()[0]).unwrap();
        long.extend_from_slice(&[0, 0]);
        assert!(matches!(
            decode_observation(&long),
            Err(DecodeError::Trailing(2))
        ));
    }
}
