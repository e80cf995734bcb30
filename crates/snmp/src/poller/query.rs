//! One-off requests for `faultline get` and `faultline walk` (net-snmp's `snmpget` and
//! `snmpwalk`): the poller's client and error classification, no profile, no decoding.

use async_snmp::{Client, Oid, UdpHandle};

use super::session::Session;
use super::{PollError, SnmpPoller, Target};
use crate::secret::Credentials;
use crate::shown::ShownVarbind;

/// Upper bound on varbinds one walk returns: a broken agent must not make us loop or eat memory.
const MAX_WALK_VARBINDS: usize = 1_000_000;

/// What a walk returned, and the error that ended it early, if one did (the varbinds before it
/// are kept, as `snmpwalk` prints them).
#[derive(Debug)]
pub struct WalkOutcome {
    /// The varbinds under the root, in the agent's order.
    pub varbinds: Vec<ShownVarbind>,
    /// The error that ended the walk before the end of the subtree.
    pub error: Option<PollError>,
}

impl SnmpPoller {
    /// GET `oids` (numeric) from `target` in one request; exceptions (noSuchObject,
    /// noSuchInstance) come back as varbinds, as `snmpget` prints them.
    pub async fn get_varbinds(
        &self,
        target: &Target,
        oids: &[&str],
    ) -> Result<Vec<ShownVarbind>, PollError> {
        let client = self.client(target).await?;
        let session = Session::new(target, &client);
        let asked = session.parse_oids(oids)?;
        match client.get_many(&asked).await {
            Ok(r) => Ok(r
                .varbinds
                .iter()
                .map(|vb| ShownVarbind::new(&vb.oid, &vb.value))
                .collect()),
            Err(e) => Err(session.classify(*e, "GET", true).await),
        }
    }

    /// Walk the subtree under `root` (numeric): GETBULK of up to `target.max_repetitions` rows
    /// for v2c/v3 (as `snmpbulkwalk`; halved when the agent says the answer is too big, as
    /// net-snmp does with genErr under v3 privacy), GETNEXT for v1. As `snmpwalk` does, a root
    /// with nothing under it is asked with a GET, so walking an instance (`sysName.0`) shows it.
    pub async fn walk_varbinds(
        &self,
        target: &Target,
        root: &str,
    ) -> Result<WalkOutcome, PollError> {
        let client = self.client(target).await?;
        let session = Session::new(target, &client);
        let root_oid: Oid = session
            .parse_oids(&[root])?
            .pop()
            .ok_or_else(|| super::local_error(target, "parsing OID", root.to_owned()))?;
        let mut varbinds = Vec::new();
        let failed = if matches!(target.credentials, Credentials::V1 { .. }) {
            getnext_walk(&client, root_oid, &mut varbinds)
                .await
                .map_err(|e| super::local_error(target, "starting a walk", e.to_string()))?
        } else {
            bulk_walk(&client, &root_oid, target.max_repetitions, &mut varbinds).await
        };
        let error = match failed {
            Some(WalkEnd::Agent(e)) => {
                Some(session.classify(*e, "walking", varbinds.is_empty()).await)
            }
            // Stopped short of the subtree's end: said, so that the command does not exit 0 on
            // a cut-off listing (as `snmpwalk` reports "OID not increasing").
            Some(WalkEnd::Broken(why)) => Some(super::local_error(target, "walking", why)),
            None => None,
        };
        if varbinds.is_empty() && error.is_none() {
            varbinds = self
                .get_varbinds(target, &[root])
                .await?
                .into_iter()
                .filter(|v| !v.is_exception())
                .collect();
        }
        Ok(WalkOutcome { varbinds, error })
    }
}

/// Why a walk stopped before the end of its subtree.
enum WalkEnd {
    /// The agent's error (or a timeout).
    Agent(Box<async_snmp::Error>),
    /// A broken agent (OIDs not increasing) or the size bound: the listing is cut off.
    Broken(String),
}

/// The size bound's reason.
fn truncated() -> WalkEnd {
    WalkEnd::Broken(format!("stopped after {MAX_WALK_VARBINDS} objects"))
}

/// A v1 walk with async-snmp's GETNEXT stream into `out`; `Ok(Some)` is what ended it early.
async fn getnext_walk(
    client: &Client<UdpHandle>,
    root: Oid,
    out: &mut Vec<ShownVarbind>,
) -> Result<Option<WalkEnd>, Box<async_snmp::Error>> {
    let mut stream = client.walk(root)?;
    while let Some(item) = stream.next().await {
        match item {
            Ok(vb) if vb.value.is_exception() => break,
            Ok(vb) => out.push(ShownVarbind::new(&vb.oid, &vb.value)),
            Err(e) => return Ok(Some(WalkEnd::Agent(e))),
        }
        if out.len() >= MAX_WALK_VARBINDS {
            return Ok(Some(truncated()));
        }
    }
    Ok(None)
}

/// A GETBULK walk of `root` into `out`, in strictly increasing order; what ended it early.
async fn bulk_walk(
    client: &Client<UdpHandle>,
    root: &Oid,
    max_repetitions: u32,
    out: &mut Vec<ShownVarbind>,
) -> Option<WalkEnd> {
    let mut reps = max_repetitions.max(1);
    let mut cursor = root.clone();
    loop {
        let answer = match client
            .get_bulk(std::slice::from_ref(&cursor), 0, reps)
            .await
        {
            Ok(a) => a,
            Err(e)
                if reps > 1
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
                continue;
            }
            Err(e) => return Some(WalkEnd::Agent(e)),
        };
        if answer.is_empty() {
            return None;
        }
        for vb in answer {
            // Out of the subtree or an exception (endOfMibView): the walk is over.
            if !vb.oid.starts_with(root) || vb.value.is_exception() {
                return None;
            }
            // A non-increasing OID: a broken agent would make the walk loop forever.
            if vb.oid <= cursor {
                return Some(WalkEnd::Broken(format!(
                    "OID not increasing: {} after {cursor}",
                    vb.oid
                )));
            }
            out.push(ShownVarbind::new(&vb.oid, &vb.value));
            cursor = vb.oid;
            if out.len() >= MAX_WALK_VARBINDS {
                return Some(truncated());
            }
        }
    }
}
