//! The one clock and the one way of showing an instant to a person.
//!
//! The core (graph, engine) never reads the wall clock: time reaches it inside observations.
//! [`now_ms`] is for the shell (pollers, receivers, the collector, the CLI). Instants shown to
//! people always carry their zone: [`format_utc`] is deterministic (engine titles and evidence,
//! which must replay byte for byte), [`format_local`] uses the system zone (CLI output).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::UnixMillis;

/// The wall clock in Unix milliseconds (0 if the clock is before 1970). Shell code only.
pub fn now_ms() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn timestamp(ms: UnixMillis) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(i64::try_from(ms).ok()?).ok()
}

/// An RFC 3339 instant (`2026-11-28T04:27:52Z`, `2026-11-28T05:27:52+01:00`) as milliseconds
/// since the epoch; `Err` says what is wrong (before the epoch included).
pub fn parse_rfc3339(text: &str) -> Result<UnixMillis, String> {
    let t: jiff::Timestamp = text
        .trim()
        .parse()
        .map_err(|e| format!("`{text}` is not an RFC 3339 instant: {e}"))?;
    u64::try_from(t.as_millisecond()).map_err(|_| format!("`{text}` is before 1970"))
}

/// `2026-11-28 04:27:52 UTC`: the same text on every machine.
pub fn format_utc(ms: UnixMillis) -> String {
    match timestamp(ms) {
        Some(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{ms} ms since the epoch"),
    }
}

/// `2026-11-28 05:27:52 CET`: the instant in the system's time zone, with its abbreviation.
pub fn format_local(ms: UnixMillis) -> String {
    match timestamp(ms) {
        Some(t) => t
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string(),
        None => format_utc(ms),
    }
}

/// A span of milliseconds for people: `2h 16m`, `45s`, `350ms`.
pub fn format_span(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0 => format!("{ms}ms"),
        1..60 => format!("{secs}s"),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h {}m", secs / 3600, (secs % 3600) / 60),
        _ => format!("{}d {}h", secs / 86_400, (secs % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_deterministic_and_zoned() {
        assert_eq!(format_utc(1_700_000_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(
            format_utc(u64::MAX),
            format!("{} ms since the epoch", u64::MAX)
        );
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(format_span(350), "350ms");
        assert_eq!(format_span(45_000), "45s");
        assert_eq!(format_span(8_160_000), "2h 16m");
        assert_eq!(format_span(90_061_000), "1d 1h");
    }
}
