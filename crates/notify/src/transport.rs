//! The configured receivers and the HTTP client: one exchange with one receiver, nothing stored.

use faultline_store::OutboxEntry;

use crate::config::HttpOptions;
use crate::outcome::{HttpAnswer, Outcome};
use crate::receivers::{Configured, Receivers};
use crate::retry::parse_retry_after;
use crate::{NotifyError, Result, payload};

/// Longest receiver answer kept in a dead letter or error.
pub const ANSWER_MAX: usize = 2048;

pub(crate) struct Transport {
    pub receivers: Receivers,
    client: reqwest::Client,
}

impl Transport {
    pub fn new(receivers: Receivers, http: HttpOptions) -> Result<Transport> {
        let client = reqwest::Client::builder()
            .timeout(http.timeout)
            .connect_timeout(http.connect_timeout)
            .user_agent(http.user_agent)
            .build()
            .map_err(NotifyError::Client)?;
        Ok(Transport { receivers, client })
    }

    pub fn get(&self, recv: usize) -> &Configured {
        &self.receivers.list[recv]
    }

    /// Send `entry` to receiver `recv` and read its answer; `Err` when there is none
    /// (connection error, timeout, encoding failure).
    pub async fn exchange(&self, recv: usize, entry: &OutboxEntry) -> Result<HttpAnswer, String> {
        let req = self.get(recv).receiver.request(&self.client, entry)?;
        // without_url: a webhook URL may carry a token in its query string.
        let resp = req
            .send()
            .await
            .map_err(|e| error_chain(&e.without_url()))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp.text().await.unwrap_or_default();
        Ok(HttpAnswer {
            status,
            retry_after,
            body: payload::truncate(&body, ANSWER_MAX).to_string(),
        })
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

/// An error with its causes ("error sending request: connection refused"), since reqwest's
/// own message stops at the outermost layer.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let msg = c.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = c.source();
    }
    out
}
