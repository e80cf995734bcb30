//! Per-device circuit breakers: after `breaker_threshold` consecutive failed polls a device's
//! scheduled polls fail at once, without a request, until the skip period runs out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{PollError, PollerConfig, Target, lock};

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// The breakers of all devices, by device id.
#[derive(Default)]
pub(super) struct Breakers {
    by_device: Mutex<HashMap<String, Breaker>>,
}

impl Breakers {
    /// Count a finished poll of `target` that started at `started`: a success closes the
    /// circuit, a failure may open it (see [`open_until`]).
    pub(super) fn record(&self, cfg: &PollerConfig, target: &Target, ok: bool, started: Instant) {
        let mut b = lock(&self.by_device);
        let br = b.entry(target.device_id.clone()).or_default();
        if ok {
            *br = Breaker::default();
            return;
        }
        br.failures = br.failures.saturating_add(1);
        br.open_until = open_until(
            cfg,
            br.failures,
            started,
            Instant::now(),
            target.poll_interval,
        );
    }

    /// How much longer `device`'s circuit stays open, if it is open now.
    pub(super) fn open_for(&self, device: &str) -> Option<Duration> {
        let b = lock(&self.by_device);
        let until = b.get(device)?.open_until?;
        until.checked_duration_since(Instant::now())
    }

    /// `Err(CircuitOpen)` while `target`'s circuit is open.
    pub(super) fn check(&self, target: &Target) -> Result<(), PollError> {
        let b = lock(&self.by_device);
        if let Some(br) = b.get(&target.device_id)
            && let Some(until) = br.open_until
        {
            let now = Instant::now();
            if until > now {
                return Err(PollError::CircuitOpen {
                    device: target.device_id.clone(),
                    addr: target.addr,
                    remaining: until - now,
                    failures: br.failures,
                });
            }
        }
        Ok(())
    }
}

/// When a device's circuit closes again after its `failures`-th consecutive failed poll,
/// which started at `started` and ended at `now`: `None` below the threshold. The skip
/// period doubles from `breaker_base` per failure past the threshold, up to `breaker_max`,
/// and never reaches past `started + interval`, so the next scheduled poll (whether the
/// schedule ticks every interval or sleeps an interval after each poll) always goes out.
fn open_until(
    cfg: &PollerConfig,
    failures: u32,
    started: Instant,
    now: Instant,
    interval: Option<Duration>,
) -> Option<Instant> {
    if failures < cfg.breaker_threshold {
        return None;
    }
    let exp = (failures - cfg.breaker_threshold).min(16);
    let wait = cfg
        .breaker_base
        .saturating_mul(1 << exp)
        .min(cfg.breaker_max);
    let until = now + wait;
    Some(match interval {
        Some(iv) => until.min(started + iv),
        None => until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_backs_off_but_never_past_one_poll_interval() {
        let cfg = PollerConfig {
            breaker_threshold: 3,
            breaker_base: Duration::from_secs(30),
            breaker_max: Duration::from_secs(600),
            ..PollerConfig::default()
        };
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(2);
        assert_eq!(open_until(&cfg, 2, t0, end, None), None);
        assert_eq!(
            open_until(&cfg, 3, t0, end, None),
            Some(end + Duration::from_secs(30))
        );
        assert_eq!(
            open_until(&cfg, 5, t0, end, None),
            Some(end + Duration::from_secs(120))
        );
        assert_eq!(
            open_until(&cfg, 40, t0, end, None),
            Some(end + Duration::from_secs(600))
        );
        // With a 60 s poll interval the circuit closes by the next scheduled poll, counted
        // from the start of the failed one.
        let iv = Some(Duration::from_secs(60));
        assert_eq!(
            open_until(&cfg, 3, t0, end, iv),
            Some(end + Duration::from_secs(30))
        );
        assert_eq!(
            open_until(&cfg, 9, t0, end, iv),
            Some(t0 + Duration::from_secs(60))
        );
        // Threshold u32::MAX: never opens.
        let off = PollerConfig {
            breaker_threshold: u32::MAX,
            ..cfg
        };
        assert_eq!(open_until(&off, u32::MAX - 1, t0, end, None), None);
    }
}
