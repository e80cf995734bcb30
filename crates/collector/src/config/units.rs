//! Validated numbers for `faultline.toml`. Each type knows its unit and its range, and a value
//! outside it fails deserialization, so the toml crate reports it at the key's line and column
//! (instead of a panic at start, or a silent clamp to some other value).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Milliseconds per unit of a duration key: `timeout_ms`.
pub const MILLIS: u64 = 1;
/// Milliseconds per unit of a duration key: `interval_s`.
pub const SECONDS: u64 = 1_000;
/// Milliseconds per unit of a duration key: `journal_retention_h`.
pub const HOURS: u64 = 3_600_000;

/// A day in milliseconds (a bound of several intervals).
pub const DAY_MS: u64 = 86_400_000;

/// A duration from the configuration, within `MIN_MS..=MAX_MS`.
///
/// It accepts a number in the key's unit (`UNIT_MS` milliseconds each: `interval_s = 30`,
/// `interval_s = 1.5`, `timeout_ms = 2000`), as before, or a humantime string whatever the key's
/// unit (`"90s"`, `"15m"`, `"1h 30m"`, `"250ms"`). Negative, NaN, infinite and out-of-range
/// values are errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval<const UNIT_MS: u64, const MIN_MS: u64, const MAX_MS: u64>(Duration);

/// A duration or number outside what its key allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} is out of range: {expected}")]
pub struct OutOfRange {
    /// The value as given.
    pub value: String,
    /// What the key accepts, with its unit.
    pub expected: String,
}

impl<const UNIT_MS: u64, const MIN_MS: u64, const MAX_MS: u64> Interval<UNIT_MS, MIN_MS, MAX_MS> {
    /// For constants (defaults): an out-of-range `ms` fails when the constant is evaluated,
    /// which is at compile time for a `const` item.
    pub(crate) const fn from_millis(ms: u64) -> Self {
        assert!(
            MIN_MS <= ms && ms <= MAX_MS,
            "default interval out of range"
        );
        Interval(Duration::from_millis(ms))
    }

    /// A duration, if it is in range.
    pub fn new(d: Duration) -> Result<Self, OutOfRange> {
        if d >= Duration::from_millis(MIN_MS) && d <= Duration::from_millis(MAX_MS) {
            Ok(Interval(d))
        } else {
            Err(OutOfRange {
                value: humantime::format_duration(d).to_string(),
                expected: Self::expected(),
            })
        }
    }

    /// The duration.
    pub const fn get(self) -> Duration {
        self.0
    }

    fn unit_name() -> &'static str {
        match UNIT_MS {
            MILLIS => "milliseconds",
            SECONDS => "seconds",
            HOURS => "hours",
            _ => "units",
        }
    }

    /// What this key accepts, for error messages.
    fn expected() -> String {
        format!(
            "expected a duration between {} and {} (a number of {} or a string such as \"90s\" or \"15m\")",
            humantime::format_duration(Duration::from_millis(MIN_MS)),
            humantime::format_duration(Duration::from_millis(MAX_MS)),
            Self::unit_name(),
        )
    }

    /// A number in the key's unit. Checked as a float first, so `inf` or `1e300` never reach
    /// `Duration` (whose constructors panic on them).
    fn from_number(n: f64) -> Result<Self, OutOfRange> {
        let ms = n * UNIT_MS as f64;
        if !ms.is_finite() || ms < MIN_MS as f64 || ms > MAX_MS as f64 {
            return Err(OutOfRange {
                value: format!("{n} {}", Self::unit_name()),
                expected: Self::expected(),
            });
        }
        // In range, hence finite and non-negative: the conversion cannot panic.
        Self::new(Duration::from_secs_f64(ms / 1_000.0))
    }
}

impl<'de, const UNIT_MS: u64, const MIN_MS: u64, const MAX_MS: u64> Deserialize<'de>
    for Interval<UNIT_MS, MIN_MS, MAX_MS>
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntervalVisitor::<UNIT_MS, MIN_MS, MAX_MS>)
    }
}

struct IntervalVisitor<const UNIT_MS: u64, const MIN_MS: u64, const MAX_MS: u64>;

impl<const UNIT_MS: u64, const MIN_MS: u64, const MAX_MS: u64> Visitor<'_>
    for IntervalVisitor<UNIT_MS, MIN_MS, MAX_MS>
{
    type Value = Interval<UNIT_MS, MIN_MS, MAX_MS>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&Interval::<UNIT_MS, MIN_MS, MAX_MS>::expected())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Interval::from_number(v as f64).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Interval::from_number(v as f64).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Interval::from_number(v).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let d = humantime::parse_duration(v).map_err(|e| {
            E::custom(format!(
                "`{v}` is not a duration ({e}): {}",
                Interval::<UNIT_MS, MIN_MS, MAX_MS>::expected()
            ))
        })?;
        Interval::new(d).map_err(E::custom)
    }
}

/// A fraction between 0 and 1 inclusive (`jitter = 0.2`). NaN and infinities are errors.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Fraction(f64);

impl Fraction {
    /// For constants: an out-of-range value fails when the constant is evaluated.
    pub(crate) const fn from_const(f: f64) -> Self {
        assert!(0.0 <= f && f <= 1.0, "default fraction out of range");
        Fraction(f)
    }

    /// A fraction, if it is in `0.0..=1.0`.
    pub fn new(f: f64) -> Result<Self, OutOfRange> {
        if (0.0..=1.0).contains(&f) {
            Ok(Fraction(f))
        } else {
            Err(OutOfRange {
                value: f.to_string(),
                expected: "expected a fraction between 0 and 1 (0.2 is 20 %)".into(),
            })
        }
    }

    /// The fraction, in `0.0..=1.0`.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Fraction::new(f64::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// A whole number within `MIN..=MAX` (ports, retries, concurrency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Count<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Count<MIN, MAX> {
    /// For constants: an out-of-range value fails when the constant is evaluated.
    pub(crate) const fn from_const(n: u64) -> Self {
        assert!(MIN <= n && n <= MAX, "default count out of range");
        Count(n)
    }

    /// A count, if it is in range.
    pub fn new(n: u64) -> Result<Self, OutOfRange> {
        if (MIN..=MAX).contains(&n) {
            Ok(Count(n))
        } else {
            Err(OutOfRange {
                value: n.to_string(),
                expected: Self::expected(),
            })
        }
    }

    /// The number, in `MIN..=MAX`.
    pub const fn get(self) -> u64 {
        self.0
    }

    fn expected() -> String {
        format!("expected a whole number between {MIN} and {MAX}")
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CountVisitor::<MIN, MAX>)
    }
}

struct CountVisitor<const MIN: u64, const MAX: u64>;

impl<const MIN: u64, const MAX: u64> Visitor<'_> for CountVisitor<MIN, MAX> {
    type Value = Count<MIN, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&Count::<MIN, MAX>::expected())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(n) => Count::new(n).map_err(E::custom),
            Err(_) => Err(E::custom(OutOfRange {
                value: v.to_string(),
                expected: Count::<MIN, MAX>::expected(),
            })),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Count::new(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Secs = Interval<SECONDS, 200, DAY_MS>;

    #[derive(Debug, serde::Deserialize)]
    struct T {
        i: Option<Secs>,
        f: Option<Fraction>,
        c: Option<Count<1, 10>>,
    }

    fn parse(text: &str) -> Result<T, String> {
        toml::from_str::<T>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn seconds_numbers_and_humantime_strings_agree() {
        for (text, ms) in [
            ("i = 30", 30_000),
            ("i = 1.5", 1_500),
            ("i = 0.2", 200),
            ("i = \"90s\"", 90_000),
            ("i = \"15m\"", 900_000),
            ("i = \"1h 30m\"", 5_400_000),
            ("i = \"250ms\"", 250),
        ] {
            let got = parse(text).map(|t| t.i.map(Interval::get));
            assert_eq!(got, Ok(Some(Duration::from_millis(ms))), "{text}");
        }
    }

    #[test]
    fn non_finite_negative_zero_and_huge_durations_are_errors() {
        for text in [
            "i = inf",
            "i = -inf",
            "i = nan",
            "i = 1e300",
            "i = -5",
            "i = 0",
            "i = 0.1",
            "i = \"2d\"",
            "i = \"soon\"",
            "i = true",
        ] {
            let err = parse(text).expect_err(text);
            assert!(
                err.contains("between 200ms and 1day"),
                "{text}: the message names the range: {err}"
            );
        }
        assert!(parse("i = -5").unwrap_err().contains("-5 seconds"));
    }

    #[test]
    fn fractions_outside_zero_to_one_are_errors() {
        assert_eq!(parse("f = 0.2").unwrap().f.map(Fraction::get), Some(0.2));
        assert_eq!(parse("f = 0").unwrap().f.map(Fraction::get), Some(0.0));
        for text in ["f = nan", "f = inf", "f = -0.1", "f = 1.5"] {
            let err = parse(text).expect_err(text);
            assert!(err.contains("between 0 and 1"), "{text}: {err}");
        }
    }

    #[test]
    fn counts_are_whole_and_in_range() {
        assert_eq!(parse("c = 10").unwrap().c.map(Count::get), Some(10));
        for text in ["c = 0", "c = 11", "c = -1", "c = 2.5", "c = \"3\""] {
            let err = parse(text).expect_err(text);
            assert!(err.contains("between 1 and 10"), "{text}: {err}");
        }
    }
}
