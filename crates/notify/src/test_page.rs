//! `faultline test-page`: a synthetic trigger then resolve, sent straight to one receiver
//! (bypassing the outbox) through the receiver's own encoder, with its answers reported.

use faultline_incident::{
    AffectedService, Incident, IncidentKind, IncidentStatus, IncidentTransition, ServiceState,
    Severity, TransitionAction,
};
use faultline_observe::time::now_ms;
use faultline_store::OutboxEntry;
use serde::Serialize;

use crate::config::{HttpOptions, NotifyConfig};
use crate::outcome::Answer;
use crate::receivers::Receivers;
use crate::transport::Transport;
use crate::{NotifyError, Result, payload};

/// What `faultline test-page` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TestPageReport {
    pub receiver: String,
    pub dedup_key: String,
    pub trigger: Answer,
    pub resolve: Answer,
}

/// Send a test page without a store or a running notifier (the `faultline test-page` command;
/// the collector may hold the store file meanwhile). Only the named receiver is validated
/// (another one's missing secret does not matter here).
pub async fn test_page(
    mut cfg: NotifyConfig,
    http: HttpOptions,
    receiver: &str,
) -> Result<TestPageReport> {
    cfg.receivers.retain(|r| r.name == receiver);
    if cfg.receivers.is_empty() {
        return Err(NotifyError::UnknownReceiver(receiver.to_string()));
    }
    let receivers = Receivers::build(&cfg)?;
    Transport::new(receivers, http)?.test_page(receiver).await
}

/// The synthetic incident of a test page, id `faultline-test-<millis>`.
fn test_incident(receiver: &str, now: u64) -> Incident {
    Incident {
        id: format!("faultline-test-{now}"),
        kind: IncidentKind::ServiceDown,
        severity: Severity::Info,
        title: format!("faultline test page for receiver {receiver} (resolves immediately)"),
        root_causes: vec!["faultline-test".into()],
        affected_services: vec![AffectedService {
            id: "faultline-test".into(),
            name: "faultline test".into(),
            tier: "low".into(),
            state: ServiceState::Down,
            tags: vec!["test".into()],
            outage: None,
        }],
        suspects: vec![],
        evidence: vec![],
        status: IncidentStatus::Open,
        opened_at: now,
        updated_at: now,
        resolved_at: None,
        suppressed: false,
        acknowledged: None,
    }
}

impl Transport {
    /// Send a test event (trigger, then resolve) to receiver `receiver` and report its answers.
    pub async fn test_page(&self, receiver: &str) -> Result<TestPageReport> {
        let i = self
            .receivers
            .position(receiver)
            .ok_or_else(|| NotifyError::UnknownReceiver(receiver.to_string()))?;
        let now = now_ms();
        let inc = test_incident(receiver, now);
        let dedup_key = payload::dedup_key(&inc.id);
        let mut entry = OutboxEntry {
            id: 0,
            receiver: receiver.to_string(),
            labels: self.get(i).receiver.identity_labels(&inc, None),
            transition: IncidentTransition {
                seq: 1,
                action: TransitionAction::Trigger,
                at: now,
                incident: inc,
            },
            enqueued_at: now,
            attempts: 0,
            last_error: None,
        };
        let err = |detail: String| NotifyError::Delivery {
            receiver: receiver.to_string(),
            url: self.get(i).receiver.url().to_string(),
            detail,
        };
        let trigger = self.exchange(i, &entry).await.map_err(err)?;
        let t = &mut entry.transition;
        t.seq = 2;
        t.action = TransitionAction::Resolve;
        t.at = now_ms();
        t.incident.status = IncidentStatus::Resolved;
        t.incident.resolved_at = Some(t.at);
        let resolve = self.exchange(i, &entry).await.map_err(err)?;
        Ok(TestPageReport {
            receiver: receiver.to_string(),
            dedup_key,
            trigger: Answer {
                status: trigger.status,
                body: trigger.body,
            },
            resolve: Answer {
                status: resolve.status,
                body: resolve.body,
            },
        })
    }
}
