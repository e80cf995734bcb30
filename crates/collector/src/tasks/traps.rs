//! The trap task: SNMP traps and informs become observations, and each prompts a re-poll of its
//! device (polled state stays the truth). A trap that only repeats one forwarded moments ago is
//! not journaled again ([`Repeats`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_observe::Observation;
use faultline_trap::{TrapConfig, TrapEvent, TrapReceiver};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Observations, RepollRequests};
use crate::Shared;
use crate::config::TrapSettings;
use crate::plan::PollTarget;

/// A trap observation equal to one forwarded within this window (same subject, same signal)
/// tells the engine nothing new: it is dropped before the journal and counted. A flood of one
/// spoofed trap then costs one journal entry per window instead of one per datagram; the
/// re-poll it prompts (coalesced per device) still reads the truth.
pub(crate) const TRAP_REPEAT_WINDOW: Duration = Duration::from_secs(10);

/// Distinct trap observations remembered at most. Past it the expired ones are forgotten, and
/// if none has expired, all of them: forgetting only lets a repeat through, never drops news.
const TRAP_REPEATS_TRACKED: usize = 10_000;

/// Trap events taken off the receiver's channel per wakeup at most.
const EVENT_BATCH: usize = 256;

/// The trap observations forwarded recently, by what they say (subject and signal, not time).
#[derive(Default)]
pub(crate) struct Repeats {
    forwarded: HashMap<String, Instant>,
}

impl Repeats {
    /// Keep the observations not forwarded within [`TRAP_REPEAT_WINDOW`] before `now` and
    /// remember them; returns them and how many repeats were dropped.
    pub(crate) fn news(
        &mut self,
        observations: Vec<Observation>,
        now: Instant,
    ) -> (Vec<Observation>, usize) {
        if self.forwarded.len() >= TRAP_REPEATS_TRACKED {
            self.forwarded
                .retain(|_, at| now.duration_since(*at) < TRAP_REPEAT_WINDOW);
            if self.forwarded.len() >= TRAP_REPEATS_TRACKED {
                self.forwarded.clear();
            }
        }
        let before = observations.len();
        let news: Vec<Observation> = observations
            .into_iter()
            .filter(|o| {
                // An observation that cannot be keyed is always news.
                let Ok(key) = serde_json::to_string(&(&o.subject, &o.signal)) else {
                    return true;
                };
                match self.forwarded.get(&key) {
                    Some(at) if now.duration_since(*at) < TRAP_REPEAT_WINDOW => false,
                    _ => {
                        self.forwarded.insert(key, now);
                        true
                    }
                }
            })
            .collect();
        let dropped = before - news.len();
        (news, dropped)
    }
}

/// Forwards decoded notifications from the trap receiver.
pub(crate) struct TrapTask {
    /// Kept for as long as the task runs: dropping it stops the receiver. It was bound with the
    /// collector's shutdown token, so at shutdown it closes its socket and `events` ends.
    receiver: TrapReceiver,
    /// Decoded notifications, with their observations and the device to re-poll.
    events: mpsc::Receiver<TrapEvent>,
    /// Where the observations go; the task ends when the engine task is gone.
    observations: Observations,
    /// Where re-poll requests go (dropped and counted when the queue is full).
    repoll: RepollRequests,
    /// Recently forwarded trap observations, to drop repeats.
    repeats: Repeats,
    /// Its metrics count the repeats dropped.
    shared: Arc<Shared>,
}

impl TrapTask {
    /// Bind the receiver; its sources are the devices with an IP address. A receiver that
    /// cannot bind is logged and the collector runs without traps.
    pub(crate) async fn bind(
        settings: &TrapSettings,
        targets: &[PollTarget],
        communities: Vec<faultline_trap::Secret>,
        observations: Observations,
        repoll: RepollRequests,
        shared: Arc<Shared>,
        shutdown: CancellationToken,
    ) -> Option<TrapTask> {
        let mut tc = TrapConfig::new(settings.listen);
        tc.sources = targets
            .iter()
            .filter_map(|t| t.ip.map(|ip| (ip, t.device.clone())))
            .collect();
        if communities.is_empty() {
            warn!("[traps] has no community: v1/v2c traps will be refused");
        }
        tc.communities = communities;
        match TrapReceiver::bind_with_shutdown(tc, shutdown).await {
            Ok((receiver, events)) => {
                info!(listen = %receiver.local_addr(), "trap receiver listening");
                Some(TrapTask {
                    receiver,
                    events,
                    observations,
                    repoll,
                    repeats: Repeats::default(),
                    shared,
                })
            }
            Err(e) => {
                warn!(error = %e, "trap receiver disabled");
                None
            }
        }
    }

    /// Forward events a batch at a time: everything the receiver delivered since the last
    /// wakeup goes on as one observation batch and one re-poll request.
    pub(crate) async fn run(mut self) {
        let mut batch = Vec::with_capacity(EVENT_BATCH);
        while self.events.recv_many(&mut batch, EVENT_BATCH).await > 0 {
            let now = Instant::now();
            let mut devices = Vec::new();
            let mut news = Vec::new();
            let mut repeats = 0;
            for ev in batch.drain(..) {
                devices.extend(ev.repoll);
                let (fresh, dropped) = self.repeats.news(ev.observations, now);
                news.extend(fresh);
                repeats += dropped;
            }
            if !devices.is_empty() {
                devices.sort_unstable();
                devices.dedup();
                self.repoll.request(devices);
            }
            if repeats > 0 {
                self.shared.metrics.trap_repeats_dropped(repeats);
            }
            if !news.is_empty() && self.observations.send(news).await.is_err() {
                break;
            }
        }
        drop(self.receiver);
    }
}

#[cfg(test)]
mod tests {
    use faultline_observe::{IfStatus, Signal, Subject};

    use super::*;

    fn link_down(at: u64, ifname: &str) -> Observation {
        Observation::new(
            at,
            Subject::interface("fw-a", ifname),
            Signal::Interface {
                oper: IfStatus::Down,
                admin: IfStatus::Up,
                last_change_cs: None,
            },
        )
    }

    #[test]
    fn a_repeated_trap_is_dropped_within_the_window_and_news_always_passes() {
        let mut r = Repeats::default();
        let t0 = Instant::now();
        let (news, dropped) = r.news(vec![link_down(1, "out0")], t0);
        assert_eq!((news.len(), dropped), (1, 0));
        // The same trap 50 000 times a second later: nothing new.
        let flood: Vec<Observation> = (0..50_000).map(|i| link_down(2 + i, "out0")).collect();
        let (news, dropped) = r.news(flood, t0 + Duration::from_secs(1));
        assert_eq!((news.len(), dropped), (0, 50_000));
        // Another interface is news; so is the same trap after the window.
        let (news, _) = r.news(vec![link_down(3, "in0")], t0 + Duration::from_secs(2));
        assert_eq!(news.len(), 1);
        let later = t0 + TRAP_REPEAT_WINDOW + Duration::from_secs(1);
        let (news, _) = r.news(vec![link_down(4, "out0")], later);
        assert_eq!(news.len(), 1);
    }

    #[test]
    fn the_memory_of_repeats_is_bounded() {
        let mut r = Repeats::default();
        let t0 = Instant::now();
        let many: Vec<Observation> = (0..TRAP_REPEATS_TRACKED + 10)
            .map(|i| link_down(1, &format!("if{i}")))
            .collect();
        let (news, _) = r.news(many, t0);
        assert_eq!(news.len(), TRAP_REPEATS_TRACKED + 10);
        // Full and nothing expired: everything is forgotten, so a repeat passes as news
        // (forgetting never drops news) and the memory starts over.
        let (news, dropped) = r.news(vec![link_down(2, "if0")], t0);
        assert_eq!((news.len(), dropped), (1, 0));
        assert_eq!(r.forwarded.len(), 1);
        // Full with expired entries: only those are forgotten.
        let mut r = Repeats::default();
        let old: Vec<Observation> = (0..TRAP_REPEATS_TRACKED)
            .map(|i| link_down(1, &format!("old{i}")))
            .collect();
        r.news(old, t0);
        let later = t0 + TRAP_REPEAT_WINDOW;
        r.news(vec![link_down(3, "fresh")], later);
        assert_eq!(r.forwarded.len(), 1, "the expired entries were forgotten");
    }
}
