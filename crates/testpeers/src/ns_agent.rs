//! net-snmp's snmpd inside a network namespace of its own, reached from the host over the
//! namespace's veth pair: for tests that change what the agent's host does (forwarding,
//! routes) or cut its management link.

use crate::Netns;
use crate::snmpd::Snmpd;

/// snmpd in a [`Netns`]; the agent is stopped before the namespace goes (field order).
pub struct NsAgent {
    /// The agent, listening on the namespace's address.
    pub agent: Snmpd,
    /// The namespace and its veth pair (`host_ip` on the host, `ns_ip` inside).
    pub ns: Netns,
}

impl NsAgent {
    /// `None` (after a loud notice) without root or net-snmp; panics under `CI` then.
    pub fn start(tag: &str) -> Option<NsAgent> {
        if !crate::have("ip") || !crate::root() {
            return None;
        }
        let ns = Netns::new(tag);
        let agent = Snmpd::start_in(Some(&ns.name), &ns.ns_ip)?;
        Some(NsAgent { agent, ns })
    }

    /// Run `ip -n NS args`; panics with its output when it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["ip", "-n", self.ns.name.as_str()];
        all.extend_from_slice(args);
        crate::cmd::ok(&all)
    }

    /// Run `cmd args` inside the namespace; panics with its output when it fails.
    pub fn exec(&self, cmd: &str, args: &[&str]) -> String {
        let mut all = vec!["ip", "netns", "exec", self.ns.name.as_str(), cmd];
        all.extend_from_slice(args);
        crate::cmd::ok(&all)
    }

    /// Take the namespace's end of the management link down or up.
    pub fn set_link(&self, up: bool) {
        self.ns.set_ns_link(up);
    }
}
