//! One-off requests for `faultline get` and `faultline walk` (net-snmp's `snmpget` and
//! `snmpwalk`): the poller's client and error classification, no profile, no decoding.

use async_snmp::Oid;

use super::session::Session;
use super::{PollError, SnmpPoller, Target};
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

    /// Walk the subtree under `root` (numeric): GETBULK for v2c/v3, GETNEXT for v1. As
    /// `snmpwalk` does, a root with nothing under it is asked with a GET, so walking an
    /// instance (`sysName.0`) shows it.
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
        let mut stream = client
            .walk(root_oid)
            .map_err(|e| super::local_error(target, "starting a walk", e.to_string()))?;
        let mut varbinds = Vec::new();
        let mut error = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(vb) => {
                    if vb.value.is_exception() {
                        break;
                    }
                    varbinds.push(ShownVarbind::new(&vb.oid, &vb.value));
                    if varbinds.len() >= MAX_WALK_VARBINDS {
                        break;
                    }
                }
                Err(e) => {
                    let first = varbinds.is_empty();
                    error = Some(session.classify(*e, "walking", first).await);
                    break;
                }
            }
        }
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
