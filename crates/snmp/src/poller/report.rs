//! A successful poll's result: the request errors that did not end the poll, the decoded
//! device report, readiness facts and observations.

use faultline_observe::Observation;
use faultline_observe::time::now_ms;

use super::PollError;
use crate::decode::{self, DeviceReport, PollErrorReport, PollState, RawPoll};
use crate::profile::Profile;
use crate::readiness::{self, ReadinessCheck};

/// What a poll gathered, ready to decode.
pub(super) struct Gathered<'a> {
    pub device_id: &'a str,
    pub raw: &'a RawPoll,
    pub profile: &'a Profile,
    pub checks: &'a [ReadinessCheck],
    /// Requests that failed without failing the poll (a table walk, the follow-up GET).
    pub errors: Vec<PollError>,
    pub varbinds: u64,
}

/// Decode what was gathered into the report (started as `report`), observations and the
/// state for the next poll.
pub(super) fn assemble(
    report: &mut DeviceReport,
    gathered: Gathered<'_>,
    prev: Option<&PollState>,
) -> (DeviceReport, Vec<Observation>, PollState) {
    report
        .errors
        .extend(gathered.errors.iter().map(|e| PollErrorReport {
            kind: e.failure(),
            message: e.to_string(),
        }));
    report.varbinds = gathered.varbinds;
    let at = now_ms();
    let (mut report, mut obs, state) =
        decode::decode(report.clone(), at, gathered.raw, gathered.profile, prev);
    let (facts, fact_obs) =
        readiness::decode(gathered.checks, gathered.raw, gathered.device_id, at);
    report.readiness = facts;
    obs.extend(fact_obs);
    (report, obs, state)
}
