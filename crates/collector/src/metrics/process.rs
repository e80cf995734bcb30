//! The standard `process_*` metrics (as Prometheus client libraries name them), read from
//! `/proc/self` at scrape time. On systems without `/proc` they are simply not updated.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Clock ticks per second of `/proc/self/stat`'s CPU times: 100 on every Linux platform
/// (USER_HZ is fixed by the kernel's ABI whatever the kernel's own HZ).
const TICKS_PER_SECOND: f64 = 100.0;
/// `/proc/self/statm` counts pages of this size on the platforms faultline runs on.
const PAGE_BYTES: u64 = 4096;

/// The process metrics, registered without the `faultline_` prefix.
pub(crate) struct ProcessMetrics {
    cpu_seconds: Counter<f64, AtomicU64>,
    resident_bytes: Gauge,
    virtual_bytes: Gauge,
    open_fds: Gauge,
    max_fds: Gauge,
    start_time_seconds: Gauge<f64, AtomicU64>,
}

impl ProcessMetrics {
    pub(crate) fn register(registry: &mut Registry) -> ProcessMetrics {
        let m = ProcessMetrics {
            cpu_seconds: Counter::default(),
            resident_bytes: Gauge::default(),
            virtual_bytes: Gauge::default(),
            open_fds: Gauge::default(),
            max_fds: Gauge::default(),
            start_time_seconds: Gauge::default(),
        };
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds",
            m.cpu_seconds.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            m.resident_bytes.clone(),
        );
        registry.register(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            m.virtual_bytes.clone(),
        );
        registry.register(
            "process_open_fds",
            "Open file descriptors",
            m.open_fds.clone(),
        );
        registry.register(
            "process_max_fds",
            "Maximum number of open file descriptors",
            m.max_fds.clone(),
        );
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds",
            m.start_time_seconds.clone(),
        );
        m
    }

    /// Read `/proc/self` now. Anything unreadable is left as it was.
    pub(crate) fn refresh(&self) {
        if let Some(stat) = read_stat() {
            let cpu = stat.cpu_ticks as f64 / TICKS_PER_SECOND;
            let delta = cpu - self.cpu_seconds.get();
            if delta > 0.0 {
                self.cpu_seconds.inc_by(delta);
            }
            if let Some(boot) = boot_time_seconds() {
                let start = boot as f64 + stat.start_ticks as f64 / TICKS_PER_SECOND;
                self.start_time_seconds.set(start);
            }
        }
        if let Some((virt, resident)) = read_statm() {
            self.virtual_bytes.set(to_i64(virt * PAGE_BYTES));
            self.resident_bytes.set(to_i64(resident * PAGE_BYTES));
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(to_i64(dir.count() as u64));
        }
        if let Some(max) = max_open_files() {
            self.max_fds.set(to_i64(max));
        }
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

struct Stat {
    cpu_ticks: u64,
    start_ticks: u64,
}

/// utime + stime (fields 14 and 15) and starttime (field 22) of `/proc/self/stat`. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted after its last `)`.
fn read_stat() -> Option<Stat> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<Stat> {
    let after = &text[text.rfind(')')? + 1..];
    // `after` starts at field 3 (state).
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        cpu_ticks: field(14)? + field(15)?,
        start_ticks: field(22)?,
    })
}

/// Total and resident pages from `/proc/self/statm`.
fn read_statm() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut it = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

fn boot_time_seconds() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The soft limit of open files, from `/proc/self/limits`.
fn max_open_files() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with spaces and a parenthesis must not shift the fields.
        let line = "4242 (fault line) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 8 0 123456 1000000 500 18446744073709551615";
        let s = parse_stat(line).expect("parsed");
        assert_eq!(s.cpu_ticks, 300);
        assert_eq!(s.start_ticks, 123_456);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_process_is_readable() {
        let m = ProcessMetrics::register(&mut Registry::default());
        m.refresh();
        assert!(m.resident_bytes.get() > 0);
        assert!(m.open_fds.get() > 0);
        assert!(m.max_fds.get() >= m.open_fds.get());
    }
}
