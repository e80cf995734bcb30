//! The cabling watch (issue #12): every `[drift] interval_s`, read the LLDP/CDP tables of every
//! device polled over SNMP, compare what they show with the declared links (the same
//! comparison as `faultline drift`, judged strictly: a cable is missing only when both ends
//! speak LLDP/CDP), and send the differences to the engine as one
//! [`Signal::Cabling`] observation whenever they change. The engine keeps since when each
//! difference lasts and turns it into evidence and a `topology_drift` incident.
//!
//! A device that cannot be read this round judges none of its cables: a difference it alone
//! reported ends until it answers again.

use std::sync::Arc;
use std::time::Duration;

use faultline_api::DriftReport;
use faultline_discover::Discovered;
use faultline_discover::drift::{Judge, compare_with};
use faultline_discover::walk::read_targets;
use faultline_graph::DependencyGraph;
use faultline_observe::time::now_ms;
use faultline_observe::{CableDrift, CableFinding, Observation, Signal, Subject};
use faultline_snmp::{PollerConfig, SnmpPoller, Target};
use tokio_util::sync::CancellationToken;

use super::Observations;

/// Devices read at once in one round: LLDP-MIB walks are a few requests each, and the regular
/// pollers share the agents.
pub(crate) const DRIFT_CONCURRENCY: usize = 32;

/// Reads the cabling of `targets` every `interval` and reports the differences.
pub(crate) struct DriftTask {
    /// The declared links.
    pub graph: Arc<DependencyGraph>,
    /// Every device polled over SNMP, with its own credentials.
    pub targets: Vec<Target>,
    pub interval: Duration,
    /// Where the differences go; the task ends when the engine task is gone.
    pub observations: Observations,
    /// Ends the task at its next wait, or in the middle of a round.
    pub shutdown: CancellationToken,
}

impl DriftTask {
    pub(crate) async fn run(self) {
        let poller = SnmpPoller::new(PollerConfig {
            // The round reads the whole LLDP-MIB itself; its own breaker never skips a device.
            lldp: false,
            breaker_threshold: u32::MAX,
            ..PollerConfig::default()
        });
        let ids: Vec<String> = self.targets.iter().map(|t| t.device_id.clone()).collect();
        let mut sent: Option<Vec<CableFinding>> = None;
        let mut every = tokio::time::interval(self.interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            let round = read_targets(&poller, &self.targets, DRIFT_CONCURRENCY);
            let discovery = tokio::select! {
                () = self.shutdown.cancelled() => return,
                d = round => d,
            };
            let seen = Discovered::with_ids(discovery, ids.clone());
            let report = compare_with(self.graph.topology(), &seen, Judge::Both);
            let findings = findings(&report);
            if sent.as_ref() == Some(&findings) {
                continue;
            }
            if findings.is_empty() {
                tracing::info!("cabling as declared (LLDP/CDP)");
            }
            for f in &findings {
                tracing::warn!("cabling drift: {}", f.describe());
            }
            let obs = Observation::new(
                now_ms(),
                Subject::device(""),
                Signal::Cabling {
                    findings: findings.clone(),
                },
            );
            if self.observations.send(vec![obs]).await.is_err() {
                return;
            }
            sent = Some(findings);
        }
    }
}

/// The report's differences as the engine's findings, in a stable order (unverified links
/// are not differences).
fn findings(r: &DriftReport) -> Vec<CableFinding> {
    let plain = |drift, link: &str| CableFinding {
        drift,
        link: link.to_string(),
        end: None,
        declared: None,
        seen: None,
    };
    let mut out: Vec<CableFinding> = r
        .missing
        .iter()
        .map(|m| plain(CableDrift::Missing, &m.link))
        .chain(
            r.unexpected
                .iter()
                .map(|u| plain(CableDrift::Unexpected, &u.link)),
        )
        .chain(r.moved.iter().map(|m| CableFinding {
            drift: CableDrift::Moved,
            link: m.link.clone(),
            end: Some(m.end.clone()),
            declared: Some(m.declared.clone()),
            seen: Some(m.seen.clone()),
        }))
        .collect();
    out.sort();
    out
}
