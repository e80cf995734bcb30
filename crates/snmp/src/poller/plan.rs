//! What a poll asks for, in which order: the first GET (system group plus every scalar known
//! before the first answer), the profile chosen from it, then the interface and LLDP walks and
//! one GET and one walk for the profile's HA objects and readiness facts.

use super::session::{SMALL_TABLE_REPS, Session};
use super::{PollError, Target, local_error};
use crate::decode::{RawPoll, SnmpValue, oids};
use crate::profile::{HaSpec, Profile, Profiles};
use crate::readiness::ReadinessCheck;
use crate::secret::Credentials;

/// The first request(s): the system group (required: without it the poll fails), the
/// optional scalars (uptime counters, ifNumber, early readiness and HA scalars).
pub(super) async fn read_first(
    session: &Session<'_>,
    profiles: &Profiles,
    target: &Target,
    raw: &mut RawPoll,
) -> Result<(), PollError> {
    let mut first: Vec<&str> = oids::SYSTEM.to_vec();
    let mut optional: Vec<&str> = oids::OPTIONAL_SCALARS.to_vec();
    optional.push(oids::IF_NUMBER);
    // Scalars known before the first answer ride in the first GET: the generic readiness
    // checks always, and everything of the target's profile when it is named.
    optional.extend(early_scalars(profiles, target.profile.as_deref()));
    let optional = unique(optional);
    if matches!(target.credentials, Credentials::V1 { .. }) {
        session.get_scalars(&first, raw, true).await?;
        // Optional scalars separately: a v1 agent fails a whole GET on one missing object.
        session.get_scalars(&optional, raw, false).await.ok();
    } else {
        // v2c/v3 answer a missing object with a per-varbind exception: one round trip.
        first.extend(optional);
        session.get_scalars(&first, raw, true).await?;
    }
    Ok(())
}

/// The profile used when none matches the device: no HA objects, generic readiness.
pub(super) fn generic_profile() -> Profile {
    Profile {
        name: "generic".into(),
        description: String::new(),
        sys_object_id_prefixes: vec![],
        sys_descr_contains: vec![],
        ha: None,
        readiness: vec![],
    }
}

/// The target's named profile, or the one matching the first answer's sysObjectID and
/// sysDescr, or `generic`. A named profile that does not exist is an error.
pub(super) fn select_profile<'a>(
    profiles: &'a Profiles,
    target: &Target,
    raw: &RawPoll,
    generic: &'a Profile,
) -> Result<&'a Profile, PollError> {
    match &target.profile {
        Some(name) => profiles.get(name).ok_or_else(|| {
            local_error(
                target,
                "selecting profile",
                format!("unknown profile {name:?}"),
            )
        }),
        None => {
            let text = |oid: &str| {
                raw.scalars
                    .get(oid)
                    .map(SnmpValue::text)
                    .unwrap_or_default()
            };
            let sys_oid = text(oids::SYS_OBJECT_ID);
            let descr = text(oids::SYS_DESCR);
            Ok(profiles
                .select_with_descr(&sys_oid, &descr)
                .unwrap_or(generic))
        }
    }
}

/// The table walks and the follow-up GET after the profile is known. A failure of one
/// does not stop the others: the errors are returned for the report.
pub(super) async fn read_tables(
    session: &Session<'_>,
    lldp: bool,
    profile: &Profile,
    checks: &[ReadinessCheck],
    raw: &mut RawPoll,
) -> Vec<PollError> {
    let mut errors = vec![];
    let if_rows = interface_rows(raw);
    if let Err(e) = session.walk(&oids::IF_COLUMNS, raw, if_rows).await {
        errors.push(e);
    }
    if lldp
        && let Err(e) = session
            .walk(&oids::LLDP_COLUMNS, raw, SMALL_TABLE_REPS)
            .await
    {
        errors.push(e);
    }
    // The profile's HA objects and readiness facts: one GET for the scalars not fetched
    // yet, one multi-column walk for the small tables.
    let (ha_scalars, ha_columns) = profile.ha.as_ref().map(HaSpec::objects).unwrap_or_default();
    let scalars: Vec<&str> = unique(
        ha_scalars
            .into_iter()
            .chain(checks.iter().flat_map(ReadinessCheck::scalars))
            .filter(|o| !raw.scalars.contains_key(*o) && !raw.absent.contains(*o)),
    );
    let columns = unique(
        ha_columns
            .into_iter()
            .chain(checks.iter().flat_map(ReadinessCheck::walks)),
    );
    if !scalars.is_empty()
        && let Err(e) = session.get_scalars(&scalars, raw, false).await
    {
        errors.push(e);
    }
    if !columns.is_empty()
        && let Err(e) = session.walk(&columns, raw, SMALL_TABLE_REPS).await
    {
        errors.push(e);
    }
    errors
}

/// First GETBULK size of the interface walk: ifNumber + 1 rows (one request for the whole
/// table when the agent says how long it is), else a small table's.
fn interface_rows(raw: &RawPoll) -> u32 {
    raw.scalars
        .get(oids::IF_NUMBER)
        .and_then(SnmpValue::as_u64)
        .map_or(SMALL_TABLE_REPS, |n| {
            u32::try_from(n.saturating_add(1)).unwrap_or(u32::MAX)
        })
}

/// Scalars a poll can ask for in its first GET, before the profile is known from
/// sysObjectID: the generic readiness checks', and all of the named profile's (HA and
/// readiness) when the target names one.
fn early_scalars<'a>(profiles: &'a Profiles, named: Option<&str>) -> Vec<&'a str> {
    let named = named.and_then(|n| profiles.get(n));
    let checks = profiles.readiness(named.map_or("generic", |p| p.name.as_str()));
    let mut v: Vec<&str> = checks.iter().flat_map(ReadinessCheck::scalars).collect();
    if let Some(ha) = named.and_then(|p| p.ha.as_ref()) {
        v.extend(ha.objects().0);
    }
    v
}

/// The items in first-seen order without repeats (OID lists of a few dozen).
fn unique<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = vec![];
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_keeps_first_seen_order() {
        assert_eq!(unique(["b", "a", "b", "c", "a"]), vec!["b", "a", "c"]);
    }
}
