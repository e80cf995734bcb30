//! The one table of object names faultline knows: the MIB-2 system group, IF-MIB (ifTable,
//! ifXTable), IP-MIB and IP-FORWARD-MIB objects the readiness checks read, HOST-RESOURCES and
//! SNMP-FRAMEWORK scalars of the poll, LLDP-MIB and CISCO-CDP-MIB (discovery), the standard
//! traps (SNMPv2-MIB, IF-MIB, VRRP) and the vendor objects the profiles in `profiles/*.toml`
//! read. No MIB files are parsed: these are the objects faultline itself uses.
//!
//! Both directions: [`resolve`] turns `IF-MIB::ifOperStatus.3`, `ifOperStatus.3`, `sysName.0`
//! or a numeric OID (with or without the leading dot) into the numeric form; [`display`] names
//! an OID by its longest known prefix plus the instance suffix, as net-snmp prints it, and
//! [`enum_label`] gives an INTEGER's enumeration label (`up`) for the objects that have one.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One named object: its MIB module, descriptor and numeric OID (no leading dot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// MIB module, e.g. `IF-MIB`.
    pub module: &'static str,
    /// Descriptor, e.g. `ifOperStatus`.
    pub name: &'static str,
    /// Numeric OID without the leading dot.
    pub oid: &'static str,
}

const fn k(module: &'static str, name: &'static str, oid: &'static str) -> Known {
    Known { module, name, oid }
}

/// Every object faultline knows by name.
pub const KNOWN: &[Known] = &[
    k("SNMPv2-SMI", "mib-2", "1.3.6.1.2.1"),
    k("SNMPv2-SMI", "enterprises", "1.3.6.1.4.1"),
    k("SNMPv2-SMI", "snmpV2", "1.3.6.1.6"),
    k("SNMPv2-SMI", "snmpModules", "1.3.6.1.6.3"),
    // SNMPv2-MIB system group
    k("SNMPv2-MIB", "system", "1.3.6.1.2.1.1"),
    k("SNMPv2-MIB", "sysDescr", "1.3.6.1.2.1.1.1"),
    k("SNMPv2-MIB", "sysObjectID", "1.3.6.1.2.1.1.2"),
    k("SNMPv2-MIB", "sysUpTime", "1.3.6.1.2.1.1.3"),
    k("SNMPv2-MIB", "sysContact", "1.3.6.1.2.1.1.4"),
    k("SNMPv2-MIB", "sysName", "1.3.6.1.2.1.1.5"),
    k("SNMPv2-MIB", "sysLocation", "1.3.6.1.2.1.1.6"),
    k("SNMPv2-MIB", "sysServices", "1.3.6.1.2.1.1.7"),
    k("SNMPv2-MIB", "sysORLastChange", "1.3.6.1.2.1.1.8"),
    k("SNMPv2-MIB", "sysORTable", "1.3.6.1.2.1.1.9"),
    k("SNMPv2-MIB", "sysOREntry", "1.3.6.1.2.1.1.9.1"),
    k("SNMPv2-MIB", "sysORIndex", "1.3.6.1.2.1.1.9.1.1"),
    k("SNMPv2-MIB", "sysORID", "1.3.6.1.2.1.1.9.1.2"),
    k("SNMPv2-MIB", "sysORDescr", "1.3.6.1.2.1.1.9.1.3"),
    k("SNMPv2-MIB", "sysORUpTime", "1.3.6.1.2.1.1.9.1.4"),
    // SNMPv2-MIB notifications and trap varbinds
    k("SNMPv2-MIB", "snmpTrapOID", "1.3.6.1.6.3.1.1.4.1"),
    k("SNMPv2-MIB", "snmpTrapEnterprise", "1.3.6.1.6.3.1.1.4.3"),
    k("SNMPv2-MIB", "coldStart", "1.3.6.1.6.3.1.1.5.1"),
    k("SNMPv2-MIB", "warmStart", "1.3.6.1.6.3.1.1.5.2"),
    k("IF-MIB", "linkDown", "1.3.6.1.6.3.1.1.5.3"),
    k("IF-MIB", "linkUp", "1.3.6.1.6.3.1.1.5.4"),
    k("SNMPv2-MIB", "authenticationFailure", "1.3.6.1.6.3.1.1.5.5"),
    // SNMP-FRAMEWORK-MIB
    k("SNMP-FRAMEWORK-MIB", "snmpEngineID", "1.3.6.1.6.3.10.2.1.1"),
    k(
        "SNMP-FRAMEWORK-MIB",
        "snmpEngineBoots",
        "1.3.6.1.6.3.10.2.1.2",
    ),
    k(
        "SNMP-FRAMEWORK-MIB",
        "snmpEngineTime",
        "1.3.6.1.6.3.10.2.1.3",
    ),
    // IF-MIB interfaces group, ifTable
    k("IF-MIB", "interfaces", "1.3.6.1.2.1.2"),
    k("IF-MIB", "ifNumber", "1.3.6.1.2.1.2.1"),
    k("IF-MIB", "ifTable", "1.3.6.1.2.1.2.2"),
    k("IF-MIB", "ifEntry", "1.3.6.1.2.1.2.2.1"),
    k("IF-MIB", "ifIndex", "1.3.6.1.2.1.2.2.1.1"),
    k("IF-MIB", "ifDescr", "1.3.6.1.2.1.2.2.1.2"),
    k("IF-MIB", "ifType", "1.3.6.1.2.1.2.2.1.3"),
    k("IF-MIB", "ifMtu", "1.3.6.1.2.1.2.2.1.4"),
    k("IF-MIB", "ifSpeed", "1.3.6.1.2.1.2.2.1.5"),
    k("IF-MIB", "ifPhysAddress", "1.3.6.1.2.1.2.2.1.6"),
    k("IF-MIB", "ifAdminStatus", "1.3.6.1.2.1.2.2.1.7"),
    k("IF-MIB", "ifOperStatus", "1.3.6.1.2.1.2.2.1.8"),
    k("IF-MIB", "ifLastChange", "1.3.6.1.2.1.2.2.1.9"),
    k("IF-MIB", "ifInOctets", "1.3.6.1.2.1.2.2.1.10"),
    k("IF-MIB", "ifInUcastPkts", "1.3.6.1.2.1.2.2.1.11"),
    k("IF-MIB", "ifInNUcastPkts", "1.3.6.1.2.1.2.2.1.12"),
    k("IF-MIB", "ifInDiscards", "1.3.6.1.2.1.2.2.1.13"),
    k("IF-MIB", "ifInErrors", "1.3.6.1.2.1.2.2.1.14"),
    k("IF-MIB", "ifInUnknownProtos", "1.3.6.1.2.1.2.2.1.15"),
    k("IF-MIB", "ifOutOctets", "1.3.6.1.2.1.2.2.1.16"),
    k("IF-MIB", "ifOutUcastPkts", "1.3.6.1.2.1.2.2.1.17"),
    k("IF-MIB", "ifOutNUcastPkts", "1.3.6.1.2.1.2.2.1.18"),
    k("IF-MIB", "ifOutDiscards", "1.3.6.1.2.1.2.2.1.19"),
    k("IF-MIB", "ifOutErrors", "1.3.6.1.2.1.2.2.1.20"),
    k("IF-MIB", "ifOutQLen", "1.3.6.1.2.1.2.2.1.21"),
    k("IF-MIB", "ifSpecific", "1.3.6.1.2.1.2.2.1.22"),
    // IF-MIB ifXTable
    k("IF-MIB", "ifMIB", "1.3.6.1.2.1.31"),
    k("IF-MIB", "ifMIBObjects", "1.3.6.1.2.1.31.1"),
    k("IF-MIB", "ifXTable", "1.3.6.1.2.1.31.1.1"),
    k("IF-MIB", "ifXEntry", "1.3.6.1.2.1.31.1.1.1"),
    k("IF-MIB", "ifName", "1.3.6.1.2.1.31.1.1.1.1"),
    k("IF-MIB", "ifInMulticastPkts", "1.3.6.1.2.1.31.1.1.1.2"),
    k("IF-MIB", "ifInBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.3"),
    k("IF-MIB", "ifOutMulticastPkts", "1.3.6.1.2.1.31.1.1.1.4"),
    k("IF-MIB", "ifOutBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.5"),
    k("IF-MIB", "ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6"),
    k("IF-MIB", "ifHCInUcastPkts", "1.3.6.1.2.1.31.1.1.1.7"),
    k("IF-MIB", "ifHCInMulticastPkts", "1.3.6.1.2.1.31.1.1.1.8"),
    k("IF-MIB", "ifHCInBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.9"),
    k("IF-MIB", "ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10"),
    k("IF-MIB", "ifHCOutUcastPkts", "1.3.6.1.2.1.31.1.1.1.11"),
    k("IF-MIB", "ifHCOutMulticastPkts", "1.3.6.1.2.1.31.1.1.1.12"),
    k("IF-MIB", "ifHCOutBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.13"),
    k(
        "IF-MIB",
        "ifLinkUpDownTrapEnable",
        "1.3.6.1.2.1.31.1.1.1.14",
    ),
    k("IF-MIB", "ifHighSpeed", "1.3.6.1.2.1.31.1.1.1.15"),
    k("IF-MIB", "ifPromiscuousMode", "1.3.6.1.2.1.31.1.1.1.16"),
    k("IF-MIB", "ifConnectorPresent", "1.3.6.1.2.1.31.1.1.1.17"),
    k("IF-MIB", "ifAlias", "1.3.6.1.2.1.31.1.1.1.18"),
    k(
        "IF-MIB",
        "ifCounterDiscontinuityTime",
        "1.3.6.1.2.1.31.1.1.1.19",
    ),
    // IP-MIB and IP-FORWARD-MIB (generic readiness checks)
    k("IP-MIB", "ip", "1.3.6.1.2.1.4"),
    k("IP-MIB", "ipForwarding", "1.3.6.1.2.1.4.1"),
    k("IP-MIB", "ipv6IpForwarding", "1.3.6.1.2.1.4.25"),
    k("IP-FORWARD-MIB", "ipForward", "1.3.6.1.2.1.4.24"),
    k("IP-FORWARD-MIB", "ipCidrRouteNumber", "1.3.6.1.2.1.4.24.3"),
    k(
        "IP-FORWARD-MIB",
        "inetCidrRouteNumber",
        "1.3.6.1.2.1.4.24.6",
    ),
    k("IP-FORWARD-MIB", "inetCidrRouteTable", "1.3.6.1.2.1.4.24.7"),
    k(
        "IP-FORWARD-MIB",
        "inetCidrRouteEntry",
        "1.3.6.1.2.1.4.24.7.1",
    ),
    k(
        "IP-FORWARD-MIB",
        "inetCidrRouteIfIndex",
        "1.3.6.1.2.1.4.24.7.1.7",
    ),
    // HOST-RESOURCES-MIB
    k("HOST-RESOURCES-MIB", "host", "1.3.6.1.2.1.25"),
    k("HOST-RESOURCES-MIB", "hrSystem", "1.3.6.1.2.1.25.1"),
    k("HOST-RESOURCES-MIB", "hrSystemUptime", "1.3.6.1.2.1.25.1.1"),
    // VRRP-MIB (RFC 2787) and VRRPV3-MIB (RFC 6527)
    k("VRRP-MIB", "vrrpMIB", "1.3.6.1.2.1.68"),
    k("VRRP-MIB", "vrrpTrapNewMaster", "1.3.6.1.2.1.68.0.1"),
    k("VRRP-MIB", "vrrpOperTable", "1.3.6.1.2.1.68.1.3"),
    k("VRRP-MIB", "vrrpOperEntry", "1.3.6.1.2.1.68.1.3.1"),
    k("VRRP-MIB", "vrrpOperState", "1.3.6.1.2.1.68.1.3.1.3"),
    k("VRRP-MIB", "vrrpOperAdminState", "1.3.6.1.2.1.68.1.3.1.4"),
    k("VRRP-MIB", "vrrpOperPriority", "1.3.6.1.2.1.68.1.3.1.5"),
    k("VRRPV3-MIB", "vrrpv3MIB", "1.3.6.1.2.1.207"),
    k("VRRPV3-MIB", "vrrpv3NewMaster", "1.3.6.1.2.1.207.0.1"),
    // LLDP-MIB (discovery, drift)
    k("LLDP-MIB", "lldpMIB", "1.0.8802.1.1.2"),
    k("LLDP-MIB", "lldpObjects", "1.0.8802.1.1.2.1"),
    k("LLDP-MIB", "lldpLocalSystemData", "1.0.8802.1.1.2.1.3"),
    k(
        "LLDP-MIB",
        "lldpLocChassisIdSubtype",
        "1.0.8802.1.1.2.1.3.1",
    ),
    k("LLDP-MIB", "lldpLocChassisId", "1.0.8802.1.1.2.1.3.2"),
    k("LLDP-MIB", "lldpLocSysName", "1.0.8802.1.1.2.1.3.3"),
    k("LLDP-MIB", "lldpLocSysDesc", "1.0.8802.1.1.2.1.3.4"),
    k("LLDP-MIB", "lldpLocSysCapSupported", "1.0.8802.1.1.2.1.3.5"),
    k("LLDP-MIB", "lldpLocSysCapEnabled", "1.0.8802.1.1.2.1.3.6"),
    k("LLDP-MIB", "lldpLocPortTable", "1.0.8802.1.1.2.1.3.7"),
    k("LLDP-MIB", "lldpLocPortEntry", "1.0.8802.1.1.2.1.3.7.1"),
    k("LLDP-MIB", "lldpLocPortNum", "1.0.8802.1.1.2.1.3.7.1.1"),
    k(
        "LLDP-MIB",
        "lldpLocPortIdSubtype",
        "1.0.8802.1.1.2.1.3.7.1.2",
    ),
    k("LLDP-MIB", "lldpLocPortId", "1.0.8802.1.1.2.1.3.7.1.3"),
    k("LLDP-MIB", "lldpLocPortDesc", "1.0.8802.1.1.2.1.3.7.1.4"),
    k("LLDP-MIB", "lldpRemoteSystemsData", "1.0.8802.1.1.2.1.4"),
    k("LLDP-MIB", "lldpRemTable", "1.0.8802.1.1.2.1.4.1"),
    k("LLDP-MIB", "lldpRemEntry", "1.0.8802.1.1.2.1.4.1.1"),
    k("LLDP-MIB", "lldpRemTimeMark", "1.0.8802.1.1.2.1.4.1.1.1"),
    k(
        "LLDP-MIB",
        "lldpRemLocalPortNum",
        "1.0.8802.1.1.2.1.4.1.1.2",
    ),
    k("LLDP-MIB", "lldpRemIndex", "1.0.8802.1.1.2.1.4.1.1.3"),
    k(
        "LLDP-MIB",
        "lldpRemChassisIdSubtype",
        "1.0.8802.1.1.2.1.4.1.1.4",
    ),
    k("LLDP-MIB", "lldpRemChassisId", "1.0.8802.1.1.2.1.4.1.1.5"),
    k(
        "LLDP-MIB",
        "lldpRemPortIdSubtype",
        "1.0.8802.1.1.2.1.4.1.1.6",
    ),
    k("LLDP-MIB", "lldpRemPortId", "1.0.8802.1.1.2.1.4.1.1.7"),
    k("LLDP-MIB", "lldpRemPortDesc", "1.0.8802.1.1.2.1.4.1.1.8"),
    k("LLDP-MIB", "lldpRemSysName", "1.0.8802.1.1.2.1.4.1.1.9"),
    k("LLDP-MIB", "lldpRemSysDesc", "1.0.8802.1.1.2.1.4.1.1.10"),
    k(
        "LLDP-MIB",
        "lldpRemSysCapSupported",
        "1.0.8802.1.1.2.1.4.1.1.11",
    ),
    k(
        "LLDP-MIB",
        "lldpRemSysCapEnabled",
        "1.0.8802.1.1.2.1.4.1.1.12",
    ),
    k("LLDP-MIB", "lldpRemManAddrTable", "1.0.8802.1.1.2.1.4.2"),
    k("LLDP-MIB", "lldpRemManAddrEntry", "1.0.8802.1.1.2.1.4.2.1"),
    k(
        "LLDP-MIB",
        "lldpRemManAddrIfSubtype",
        "1.0.8802.1.1.2.1.4.2.1.3",
    ),
    // CISCO-CDP-MIB (discovery)
    k("CISCO-CDP-MIB", "cdpCacheTable", "1.3.6.1.4.1.9.9.23.1.2.1"),
    k(
        "CISCO-CDP-MIB",
        "cdpCacheEntry",
        "1.3.6.1.4.1.9.9.23.1.2.1.1",
    ),
    k(
        "CISCO-CDP-MIB",
        "cdpCacheAddressType",
        "1.3.6.1.4.1.9.9.23.1.2.1.1.3",
    ),
    k(
        "CISCO-CDP-MIB",
        "cdpCacheAddress",
        "1.3.6.1.4.1.9.9.23.1.2.1.1.4",
    ),
    k(
        "CISCO-CDP-MIB",
        "cdpCacheDeviceId",
        "1.3.6.1.4.1.9.9.23.1.2.1.1.6",
    ),
    k(
        "CISCO-CDP-MIB",
        "cdpCacheDevicePort",
        "1.3.6.1.4.1.9.9.23.1.2.1.1.7",
    ),
    k(
        "CISCO-CDP-MIB",
        "cdpCacheCapabilities",
        "1.3.6.1.4.1.9.9.23.1.2.1.1.9",
    ),
    // Vendor objects the profiles read (names as in the profiles' comments)
    k(
        "CISCO-FIREWALL-MIB",
        "cfwHardwareStatusTable",
        "1.3.6.1.4.1.9.9.147.1.2.1.1",
    ),
    k(
        "CISCO-FIREWALL-MIB",
        "cfwHardwareStatusEntry",
        "1.3.6.1.4.1.9.9.147.1.2.1.1.1",
    ),
    k(
        "CISCO-FIREWALL-MIB",
        "cfwHardwareInformation",
        "1.3.6.1.4.1.9.9.147.1.2.1.1.1.2",
    ),
    k(
        "CISCO-FIREWALL-MIB",
        "cfwHardwareStatusValue",
        "1.3.6.1.4.1.9.9.147.1.2.1.1.1.3",
    ),
    k(
        "CISCO-UNIFIED-FIREWALL-MIB",
        "cufwFOSwVersionOurs",
        "1.3.6.1.4.1.9.9.491.1.4.1.9",
    ),
    k("CHECKPOINT-MIB", "fwModuleState", "1.3.6.1.4.1.2620.1.1.1"),
    k(
        "CHECKPOINT-MIB",
        "fwPolicyName",
        "1.3.6.1.4.1.2620.1.1.25.1",
    ),
    k("CHECKPOINT-MIB", "haStarted", "1.3.6.1.4.1.2620.1.5.5"),
    k("CHECKPOINT-MIB", "haState", "1.3.6.1.4.1.2620.1.5.6"),
    k("CHECKPOINT-MIB", "haBlockState", "1.3.6.1.4.1.2620.1.5.7"),
    k("CHECKPOINT-MIB", "haStatCode", "1.3.6.1.4.1.2620.1.5.101"),
    k(
        "FORTINET-CORE-MIB",
        "fnSysSerial",
        "1.3.6.1.4.1.12356.100.1.1.1",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaSystemMode",
        "1.3.6.1.4.1.12356.101.13.1.1",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaGroupId",
        "1.3.6.1.4.1.12356.101.13.1.2",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaGroupName",
        "1.3.6.1.4.1.12356.101.13.1.7",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaStatsTable",
        "1.3.6.1.4.1.12356.101.13.2.1",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaStatsEntry",
        "1.3.6.1.4.1.12356.101.13.2.1.1",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaStatsSerial",
        "1.3.6.1.4.1.12356.101.13.2.1.1.2",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaStatsSyncStatus",
        "1.3.6.1.4.1.12356.101.13.2.1.1.12",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgHaStatsGlobalChecksum",
        "1.3.6.1.4.1.12356.101.13.2.1.1.15",
    ),
    k(
        "FORTINET-FORTIGATE-MIB",
        "fgTrapHaSwitch",
        "1.3.6.1.4.1.12356.101.2.0.401",
    ),
    k(
        "JUNIPER-MIB",
        "jnxRedundancyTable",
        "1.3.6.1.4.1.2636.3.1.14",
    ),
    k(
        "JUNIPER-MIB",
        "jnxRedundancyEntry",
        "1.3.6.1.4.1.2636.3.1.14.1",
    ),
    k(
        "JUNIPER-CHASSIS-CLUSTER-MIB",
        "jnxJsChassisClusterSwitchover",
        "1.3.6.1.4.1.2636.3.39.1.14.1.0.1",
    ),
    k(
        "KEEPALIVED-MIB",
        "vrrpInstanceTable",
        "1.3.6.1.4.1.9586.100.5.2.3",
    ),
    k(
        "KEEPALIVED-MIB",
        "vrrpInstanceEntry",
        "1.3.6.1.4.1.9586.100.5.2.3.1",
    ),
    k(
        "KEEPALIVED-MIB",
        "vrrpInstanceState",
        "1.3.6.1.4.1.9586.100.5.2.3.1.4",
    ),
    k(
        "KEEPALIVED-MIB",
        "vrrpInstanceStateChange",
        "1.3.6.1.4.1.9586.100.5.2.10.0.2",
    ),
    k(
        "PAN-COMMON-MIB",
        "panSysSwVersion",
        "1.3.6.1.4.1.25461.2.1.2.1.1",
    ),
    k(
        "PAN-COMMON-MIB",
        "panSysAppVersion",
        "1.3.6.1.4.1.25461.2.1.2.1.7",
    ),
    k(
        "PAN-COMMON-MIB",
        "panSysThreatVersion",
        "1.3.6.1.4.1.25461.2.1.2.1.9",
    ),
    k(
        "PAN-COMMON-MIB",
        "panSysHAState",
        "1.3.6.1.4.1.25461.2.1.2.1.11",
    ),
    k(
        "PAN-COMMON-MIB",
        "panSysHAPeerState",
        "1.3.6.1.4.1.25461.2.1.2.1.12",
    ),
    k(
        "PAN-COMMON-MIB",
        "panSysHAMode",
        "1.3.6.1.4.1.25461.2.1.2.1.13",
    ),
    k("NET-SNMP-MIB", "netSnmpAgentOIDs", "1.3.6.1.4.1.8072.3.2"),
];

/// INTEGER enumerations, by the object's descriptor: `(value, label)`.
const ENUMS: &[(&str, &[(i64, &str)])] = &[
    ("ifOperStatus", IF_OPER),
    ("ifAdminStatus", &[(1, "up"), (2, "down"), (3, "testing")]),
    ("ifType", IF_TYPE),
    ("ifLinkUpDownTrapEnable", &[(1, "enabled"), (2, "disabled")]),
    ("ifPromiscuousMode", TRUTH),
    ("ifConnectorPresent", TRUTH),
    ("ipForwarding", FORWARDING),
    ("ipv6IpForwarding", FORWARDING),
    (
        "vrrpOperState",
        &[(1, "initialize"), (2, "backup"), (3, "master")],
    ),
    ("vrrpOperAdminState", &[(1, "up"), (2, "down")]),
    (
        "fgHaSystemMode",
        &[(1, "standalone"), (2, "activeActive"), (3, "activePassive")],
    ),
    (
        "fgHaStatsSyncStatus",
        &[(0, "unsynchronized"), (1, "synchronized")],
    ),
];

const IF_OPER: &[(i64, &str)] = &[
    (1, "up"),
    (2, "down"),
    (3, "testing"),
    (4, "unknown"),
    (5, "dormant"),
    (6, "notPresent"),
    (7, "lowerLayerDown"),
];
const IF_TYPE: &[(i64, &str)] = &[
    (1, "other"),
    (6, "ethernetCsmacd"),
    (24, "softwareLoopback"),
    (53, "propVirtual"),
    (131, "tunnel"),
    (135, "l2vlan"),
    (161, "ieee8023adLag"),
    (209, "bridge"),
];
const TRUTH: &[(i64, &str)] = &[(1, "true"), (2, "false")];
const FORWARDING: &[(i64, &str)] = &[(1, "forwarding"), (2, "notForwarding")];

/// A name or OID that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not a numeric OID and not a name faultline knows.
    #[error(
        "unknown object {0:?}: give a numeric OID or a name faultline knows (e.g. IF-MIB::ifOperStatus.3, sysName.0)"
    )]
    Unknown(String),
    /// The name is known, but in another module than the one given.
    #[error("{given:?}: {name} is defined in {module}, not {wanted}")]
    WrongModule {
        /// What was given.
        given: String,
        /// The descriptor.
        name: &'static str,
        /// Its real module.
        module: &'static str,
        /// The module that was given.
        wanted: String,
    },
    /// An instance suffix or numeric OID with a part that is not a number.
    #[error("{0:?}: the OID has a part that is not a number")]
    BadArc(String),
}

struct Index {
    by_name: HashMap<&'static str, &'static Known>,
    by_oid: HashMap<&'static str, &'static Known>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| Index {
        by_name: KNOWN.iter().map(|k| (k.name, k)).collect(),
        by_oid: KNOWN.iter().map(|k| (k.oid, k)).collect(),
    })
}

fn numeric(s: &str) -> Option<&str> {
    let s = s.strip_prefix('.').unwrap_or(s);
    (!s.is_empty()
        && s.split('.')
            .all(|a| !a.is_empty() && a.parse::<u32>().is_ok()))
    .then_some(s)
}

/// The numeric OID (no leading dot) of `given`: a numeric OID with or without the leading dot,
/// or `[MODULE::]name[.instance]` for a name in [`KNOWN`].
pub fn resolve(given: &str) -> Result<String, NameError> {
    let given = given.trim();
    if let Some(n) = numeric(given) {
        return Ok(n.to_owned());
    }
    let (module, rest) = match given.split_once("::") {
        Some((m, r)) => (Some(m), r),
        None => (None, given),
    };
    let (name, suffix) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    let known = index()
        .by_name
        .get(name)
        .copied()
        .ok_or_else(|| NameError::Unknown(given.to_owned()))?;
    if let Some(m) = module
        && m != known.module
    {
        return Err(NameError::WrongModule {
            given: given.to_owned(),
            name: known.name,
            module: known.module,
            wanted: m.to_owned(),
        });
    }
    match suffix {
        None => Ok(known.oid.to_owned()),
        Some(s) if numeric(s).is_some() && !s.starts_with('.') => Ok(format!("{}.{s}", known.oid)),
        Some(_) => Err(NameError::BadArc(given.to_owned())),
    }
}

/// The longest known prefix of the numeric `oid` (leading dot optional) and the rest of it
/// (the instance suffix, without its dot; empty when `oid` is the object itself).
pub fn lookup(oid: &str) -> Option<(&'static Known, &str)> {
    let oid = oid.strip_prefix('.').unwrap_or(oid);
    let by_oid = &index().by_oid;
    let mut end = oid.len();
    loop {
        let prefix = &oid[..end];
        if let Some(k) = by_oid.get(prefix) {
            let rest = oid[end..].strip_prefix('.').unwrap_or_default();
            return Some((k, rest));
        }
        end = prefix.rfind('.')?;
    }
}

/// `oid` as net-snmp prints it with the MIBs loaded: `IF-MIB::ifOperStatus.3`; an OID under no
/// known object stays numeric with a leading dot (`.1.3.6.1.3.1`).
pub fn display(oid: &str) -> String {
    match lookup(oid) {
        Some((k, "")) => format!("{}::{}", k.module, k.name),
        Some((k, rest)) => format!("{}::{}.{rest}", k.module, k.name),
        None => numeric_display(oid),
    }
}

/// `oid` numerically with a leading dot, as net-snmp's `-On` prints it.
pub fn numeric_display(oid: &str) -> String {
    if oid.starts_with('.') {
        oid.to_owned()
    } else {
        format!(".{oid}")
    }
}

/// The enumeration label of INTEGER `value` in object `oid` (numeric, with its instance), when
/// the object has one: `enum_label("1.3.6.1.2.1.2.2.1.8.3", 1) == Some("up")`.
pub fn enum_label(oid: &str, value: i64) -> Option<&'static str> {
    let (known, _) = lookup(oid)?;
    let (_, labels) = ENUMS.iter().find(|(name, _)| *name == known.name)?;
    labels.iter().find(|(v, _)| *v == value).map(|(_, l)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_oids_are_unique_and_numeric() {
        assert_eq!(
            index().by_name.len(),
            KNOWN.len(),
            "a descriptor appears twice"
        );
        assert_eq!(index().by_oid.len(), KNOWN.len(), "an OID appears twice");
        for k in KNOWN {
            assert_eq!(numeric(k.oid), Some(k.oid), "{k:?}");
        }
        for (name, _) in ENUMS {
            assert!(
                index().by_name.contains_key(name),
                "enum for unknown {name}"
            );
        }
    }

    #[test]
    fn names_resolve_to_oids() {
        let cases = [
            ("IF-MIB::ifOperStatus.3", "1.3.6.1.2.1.2.2.1.8.3"),
            ("ifOperStatus.3", "1.3.6.1.2.1.2.2.1.8.3"),
            ("sysName.0", "1.3.6.1.2.1.1.5.0"),
            ("SNMPv2-MIB::sysUpTime.0", "1.3.6.1.2.1.1.3.0"),
            ("IF-MIB::ifTable", "1.3.6.1.2.1.2.2"),
            ("lldpRemSysName.0.5.1", "1.0.8802.1.1.2.1.4.1.1.9.0.5.1"),
            ("linkDown", "1.3.6.1.6.3.1.1.5.3"),
            (".1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.5.0"),
            ("1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.5.0"),
        ];
        for (given, want) in cases {
            assert_eq!(resolve(given).as_deref(), Ok(want), "{given}");
        }
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        assert!(matches!(resolve("ifFoo.1"), Err(NameError::Unknown(_))));
        assert!(matches!(
            resolve("SNMPv2-MIB::ifOperStatus.1"),
            Err(NameError::WrongModule {
                module: "IF-MIB",
                ..
            })
        ));
        assert!(matches!(
            resolve("ifOperStatus.x"),
            Err(NameError::BadArc(_))
        ));
        assert!(matches!(
            resolve("ifOperStatus..1"),
            Err(NameError::BadArc(_))
        ));
        assert!(matches!(resolve("1.3..6"), Err(NameError::Unknown(_))));
        assert!(matches!(resolve(""), Err(NameError::Unknown(_))));
    }

    #[test]
    fn oids_display_by_longest_known_prefix() {
        let cases = [
            ("1.3.6.1.2.1.2.2.1.8.3", "IF-MIB::ifOperStatus.3"),
            (".1.3.6.1.2.1.1.5.0", "SNMPv2-MIB::sysName.0"),
            ("1.3.6.1.2.1.2.2", "IF-MIB::ifTable"),
            ("1.3.6.1.6.3.1.1.5.4", "IF-MIB::linkUp"),
            ("1.3.6.1.6.3.1.1.5.1", "SNMPv2-MIB::coldStart"),
            (
                "1.3.6.1.4.1.8072.3.2.10",
                "NET-SNMP-MIB::netSnmpAgentOIDs.10",
            ),
            ("1.3.6.1.4.1.99999.1", "SNMPv2-SMI::enterprises.99999.1"),
            ("1.3.6.1.2.1.99.1", "SNMPv2-SMI::mib-2.99.1"),
            // A prefix must end on an arc boundary: 1.3.6.1.2.1.1.50 is not sysName.0.
            ("1.3.6.1.2.1.1.50", "SNMPv2-MIB::system.50"),
            ("1.3.6.1.3.1", ".1.3.6.1.3.1"),
        ];
        for (oid, want) in cases {
            assert_eq!(display(oid), want, "{oid}");
        }
        // Every known object round-trips through both directions.
        for k in KNOWN {
            let shown = display(&format!("{}.7", k.oid));
            assert_eq!(
                resolve(&shown).as_deref(),
                Ok(format!("{}.7", k.oid).as_str())
            );
        }
    }

    proptest::proptest! {
        /// Any text (trap varbind OIDs come from the wire) is named or refused, never a panic;
        /// every numeric OID survives display and resolve.
        #[test]
        fn any_text_is_safe_and_numeric_oids_round_trip(
            text in ".{0,40}",
            arcs in proptest::collection::vec(0u32..70_000, 1..16),
        ) {
            let _ = resolve(&text);
            let _ = display(&text);
            let _ = enum_label(&text, 1);
            let oid = arcs.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
            proptest::prop_assert_eq!(resolve(&display(&oid)), Ok(oid));
        }
    }

    #[test]
    fn enumerations_label_integers() {
        assert_eq!(enum_label("1.3.6.1.2.1.2.2.1.8.3", 1), Some("up"));
        assert_eq!(
            enum_label("1.3.6.1.2.1.2.2.1.8.3", 7),
            Some("lowerLayerDown")
        );
        assert_eq!(enum_label("1.3.6.1.2.1.2.2.1.7.1", 2), Some("down"));
        assert_eq!(enum_label("1.3.6.1.2.1.2.2.1.7.1", 9), None);
        assert_eq!(enum_label("1.3.6.1.2.1.1.5.0", 1), None);
    }
}
