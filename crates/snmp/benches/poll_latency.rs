//! Latency of one full poll of one device (system group, ifTable, LLDP, profile HA objects,
//! readiness facts) against real agents on loopback: net-snmp snmpd (generic profile) and
//! snmpsim serving the FortiGate recording (fortigate profile). Prints the median and 90th
//! percentile over FL_BENCH_POLLS sequential polls (default 200), varbinds per poll, and for
//! snmpd the requests per poll (from its snmpInPkts counter).
//!
//! Run (as root for nothing; snmpd and snmpsim must be installed):
//! cargo bench -p faultline-snmp --bench poll_latency

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
use faultline_testpeers::snmpd::Snmpd;
use faultline_testpeers::snmpsim::Snmpsim;

const KEEP: &[&str] = &[
    "1.3.6.1.2.1.1.",
    "1.3.6.1.2.1.2.2.1.",
    "1.3.6.1.2.1.31.1.1.1.",
    "1.3.6.1.2.1.4.",
    "1.3.6.1.6.3.10.2.1.",
    "1.3.6.1.4.1.12356.100.1.1.",
    "1.3.6.1.4.1.12356.101.13.",
];

/// snmpInPkts of a net-snmp agent.
fn in_pkts(addr: SocketAddr) -> u64 {
    faultline_testpeers::cmd::ok(&[
        "snmpget",
        "-v2c",
        "-c",
        "public",
        "-m",
        "",
        "-Oqv",
        &addr.to_string(),
        "1.3.6.1.2.1.11.1.0",
    ])
    .trim()
    .parse()
    .unwrap_or(0)
}

async fn warm_up(poller: &SnmpPoller, t: &Target) {
    for _ in 0..5 {
        poller.poll(t, None).await;
    }
}

async fn measure(name: &str, poller: &SnmpPoller, t: &Target, polls: usize) -> u64 {
    let mut times = Vec::with_capacity(polls);
    let mut varbinds = 0;
    let mut facts = 0;
    for _ in 0..polls {
        let started = Instant::now();
        let out = poller.poll(t, None).await;
        times.push(started.elapsed());
        assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
        varbinds = out.report.varbinds;
        facts = out
            .observations
            .iter()
            .filter(|o| o.signal.name() == "readiness")
            .count();
    }
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "{name}: median {:?}, p90 {:?}, {varbinds} varbinds/poll, {facts} readiness facts",
        pct(50),
        pct(90)
    );
    varbinds
}

fn main() {
    let polls: usize = std::env::var("FL_BENCH_POLLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let poller = SnmpPoller::new(PollerConfig::default());
        if let Some(agent) = Snmpd::start() {
            let mut t = Target::new("snmpd", agent.addr, Credentials::v2c("public"));
            t.timeout = Duration::from_secs(2);
            warm_up(&poller, &t).await;
            let before = in_pkts(agent.addr);
            measure("snmpd (generic)", &poller, &t, polls).await;
            // One snmpget of the counter itself sits between the two readings.
            let requests = (in_pkts(agent.addr) - before).saturating_sub(1) as f64 / polls as f64;
            println!("snmpd (generic): {requests:.2} requests/poll");
        }
        if let Some(sim) = Snmpsim::start(&["network/firewall/fortinet-xcu"], KEEP) {
            let c = "network/firewall/fortinet-xcu";
            let mut t = Target::new("fortigate", sim.addr, Credentials::v2c(c));
            t.timeout = Duration::from_secs(5);
            warm_up(&poller, &t).await;
            measure("snmpsim FortiGate (fortigate)", &poller, &t, polls / 4).await;
        }
    });
}
