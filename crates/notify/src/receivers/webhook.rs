//! A generic webhook: the transition as JSON, signed with HMAC-SHA256 when a secret is set
//! (`X-Faultline-Signature: sha256=<hex>`), with a delivery id and the event name in headers.

use std::path::PathBuf;

use faultline_store::OutboxEntry;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use super::{BuildContext, Receiver, ReceiverSection};
use crate::config::Secret;
use crate::payload::action_str;

/// `kind = "webhook"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// The full URL to post to.
    #[serde(default)]
    pub url: Option<String>,
    /// HMAC secret (optional): inline, or `secret_env` / `secret_file`.
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

impl ReceiverSection for WebhookSection {
    type Receiver = Webhook;

    fn build(&self, ctx: &mut BuildContext<'_>) -> Option<Webhook> {
        let url = ctx.http_url("url", self.url.as_deref(), None);
        let secret = match (&self.secret, &self.secret_env, &self.secret_file) {
            (None, None, None) => None,
            _ => Some(ctx.secret("secret", &self.secret, &self.secret_env, &self.secret_file)?),
        };
        Some(Webhook { url: url?, secret })
    }
}

/// A ready webhook receiver.
pub struct Webhook {
    url: String,
    secret: Option<Secret>,
}

impl Receiver for Webhook {
    fn url(&self) -> &str {
        &self.url
    }

    fn request(
        &self,
        client: &reqwest::Client,
        entry: &OutboxEntry,
    ) -> Result<reqwest::RequestBuilder, String> {
        let t = &entry.transition;
        let body = serde_json::to_vec(t).map_err(|e| format!("cannot encode transition: {e}"))?;
        let mut req = client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-faultline-delivery", format!("{}-{}", entry.id, t.seq))
            .header("x-faultline-event", action_str(t.action));
        if let Some(secret) = &self.secret {
            req = req.header(
                "x-faultline-signature",
                signature(secret.expose().as_bytes(), &body),
            );
        }
        Ok(req.body(body))
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the `X-Faultline-Signature` header value.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty key
    // signature rather than panic should the crate ever change that.
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return "sha256=".to_string(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
