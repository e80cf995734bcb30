//! ICMP sweep benchmark: N loopback targets (127.0.0.1, 127.0.0.2, …, all answered by the
//! kernel) swept over one socket. Needs root or CAP_NET_RAW.
//!
//! Usage: sweep [TARGETS] [COUNT] [MAX_PPS]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use faultline_probe::{IcmpOptions, IcmpProber};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let count: u16 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let pps: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let base = u32::from(Ipv4Addr::new(127, 0, 0, 1));
    let targets: Vec<IpAddr> = (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::from(base + i)))
        .collect();
    let prober = match IcmpProber::new() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let opts = IcmpOptions {
        count,
        interval: Duration::from_millis(100),
        timeout: Duration::from_secs(1),
        max_pps: pps,
        payload: 16,
    };
    let start = Instant::now();
    let results = prober.sweep(&targets, &opts).await;
    let took = start.elapsed();
    let sent: u64 = results.iter().map(|r| u64::from(r.sent)).sum();
    let recv: u64 = results.iter().map(|r| u64::from(r.received)).sum();
    let down = results.iter().filter(|r| r.received == 0).count();
    let mut rtts: Vec<f64> = results.iter().filter_map(|r| r.rtt_ms).collect();
    rtts.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        rtts.get(((rtts.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "targets {n} x{count} (max {pps} pps, raw socket: {}) swept in {:.3}s | sent {sent} received {recv} loss {:.3}% | targets down {down} | rtt p50 {:.3} ms p99 {:.3} ms",
        prober.is_raw(),
        took.as_secs_f64(),
        100.0 * (sent - recv) as f64 / sent.max(1) as f64,
        pct(0.5),
        pct(0.99),
    );
}
