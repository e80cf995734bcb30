//! Pure interpretation of a notification (trap OID + varbinds) into observations.
//!
//! No sockets, no clock: the receiver passes the arrival time in. That keeps the mapping
//! testable and benchmarkable on its own, and lets a recorded trap replay exactly.

use async_snmp::{Oid, Value, VarBind};
use faultline_observe::octets::hex;
use faultline_observe::{HaRole, IfStatus, Observation, Signal, Subject, UnixMillis};

// OID prefixes as arc slices: comparing `&[u32]` avoids formatting OIDs to strings on the hot path.
const SNMP_TRAPS: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 5];
const IF_INDEX: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 1];
const IF_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2];
const IF_ADMIN: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7];
const IF_OPER: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8];
const IF_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1];

const VRRP_NEW_MASTER: &[u32] = &[1, 3, 6, 1, 2, 1, 68, 0, 1];
const VRRPV3_NEW_MASTER: &[u32] = &[1, 3, 6, 1, 2, 1, 207, 0, 1];
const FORTI_TRAPS: &[u32] = &[1, 3, 6, 1, 4, 1, 12356, 101, 2, 0];
const PAN_TRAPS: &[u32] = &[1, 3, 6, 1, 4, 1, 25461, 2, 1, 3, 2, 0];
const PAN_SYS_HA_STATE: &[u32] = &[1, 3, 6, 1, 4, 1, 25461, 2, 1, 2, 1, 11];
const PAN_SYS_HA_PEER_STATE: &[u32] = &[1, 3, 6, 1, 4, 1, 25461, 2, 1, 2, 1, 12];
const JNX_CLUSTER_SWITCHOVER: &[u32] = &[1, 3, 6, 1, 4, 1, 2636, 3, 39, 1, 14, 1, 0, 1];
const JNX_CLUSTER_CURRENT_STATE: &[u32] = &[1, 3, 6, 1, 4, 1, 2636, 3, 39, 1, 14, 1, 1, 5];
const KEEPALIVED_INSTANCE_CHANGE: &[u32] = &[1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 10, 0, 2];
const KEEPALIVED_INSTANCE_STATE: &[u32] = &[1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1, 4];
const CISCO_FO_STATE_CHANGED: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 491, 0, 3];
const CISCO_FO_GRP_HA_STATE: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 491, 1, 4, 2, 1, 1, 3];

/// What kind of notification a trap OID is, as far as faultline cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    ColdStart,
    WarmStart,
    LinkDown,
    LinkUp,
    /// A vendor or standard HA notification that we decode into a role.
    Ha,
    /// Anything else; kept as [`Signal::RawTrap`].
    Other,
}

/// Classify a trap OID.
pub fn classify(trap_oid: &Oid) -> TrapKind {
    let a = trap_oid.arcs();
    if let Some(rest) = a.strip_prefix(SNMP_TRAPS) {
        return match rest {
            [1] => TrapKind::ColdStart,
            [2] => TrapKind::WarmStart,
            [3] => TrapKind::LinkDown,
            [4] => TrapKind::LinkUp,
            _ => TrapKind::Other,
        };
    }
    if a == VRRP_NEW_MASTER
        || a == VRRPV3_NEW_MASTER
        || a == JNX_CLUSTER_SWITCHOVER
        || a == KEEPALIVED_INSTANCE_CHANGE
        || a == CISCO_FO_STATE_CHANGED
        || matches!(a.strip_prefix(FORTI_TRAPS), Some([401]))
        || matches!(a.strip_prefix(PAN_TRAPS), Some([801] | [828]))
    {
        return TrapKind::Ha;
    }
    TrapKind::Other
}

/// Render varbinds as `(oid, value)` text pairs, the shape kept in [`Signal::RawTrap`] and events.
pub fn render_varbinds(varbinds: &[VarBind]) -> Vec<(String, String)> {
    varbinds
        .iter()
        .map(|vb| (vb.oid.to_string(), render_value(&vb.value)))
        .collect()
}

fn render_value(v: &Value) -> String {
    match v {
        // Non-UTF-8 octet strings (MACs, binary serials) as hex, never lossy garbage.
        Value::OctetString(b) => match std::str::from_utf8(b) {
            Ok(s) if !s.chars().any(|c| c.is_control()) => s.to_string(),
            _ => hex(b, ":"),
        },
        other => other.to_string(),
    }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(i64::from(*i)),
        Value::Gauge32(u) | Value::UInteger32(u) | Value::Counter32(u) => Some(i64::from(*u)),
        _ => None,
    }
}

fn str_of(v: &Value) -> Option<&str> {
    match v {
        Value::OctetString(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}

/// The varbind whose OID is `column.<index...>`, returning (index suffix, value).
fn column<'a>(varbinds: &'a [VarBind], column: &[u32]) -> Option<(&'a [u32], &'a Value)> {
    varbinds.iter().find_map(|vb| {
        vb.oid
            .arcs()
            .strip_prefix(column)
            .map(|idx| (idx, &vb.value))
    })
}

/// Normalize a vendor HA state word (PAN-OS, Junos, generic) to a role. Case-insensitive.
pub fn role_from_word(word: &str) -> HaRole {
    let w = word.trim().to_ascii_lowercase();
    match w.as_str() {
        "active" | "active-primary" | "active-secondary" | "primary" | "master" => HaRole::Active,
        "passive" | "standby" | "secondary" | "backup" => HaRole::Standby,
        "initial" | "tentative" | "secondary-hold" | "init" | "election" => HaRole::Transition,
        "non-functional" | "suspended" | "lost" | "ineligible" | "failed" | "fault" | "down" => {
            HaRole::Failed
        }
        "disabled" | "standalone" => HaRole::Standalone,
        _ => HaRole::Unknown,
    }
}

/// KEEPALIVED-MIB vrrpInstanceState.
fn keepalived_role(v: i64) -> HaRole {
    match v {
        0 => HaRole::Transition,
        1 => HaRole::Standby,
        2 => HaRole::Active,
        3 | 5 => HaRole::Failed,
        6 => HaRole::Standalone,
        _ => HaRole::Unknown,
    }
}

/// CISCO-FIREWALL-MIB cfwHardwareStatusValue enum (used by cufwFOGrpHAstate).
fn cisco_role(v: i64) -> HaRole {
    match v {
        9 => HaRole::Active,
        10 => HaRole::Standby,
        3 | 4 => HaRole::Failed,
        _ => HaRole::Unknown,
    }
}

fn ha_role(trap_oid: &Oid, varbinds: &[VarBind]) -> (HaRole, Option<HaRole>) {
    let a = trap_oid.arcs();
    if a == VRRP_NEW_MASTER || a == VRRPV3_NEW_MASTER {
        // The sender announces that it has just become master.
        return (HaRole::Active, None);
    }
    if let Some(rest) = a.strip_prefix(FORTI_TRAPS) {
        // fgTrapHaSwitch: "secondary → primary", sent by the unit that took over.
        if rest == [401] {
            return (HaRole::Active, None);
        }
    }
    if let Some(rest) = a.strip_prefix(PAN_TRAPS) {
        if rest == [828] {
            // Split brain: this unit is active and so is its peer.
            return (HaRole::Active, Some(HaRole::Active));
        }
        let own = column(varbinds, PAN_SYS_HA_STATE)
            .and_then(|(_, v)| str_of(v))
            .map(role_from_word);
        let peer = column(varbinds, PAN_SYS_HA_PEER_STATE)
            .and_then(|(_, v)| str_of(v))
            .map(role_from_word);
        // Some PAN-OS releases carry the new state only as free text; take the first string
        // varbind that reads as a known state word rather than guessing "active".
        let own = own.or_else(|| {
            varbinds
                .iter()
                .filter_map(|vb| str_of(&vb.value))
                .map(role_from_word)
                .find(|r| *r != HaRole::Unknown)
        });
        return (own.unwrap_or(HaRole::Unknown), peer);
    }
    if a == JNX_CLUSTER_SWITCHOVER {
        let role = column(varbinds, JNX_CLUSTER_CURRENT_STATE)
            .and_then(|(_, v)| str_of(v))
            .map(role_from_word)
            .unwrap_or(HaRole::Unknown);
        return (role, None);
    }
    if a == KEEPALIVED_INSTANCE_CHANGE {
        let role = column(varbinds, KEEPALIVED_INSTANCE_STATE)
            .and_then(|(_, v)| int_of(v))
            .map(keepalived_role)
            .unwrap_or(HaRole::Unknown);
        return (role, None);
    }
    if a == CISCO_FO_STATE_CHANGED {
        let role = column(varbinds, CISCO_FO_GRP_HA_STATE)
            .and_then(|(_, v)| int_of(v))
            .map(cisco_role)
            .unwrap_or(HaRole::Unknown);
        return (role, None);
    }
    (HaRole::Unknown, None)
}

fn interface_observation(
    device: &str,
    at: UnixMillis,
    uptime_cs: u32,
    kind: TrapKind,
    varbinds: &[VarBind],
) -> Observation {
    // ifIndex comes from the ifIndex varbind or, failing that, from the instance suffix of
    // ifOperStatus/ifAdminStatus (some agents omit ifIndex itself).
    let oper = column(varbinds, IF_OPER);
    let admin = column(varbinds, IF_ADMIN);
    let index: Option<Vec<u32>> = column(varbinds, IF_INDEX)
        .and_then(|(_, v)| int_of(v))
        .and_then(|i| u32::try_from(i).ok())
        .map(|i| vec![i])
        .or_else(|| oper.or(admin).map(|(idx, _)| idx.to_vec()));
    let name = column(varbinds, IF_NAME)
        .or_else(|| column(varbinds, IF_DESCR))
        .and_then(|(_, v)| str_of(v))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| {
            index.as_ref().map(|i| {
                let parts: Vec<String> = i.iter().map(u32::to_string).collect();
                format!("ifIndex.{}", parts.join("."))
            })
        })
        .unwrap_or_else(|| "ifIndex.unknown".to_string());
    // A linkDown without ifOperStatus still means "down"; the trap OID is the claim.
    let default_oper = if kind == TrapKind::LinkDown {
        IfStatus::Down
    } else {
        IfStatus::Up
    };
    let oper = oper
        .and_then(|(_, v)| int_of(v))
        .map(IfStatus::from_mib)
        .unwrap_or(default_oper);
    let admin = admin
        .and_then(|(_, v)| int_of(v))
        .map(IfStatus::from_mib)
        .unwrap_or(IfStatus::Unknown);
    Observation::new(
        at,
        Subject::interface(device, name),
        // The trap's sysUpTime is when the agent saw the change: the best ifLastChange we have.
        Signal::Interface {
            oper,
            admin,
            last_change_cs: Some(u64::from(uptime_cs)),
        },
    )
}

/// Turn one notification into observations about `device`.
///
/// Never fails: a trap we do not understand becomes [`Signal::RawTrap`], so nothing a device
/// says is dropped on the floor.
pub fn interpret(
    device: &str,
    at: UnixMillis,
    uptime_cs: u32,
    trap_oid: &Oid,
    varbinds: &[VarBind],
) -> Vec<Observation> {
    let kind = classify(trap_oid);
    let signal = match kind {
        TrapKind::ColdStart => Signal::Rebooted { cold: true },
        TrapKind::WarmStart => Signal::Rebooted { cold: false },
        TrapKind::LinkDown | TrapKind::LinkUp => {
            return vec![interface_observation(device, at, uptime_cs, kind, varbinds)];
        }
        TrapKind::Ha => {
            let (role, peer) = ha_role(trap_oid, varbinds);
            Signal::HaRole {
                role,
                peer,
                in_sync: None,
            }
        }
        TrapKind::Other => Signal::RawTrap {
            trap_oid: trap_oid.to_string(),
            varbinds: render_varbinds(varbinds),
        },
    };
    vec![Observation::new(at, Subject::device(device), signal)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn oid(s: &str) -> Oid {
        match Oid::parse(s) {
            Ok(o) => o,
            Err(e) => panic!("bad test oid {s}: {e}"),
        }
    }

    fn vb(o: &str, v: Value) -> VarBind {
        VarBind::new(oid(o), v)
    }

    #[test]
    fn link_down_with_ifname_is_interface_down() {
        let vbs = vec![
            vb("1.3.6.1.2.1.2.2.1.1.4", Value::Integer(4)),
            vb("1.3.6.1.2.1.2.2.1.7.4", Value::Integer(1)),
            vb("1.3.6.1.2.1.2.2.1.8.4", Value::Integer(2)),
            vb(
                "1.3.6.1.2.1.31.1.1.1.1.4",
                Value::OctetString(Bytes::from_static(b"port4")),
            ),
        ];
        let obs = interpret("sw-1", 7, 123, &oid("1.3.6.1.6.3.1.1.5.3"), &vbs);
        assert_eq!(obs.len(), 1);
        assert_eq!(obs[0].subject, Subject::interface("sw-1", "port4"));
        assert_eq!(
            obs[0].signal,
            Signal::Interface {
                oper: IfStatus::Down,
                admin: IfStatus::Up,
                last_change_cs: Some(123)
            }
        );
    }

    #[test]
    fn link_up_without_names_uses_index_from_oper_suffix() {
        let vbs = vec![vb("1.3.6.1.2.1.2.2.1.8.17", Value::Integer(1))];
        let obs = interpret("sw-1", 7, 0, &oid("1.3.6.1.6.3.1.1.5.4"), &vbs);
        assert_eq!(obs[0].subject, Subject::interface("sw-1", "ifIndex.17"));
        assert!(matches!(
            obs[0].signal,
            Signal::Interface {
                oper: IfStatus::Up,
                admin: IfStatus::Unknown,
                ..
            }
        ));
    }

    #[test]
    fn cold_and_warm_start_are_reboots() {
        let c = interpret("d", 1, 0, &oid("1.3.6.1.6.3.1.1.5.1"), &[]);
        let w = interpret("d", 1, 0, &oid("1.3.6.1.6.3.1.1.5.2"), &[]);
        assert_eq!(c[0].signal, Signal::Rebooted { cold: true });
        assert_eq!(w[0].signal, Signal::Rebooted { cold: false });
    }

    #[test]
    fn vendor_ha_traps_decode_to_roles() {
        let forti = interpret("fw", 1, 0, &oid("1.3.6.1.4.1.12356.101.2.0.401"), &[]);
        assert!(matches!(
            forti[0].signal,
            Signal::HaRole {
                role: HaRole::Active,
                ..
            }
        ));

        let split = interpret("fw", 1, 0, &oid("1.3.6.1.4.1.25461.2.1.3.2.0.828"), &[]);
        assert!(matches!(
            split[0].signal,
            Signal::HaRole {
                role: HaRole::Active,
                peer: Some(HaRole::Active),
                ..
            }
        ));

        let pan = interpret(
            "fw",
            1,
            0,
            &oid("1.3.6.1.4.1.25461.2.1.3.2.0.801"),
            &[vb(
                "1.3.6.1.4.1.25461.2.1.2.1.11.0",
                Value::OctetString(Bytes::from_static(b"Passive")),
            )],
        );
        assert!(matches!(
            pan[0].signal,
            Signal::HaRole {
                role: HaRole::Standby,
                ..
            }
        ));

        let jnx = interpret(
            "srx",
            1,
            0,
            &oid("1.3.6.1.4.1.2636.3.39.1.14.1.0.1"),
            &[vb(
                "1.3.6.1.4.1.2636.3.39.1.14.1.1.5",
                Value::OctetString(Bytes::from_static(b"primary")),
            )],
        );
        assert!(matches!(
            jnx[0].signal,
            Signal::HaRole {
                role: HaRole::Active,
                ..
            }
        ));

        let ka = interpret(
            "lb",
            1,
            0,
            &oid("1.3.6.1.4.1.9586.100.5.2.10.0.2"),
            &[
                vb(
                    "1.3.6.1.4.1.9586.100.5.2.3.1.2.1",
                    Value::OctetString(Bytes::from_static(b"VI_1")),
                ),
                vb("1.3.6.1.4.1.9586.100.5.2.3.1.4.1", Value::Integer(3)),
            ],
        );
        assert!(matches!(
            ka[0].signal,
            Signal::HaRole {
                role: HaRole::Failed,
                ..
            }
        ));

        let vrrp = interpret("r", 1, 0, &oid("1.3.6.1.2.1.68.0.1"), &[]);
        assert!(matches!(
            vrrp[0].signal,
            Signal::HaRole {
                role: HaRole::Active,
                ..
            }
        ));
    }

    #[test]
    fn unknown_trap_is_kept_raw() {
        let vbs = vec![vb(
            "1.3.6.1.4.1.99999.1.1",
            Value::OctetString(Bytes::from_static(&[0, 1, 0xff])),
        )];
        let obs = interpret("d", 1, 0, &oid("1.3.6.1.4.1.99999.0.7"), &vbs);
        match &obs[0].signal {
            Signal::RawTrap { trap_oid, varbinds } => {
                assert_eq!(trap_oid, "1.3.6.1.4.1.99999.0.7");
                assert_eq!(
                    varbinds[0],
                    ("1.3.6.1.4.1.99999.1.1".to_string(), "00:01:ff".to_string())
                );
            }
            other => panic!("expected raw trap, got {other:?}"),
        }
    }

    #[test]
    fn garbage_status_values_never_read_as_up() {
        let vbs = vec![vb(
            "1.3.6.1.2.1.2.2.1.8.1",
            Value::OctetString(Bytes::from_static(b"up")),
        )];
        let obs = interpret("d", 1, 0, &oid("1.3.6.1.6.3.1.1.5.3"), &vbs);
        assert!(matches!(
            obs[0].signal,
            Signal::Interface {
                oper: IfStatus::Down,
                ..
            }
        ));
        let vbs = vec![vb("1.3.6.1.2.1.2.2.1.8.1", Value::Integer(99))];
        let obs = interpret("d", 1, 0, &oid("1.3.6.1.6.3.1.1.5.4"), &vbs);
        assert!(matches!(
            obs[0].signal,
            Signal::Interface {
                oper: IfStatus::Unknown,
                ..
            }
        ));
    }
}
