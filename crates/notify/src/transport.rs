//! The configured receivers and the HTTP client: one exchange with one receiver, nothing stored.

use faultline_store::OutboxEntry;

use crate::config::HttpOptions;
use crate::outcome::{HttpAnswer, Outcome};
use crate::receivers::client::{ClientSettings, error_text};
use crate::receivers::{Configured, Receivers};
use crate::retry::parse_retry_after;
use crate::{NotifyError, Result, payload};

/// The body of a successful answer, else what went wrong.
async fn checked(resp: reqwest::Result<reqwest::Response>) -> Result<String, String> {
    let resp = resp.map_err(|e| error_text(&e.without_url()))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!(
            "follow-up answered {status}: {}",
            payload::truncate(&body, ANSWER_MAX)
        ))
    }
}

/// Longest receiver answer kept in a dead letter or error.
pub const ANSWER_MAX: usize = 2048;

pub(crate) struct Transport {
    pub receivers: Receivers,
    /// One client per receiver: those with default settings share one (one connection pool),
    /// a receiver with its own authentication or TLS gets its own.
    clients: Vec<reqwest::Client>,
}

impl Transport {
    pub fn new(receivers: Receivers, http: HttpOptions) -> Result<Transport> {
        let shared = ClientSettings::default()
            .client(&http)
            .map_err(NotifyError::Client)?;
        let mut clients = Vec::with_capacity(receivers.list.len());
        for c in &receivers.list {
            if !c.client.is_custom() {
                clients.push(shared.clone());
                continue;
            }
            if c.client.insecure() {
                // Once per notifier (start or reload), never per request.
                tracing::warn!(receiver = %c.cfg.name, "notify: TLS certificate checks are off for this receiver (tls.insecure_skip_verify): anyone on the path can read and forge its pages");
            }
            clients.push(c.client.client(&http).map_err(NotifyError::Client)?);
        }
        Ok(Transport { receivers, clients })
    }

    pub fn get(&self, recv: usize) -> &Configured {
        &self.receivers.list[recv]
    }

    /// Send `entry` to receiver `recv` and read its answer; `Err` when there is none
    /// (connection error, timeout, encoding failure).
    pub async fn exchange(&self, recv: usize, entry: &OutboxEntry) -> Result<HttpAnswer, String> {
        let c = self.get(recv);
        let req = c
            .client
            .authorize(c.receiver.request(&self.clients[recv], entry)?);
        // without_url: a webhook URL may carry a token in its query string.
        let resp = req.send().await.map_err(|e| error_text(&e.without_url()))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            self.follow_up(recv, entry).await?;
        }
        Ok(HttpAnswer {
            status,
            retry_after,
            body: payload::truncate(&body, ANSWER_MAX).to_string(),
        })
    }

    /// The receiver's lookup and the requests its answer calls for, once the entry itself was
    /// delivered; `Err` when any fails (the entry is then retried whole).
    async fn follow_up(&self, recv: usize, entry: &OutboxEntry) -> Result<(), String> {
        let c = self.get(recv);
        let client = &self.clients[recv];
        let Some(lookup) = c.receiver.lookup(client, entry) else {
            return Ok(());
        };
        let answer = checked(c.client.authorize(lookup).send().await).await?;
        for req in c.receiver.follow_ups(client, entry, &answer)? {
            checked(c.client.authorize(req).send().await).await?;
        }
        Ok(())
    }

    /// One delivery attempt, classified by the receiver.
    pub async fn attempt(&self, recv: usize, entry: &OutboxEntry) -> Outcome {
        match self.exchange(recv, entry).await {
            Ok(answer) => self.get(recv).receiver.classify(answer),
            Err(error) => Outcome::Retry {
                error,
                retry_after: None,
            },
        }
    }
}
