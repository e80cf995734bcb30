//! Records for the store tests.
#![allow(dead_code)] // each test file uses a subset

use faultline_incident::*;
use faultline_observe::{Observation, Signal, Subject};
use faultline_store::{PagedRecord, Store};

pub fn obs(at: u64, dev: &str) -> Observation {
    Observation::new(
        at,
        Subject::device(dev),
        Signal::Reachability {
            ok: at.is_multiple_of(2),
            rtt_ms: Some(1.5),
            loss: 0.0,
        },
    )
}

pub fn batch(first_at: u64, n: u64) -> Vec<Observation> {
    (first_at..first_at + n)
        .map(|i| obs(i, "sw-core-01"))
        .collect()
}

pub fn incident(id: &str) -> Incident {
    Incident {
        id: id.into(),
        kind: IncidentKind::ServiceDown,
        severity: Severity::Critical,
        title: format!("{id} down"),
        root_causes: vec!["fw-a".into()],
        affected_services: vec![],
        suspects: vec![],
        evidence: vec![],
        status: IncidentStatus::Open,
        opened_at: 1,
        updated_at: 1,
        resolved_at: None,
        suppressed: false,
        acknowledged: None,
    }
}

pub fn transition(seq: u64, inc: &Incident) -> IncidentTransition {
    IncidentTransition {
        seq,
        action: TransitionAction::Trigger,
        at: seq,
        incident: inc.clone(),
    }
}

/// Record an incident and page it at receiver `pd`, as notify does: one transaction.
pub fn page(s: &Store, id: &str, seq: u64) -> faultline_store::OutboxEntry {
    let inc = incident(id);
    s.transact(|t| {
        t.upsert_incident(&inc)?;
        t.set_paged(&PagedRecord {
            receiver: "pd".into(),
            incident: inc.clone(),
            labels: Default::default(),
            since: seq,
        })?;
        t.push_outbox("pd", &transition(seq, &inc), None, seq)
    })
    .expect("page")
}

/// The journal's sequence numbers.
pub fn seqs(s: &Store) -> Vec<u64> {
    s.journal()
        .expect("journal")
        .iter()
        .map(|(q, _)| *q)
        .collect()
}
