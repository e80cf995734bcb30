//! The imperative shell: sockets, timeouts, concurrency limits and per-device circuit breakers
//! around the pure decoder in [`crate::decode`].

mod breaker;
mod plan;
mod query;
mod read;
mod report;
mod session;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_snmp::{Client, Retry, UdpHandle, UdpTransport};
use faultline_observe::time::now_ms;
use faultline_observe::{Observation, PollFailure, Signal, Subject};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use crate::decode::{DeviceReport, PollErrorReport, PollState, RawPoll};
use crate::profile::Profiles;
use crate::secret::Credentials;
use breaker::Breakers;
use report::Gathered;
use session::{MAX_OIDS_PER_REQUEST, Session};

pub use query::WalkOutcome;
pub use session::classify_error;

/// One device to poll.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Topology id; observations are about `Subject::device(device_id)`.
    pub device_id: String,
    pub addr: SocketAddr,
    pub credentials: Credentials,
    /// Profile name; `None` selects by sysObjectID.
    pub profile: Option<String>,
    /// GETBULK max-repetitions (rows per request in table walks).
    pub max_repetitions: u32,
    /// Per-request timeout (each retry waits this long again).
    pub timeout: Duration,
    pub retries: u32,
    /// How often the device is polled on schedule. An open circuit breaker never skips past
    /// one interval after the failed poll started, so a device that comes back is seen
    /// within one interval. `None` (one-off polls): only `breaker_max` bounds the skip.
    pub poll_interval: Option<Duration>,
}

impl Target {
    pub fn new(device_id: impl Into<String>, addr: SocketAddr, credentials: Credentials) -> Self {
        Target {
            device_id: device_id.into(),
            addr,
            credentials,
            profile: None,
            max_repetitions: 25,
            timeout: Duration::from_secs(2),
            retries: 1,
            poll_interval: None,
        }
    }
}

/// Poller-wide settings.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// Polls in flight across all devices.
    pub global_concurrency: usize,
    /// Polls in flight per device (a second poll of a busy device waits for the first).
    pub per_device_concurrency: usize,
    /// Consecutive failed polls after which a device's circuit opens: its scheduled polls
    /// then fail at once (`AgentDown { reason: Timeout }`, "circuit open") without sending
    /// anything, so dead devices hold no concurrency slots. `u32::MAX` disables the breaker.
    /// Default 3.
    pub breaker_threshold: u32,
    /// Skip period after the failure that opens the circuit; it doubles with each further
    /// failure up to `breaker_max`, and never reaches past one `Target::poll_interval` after
    /// the failed poll started. Default 30 s.
    pub breaker_base: Duration,
    /// Ceiling of the skip period (before the poll-interval cap). Default 600 s.
    pub breaker_max: Duration,
    /// Profiles to select from.
    pub profiles: Profiles,
    /// Walk LLDP-MIB lldpRemTable.
    pub lldp: bool,
    /// SO_RCVBUF of the shared UDP socket. Hundreds of polls in flight answer in bursts; the
    /// kernel default (~200 KiB) drops some, which then cost a full timeout and a retry.
    pub udp_recv_buffer: usize,
}

impl Default for PollerConfig {
    fn default() -> Self {
        PollerConfig {
            global_concurrency: 256,
            per_device_concurrency: 1,
            breaker_threshold: 3,
            breaker_base: Duration::from_secs(30),
            breaker_max: Duration::from_secs(600),
            profiles: Profiles::embedded(),
            lldp: true,
            udp_recv_buffer: 4 << 20,
        }
    }
}

/// Why a poll is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PollReason {
    /// The device's regular schedule: answered at once with "circuit open" while the
    /// device's circuit breaker is open.
    #[default]
    Scheduled,
    /// Fresh data wanted now (a trap arrived, the engine asked to confirm a change): always
    /// goes to the agent, open circuit or not. This is how a device that came back is seen
    /// without waiting out the breaker; a success closes the circuit.
    Repoll,
}

/// What one poll produced.
#[derive(Debug, Clone)]
pub struct PollOutcome {
    pub report: DeviceReport,
    pub observations: Vec<Observation>,
    /// Pass to the next poll of the same device. After a failed poll it is the previous state
    /// unchanged, so rates and flap detection resume correctly once the agent answers again.
    pub state: PollState,
}

/// Errors of one SNMP exchange, with the device and address they concern.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("{device} ({addr}): no answer within {timeout:?} × {attempts} attempt(s){hint}")]
    Timeout {
        device: String,
        addr: SocketAddr,
        timeout: Duration,
        attempts: u32,
        hint: &'static str,
    },
    #[error("{device} ({addr}): authentication failed: {detail}")]
    Auth {
        device: String,
        addr: SocketAddr,
        detail: String,
    },
    #[error("{device} ({addr}): malformed answer while {during}: {detail}")]
    Malformed {
        device: String,
        addr: SocketAddr,
        during: &'static str,
        detail: String,
    },
    #[error("{device} ({addr}): {during}: {detail}")]
    Local {
        device: String,
        addr: SocketAddr,
        during: &'static str,
        detail: String,
    },
    #[error(
        "{device} ({addr}): skipped, circuit open for {remaining:?} after {failures} consecutive failures"
    )]
    CircuitOpen {
        device: String,
        addr: SocketAddr,
        remaining: Duration,
        failures: u32,
    },
}

impl PollError {
    pub fn failure(&self) -> PollFailure {
        match self {
            PollError::Timeout { .. } | PollError::CircuitOpen { .. } => PollFailure::Timeout,
            PollError::Auth { .. } => PollFailure::AuthFailure,
            PollError::Malformed { .. } => PollFailure::Malformed,
            PollError::Local { .. } => PollFailure::Local,
        }
    }
}

struct CachedClient {
    addr: SocketAddr,
    credentials: Credentials,
    timeout: Duration,
    retries: u32,
    client: Client<UdpHandle>,
}

struct Inner {
    cfg: PollerConfig,
    global: Semaphore,
    transport: OnceCell<UdpTransport>,
    devices: Mutex<HashMap<String, Arc<Semaphore>>>,
    breakers: Breakers,
    clients: Mutex<HashMap<String, CachedClient>>,
}

/// Polls SNMP agents. Cheap to clone; all clones share one UDP socket, the concurrency limits
/// and the circuit breakers. Use it from one tokio runtime.
#[derive(Clone)]
pub struct SnmpPoller {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SnmpPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnmpPoller")
            .field("global_concurrency", &self.inner.cfg.global_concurrency)
            .finish()
    }
}

/// A poll's concurrency permits, held until it ends (the global one is released first).
struct Slots<'a> {
    _global: SemaphorePermit<'a>,
    _device: OwnedSemaphorePermit,
}

/// A [`PollError::Local`] about `target`: something on this side went wrong `during` a step.
fn local_error(target: &Target, during: &'static str, detail: String) -> PollError {
    PollError::Local {
        device: target.device_id.clone(),
        addr: target.addr,
        during,
        detail,
    }
}

/// A lock that survives a panicked holder: the maps hold plain bookkeeping that stays valid.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SnmpPoller {
    pub fn new(cfg: PollerConfig) -> SnmpPoller {
        let global = Semaphore::new(cfg.global_concurrency.max(1));
        SnmpPoller {
            inner: Arc::new(Inner {
                cfg,
                global,
                transport: OnceCell::new(),
                devices: Mutex::new(HashMap::new()),
                breakers: Breakers::default(),
                clients: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn profiles(&self) -> &Profiles {
        &self.inner.cfg.profiles
    }

    /// A scheduled poll of one device: system group, interfaces, LLDP, the profile's HA
    /// objects and readiness facts. Never fails: failures become `AgentDown` observations
    /// and entries in `report.errors`. Same as `poll_with(.., PollReason::Scheduled)`.
    pub async fn poll(&self, target: &Target, prev: Option<&PollState>) -> PollOutcome {
        self.poll_with(target, prev, PollReason::Scheduled).await
    }

    /// Poll one device for `reason`: a [`PollReason::Repoll`] goes through an open circuit
    /// breaker, a [`PollReason::Scheduled`] poll does not.
    pub async fn poll_with(
        &self,
        target: &Target,
        prev: Option<&PollState>,
        reason: PollReason,
    ) -> PollOutcome {
        let started = Instant::now();
        let mut report = DeviceReport::empty(
            &target.device_id,
            target.addr.to_string(),
            target.credentials.version_name(),
        );
        // Every request has its own timeout, but an agent that answers slowly with tiny
        // tables (GETBULK shrunk to one row by genErr) could stretch one poll over thousands of
        // round trips while holding its concurrency permits. Bound the poll as a whole.
        let attempts = target.retries + 1;
        let budget = (target.timeout * attempts * 20).max(Duration::from_secs(30));
        let result =
            match tokio::time::timeout(budget, self.poll_inner(target, prev, reason, &mut report))
                .await
            {
                Ok(r) => r,
                Err(_) => Err(PollError::Timeout {
                    device: target.device_id.clone(),
                    addr: target.addr,
                    timeout: budget,
                    attempts: 1,
                    hint: " (the whole poll exceeded its time budget)",
                }),
            };
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        let at = now_ms();
        match result {
            Ok((report, observations, state)) => {
                self.record(target, true, started);
                PollOutcome {
                    report: DeviceReport {
                        elapsed_ms: started.elapsed().as_millis() as u64,
                        ..report
                    },
                    observations,
                    state,
                }
            }
            Err(e) => {
                if !matches!(e, PollError::CircuitOpen { .. }) {
                    self.record(target, false, started);
                }
                tracing::debug!(error = %e, "poll failed");
                let reason = e.failure();
                report.errors.push(PollErrorReport {
                    kind: reason,
                    message: e.to_string(),
                });
                let observations = vec![Observation::new(
                    at,
                    Subject::device(&target.device_id),
                    Signal::AgentDown { reason },
                )];
                PollOutcome {
                    report,
                    observations,
                    state: prev.cloned().unwrap_or_default(),
                }
            }
        }
    }

    fn record(&self, target: &Target, ok: bool, started: Instant) {
        self.inner
            .breakers
            .record(&self.inner.cfg, target, ok, started);
    }

    /// How much longer `device`'s circuit stays open, if it is open now.
    pub fn circuit_open_for(&self, device: &str) -> Option<Duration> {
        self.inner.breakers.open_for(device)
    }

    /// The poll proper: breaker check, concurrency slots, the requests in plan order, and
    /// the decoded result. `report` collects what is known even when the poll fails.
    async fn poll_inner(
        &self,
        target: &Target,
        prev: Option<&PollState>,
        reason: PollReason,
        report: &mut DeviceReport,
    ) -> Result<(DeviceReport, Vec<Observation>, PollState), PollError> {
        // An open circuit answers a scheduled poll at once, without a permit: a dead device
        // costs nothing. A re-poll always asks the agent.
        if reason == PollReason::Scheduled {
            self.inner.breakers.check(target)?;
        }
        let _slots = self.acquire_slots(target).await?;
        let client = self.client(target).await?;
        let session = Session::new(target, &client);

        let mut raw = RawPoll::default();
        let profiles = &self.inner.cfg.profiles;
        plan::read_first(&session, profiles, target, &mut raw).await?;
        let generic = plan::generic_profile();
        let profile = plan::select_profile(profiles, target, &raw, &generic)?;
        let checks = profiles.readiness(&profile.name);
        let errors =
            plan::read_tables(&session, self.inner.cfg.lldp, profile, checks, &mut raw).await;
        let gathered = Gathered {
            device_id: &target.device_id,
            raw: &raw,
            profile,
            checks,
            errors,
            varbinds: session.varbinds(),
        };
        Ok(report::assemble(report, gathered, prev))
    }

    /// Wait for a slot of `target`'s device, then for a global one.
    async fn acquire_slots(&self, target: &Target) -> Result<Slots<'_>, PollError> {
        let device_sem = {
            let mut d = lock(&self.inner.devices);
            d.entry(target.device_id.clone())
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(self.inner.cfg.per_device_concurrency.max(1)))
                })
                .clone()
        };
        let device = device_sem
            .acquire_owned()
            .await
            .map_err(|e| local_error(target, "waiting for device slot", e.to_string()))?;
        let global = self
            .inner
            .global
            .acquire()
            .await
            .map_err(|e| local_error(target, "waiting for global slot", e.to_string()))?;
        Ok(Slots {
            _global: global,
            _device: device,
        })
    }

    async fn client(&self, target: &Target) -> Result<Client<UdpHandle>, PollError> {
        {
            let c = lock(&self.inner.clients);
            if let Some(cc) = c.get(&target.device_id)
                && cc.addr == target.addr
                && cc.credentials == target.credentials
                && cc.timeout == target.timeout
                && cc.retries == target.retries
            {
                return Ok(cc.client.clone());
            }
        }
        let local = |during: &'static str, detail: String| local_error(target, during, detail);
        let bind = if target.addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let buffer = self.inner.cfg.udp_recv_buffer;
        let bind_transport = || async move {
            UdpTransport::builder()
                .bind(bind)
                .recv_buffer_size(buffer)
                .build()
                .await
        };
        // One shared socket for IPv4 (the common case); IPv6 targets get their own.
        let transport = if target.addr.is_ipv4() {
            self.inner
                .transport
                .get_or_try_init(bind_transport)
                .await
                .map_err(|e| local("binding UDP socket", e.to_string()))?
                .clone()
        } else {
            bind_transport()
                .await
                .map_err(|e| local("binding UDP socket", e.to_string()))?
        };
        let auth = target
            .credentials
            .to_auth()
            .map_err(|e| local("building credentials", e.to_string()))?;
        let retry = Retry::fixed(target.retries.min(10), Duration::ZERO)
            .map_err(|e| local("retry policy", e.to_string()))?;
        let client = Client::builder(target.addr, auth)
            .request_timeout(target.timeout)
            .retry(retry)
            .max_oids_per_request(MAX_OIDS_PER_REQUEST)
            .build_with(&transport)
            .await
            .map_err(|e| local("building client", e.to_string()))?;
        lock(&self.inner.clients).insert(
            target.device_id.clone(),
            CachedClient {
                addr: target.addr,
                credentials: target.credentials.clone(),
                timeout: target.timeout,
                retries: target.retries,
                client: client.clone(),
            },
        );
        Ok(client)
    }
}
