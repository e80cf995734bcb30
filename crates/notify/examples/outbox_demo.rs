//! Fill a store's outbox for `faultline outbox` to show: `cargo run -p faultline-notify --example
//! outbox_demo -- CONFIG.toml`. Enqueues a trigger and a resolve for a demo incident to every
//! configured receiver and tries delivery for two seconds.

use std::time::Duration;

use faultline_incident::*;
use faultline_notify::{HttpOptions, Notifier, PagerFileConfig, Receivers, Store};
use faultline_observe::time::now_ms;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: outbox_demo CONFIG.toml")?;
    let cfg = PagerFileConfig::load(std::path::Path::new(&path))?;
    // Receivers first: a configuration problem is reported before any file is created.
    let receivers = Receivers::build(&cfg.notify)?;
    let n = Notifier::new(
        Store::open(&cfg.store.path)?,
        receivers,
        HttpOptions::default(),
    )?;
    let now = now_ms();
    let mut inc = Incident {
        id: format!("demo-{now}"),
        kind: IncidentKind::FailoverIneffective,
        severity: Severity::Critical,
        title: "portal down although fw-pair failed over to fw-b".into(),
        root_causes: vec!["fw-a".into()],
        affected_services: vec![AffectedService {
            id: "portal".into(),
            name: "Contractor portal".into(),
            tier: "critical".into(),
            state: ServiceState::Down,
            tags: vec![],
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
    };
    n.enqueue(&IncidentTransition {
        seq: 1,
        action: TransitionAction::Trigger,
        at: now,
        incident: inc.clone(),
    })?;
    inc.status = IncidentStatus::Resolved;
    inc.resolved_at = Some(now + 1);
    n.enqueue(&IncidentTransition {
        seq: 2,
        action: TransitionAction::Resolve,
        at: now + 1,
        incident: inc,
    })?;
    n.run(tokio::time::sleep(Duration::from_secs(2))).await;
    println!("{:?}", n.stats());
    Ok(())
}
