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
            Some(e) => Some(session.classify(*e, "walking", varbinds.is_empty()).await),
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

/// A v1 walk with async-snmp's GETNEXT stream into `out`; `Ok(Some)` is the error that ended it.
async fn getnext_walk(
    client: &Client<UdpHandle>,
    root: Oid,
    out: &mut Vec<ShownVarbind>,
) -> Result<Option<Box<async_snmp::Error>>, Box<async_snmp::Error>> {
    let mut stream = client.walk(root)?;
    while let Some(item) = stream.next().await {
        match item {
            Ok(vb) if vb.value.is_exception() => break,
            Ok(vb) => out.push(ShownVarbind::new(&vb.oid, &vb.value)),
            Err(e) => return Ok(Some(e)),
        }
        if out.len() >= MAX_WALK_VARBINDS {
            break;
        }
    }
    Ok(None)
}

/// A GETBULK walk of `root` into `out`, in strictly increasing order; the error that ended it.
async fn bulk_walk(
    client: &Client<UdpHandle>,
    root: &Oid,
    max_repetitions: u32,
    out: &mut Vec<ShownVarbind>,
) -> Option<Box<async_snmp::Error>> {
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
            Err(e) => return Some(e),
        };
        if answer.is_empty() {
            return None;
        }
        for vb in answer {
            // Out of the subtree, an exception (endOfMibView) or a non-increasing OID (a
            // broken agent would loop forever): the walk is over.
            if !vb.oid.starts_with(root) || vb.value.is_exception() || vb.oid <= cursor {
                return None;
            }
            out.push(ShownVarbind::new(&vb.oid, &vb.value));
            cursor = vb.oid;
            if out.len() >= MAX_WALK_VARBINDS {
                return None;
            }
        }
    }
}
