//! Devices whose SNMP polls keep failing, so that a failure is never silent: a wrong SNMPv3
//! pass phrase, a device that times out every cycle while ICMP still answers. Each failing
//! device gets a log line when its polls start failing (again at most every
//! [`PROBLEM_LOG_EVERY`] while they keep failing) and one when they work again, a problem on
//! its component in `status` and `/api/v1/components` ("SNMP auth failure: ..."), and a count
//! in `/metrics` (`faultline_poll_failures{device, reason}`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use faultline_observe::PollFailure;
use faultline_snmp::PollOutcome;
use tracing::{info, warn};

/// While a device's polls keep failing the same way, one reminder per this period: a line per
/// failed poll of ten thousand devices would bury everything else in the log.
pub(crate) const PROBLEM_LOG_EVERY: Duration = Duration::from_secs(600);

/// What people read for each kind of failure.
pub(crate) fn failure_label(f: PollFailure) -> &'static str {
    match f {
        PollFailure::Timeout => "SNMP timeout",
        PollFailure::AuthFailure => "SNMP auth failure",
        PollFailure::Malformed => "SNMP malformed answer",
        PollFailure::Local => "SNMP local error",
        PollFailure::ProfileMismatch => "SNMP profile does not match",
    }
}

/// One device's ongoing failure.
struct Problem {
    reason: PollFailure,
    /// The first failure's message (later ones may only say "circuit open").
    message: String,
    failed_polls: u64,
    last_logged: Instant,
    since_logged: u64,
}

/// The failing devices, by id.
#[derive(Default)]
pub(crate) struct PollProblems {
    by_device: Mutex<BTreeMap<String, Problem>>,
}

impl PollProblems {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Problem>> {
        self.by_device
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record one poll's outcome; returns the failure (for the metrics), if it failed.
    pub(crate) fn record(&self, device: &str, outcome: &PollOutcome) -> Option<PollFailure> {
        let mut all = self.lock();
        let Some(error) = outcome.report.errors.first() else {
            if let Some(p) = all.remove(device) {
                info!(
                    device,
                    failed_polls = p.failed_polls,
                    "SNMP polls work again (was: {})",
                    failure_label(p.reason)
                );
            }
            return None;
        };
        let now = Instant::now();
        match all.get_mut(device) {
            Some(p) if p.reason == error.kind => {
                p.failed_polls += 1;
                p.since_logged += 1;
                if now.duration_since(p.last_logged) >= PROBLEM_LOG_EVERY {
                    warn!(
                        device,
                        failed_polls = p.since_logged,
                        "SNMP polls still failing: {}: {}",
                        failure_label(p.reason),
                        p.message
                    );
                    p.last_logged = now;
                    p.since_logged = 0;
                }
            }
            _ => {
                let what = if error.kind == PollFailure::ProfileMismatch {
                    "SNMP poll incomplete"
                } else {
                    "SNMP poll failed"
                };
                warn!(
                    device,
                    "{what}: {}: {}",
                    failure_label(error.kind),
                    error.message
                );
                all.insert(
                    device.to_string(),
                    Problem {
                        reason: error.kind,
                        message: error.message.clone(),
                        failed_polls: 1,
                        last_logged: now,
                        since_logged: 0,
                    },
                );
            }
        }
        Some(error.kind)
    }

    /// Each failing device's problem, as shown on its component.
    pub(crate) fn current(&self) -> BTreeMap<String, String> {
        self.lock()
            .iter()
            .map(|(device, p)| {
                (
                    device.clone(),
                    format!(
                        "{} ({} failed poll{}): {}",
                        failure_label(p.reason),
                        p.failed_polls,
                        if p.failed_polls == 1 { "" } else { "s" },
                        p.message
                    ),
                )
            })
            .collect()
    }
}
