//! One-off reads of arbitrary objects through the poller's sessions: what `faultline discover`
//! and `faultline drift` use to walk MIBs the regular poll does not (LLDP-MIB's full tables,
//! CISCO-CDP-MIB), with the same credentials, timeouts, GETBULK sizing and concurrency limits.

use super::session::{SMALL_TABLE_REPS, Session};
use super::{PollError, SnmpPoller, Target};
use crate::decode::RawPoll;

impl SnmpPoller {
    /// GET `scalars` (all optional: missing ones land in [`RawPoll::absent`]) and walk each
    /// group of `walks` side by side, for `target`, outside the device's circuit breaker.
    /// Scalars are read first; a failure there ends the read (the agent is not answering).
    /// A failed walk is returned with what the other walks read.
    pub async fn read(
        &self,
        target: &Target,
        scalars: &[&str],
        walks: &[&[&str]],
    ) -> Result<(RawPoll, Vec<PollError>), PollError> {
        let _slots = self.acquire_slots(target).await?;
        let client = self.client(target).await?;
        let session = Session::new(target, &client);
        let mut raw = RawPoll::default();
        if !scalars.is_empty() {
            session.get_scalars(scalars, &mut raw, false).await?;
        }
        let mut errors = vec![];
        for columns in walks {
            if let Err(e) = session.walk(columns, &mut raw, SMALL_TABLE_REPS).await {
                errors.push(e);
            }
        }
        Ok((raw, errors))
    }
}
