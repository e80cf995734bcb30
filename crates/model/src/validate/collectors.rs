//! Pass 6: where reachability is judged from. `collector:` names the device the collector (or
//! the correlator's default vantage) runs on; `zone_collectors:` names one per zone, the
//! device that zone's poller runs on.
//!
//! `zone_collectors` is a key of its own rather than a second form of `collector` (a string or
//! a map): every existing file keeps its meaning and its schema, a tool reading `collector`
//! still finds a device id there, and the default vantage stays next to the per-zone ones
//! (devices without a zone, or in a zone without a collector, are judged from it).

use std::collections::{BTreeMap, BTreeSet};

use super::{Ctx, Refs, closest, hint};
use crate::ComponentRef;
use crate::raw::S;

/// The collector, when named, is a device.
pub(super) fn validate_collector(cx: &mut Ctx, c: Option<&S<String>>, refs: &Refs) {
    if let Some(c) = c {
        check_device(cx, "collector", c, refs);
    }
}

/// Every zone collector is a device, and every zone listed is one that some device or
/// service of the file is in (a misspelt zone would silently judge its devices from the
/// default collector). Every problem is reported, at the collector's position.
pub(super) fn validate_zone_collectors(
    cx: &mut Ctx,
    zones: &BTreeMap<String, S<String>>,
    refs: &Refs,
) {
    if zones.is_empty() {
        return;
    }
    let known: BTreeSet<&str> = (refs.ids.devices.iter())
        .filter_map(|d| d.zone.as_deref())
        .chain(
            refs.ids
                .services
                .iter()
                .flat_map(|s| (s.zone.iter().chain(&s.zones)).map(|z| z.value.as_str())),
        )
        .collect();
    for (zone, c) in zones {
        check_device(cx, &format!("zone `{zone}`'s collector"), c, refs);
        if !known.contains(zone.as_str()) {
            let close = match closest(zone, known.iter().copied()) {
                Some(k) => format!(" (did you mean `{k}`?)"),
                None => String::new(),
            };
            cx.err(
                c,
                format!(
                    "zone_collectors names zone `{zone}`, which no device or service is in{close}"
                ),
            );
        }
    }
}

/// `c` names a device; `what` says whose collector it is (`collector`, `zone `z`'s collector`).
fn check_device(cx: &mut Ctx, what: &str, c: &S<String>, refs: &Refs) {
    match refs.ids.get(refs.index, &c.value) {
        Some(ComponentRef::Device(_)) => {}
        Some(other) => cx.err(
            c,
            format!(
                "{what} `{}` is a {}, not a device",
                c.value,
                other.kind_name()
            ),
        ),
        None => cx.err(
            c,
            format!(
                "{what} names unknown device `{}`{}",
                c.value,
                hint(&c.value, refs.ids)
            ),
        ),
    }
}
