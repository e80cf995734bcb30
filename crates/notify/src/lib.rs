//! Paging that loses nothing: faultline's durable outbox and its delivery to PagerDuty (Events
//! API v2), Prometheus Alertmanager (API v2) and signed generic webhooks.
//!
//! Every [`IncidentTransition`](faultline_incident::IncidentTransition) handed to
//! [`Notifier::enqueue`] is written to the store — one outbox entry per receiver whose route
//! selects it, in the same redb transaction that records the incident — before `enqueue`
//! returns. [`Notifier::run`] delivers the entries and removes each one only once its receiver
//! accepted it, so delivery is at-least-once and survives `kill -9`: a new `Notifier` on the
//! same store file resumes where the old one stopped (the receivers deduplicate re-sent events
//! by the incident id).
//!
//! Order is kept **per incident and receiver**: a later transition waits while an earlier one is
//! pending or retrying, so a resolve never overtakes its trigger; different incidents never
//! block each other. Transient failures (connection errors, 5xx, 429) back the receiver off
//! exponentially with jitter, honouring `Retry-After`; a permanent 4xx moves the entry to the
//! dead letters with the receiver's answer. Consecutive pending updates of one incident are
//! coalesced into the latest, so a flapping component does not page over and over.
//!
//! A suppressed incident (maintenance) is not paged, but an incident that was already paged at
//! a receiver always gets its resolve there, suppressed or not (no orphaned PagerDuty
//! incidents, cf. alertmanager#2754).
//!
//! Layout: [`receivers`] (the [`Receiver`] trait, one file per kind, `client` for the
//! authentication and TLS settings every HTTP receiver shares, the registration, and
//! [`Receivers::build`], which checks a `[notify]` section and resolves its secrets without
//! starting anything or creating files, for `run`, `run --check` and a reload alike); `queue`
//! (per-receiver, per-incident queues, token buckets); [`retry`] (backoff, `Retry-After`, the
//! give-up rule); [`outcome`] (what an attempt ended with); `enqueue` and `deliver` (the
//! [`Notifier`]'s two halves); [`payload`] (helpers the encoders share); `gate` (the
//! [`PageGate`] through which correlators sharing one stream hand delivery over).
//!
//! ```
//! use faultline_notify::{NotifyConfig, Receivers};
//!
//! let cfg: NotifyConfig = toml::from_str(r#"
//!     [[receivers]]
//!     name = "oncall"
//!     kind = "pagerduty"
//!     routing_key_env = "FAULTLINE_DOC_SURELY_UNSET"
//!     tiers = ["critical", "high"]
//!     [[receivers]]
//!     name = "hook"
//!     kind = "webhook"
//!     url = ""
//! "#).unwrap();
//! // Every problem at once, naming receiver and field.
//! let problems = Receivers::build(&cfg).unwrap_err();
//! assert_eq!(problems.0.len(), 2);
//! assert_eq!(
//!     problems.0[0].to_string(),
//!     "receiver oncall, routing_key_env: environment variable FAULTLINE_DOC_SURELY_UNSET is not set"
//! );
//! assert_eq!(problems.0[1].to_string(), "receiver hook, url: is empty");
//! ```
//!
//! Running it (the collector does this):
//!
//! ```no_run
//! # async fn demo(t: faultline_incident::IncidentTransition) -> Result<(), Box<dyn std::error::Error>> {
//! use faultline_notify::{HttpOptions, Notifier, NotifyConfig, Receivers, Store};
//!
//! let cfg: NotifyConfig = toml::from_str(r#"
//!     [[receivers]]
//!     name = "oncall"
//!     kind = "pagerduty"
//!     routing_key_env = "PD_ROUTING_KEY"
//! "#)?;
//! let receivers = Receivers::build(&cfg)?;
//! let notifier = Notifier::new(Store::open("faultline.redb")?, receivers, HttpOptions::default())?;
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! let runner = tokio::spawn({
//!     let n = notifier.clone();
//!     async move { n.run(async { let _ = stop_rx.await; }).await }
//! });
//! // Blocking (fsync): from async code, go through spawn_blocking or enqueue_async.
//! notifier.enqueue_async(t).await?;
//! println!("{:?}", notifier.stats());
//! let _ = stop_tx.send(());
//! runner.await?;
//! # Ok(()) }
//! ```

mod config;
mod deliver;
mod enqueue;
mod gate;
mod notifier;
pub mod outcome;
pub mod payload;
mod queue;
pub mod receivers;
pub mod retry;
mod stats;
mod test_page;
mod transport;

pub use config::{HttpOptions, NotifyConfig, PagerFileConfig, ReceiverConfig, RetryConfig, Secret};
pub use faultline_store::{DeadLetter, OutboxEntry, PagedRecord, Store, StoreError};
pub use gate::{PageGate, Recorded};
pub use notifier::Notifier;
pub use outcome::{Answer, Outcome};
pub use receivers::pagerduty::PAGERDUTY_EVENTS_URL;
pub use receivers::{ConfigProblem, ConfigProblems, KindConfig, Receiver, ReceiverKind, Receivers};
pub use stats::{NotifyStats, StatsSnapshot};
pub use test_page::{TestPageReport, test_page};

/// Everything that can go wrong in the pager.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The `[notify]` section has problems (all of them listed).
    #[error(transparent)]
    Config(#[from] ConfigProblems),
    #[error("no receiver named {0} in the notify config")]
    UnknownReceiver(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("receiver {receiver} ({url}): {detail}")]
    Delivery {
        receiver: String,
        url: String,
        detail: String,
    },
    #[error("config {path}: {detail}")]
    ConfigFile { path: String, detail: String },
    #[error("store worker thread failed: {0}")]
    Join(String),
}

pub type Result<T, E = NotifyError> = std::result::Result<T, E>;
