//! The pollers: one SNMP task per device, one ICMP sweep over all devices, one probe task per
//! service, and the dispatcher that turns re-poll requests into immediate SNMP polls.
//!
//! At shutdown every poller stops at its next wait; a poll, sweep or probe in progress finishes
//! first (the collector aborts whatever is still running after its stop deadline).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_observe::time::now_ms;
use faultline_observe::{Observation, Signal, Subject};
use faultline_snmp::PollReason;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::Observations;
use crate::Shared;
use crate::config::Fraction;
use crate::plan::Check;

/// How long a TCP probe may take to resolve its `host:port`: a hung resolver must not stall the
/// service's probe loop.
const TCP_RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a TCP probe waits for the connection.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Least time between the end of a device's poll and a re-poll of it (capped at its poll
/// interval). Re-polls come from traps and from the engine; a trap storm (50 000 spoofed traps a
/// second from a known address) would otherwise poll the device back to back, ~150 times its
/// scheduled rate, and journal every answer. One re-poll a second still confirms a change
/// within a hold-down (seconds), and the first re-poll after a quiet second goes at once.
pub(crate) const MIN_REPOLL_GAP: Duration = Duration::from_secs(1);

/// Polls one device over SNMP every `interval`, or sooner when asked to: a re-poll (from a
/// trap or the engine) goes through the device's circuit breaker ([`PollReason::Repoll`]), so
/// a device that comes back is seen at once; re-polls of a device are coalesced (one at a time,
/// at least [`MIN_REPOLL_GAP`] after the previous poll).
pub(crate) struct SnmpTask {
    /// For the poll metrics.
    pub shared: Arc<Shared>,
    /// Shared by every device: bounds the SNMP requests in flight.
    pub poller: faultline_snmp::SnmpPoller,
    pub target: faultline_snmp::Target,
    pub interval: Duration,
    /// The first poll waits a random fraction of the interval up to this, so that ten thousand
    /// devices are not polled in the same tick.
    pub jitter: Fraction,
    /// Notified by the [`RepollDispatcher`] when the engine or a trap wants fresh data now.
    pub repoll: Arc<Notify>,
    /// Where each poll's observations go; the task ends when the engine task is gone.
    pub observations: Observations,
    /// Ends the task at its next wait.
    pub shutdown: CancellationToken,
}

impl SnmpTask {
    pub(crate) async fn run(self) {
        let mut prev: Option<faultline_snmp::PollState> = None;
        tokio::select! {
            _ = self.shutdown.cancelled() => return,
            _ = tokio::time::sleep(jitter(self.interval, self.jitter)) => {}
        }
        let min_gap = MIN_REPOLL_GAP.min(self.interval);
        let mut reason = PollReason::Scheduled;
        loop {
            let started = Instant::now();
            // Boxed: a poll's future is large (~6 KB: walk buffers, the report) and a task is as
            // big as its largest await point, so ten thousand sleeping device tasks would each
            // keep a poll-sized allocation alive. Boxed, it exists only while the poll runs.
            let outcome =
                Box::pin(self.poller.poll_with(&self.target, prev.as_ref(), reason)).await;
            let failure = self
                .shared
                .poll_problems
                .record(&self.target.device_id, &outcome);
            self.shared
                .metrics
                .poll_done(started.elapsed(), &self.target.device_id, failure);
            prev = Some(outcome.state);
            if self.observations.send(outcome.observations).await.is_err() {
                return;
            }
            let ended = Instant::now();
            reason = tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => PollReason::Scheduled,
                _ = self.repoll.notified() => PollReason::Repoll,
            };
            if reason == PollReason::Repoll {
                // Requests arriving meanwhile are folded into this one re-poll (`Notify` keeps
                // at most one wake-up), which waits out the minimum gap.
                tokio::select! {
                    _ = self.shutdown.cancelled() => return,
                    _ = tokio::time::sleep_until((ended + min_gap).into()) => {}
                }
            }
        }
    }
}

/// A random delay in `[0, interval * jitter)`.
fn jitter(interval: Duration, fraction: Fraction) -> Duration {
    interval.mul_f64(fraction.get() * rand::random::<f64>())
}

/// Wakes the [`SnmpTask`] of each device named in a re-poll request. Ids of devices that are
/// not polled over SNMP (links, unpolled devices) are ignored.
pub(crate) struct RepollDispatcher {
    /// Re-poll requests from the engine and trap tasks.
    pub requests: mpsc::Receiver<Vec<String>>,
    /// One per SNMP-polled device.
    pub wakers: HashMap<String, Arc<Notify>>,
    /// Ends the task; requests still queued are dropped.
    pub shutdown: CancellationToken,
}

impl RepollDispatcher {
    pub(crate) async fn run(mut self) {
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                ids = self.requests.recv() => match ids {
                    Some(ids) => for id in ids {
                        if let Some(w) = self.wakers.get(&id) {
                            w.notify_one();
                        }
                    },
                    None => break,
                },
            }
        }
    }
}

/// Pings every device with an IP address every `interval`, all in one paced sweep.
pub(crate) struct IcmpTask {
    /// Device ids, in the order of `ips`.
    pub devices: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub interval: Duration,
    /// Where each sweep's observations go; the task ends when the engine task is gone.
    pub observations: Observations,
    /// Ends the task at its next wait.
    pub shutdown: CancellationToken,
}

impl IcmpTask {
    pub(crate) async fn run(self) {
        let prober = match faultline_probe::IcmpProber::new() {
            Ok(p) => p,
            Err(e) => {
                warn!(error = %e, "ICMP disabled");
                return;
            }
        };
        let opts = faultline_probe::IcmpOptions::default();
        loop {
            let results = prober.sweep(&self.ips, &opts).await;
            let at = now_ms();
            let batch: Vec<Observation> = self
                .devices
                .iter()
                .zip(results)
                .map(|(dev, r)| Observation::new(at, Subject::device(dev.clone()), r.to_signal()))
                .collect();
            if self.observations.send(batch).await.is_err() {
                return;
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}

/// Probes one service (HTTP or TCP) every `interval`.
pub(crate) struct ProbeTask {
    pub service: String,
    pub check: Check,
    /// The zone probed from, stamped on every result (`None`: the collector's own vantage).
    pub vantage: Option<String>,
    pub interval: Duration,
    /// Where each probe's observation goes; the task ends when the engine task is gone.
    pub observations: Observations,
    /// Ends the task at its next wait.
    pub shutdown: CancellationToken,
}

impl ProbeTask {
    pub(crate) async fn run(self) {
        let http = match faultline_probe::HttpProber::new() {
            Ok(h) => h,
            Err(e) => {
                warn!(service = %self.service, error = %e, "service probe disabled");
                return;
            }
        };
        loop {
            let mut signal = match &self.check {
                Check::Http(c) => http.probe(c).await.to_signal(),
                Check::Tcp(addr) => tcp_signal(addr).await,
            };
            if let Signal::Probe { zone, .. } = &mut signal {
                zone.clone_from(&self.vantage);
            }
            let obs = Observation::new(now_ms(), Subject::service(self.service.clone()), signal);
            if self.observations.send(vec![obs]).await.is_err() {
                return;
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}

/// Resolve `host:port` (bounded) and try to connect.
async fn tcp_signal(addr: &str) -> Signal {
    let resolved = tokio::time::timeout(TCP_RESOLVE_TIMEOUT, tokio::net::lookup_host(addr))
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|mut a| a.next());
    match resolved {
        Some(sa) => faultline_probe::tcp_probe(sa, TCP_CONNECT_TIMEOUT)
            .await
            .to_signal(),
        None => Signal::Probe {
            ok: false,
            status: None,
            latency_ms: 0.0,
            detail: Some(format!("cannot resolve {addr}")),
            zone: None,
        },
    }
}
