//! The requests of one poll: GETs of scalars (with v1's one-missing-object refusal handled)
//! and side-by-side table walks, and the mapping of async-snmp errors onto [`PollError`].

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use async_snmp::{Client, Oid, UdpHandle};
use faultline_observe::PollFailure;

use super::{PollError, Target};
use crate::decode::{RawPoll, SnmpValue, oids};
use crate::secret::Credentials;
use crate::usm_probe;

/// One poll's exchanges with one agent: the GETs and table walks, with the GETBULK size
/// learnt so far and the varbinds counted for the report.
pub(super) struct Session<'a> {
    target: &'a Target,
    client: &'a Client<UdpHandle>,
    /// Ceiling on GETBULK max-repetitions; halved when an agent chokes on a large answer.
    reps: AtomicU32,
    /// Varbinds received, for the report.
    varbinds: AtomicU64,
}

/// First GETBULK size for tables of unknown length (LLDP, HA). Most are short or empty, and
/// every repetition past a column's end is overshoot into the next column that is thrown
/// away; the walk doubles the size while all columns still have rows.
pub(super) const SMALL_TABLE_REPS: u32 = 2;

/// Objects per GET before async-snmp splits the request (its default is 10). A poll's first
/// GET carries the system group, uptime counters, ifNumber and the generic readiness scalars
/// (about a dozen); one request instead of two. An agent that finds the answer too big says
/// tooBig, and async-snmp then bisects the request.
pub(super) const MAX_OIDS_PER_REQUEST: usize = 24;

/// Upper bound on rows per walked table: a broken agent must not make us loop or eat memory.
const MAX_ROWS: usize = 100_000;

impl<'a> Session<'a> {
    pub(super) fn new(target: &'a Target, client: &'a Client<UdpHandle>) -> Self {
        Session {
            target,
            client,
            reps: AtomicU32::new(target.max_repetitions.max(1)),
            varbinds: AtomicU64::new(0),
        }
    }

    /// Varbinds received so far.
    pub(super) fn varbinds(&self) -> u64 {
        self.varbinds.load(Ordering::Relaxed)
    }

    pub(super) fn parse_oids(&self, list: &[&str]) -> Result<Vec<Oid>, PollError> {
        list.iter()
            .map(|s| {
                Oid::parse(s).map_err(|e| PollError::Local {
                    device: self.target.device_id.clone(),
                    addr: self.target.addr,
                    during: "parsing OID",
                    detail: format!("{s}: {e}"),
                })
            })
            .collect()
    }

    /// `first`: the error ended the poll's first request. Only then can a v3 timeout mean
    /// rejected credentials; once the agent has answered, a timeout is a timeout.
    pub(super) async fn classify(
        &self,
        e: async_snmp::Error,
        during: &'static str,
        first: bool,
    ) -> PollError {
        let device = self.target.device_id.clone();
        let addr = self.target.addr;
        match classify_error(&e) {
            PollFailure::Timeout => {
                // async-snmp reports a wrong v3 user as a plain timeout; ask the agent directly.
                if first
                    && let Credentials::V3 { user, .. } = &self.target.credentials
                    && let Some(detail) = usm_probe::probe(addr, user, self.target.timeout).await
                {
                    return PollError::Auth {
                        device,
                        addr,
                        detail,
                    };
                }
                // v1/v2c agents drop a wrong community without a word: say so, since the
                // protocol gives no way to tell it apart from a dead agent.
                let hint = match self.target.credentials {
                    Credentials::V3 { .. } => "",
                    _ => {
                        " (dead or unreachable agent, or a wrong community: agents drop those silently)"
                    }
                };
                PollError::Timeout {
                    device,
                    addr,
                    timeout: self.target.timeout,
                    attempts: self.target.retries + 1,
                    hint,
                }
            }
            PollFailure::AuthFailure => PollError::Auth {
                device,
                addr,
                detail: e.to_string(),
            },
            PollFailure::Malformed | PollFailure::ProfileMismatch => PollError::Malformed {
                device,
                addr,
                during,
                detail: e.to_string(),
            },
            PollFailure::Local => PollError::Local {
                device,
                addr,
                during,
                detail: e.to_string(),
            },
        }
    }

    /// GET `list` into `raw`. Objects the agent says are not there go to `raw.absent`. A v1
    /// agent refuses a whole request over one missing object (noSuchName): unless
    /// `required`, that object is dropped and the rest asked again (at most once per object).
    pub(super) async fn get_scalars(
        &self,
        list: &[&str],
        raw: &mut RawPoll,
        required: bool,
    ) -> Result<(), PollError> {
        let mut asked = self.parse_oids(list)?;
        let resp = loop {
            match self.client.get_many(&asked).await {
                Ok(resp) => break resp,
                Err(e) => {
                    let missing = match &*e {
                        async_snmp::Error::Snmp {
                            status: async_snmp::ErrorStatus::NoSuchName,
                            index,
                            ..
                        } if !required => usize::try_from(*index)
                            .ok()
                            .and_then(|i| i.checked_sub(1))
                            .filter(|i| *i < asked.len()),
                        _ => None,
                    };
                    let Some(i) = missing else {
                        return Err(self.classify(*e, "reading scalars", required).await);
                    };
                    raw.absent.insert(asked.remove(i).to_string());
                    if asked.is_empty() {
                        return Ok(());
                    }
                }
            }
        };
        self.varbinds
            .fetch_add(resp.varbinds.len() as u64, Ordering::Relaxed);
        for vb in &resp.varbinds {
            raw.record_get(vb.oid.to_string(), &vb.value);
        }
        if required && !raw.scalars.contains_key(oids::SYS_UPTIME) {
            return Err(PollError::Malformed {
                device: self.target.device_id.clone(),
                addr: self.target.addr,
                during: "reading the system group",
                detail: "no sysUpTime in the answer".into(),
            });
        }
        Ok(())
    }

    /// Walk several table columns side by side with GETBULK (GETNEXT for v1): each request
    /// carries one cursor per unfinished column, so a 12-column ifTable costs one round trip
    /// per `max_repetitions` rows rather than one per column.
    pub(super) async fn walk(
        &self,
        columns: &[&str],
        raw: &mut RawPoll,
        first_reps: u32,
    ) -> Result<(), PollError> {
        let mut reps = first_reps.clamp(1, self.reps.load(Ordering::Relaxed));
        let roots = self.parse_oids(columns)?;
        let mut cursors: Vec<Oid> = roots.clone();
        let mut done = vec![false; roots.len()];
        let v1 = matches!(self.target.credentials, Credentials::V1 { .. });
        let mut rows = 0usize;
        while done.iter().any(|d| !d) {
            let active: Vec<usize> = (0..roots.len()).filter(|i| !done[*i]).collect();
            let req: Vec<Oid> = active.iter().map(|i| cursors[*i].clone()).collect();
            let result = if v1 {
                self.client.get_next_many(&req).await.map(|r| r.varbinds)
            } else {
                self.client.get_bulk(&req, 0, reps).await
            };
            let varbinds = match result {
                Ok(v) => v,
                // net-snmp answers genErr (others tooBig) when a GETBULK answer would exceed
                // its message size, e.g. 12 columns x 25 rows under v3 privacy: ask for fewer
                // rows and keep the smaller size for the rest of this poll.
                Err(e)
                    if !v1
                        && reps > 1
                        && matches!(
                            &*e,
                            async_snmp::Error::Snmp {
                                status: async_snmp::ErrorStatus::GenErr
                                    | async_snmp::ErrorStatus::TooBig,
                                ..
                            }
                        ) =>
                {
                    reps /= 2;
                    self.reps.store(reps, Ordering::Relaxed);
                    continue;
                }
                // v1 signals the end of the MIB view with noSuchName.
                Err(e) if v1 && matches!(&*e, async_snmp::Error::Snmp { .. }) => break,
                Err(e) => return Err(self.classify(*e, "walking a table", false).await),
            };
            if varbinds.is_empty() {
                break;
            }
            self.varbinds
                .fetch_add(varbinds.len() as u64, Ordering::Relaxed);
            let mut progressed = false;
            for (pos, vb) in varbinds.iter().enumerate() {
                let col = active[pos % active.len()];
                if done[col] {
                    continue;
                }
                let Some(index) = vb.oid.strip_prefix(&roots[col]).filter(|i| !i.is_empty()) else {
                    if !vb.value.is_exception() {
                        raw.beyond
                            .entry(columns[col].to_owned())
                            .or_insert_with(|| vb.oid.to_string());
                    }
                    done[col] = true;
                    continue;
                };
                // A non-increasing answer would loop forever (seen on ASAv and MX agents).
                if vb.oid <= cursors[col] || vb.value.is_exception() {
                    done[col] = true;
                    continue;
                }
                cursors[col] = vb.oid.clone();
                progressed = true;
                // Counted whether or not the value decodes: an agent answering increasing OIDs
                // with undecodable values must still hit the row bound.
                rows += 1;
                if let Some(v) = SnmpValue::from_snmp(&vb.value) {
                    raw.columns
                        .entry(columns[col].to_owned())
                        .or_default()
                        .insert(index.to_string(), v);
                }
            }
            if !progressed || rows > MAX_ROWS {
                break;
            }
            // Every column still has rows: the table is longer than guessed.
            if done.iter().all(|d| !d) {
                reps = reps
                    .saturating_mul(2)
                    .min(self.reps.load(Ordering::Relaxed));
            }
        }
        raw.walked.extend(columns.iter().map(|c| (*c).to_owned()));
        Ok(())
    }
}

/// Map an async-snmp error onto the failure kinds the engine distinguishes.
pub fn classify_error(e: &async_snmp::Error) -> PollFailure {
    use async_snmp::{Error as E, v3::ReportStatus as R};
    match e {
        E::SharedOperation { source } => classify_error(source),
        E::Exchange { source, .. } => classify_error(source),
        E::Timeout { .. } | E::Closed { .. } => PollFailure::Timeout,
        E::Auth { .. } => PollFailure::AuthFailure,
        E::Report { status, .. } => match **status {
            R::UnknownUserName { .. }
            | R::WrongDigest { .. }
            | R::UnsupportedSecurityLevel { .. }
            | R::DecryptionError { .. } => PollFailure::AuthFailure,
            _ => PollFailure::Malformed,
        },
        E::Snmp { status, .. } => match status {
            async_snmp::ErrorStatus::AuthorizationError | async_snmp::ErrorStatus::NoAccess => {
                PollFailure::AuthFailure
            }
            _ => PollFailure::Malformed,
        },
        E::Decode(_)
        | E::MalformedResponse { .. }
        | E::ResponseShape { .. }
        | E::WalkAborted { .. } => PollFailure::Malformed,
        _ => PollFailure::Local,
    }
}
