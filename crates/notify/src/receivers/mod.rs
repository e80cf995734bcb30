//! Receivers: what each kind of pager endpoint needs, behind one [`Receiver`] trait (in the
//! manner of Vector's sinks), and the one place where kinds are registered.
//!
//! A kind is a file here with three things: its configuration section (a serde struct, the
//! fields after `kind = "..."`), a [`ReceiverSection::build`] that validates that section and
//! resolves its secrets into a ready [`Receiver`], and the [`Receiver`] itself (its encoder and,
//! where it differs from plain HTTP, its answer classification and resend policy). Adding a kind
//! is that file plus two lines here: its `pub mod` and its entry in the `register_receivers!` list.
//!
//! [`Receivers::build`] turns a whole `[notify]` section into ready receivers, reporting every
//! problem at once. It neither starts delivery nor creates any file, so `run`, `run --check` and
//! a reload can share it (the collector's start, which a reload repeats, calls it first).

pub mod alertmanager;
pub mod client;
pub mod pagerduty;
pub mod webhook;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use faultline_incident::Incident;
use faultline_secret::{Secret, SecretError, SecretRef};
use faultline_store::OutboxEntry;
use serde::{Deserialize, Serialize};

use crate::config::{NotifyConfig, ReceiverConfig, RetryConfig};
use crate::outcome::{HttpAnswer, Outcome};
use client::ClientSettings;

/// Alertmanager-style identity labels, pinned when an incident is first paged at a receiver.
pub type Labels = BTreeMap<String, String>;

/// One kind of pager endpoint, ready to send (secrets resolved, URL checked).
pub trait Receiver: Send + Sync + 'static {
    /// The endpoint, for error messages and `Debug` (never a secret: keys travel in bodies or
    /// headers).
    fn url(&self) -> &str;

    /// The HTTP request delivering one outbox entry. `faultline test-page` sends a synthetic
    /// trigger and resolve through this same method, so a test page is encoded like a real one.
    fn request(
        &self,
        client: &reqwest::Client,
        entry: &OutboxEntry,
    ) -> Result<reqwest::RequestBuilder, String>;

    /// What the receiver's answer means: delivered, retry (after `Retry-After` if given), or
    /// rejected for good. The default is plain HTTP semantics ([`Outcome::from_http`]).
    fn classify(&self, answer: HttpAnswer) -> Outcome {
        Outcome::from_http(answer)
    }

    /// Re-post incidents still firing this often (a receiver that forgets alerts unless told
    /// again, like Alertmanager); `None` (the default): send each transition once.
    fn resend_interval(&self) -> Option<Duration> {
        None
    }

    /// The token bucket this receiver draws from, given the configured `rate_per_minute`. The
    /// default: the configured rate, for this receiver alone; unlimited if unset.
    fn rate_limit(&self, name: &str, per_minute: Option<u32>) -> Option<RateLimit> {
        per_minute.map(|per_minute| RateLimit {
            bucket: format!("rcv:{name}"),
            per_minute,
        })
    }

    /// Labels identifying the incident at this receiver, kept with the incident while it is
    /// paged there and sent with every later event (the default: none). `pinned` is `None` at
    /// the first page and the kept labels at every later event, so a receiver can keep what
    /// must not change (Alertmanager's identity labels) and add what it must remember (the
    /// services it has alerted about).
    fn identity_labels(&self, _incident: &Incident, _pinned: Option<&Labels>) -> Option<Labels> {
        None
    }

    /// A lookup sent once [`Self::request`] was delivered, whose answer names more requests
    /// ([`Self::follow_ups`]): Alertmanager lists an incident's silences to expire them at an
    /// unacknowledge or resolve. The default: none. A failed lookup or follow-up is retried
    /// with the entry (the whole exchange is idempotent).
    fn lookup(
        &self,
        _client: &reqwest::Client,
        _entry: &OutboxEntry,
    ) -> Option<reqwest::RequestBuilder> {
        None
    }

    /// The requests the lookup's answer calls for (the default: none).
    fn follow_ups(
        &self,
        _client: &reqwest::Client,
        _entry: &OutboxEntry,
        _answer: &str,
    ) -> Result<Vec<reqwest::RequestBuilder>, String> {
        Ok(Vec::new())
    }
}

/// A token bucket shared by every receiver naming the same `bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub bucket: String,
    pub per_minute: u32,
}

/// A kind's configuration section: validated and turned into its [`Receiver`].
pub trait ReceiverSection {
    type Receiver: Receiver;
    /// Check the section and resolve its secrets; report every problem through `ctx` (and
    /// return `None` if the receiver cannot be built).
    fn build(&self, ctx: &mut BuildContext<'_>) -> Option<Self::Receiver>;
}

/// The registration: one line per kind, `Variant(module::Section) = "kind name",`. It defines
/// [`ReceiverKind`] (the `kind = "..."` switch), [`KindConfig`] (a kind with its section) and
/// their dispatch.
macro_rules! register_receivers {
    ($($variant:ident($module:ident::$section:ident) = $kind:literal,)+) => {
        /// Which API a receiver speaks: the `kind = "..."` value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ReceiverKind {
            $(#[serde(rename = $kind)] $variant,)+
        }

        /// A receiver's kind and that kind's own settings (serialized as `kind = "..."` plus
        /// the section's fields).
        #[derive(Debug, Clone, Serialize)]
        #[serde(tag = "kind")]
        pub enum KindConfig {
            $(#[serde(rename = $kind)] $variant($module::$section),)+
        }

        impl KindConfig {
            /// The kind's name as written in the configuration.
            pub fn kind(&self) -> &'static str {
                match self { $(Self::$variant(_) => $kind,)+ }
            }

            /// Read `kind`'s section from the receiver's remaining fields (unknown ones are
            /// refused).
            pub(crate) fn from_fields(
                kind: ReceiverKind,
                fields: toml::Table,
            ) -> Result<KindConfig, toml::de::Error> {
                let fields = toml::Value::Table(fields);
                match kind {
                    $(ReceiverKind::$variant => $module::$section::deserialize(fields).map(Self::$variant),)+
                }
            }

            fn build(&self, ctx: &mut BuildContext<'_>) -> Option<Box<dyn Receiver>> {
                match self {
                    $(Self::$variant(s) => s.build(ctx).map(|r| Box::new(r) as Box<dyn Receiver>),)+
                }
            }
        }
    };
}

register_receivers! {
    PagerDuty(pagerduty::PagerDutySection) = "pagerduty",
    Alertmanager(alertmanager::AlertmanagerSection) = "alertmanager",
    Webhook(webhook::WebhookSection) = "webhook",
}

/// One thing wrong with the `[notify]` section, naming the receiver and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// `None` for section-wide settings (`retry`, ...).
    pub receiver: Option<String>,
    /// The configuration key, e.g. `routing_key_env`.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.receiver {
            Some(r) => write!(f, "receiver {r}, {}: {}", self.field, self.problem),
            None => write!(f, "{}: {}", self.field, self.problem),
        }
    }
}

/// Everything wrong with a `[notify]` section (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "notify config: ")?;
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// What a [`ReceiverSection::build`] gets: the receiver's name, the shared settings it may
/// need, and the problem list with helpers for the checks every kind makes.
pub struct BuildContext<'a> {
    name: &'a str,
    public_url: Option<&'a str>,
    /// The receiver's own `basic_auth` / `bearer_token` / `tls` settings are given.
    client_options_set: bool,
    problems: &'a mut Vec<ConfigProblem>,
}

impl BuildContext<'_> {
    /// The receiver's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// `[notify] public_url`, for links in pages.
    pub fn public_url(&self) -> Option<String> {
        self.public_url.map(str::to_string)
    }

    /// Are `basic_auth`, `bearer_token` or `tls` set for this receiver? (A receiver kind whose
    /// endpoint cannot take them refuses them.)
    pub fn client_options_set(&self) -> bool {
        self.client_options_set
    }

    /// Problems reported so far (of the whole section).
    pub fn problem_count(&self) -> usize {
        self.problems.len()
    }

    /// Report a problem with `field` of this receiver.
    pub fn problem(&mut self, field: &str, problem: impl Into<String>) {
        self.problems.push(ConfigProblem {
            receiver: Some(self.name.to_string()),
            field: field.to_string(),
            problem: problem.into(),
        });
    }

    /// An optional secret (`what`, `what_env` or `what_file`), read now.
    pub fn secret(
        &mut self,
        what: &str,
        inline: &Option<Secret>,
        env: &Option<String>,
        file: &Option<PathBuf>,
    ) -> Option<Secret> {
        match SecretRef::from_parts(what, inline.clone(), env.clone(), file.clone()) {
            Ok(Some(r)) => self.resolve(what, &r),
            Ok(None) => None,
            Err(e) => {
                self.problem(what, e.to_string());
                None
            }
        }
    }

    /// Like [`Self::secret`], but one of the three is required.
    pub fn required_secret(
        &mut self,
        what: &str,
        inline: &Option<Secret>,
        env: &Option<String>,
        file: &Option<PathBuf>,
    ) -> Option<Secret> {
        match SecretRef::required(what, inline.clone(), env.clone(), file.clone()) {
            Ok(r) => self.resolve(what, &r),
            Err(e) => {
                self.problem(what, e.to_string());
                None
            }
        }
    }

    fn resolve(&mut self, what: &str, r: &SecretRef) -> Option<Secret> {
        match r.resolve() {
            Ok(s) => Some(s),
            Err(e) => {
                let field = match e {
                    SecretError::Env(_) => format!("{what}_env"),
                    SecretError::File { .. } => format!("{what}_file"),
                    _ => what.to_string(),
                };
                self.problem(&field, e.to_string());
                None
            }
        }
    }

    /// An `http(s)` URL from `field`; `default` when unset (a kind without one requires it).
    pub fn http_url(
        &mut self,
        field: &str,
        value: Option<&str>,
        default: Option<&str>,
    ) -> Option<String> {
        let Some(url) = value.or(default) else {
            self.problem(field, "missing (required for this kind)");
            return None;
        };
        if url.trim().is_empty() {
            self.problem(field, "is empty");
            return None;
        }
        match reqwest::Url::parse(url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Some(url.to_string()),
            // The URL is not echoed: a webhook URL may carry a token.
            Ok(u) => {
                let scheme = u.scheme().to_string();
                self.problem(field, format!("scheme {scheme} is not http or https"));
                None
            }
            Err(e) => {
                self.problem(field, format!("not a URL: {e}"));
                None
            }
        }
    }
}

/// One configured receiver, ready to send.
pub(crate) struct Configured {
    pub cfg: ReceiverConfig,
    pub receiver: Box<dyn Receiver>,
    pub rate: Option<RateLimit>,
    /// Authentication and TLS, resolved.
    pub client: ClientSettings,
}

/// The validated `[notify]` section: every receiver built, secrets resolved. Built by
/// [`Receivers::build`] (no delivery, no files); handed to [`crate::Notifier::new`].
pub struct Receivers {
    pub(crate) retry: RetryConfig,
    pub(crate) max_in_flight: usize,
    pub(crate) list: Vec<Configured>,
}

impl fmt::Debug for Receivers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self
            .list
            .iter()
            .map(|c| {
                format!(
                    "{} ({} {}, auth {:?}, tls {:?})",
                    c.cfg.name,
                    c.cfg.kind.kind(),
                    c.receiver.url(),
                    c.client.auth,
                    c.client.tls
                )
            })
            .collect();
        f.debug_struct("Receivers")
            .field("receivers", &list)
            .finish()
    }
}

impl Receivers {
    /// Check the whole section and build its receivers, reading `*_env` variables and
    /// `*_file` files now. All problems are reported at once.
    pub fn build(cfg: &NotifyConfig) -> Result<Receivers, ConfigProblems> {
        let mut problems = Vec::new();
        if cfg.retry.max_attempts == Some(0) {
            // Zero would dead-letter every entry, resolves included, at its first hiccup.
            problems.push(ConfigProblem {
                receiver: None,
                field: "retry.max_attempts".into(),
                problem: "must be at least 1 (or unset: retry forever)".into(),
            });
        }
        let mut names = HashSet::new();
        let mut list = Vec::new();
        for rc in &cfg.receivers {
            let mut ctx = BuildContext {
                name: &rc.name,
                public_url: cfg.public_url.as_deref(),
                client_options_set: rc.http.is_set(),
                problems: &mut problems,
            };
            if rc.name.trim().is_empty() {
                ctx.problem("name", "is empty");
            } else if !names.insert(rc.name.as_str()) {
                ctx.problem("name", "duplicate name");
            }
            let receiver = rc.kind.build(&mut ctx);
            let client = ClientSettings::build(&rc.http, &mut ctx);
            if let (Some(receiver), Some(client)) = (receiver, client) {
                let rate = receiver.rate_limit(&rc.name, rc.rate_per_minute);
                list.push(Configured {
                    cfg: rc.clone(),
                    receiver,
                    rate,
                    client,
                });
            }
        }
        if !problems.is_empty() {
            return Err(ConfigProblems(problems));
        }
        Ok(Receivers {
            retry: cfg.retry.clone(),
            max_in_flight: cfg.max_in_flight,
            list,
        })
    }

    /// The receivers' names, in configuration order.
    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|c| c.cfg.name.as_str()).collect()
    }

    /// The index of the receiver called `name`.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|c| c.cfg.name == name)
    }
}

#[cfg(test)]
mod tests;
