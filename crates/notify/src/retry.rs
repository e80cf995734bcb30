//! The one retry decision (Vector's `RetryLogic` idea): when a failed attempt is given up, and
//! how long a receiver backs off — exponential backoff with jitter, or the receiver's own
//! `Retry-After` (delay-seconds or an HTTP-date, RFC 9110 section 10.2.3).

use std::time::{Duration, SystemTime};

use crate::config::RetryConfig;
use crate::outcome::Outcome;

/// Longest `Retry-After` honoured: a receiver asking for more is most likely wrong, and a page
/// must not wait for hours.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// Doublings after which the backoff stops growing (before the `max_ms` cap): keeps the shift
/// below from overflowing.
const MAX_DOUBLINGS: u32 = 20;

/// The retry decisions of one `[notify.retry]` configuration.
#[derive(Debug, Clone, Copy)]
pub struct RetryLogic<'a> {
    cfg: &'a RetryConfig,
}

impl<'a> RetryLogic<'a> {
    pub fn new(cfg: &'a RetryConfig) -> Self {
        RetryLogic { cfg }
    }

    /// The outcome of an entry's attempt after `attempts_before` earlier failed ones: a retry
    /// past `max_attempts` becomes a rejection carrying the last error.
    pub fn settle(&self, outcome: Outcome, attempts_before: u32) -> Outcome {
        match (outcome, self.cfg.max_attempts) {
            (Outcome::Retry { error, .. }, Some(max)) if attempts_before + 1 >= max => {
                Outcome::Rejected {
                    status: None,
                    answer: format!(
                        "gave up after {} attempts; last error: {error}",
                        attempts_before + 1
                    ),
                }
            }
            (outcome, _) => outcome,
        }
    }

    /// How long a receiver waits after its `failures`-th consecutive failure. The receiver's
    /// `Retry-After` wins over our own cap (it knows its limits), bounded against absurd
    /// values, and never below our base delay: a `Retry-After: 0` (or a date in the past) must
    /// not turn into a hot loop.
    pub fn wait(&self, retry_after: Option<Duration>, failures: u32) -> Duration {
        match retry_after {
            Some(ra) => ra
                .min(RETRY_AFTER_MAX)
                .max(Duration::from_millis(self.cfg.base_ms)),
            None => self.backoff(failures),
        }
    }

    /// Exponential backoff with "equal jitter": half the step fixed, half random, so a fleet of
    /// collectors does not retry in lockstep yet the wait still grows. Capped at `max_ms`.
    pub fn backoff(&self, failures: u32) -> Duration {
        use rand::Rng;
        let exp = self
            .cfg
            .base_ms
            .saturating_mul(1u64 << failures.saturating_sub(1).min(MAX_DOUBLINGS));
        let step = exp.min(self.cfg.max_ms).max(1);
        let half = step / 2;
        Duration::from_millis(half + rand::rng().random_range(0..=step - half))
    }
}

/// `Retry-After` as a delay from now: delay-seconds, or an HTTP-date (a date in the past is
/// zero). `None` if it is neither.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(max_attempts: Option<u32>) -> RetryConfig {
        RetryConfig {
            base_ms: 100,
            max_ms: 1_000,
            max_attempts,
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let c = cfg(None);
        let logic = RetryLogic::new(&c);
        for _ in 0..50 {
            let b1 = logic.backoff(1).as_millis();
            assert!((50..=100).contains(&b1), "{b1}");
            let b3 = logic.backoff(3).as_millis();
            assert!((200..=400).contains(&b3), "{b3}");
            let b30 = logic.backoff(30).as_millis();
            assert!((500..=1_000).contains(&b30), "{b30}");
        }
    }

    #[test]
    fn retry_after_is_bounded_both_ways() {
        let c = cfg(None);
        let logic = RetryLogic::new(&c);
        let ra = |s| logic.wait(Some(Duration::from_secs(s)), 1);
        assert_eq!(ra(0), Duration::from_millis(100), "never below the base");
        assert_eq!(ra(7), Duration::from_secs(7), "above our own max_ms");
        assert_eq!(ra(86_400), RETRY_AFTER_MAX);
    }

    #[test]
    fn max_attempts_turns_the_last_retry_into_a_rejection() {
        let c = cfg(Some(3));
        let logic = RetryLogic::new(&c);
        let retry = Outcome::Retry {
            error: "HTTP 503: x".into(),
            retry_after: None,
        };
        assert_eq!(logic.settle(retry.clone(), 1), retry);
        assert_eq!(
            logic.settle(retry, 2),
            Outcome::Rejected {
                status: None,
                answer: "gave up after 3 attempts; last error: HTTP 503: x".into()
            }
        );
        assert_eq!(logic.settle(Outcome::Delivered, 9), Outcome::Delivered);
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "past date: now"
        );
        let later = SystemTime::now() + Duration::from_secs(90);
        let wait = parse_retry_after(&httpdate::fmt_http_date(later)).expect("future date");
        assert!((88..=90).contains(&wait.as_secs()), "{wait:?}");
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        // Hostile values: no overflow panic, just not understood.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 999999999999 08:49:37 GMT"),
            None
        );
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 -1:49:37 GMT"), None);
    }
}
