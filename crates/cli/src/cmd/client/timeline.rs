//! `faultline timeline --since 1h`.

use std::process::ExitCode;

use faultline_api::{Method, TimelineQuery, TimelineResponse, UnixMillis, path};
use faultline_observe::time::now_ms;

use super::show::when;
use super::{ApiArgs, EXIT_USAGE};

#[derive(clap::Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// How far back: 90s, 15m, 1h, 2d, 1h30m (bare digits are seconds).
    #[arg(long, default_value = "1h")]
    pub since: String,
}

/// `--since` in milliseconds: a humantime duration, or bare digits meaning seconds (accepted
/// since before humantime parsed this flag).
fn parse_since(s: &str) -> Option<u64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().ok()?.checked_mul(1_000);
    }
    let d = humantime::parse_duration(s).ok()?;
    u64::try_from(d.as_millis()).ok()
}

pub fn timeline(a: TimelineArgs) -> ExitCode {
    let Some(age) = parse_since(&a.since) else {
        eprintln!(
            "error: --since `{}`: expected a duration such as 90s, 15m, 1h or 2d",
            a.since
        );
        return ExitCode::from(EXIT_USAGE);
    };
    let q = TimelineQuery {
        since: UnixMillis(now_ms().saturating_sub(age)),
    };
    super::with_api(
        &a.api,
        Method::Get,
        &path::timeline(q),
        |v: &TimelineResponse| {
            for e in &v.timeline {
                println!("{}  {:<20} {}", when(e.at), e.subject, e.text);
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_accepts_what_it_always_did() {
        for (text, ms) in [
            ("90", 90_000),
            ("0", 0),
            ("90s", 90_000),
            ("15m", 900_000),
            ("1h", 3_600_000),
            ("2d", 172_800_000),
        ] {
            assert_eq!(parse_since(text), Some(ms), "{text}");
        }
        for bad in ["", "m", "-5m", "1x", "ten minutes", "99999999999999999999"] {
            assert_eq!(parse_since(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_also_takes_compound_durations() {
        assert_eq!(parse_since("1h 30m"), Some(5_400_000));
        assert_eq!(parse_since("1h30m"), Some(5_400_000));
    }
}
