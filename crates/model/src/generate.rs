//! Synthetic data-centre topologies for benchmarks and scale tests.
//!
//! Layout (every tier redundant, as a real DC would be, so that SPOF analysis has work to do):
//! two edge routers → an active-standby firewall pair → two core switches → pods of two
//! aggregation switches → racks of two top-of-rack switches and one management switch →
//! servers dual-homed to their ToR pair plus a management link. Services each need a
//! load-balancer pair and an at-least-2-of-4 pool of servers spread over racks.

use std::fmt::Write;

/// Size knobs; `devices` is the target total device count.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    /// Target total device count. Whole racks are filled up to it (at least one), so the
    /// actual count ([`Generated::devices`]) differs by up to a rack plus the aggregation pairs.
    pub devices: usize,
    /// Servers per rack (besides its two top-of-rack and one management switch).
    pub servers_per_rack: usize,
    /// Racks per pod; each pod adds a pair of aggregation switches.
    pub racks_per_pod: usize,
    /// One service per this many servers.
    pub servers_per_service: usize,
    /// Addresses in 127.0.0.0/8 instead of 10.0.0.0/8, so that a simulated agent bound to
    /// loopback can stand in for every device (collector load tests).
    pub loopback: bool,
}

impl GenerateOptions {
    /// About `devices` devices in racks of 40 servers, 16 racks per pod, one service per 25
    /// servers, on 10.0.0.0/8.
    pub fn new(devices: usize) -> Self {
        GenerateOptions {
            devices,
            servers_per_rack: 40,
            racks_per_pod: 16,
            servers_per_service: 25,
            loopback: false,
        }
    }
}

/// A generated topology: its JSON text and how many of each component it holds.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The topology file's text (JSON, one entry per line); it validates.
    pub json: String,
    /// Devices in it.
    pub devices: usize,
    /// Links in it.
    pub links: usize,
    /// Groups in it.
    pub groups: usize,
    /// Services in it.
    pub services: usize,
}

/// Generate a topology as JSON text (one object per line inside the arrays, so it stays
/// diff-able and greppable at a million lines).
pub fn datacenter_json(o: GenerateOptions) -> String {
    datacenter(o).json
}

/// Generate a topology, with its component counts.
pub fn datacenter(o: GenerateOptions) -> Generated {
    let per_rack = o.servers_per_rack + 3; // servers + 2 ToR + mgmt
    let fixed = 2 + 2 + 2 + 2; // edge, fw, core, lb
    let racks = ((o.devices.saturating_sub(fixed)) / per_rack).max(1);
    let mut doc = Doc::new(if o.loopback { 127 } else { 10 });
    doc.add_core_layers();
    let servers = doc.add_pods(&o, racks);
    doc.add_services(&o, &servers);
    doc.finish(o.devices)
}

/// The generated file's entries as JSON text, in file order, and the next address.
struct Doc {
    devices: Vec<String>,
    links: Vec<String>,
    groups: Vec<String>,
    services: Vec<String>,
    ip: u32,
    first_octet: u8,
}

impl Doc {
    fn new(first_octet: u8) -> Self {
        Doc {
            devices: Vec::new(),
            links: Vec::new(),
            groups: Vec::new(),
            services: Vec::new(),
            ip: 0,
            first_octet,
        }
    }

    /// A device with the next address.
    fn dev(&mut self, id: &str, kind: &str, requires: &[&str]) {
        self.ip += 1;
        let ip = self.ip;
        let a = format!(
            "{}.{}.{}.{}",
            self.first_octet,
            (ip >> 16) & 255,
            (ip >> 8) & 255,
            ip & 255
        );
        let req = requires
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(",");
        self.devices.push(format!(
            "{{\"id\":\"{id}\",\"kind\":\"{kind}\",\"address\":\"{a}\",\"requires\":[{req}]}}"
        ));
    }

    fn link(&mut self, a: &str, ai: &str, b: &str, bi: &str) {
        self.links.push(format!("[\"{a}:{ai}\",\"{b}:{bi}\"]"));
    }

    /// Edge routers, the firewall pair, the core switches and the load-balancer pair, each
    /// layer dual-homed to the one above.
    fn add_core_layers(&mut self) {
        self.dev("edge-1", "router", &[]);
        self.dev("edge-2", "router", &[]);
        self.groups
            .push("{\"id\":\"edge\",\"mode\":\"any\",\"members\":[\"edge-1\",\"edge-2\"]}".into());
        for f in ["fw-a", "fw-b"] {
            self.dev(f, "firewall", &["edge"]);
            self.link(f, "port1", "edge-1", f);
            self.link(f, "port2", "edge-2", f);
        }
        self.groups.push(
            "{\"id\":\"fw-pair\",\"mode\":\"active-standby\",\"members\":[\"fw-a\",\"fw-b\"]}"
                .into(),
        );
        for c in ["core-1", "core-2"] {
            self.dev(c, "switch", &["fw-pair"]);
            self.link(c, "up1", "fw-a", c);
            self.link(c, "up2", "fw-b", c);
        }
        self.groups
            .push("{\"id\":\"core\",\"mode\":\"any\",\"members\":[\"core-1\",\"core-2\"]}".into());
        for l in ["lb-a", "lb-b"] {
            self.dev(l, "load-balancer", &["core"]);
            self.link(l, "up1", "core-1", l);
            self.link(l, "up2", "core-2", l);
        }
        self.groups.push(
            "{\"id\":\"lb-pair\",\"mode\":\"active-standby\",\"members\":[\"lb-a\",\"lb-b\"]}"
                .into(),
        );
    }

    /// Pods of an aggregation pair and up to `racks_per_pod` racks, `racks` racks in all.
    /// Returns the server ids in order.
    fn add_pods(&mut self, o: &GenerateOptions, racks: usize) -> Vec<String> {
        let pods = racks.div_ceil(o.racks_per_pod);
        let mut servers: Vec<String> = Vec::new();
        let mut rack_no = 0;
        for p in 0..pods {
            let (a1, a2) = (format!("agg-{p}-1"), format!("agg-{p}-2"));
            for a in [&a1, &a2] {
                self.dev(a, "switch", &["core"]);
                self.link(a, "up1", "core-1", a);
                self.link(a, "up2", "core-2", a);
            }
            let pod_group = format!("agg-{p}");
            self.groups.push(format!(
                "{{\"id\":\"{pod_group}\",\"mode\":\"any\",\"members\":[\"{a1}\",\"{a2}\"]}}"
            ));
            for r in 0..o.racks_per_pod {
                if rack_no >= racks {
                    break;
                }
                rack_no += 1;
                self.add_rack(o, (p, r), (&a1, &a2), &pod_group, &mut servers);
            }
        }
        servers
    }

    /// One rack: a ToR pair and a management switch under the pod's aggregation pair, and
    /// `servers_per_rack` servers on both ToRs and the management switch.
    fn add_rack(
        &mut self,
        o: &GenerateOptions,
        (p, r): (usize, usize),
        (a1, a2): (&str, &str),
        pod_group: &str,
        servers: &mut Vec<String>,
    ) {
        let (t1, t2, m) = (
            format!("tor-{p}-{r}-1"),
            format!("tor-{p}-{r}-2"),
            format!("mgmt-{p}-{r}"),
        );
        for t in [&t1, &t2] {
            self.dev(t, "switch", &[pod_group]);
            self.link(t, "up1", a1, t);
            self.link(t, "up2", a2, t);
        }
        self.dev(&m, "switch", &[pod_group]);
        self.link(&m, "up1", a1, &m);
        let rack_group = format!("tor-{p}-{r}");
        self.groups.push(format!(
            "{{\"id\":\"{rack_group}\",\"mode\":\"any\",\"members\":[\"{t1}\",\"{t2}\"]}}"
        ));
        for s in 0..o.servers_per_rack {
            let id = format!("srv-{p}-{r}-{s}");
            self.dev(&id, "server", &[&rack_group]);
            self.link(&id, "eth0", &t1, &format!("p{s}"));
            self.link(&id, "eth1", &t2, &format!("p{s}"));
            self.link(&id, "ipmi", &m, &format!("p{s}"));
            servers.push(id);
        }
    }

    /// Services: pools of 4 servers taken from 4 different racks where possible.
    fn add_services(&mut self, o: &GenerateOptions, servers: &[String]) {
        let n_services = (servers.len() / o.servers_per_service).max(1);
        let stride = o.servers_per_rack.max(1);
        for i in 0..n_services {
            let members: Vec<String> = (0..4)
                .map(|j| {
                    let idx = (i + j * stride * 3 + j) % servers.len().max(1);
                    format!(
                        "\"{}\"",
                        servers.get(idx).map(String::as_str).unwrap_or("lb-a")
                    )
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let min = 2.min(members.len());
            self.groups.push(format!(
                "{{\"id\":\"pool-{i}\",\"mode\":\"at-least\",\"min\":{min},\"members\":[{}]}}",
                members.join(",")
            ));
            let tier = ["critical", "high", "normal", "low"][i % 4];
            self.services.push(format!(
                "{{\"id\":\"svc-{i}\",\"name\":\"Service {i}\",\"tier\":\"{tier}\",\"requires\":[\"lb-pair\",\"pool-{i}\"]}}"
            ));
        }
    }

    /// The file text (named after the requested device count) and the entry counts.
    fn finish(self, requested_devices: usize) -> Generated {
        let mut out = String::with_capacity(self.devices.len() * 120 + self.links.len() * 60);
        let _ = write!(
            out,
            "{{\"name\":\"synthetic-dc-{}\",\n\"devices\":[\n",
            requested_devices
        );
        join(&mut out, &self.devices);
        out.push_str("],\n\"links\":[\n");
        join(&mut out, &self.links);
        out.push_str("],\n\"groups\":[\n");
        join(&mut out, &self.groups);
        out.push_str("],\n\"services\":[\n");
        join(&mut out, &self.services);
        out.push_str("]}\n");
        Generated {
            json: out,
            devices: self.devices.len(),
            links: self.links.len(),
            groups: self.groups.len(),
            services: self.services.len(),
        }
    }
}

fn join(out: &mut String, items: &[String]) {
    for (i, it) in items.iter().enumerate() {
        out.push_str(it);
        out.push_str(if i + 1 == items.len() { "\n" } else { ",\n" });
    }
}
