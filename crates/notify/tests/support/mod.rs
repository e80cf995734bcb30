//! Notify-specific test support: the secrets the peers check, incident builders, configs, and a
//! running delivery loop. The peers themselves (strict PagerDuty/webhook receiver, real
//! Alertmanager, free ports, the CI rule) come from `faultline-testpeers`.
#![allow(dead_code, unused_imports)] // each test binary uses a different part

use faultline_incident::*;
use faultline_notify::receivers::pagerduty::PagerDutySection;
use faultline_notify::{
    HttpOptions, KindConfig, Notifier, NotifyConfig, NotifyError, Receivers, Store,
};
use faultline_observe::time::now_ms;

pub use faultline_testpeers::alertmanager::Alertmanager;
pub use faultline_testpeers::http_receiver::{MockReceiver, Mode, Received};
pub use faultline_testpeers::ports::free_tcp_port as free_port;
pub use faultline_testpeers::wait::wait_until;

pub const ROUTING_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const WEBHOOK_SECRET: &str = "s3cr3t-webhook-key-never-logged";

/// The problems a receiver sharing [`WEBHOOK_SECRET`] finds in a request.
pub fn validate_webhook(headers: &axum::http::HeaderMap, raw: &[u8]) -> Vec<String> {
    faultline_testpeers::webhook::validate_signed(WEBHOOK_SECRET.as_bytes(), headers, raw)
}

/// Build the receivers (the one construction path) and a notifier over them.
pub fn notifier(store: Store, cfg: NotifyConfig) -> Result<Notifier, NotifyError> {
    let receivers = Receivers::build(&cfg)?;
    Notifier::new(store, receivers, HttpOptions::default())
}

/// The PagerDuty section of the config's first receiver.
pub fn pd_section(cfg: &mut NotifyConfig) -> &mut PagerDutySection {
    match &mut cfg.receivers[0].kind {
        KindConfig::PagerDuty(s) => s,
        other => panic!("first receiver is {}, not pagerduty", other.kind()),
    }
}

pub fn incident(id: &str, severity: Severity, tier: &str) -> Incident {
    Incident {
        id: id.to_string(),
        kind: if severity == Severity::Warning {
            IncidentKind::RedundancyLost
        } else {
            IncidentKind::ServiceDown
        },
        severity,
        title: format!("portal down: {id}"),
        root_causes: vec!["fw-a".into()],
        affected_services: vec![AffectedService {
            id: "portal".into(),
            name: "Contractor portal".into(),
            tier: tier.into(),
            state: ServiceState::Down,
            tags: vec!["customer".into()],
            outage: None,
        }],
        suspects: vec![Suspect {
            component: "fw-b".into(),
            reason: "became active 8 s before".into(),
            score: 0.9,
        }],
        evidence: vec![Evidence {
            at: 1_700_000_000_000,
            subject: "fw-a".into(),
            text: "agent down".into(),
        }],
        status: IncidentStatus::Open,
        opened_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
        resolved_at: None,
        suppressed: false,
        acknowledged: None,
    }
}

pub fn transition(seq: u64, action: TransitionAction, inc: &Incident) -> IncidentTransition {
    let mut inc = inc.clone();
    if action == TransitionAction::Resolve {
        inc.status = IncidentStatus::Resolved;
        inc.resolved_at = Some(now_ms());
    }
    IncidentTransition {
        seq,
        action,
        at: now_ms(),
        incident: inc,
    }
}

pub fn pd_config(url: &str, extra: &str) -> NotifyConfig {
    toml::from_str(&format!(
        r#"
        public_url = "https://faultline.example"
        [retry]
        base_ms = 50
        max_ms = 500
        [[receivers]]
        name = "pd"
        kind = "pagerduty"
        url = "{url}"
        routing_key = "{ROUTING_KEY}"
        {extra}
        "#
    ))
    .expect("test notify config")
}

/// Spawn the notifier's delivery loop; returns the stop switch and the task.
pub fn run(
    n: &Notifier,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let n = n.clone();
    let h = tokio::spawn(async move {
        n.run(async {
            let _ = rx.await;
        })
        .await
    });
    (tx, h)
}

/// For every incident in the log: its actions in arrival order.
pub fn actions_by_key(log: &[Received]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut m = std::collections::BTreeMap::<String, Vec<String>>::new();
    for r in log {
        m.entry(r.dedup_key()).or_default().push(r.action());
    }
    m
}
