//! The imperative shell: sockets, timeouts, concurrency limits and per-device circuit breakers
//! around the pure decoder in [`crate::decode`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_snmp::{Client, Oid, Retry, UdpHandle, UdpTransport};
use faultline_observe::{Observation, PollFailure, Signal, Subject};
use tokio::sync::{OnceCell, Semaphore};

use crate::decode::{self, DeviceReport, PollErrorReport, PollState, RawPoll, SnmpValue, oids};
use crate::profile::{HaSpec, Profile, Profiles};
use crate::readiness::{self, ReadinessCheck};
use crate::secret::Credentials;
use crate::usm_probe;

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

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
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
    breakers: Mutex<HashMap<String, Breaker>>,
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

use faultline_observe::time::now_ms;

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
                breakers: Mutex::new(HashMap::new()),
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
        let mut b = lock(&self.inner.breakers);
        let br = b.entry(target.device_id.clone()).or_default();
        if ok {
            *br = Breaker::default();
            return;
        }
        br.failures = br.failures.saturating_add(1);
        br.open_until = open_until(
            &self.inner.cfg,
            br.failures,
            started,
            Instant::now(),
            target.poll_interval,
        );
    }

    /// How much longer `device`'s circuit stays open, if it is open now.
    pub fn circuit_open_for(&self, device: &str) -> Option<Duration> {
        let b = lock(&self.inner.breakers);
        let until = b.get(device)?.open_until?;
        until.checked_duration_since(Instant::now())
    }

    fn check_breaker(&self, target: &Target) -> Result<(), PollError> {
        let b = lock(&self.inner.breakers);
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
            self.check_breaker(target)?;
        }
        let device_sem = {
            let mut d = lock(&self.inner.devices);
            d.entry(target.device_id.clone())
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(self.inner.cfg.per_device_concurrency.max(1)))
                })
                .clone()
        };
        let local = |during: &'static str, detail: String| PollError::Local {
            device: target.device_id.clone(),
            addr: target.addr,
            during,
            detail,
        };
        let _dev = device_sem
            .acquire()
            .await
            .map_err(|e| local("waiting for device slot", e.to_string()))?;
        let _glob = self
            .inner
            .global
            .acquire()
            .await
            .map_err(|e| local("waiting for global slot", e.to_string()))?;
        let client = self.client(target).await?;
        let ctx = Ctx {
            target,
            client: &client,
            reps: AtomicU32::new(target.max_repetitions.max(1)),
            varbinds: AtomicU64::new(0),
        };

        let mut raw = RawPoll::default();
        let profiles = &self.inner.cfg.profiles;
        let mut first: Vec<&str> = oids::SYSTEM.to_vec();
        let mut optional: Vec<&str> = oids::OPTIONAL_SCALARS.to_vec();
        optional.push(oids::IF_NUMBER);
        // Scalars known before the first answer ride in the first GET: the generic readiness
        // checks always, and everything of the target's profile when it is named.
        optional.extend(early_scalars(profiles, target.profile.as_deref()));
        let optional = unique(optional);
        if matches!(target.credentials, Credentials::V1 { .. }) {
            ctx.get_scalars(&first, &mut raw, true).await?;
            // Optional scalars separately: a v1 agent fails a whole GET on one missing object.
            ctx.get_scalars(&optional, &mut raw, false).await.ok();
        } else {
            // v2c/v3 answer a missing object with a per-varbind exception: one round trip.
            first.extend(optional);
            ctx.get_scalars(&first, &mut raw, true).await?;
        }
        let if_rows = raw
            .scalars
            .get(oids::IF_NUMBER)
            .and_then(SnmpValue::as_u64)
            .map_or(SMALL_TABLE_REPS, |n| {
                u32::try_from(n.saturating_add(1)).unwrap_or(u32::MAX)
            });
        let sys_oid = raw
            .scalars
            .get(oids::SYS_OBJECT_ID)
            .map(SnmpValue::text)
            .unwrap_or_default();
        let generic = Profile {
            name: "generic".into(),
            description: String::new(),
            sys_object_id_prefixes: vec![],
            sys_descr_contains: vec![],
            ha: None,
            readiness: vec![],
        };
        let profile = match &target.profile {
            Some(name) => profiles
                .get(name)
                .ok_or_else(|| local("selecting profile", format!("unknown profile {name:?}")))?,
            None => {
                let descr = raw
                    .scalars
                    .get(oids::SYS_DESCR)
                    .map(SnmpValue::text)
                    .unwrap_or_default();
                profiles
                    .select_with_descr(&sys_oid, &descr)
                    .unwrap_or(&generic)
            }
        };

        let mut errors = vec![];
        if let Err(e) = ctx.walk(&oids::IF_COLUMNS, &mut raw, if_rows).await {
            errors.push(e);
        }
        if self.inner.cfg.lldp
            && let Err(e) = ctx
                .walk(&oids::LLDP_COLUMNS, &mut raw, SMALL_TABLE_REPS)
                .await
        {
            errors.push(e);
        }
        // The profile's HA objects and readiness facts: one GET for the scalars not fetched
        // yet, one multi-column walk for the small tables.
        let checks = profiles.readiness(&profile.name);
        let (ha_scalars, ha_columns) = profile.ha.as_ref().map(HaSpec::objects).unwrap_or_default();
        let scalars: Vec<&str> = unique(
            ha_scalars
                .into_iter()
                .chain(checks.iter().flat_map(ReadinessCheck::scalars))
                .filter(|o| !raw.scalars.contains_key(*o) && !raw.absent.contains(*o)),
        );
        let columns = unique(
            ha_columns
                .into_iter()
                .chain(checks.iter().flat_map(ReadinessCheck::walks)),
        );
        if !scalars.is_empty()
            && let Err(e) = ctx.get_scalars(&scalars, &mut raw, false).await
        {
            errors.push(e);
        }
        if !columns.is_empty()
            && let Err(e) = ctx.walk(&columns, &mut raw, SMALL_TABLE_REPS).await
        {
            errors.push(e);
        }
        report.errors.extend(errors.iter().map(|e| PollErrorReport {
            kind: e.failure(),
            message: e.to_string(),
        }));
        report.varbinds = ctx.varbinds.load(Ordering::Relaxed);
        let at = now_ms();
        let (mut report, mut obs, state) = decode::decode(report.clone(), at, &raw, profile, prev);
        let (facts, fact_obs) = readiness::decode(checks, &raw, &target.device_id, at);
        report.readiness = facts;
        obs.extend(fact_obs);
        Ok((report, obs, state))
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
        let local = |during: &'static str, detail: String| PollError::Local {
            device: target.device_id.clone(),
            addr: target.addr,
            during,
            detail,
        };
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

struct Ctx<'a> {
    target: &'a Target,
    client: &'a Client<UdpHandle>,
    /// Ceiling on GETBULK max-repetitions; halved when an agent chokes on a large answer.
    reps: AtomicU32,
    /// Varbinds received, for the report.
    varbinds: AtomicU64,
}

/// First GETBULK size for tables of unknown length (LLDP, HA). Most are short or empty, and
/// every repetition past a column's end is overshoot into the next column that is thrown
/// away; the walk doubles the size while all columns still have rows.
const SMALL_TABLE_REPS: u32 = 2;

/// Objects per GET before async-snmp splits the request (its default is 10). A poll's first
/// GET carries the system group, uptime counters, ifNumber and the generic readiness scalars
/// (about a dozen); one request instead of two. An agent that finds the answer too big says
/// tooBig, and async-snmp then bisects the request.
const MAX_OIDS_PER_REQUEST: usize = 24;

/// Upper bound on rows per walked table: a broken agent must not make us loop or eat memory.
const MAX_ROWS: usize = 100_000;

impl Ctx<'_> {
    fn parse_oids(&self, list: &[&str]) -> Result<Vec<Oid>, PollError> {
        list.iter()
            .map(|s| {
                Oid::parse(s).map_err(|e| PollError::Local {
                    device: self.target.device_id.clone(),
                    addr: self.target.addr,
                    during: "parsing OID",
                    detail: format!("{s}: {e}"),
                })
            })
            .collect()
    }

    /// `first`: the error ended the poll's first request. Only then can a v3 timeout mean
    /// rejected credentials; once the agent has answered, a timeout is a timeout.
    async fn classify(&self, e: async_snmp::Error, during: &'static str, first: bool) -> PollError {
        let device = self.target.device_id.clone();
        let addr = self.target.addr;
        match classify_error(&e) {
            PollFailure::Timeout => {
                // async-snmp reports a wrong v3 user as a plain timeout; ask the agent directly.
                if first
                    && let Credentials::V3 { user, .. } = &self.target.credentials
                    && let Some(detail) = usm_probe::probe(addr, user, self.target.timeout).await
                {
                    return PollError::Auth {
                        device,
                        addr,
                        detail,
                    };
                }
                // v1/v2c agents drop a wrong community without a word: say so, since the
                // protocol gives no way to tell it apart from a dead agent.
                let hint = match self.target.credentials {
                    Credentials::V3 { .. } => "",
                    _ => {
                        " (dead or unreachable agent, or a wrong community: agents drop those silently)"
                    }
                };
                PollError::Timeout {
                    device,
                    addr,
                    timeout: self.target.timeout,
                    attempts: self.target.retries + 1,
                    hint,
                }
            }
            PollFailure::AuthFailure => PollError::Auth {
                device,
                addr,
                detail: e.to_string(),
            },
            PollFailure::Malformed => PollError::Malformed {
                device,
                addr,
                during,
                detail: e.to_string(),
            },
            PollFailure::Local => PollError::Local {
                device,
                addr,
                during,
                detail: e.to_string(),
            },
        }
    }

    /// GET `list` into `raw`. Objects the agent says are not there go to `raw.absent`. A v1
    /// agent refuses a whole request over one missing object (noSuchName): unless
    /// `required`, that object is dropped and the rest asked again (at most once per object).
    async fn get_scalars(
        &self,
        list: &[&str],
        raw: &mut RawPoll,
        required: bool,
    ) -> Result<(), PollError> {
        let mut asked = self.parse_oids(list)?;
        let resp = loop {
            match self.client.get_many(&asked).await {
                Ok(resp) => break resp,
                Err(e) => {
                    let missing = match &*e {
                        async_snmp::Error::Snmp {
                            status: async_snmp::ErrorStatus::NoSuchName,
                            index,
                            ..
                        } if !required => usize::try_from(*index)
                            .ok()
                            .and_then(|i| i.checked_sub(1))
                            .filter(|i| *i < asked.len()),
                        _ => None,
                    };
                    let Some(i) = missing else {
                        return Err(self.classify(*e, "reading scalars", required).await);
                    };
                    raw.absent.insert(asked.remove(i).to_string());
                    if asked.is_empty() {
                        return Ok(());
                    }
                }
            }
        };
        self.varbinds
            .fetch_add(resp.varbinds.len() as u64, Ordering::Relaxed);
        for vb in &resp.varbinds {
            if let Some(v) = SnmpValue::from_snmp(&vb.value) {
                raw.scalars.insert(vb.oid.to_string(), v);
            } else if vb.value.is_exception() {
                raw.absent.insert(vb.oid.to_string());
            }
        }
        if required && !raw.scalars.contains_key(oids::SYS_UPTIME) {
            return Err(PollError::Malformed {
                device: self.target.device_id.clone(),
                addr: self.target.addr,
                during: "reading the system group",
                detail: "no sysUpTime in the answer".into(),
            });
        }
        Ok(())
    }

    /// Walk several table columns side by side with GETBULK (GETNEXT for v1): each request
    /// carries one cursor per unfinished column, so a 12-column ifTable costs one round trip
    /// per `max_repetitions` rows rather than one per column.
    async fn walk(
        &self,
        columns: &[&str],
        raw: &mut RawPoll,
        first_reps: u32,
    ) -> Result<(), PollError> {
        let mut reps = first_reps.clamp(1, self.reps.load(Ordering::Relaxed));
        let roots = self.parse_oids(columns)?;
        let mut cursors: Vec<Oid> = roots.clone();
        let mut done = vec![false; roots.len()];
        let v1 = matches!(self.target.credentials, Credentials::V1 { .. });
        let mut rows = 0usize;
        while done.iter().any(|d| !d) {
            let active: Vec<usize> = (0..roots.len()).filter(|i| !done[*i]).collect();
            let req: Vec<Oid> = active.iter().map(|i| cursors[*i].clone()).collect();
            let result = if v1 {
                self.client.get_next_many(&req).await.map(|r| r.varbinds)
            } else {
                self.client.get_bulk(&req, 0, reps).await
            };
            let varbinds = match result {
                Ok(v) => v,
                // net-snmp answers genErr (others tooBig) when a GETBULK answer would exceed
                // its message size, e.g. 12 columns x 25 rows under v3 privacy: ask for fewer
                // rows and keep the smaller size for the rest of this poll.
                Err(e)
                    if !v1
                        && reps > 1
                        && matches!(
                            &*e,
                            async_snmp::Error::Snmp {
                                status: async_snmp::ErrorStatus::GenErr
                                    | async_snmp::ErrorStatus::TooBig,
                                ..
                            }
                        ) =>
                {
                    reps /= 2;
                    self.reps.store(reps, Ordering::Relaxed);
                    continue;
                }
                // v1 signals the end of the MIB view with noSuchName.
                Err(e) if v1 && matches!(&*e, async_snmp::Error::Snmp { .. }) => break,
                Err(e) => return Err(self.classify(*e, "walking a table", false).await),
            };
            if varbinds.is_empty() {
                break;
            }
            self.varbinds
                .fetch_add(varbinds.len() as u64, Ordering::Relaxed);
            let mut progressed = false;
            for (pos, vb) in varbinds.iter().enumerate() {
                let col = active[pos % active.len()];
                if done[col] {
                    continue;
                }
                let Some(index) = vb.oid.strip_prefix(&roots[col]).filter(|i| !i.is_empty()) else {
                    if !vb.value.is_exception() {
                        raw.beyond
                            .entry(columns[col].to_owned())
                            .or_insert_with(|| vb.oid.to_string());
                    }
                    done[col] = true;
                    continue;
                };
                // A non-increasing answer would loop forever (seen on ASAv and MX agents).
                if vb.oid <= cursors[col] || vb.value.is_exception() {
                    done[col] = true;
                    continue;
                }
                cursors[col] = vb.oid.clone();
                progressed = true;
                // Counted whether or not the value decodes: an agent answering increasing OIDs
                // with undecodable values must still hit the row bound.
                rows += 1;
                if let Some(v) = SnmpValue::from_snmp(&vb.value) {
                    raw.columns
                        .entry(columns[col].to_owned())
                        .or_default()
                        .insert(index.to_string(), v);
                }
            }
            if !progressed || rows > MAX_ROWS {
                break;
            }
            // Every column still has rows: the table is longer than guessed.
            if done.iter().all(|d| !d) {
                reps = reps
                    .saturating_mul(2)
                    .min(self.reps.load(Ordering::Relaxed));
            }
        }
        raw.walked.extend(columns.iter().map(|c| (*c).to_owned()));
        Ok(())
    }
}

/// Map an async-snmp error onto the failure kinds the engine distinguishes.
pub fn classify_error(e: &async_snmp::Error) -> PollFailure {
    use async_snmp::{Error as E, v3::ReportStatus as R};
    match e {
        E::SharedOperation { source } => classify_error(source),
        E::Exchange { source, .. } => classify_error(source),
        E::Timeout { .. } | E::Closed { .. } => PollFailure::Timeout,
        E::Auth { .. } => PollFailure::AuthFailure,
        E::Report { status, .. } => match **status {
            R::UnknownUserName { .. }
            | R::WrongDigest { .. }
            | R::UnsupportedSecurityLevel { .. }
            | R::DecryptionError { .. } => PollFailure::AuthFailure,
            _ => PollFailure::Malformed,
        },
        E::Snmp { status, .. } => match status {
            async_snmp::ErrorStatus::AuthorizationError | async_snmp::ErrorStatus::NoAccess => {
                PollFailure::AuthFailure
            }
            _ => PollFailure::Malformed,
        },
        E::Decode(_)
        | E::MalformedResponse { .. }
        | E::ResponseShape { .. }
        | E::WalkAborted { .. } => PollFailure::Malformed,
        _ => PollFailure::Local,
    }
}

/// Scalars a poll can ask for in its first GET, before the profile is known from
/// sysObjectID: the generic readiness checks', and all of the named profile's (HA and
/// readiness) when the target names one.
fn early_scalars<'a>(profiles: &'a Profiles, named: Option<&str>) -> Vec<&'a str> {
    let named = named.and_then(|n| profiles.get(n));
    let checks = profiles.readiness(named.map_or("generic", |p| p.name.as_str()));
    let mut v: Vec<&str> = checks.iter().flat_map(ReadinessCheck::scalars).collect();
    if let Some(ha) = named.and_then(|p| p.ha.as_ref()) {
        v.extend(ha.objects().0);
    }
    v
}

/// The items in first-seen order without repeats (OID lists of a few dozen).
fn unique<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = vec![];
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
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

    #[test]
    fn unique_keeps_first_seen_order() {
        assert_eq!(unique(["b", "a", "b", "c", "a"]), vec!["b", "a", "c"]);
    }
}
