//! Service probes: HTTP(S) and TCP connect, the customer's view of a service.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use faultline_observe::Signal;
use regex::Regex;
use serde::Serialize;

use crate::error::ProbeError;

/// Outcome of one service probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeOutcome {
    pub ok: bool,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    pub latency_ms: f64,
    /// Why it failed (or what matched), e.g. "connection refused", "TLS error: …",
    /// "timeout after 5s", `status 404 not in [200]`, "body does not contain \"ok\"".
    pub detail: Option<String>,
    pub failure: Option<FailureKind>,
}

/// A stable classification of why a probe failed, for code that must branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Refused,
    Timeout,
    Tls,
    Connect,
    Status,
    Body,
    Other,
}

impl ProbeOutcome {
    pub fn to_signal(&self) -> Signal {
        Signal::Probe {
            ok: self.ok,
            status: self.status,
            latency_ms: self.latency_ms,
            detail: self.detail.clone(),
            zone: None,
        }
    }

    fn fail(latency: Duration, status: Option<u16>, kind: FailureKind, detail: String) -> Self {
        ProbeOutcome {
            ok: false,
            status,
            latency_ms: ms(latency),
            detail: Some(detail),
            failure: Some(kind),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// How an HTTP probe judges a response.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    pub url: String,
    /// Accepted statuses. Empty means any 2xx.
    pub expect_status: Vec<u16>,
    pub body_contains: Option<String>,
    pub body_regex: Option<Regex>,
    pub timeout: Duration,
    /// Read at most this many body bytes when matching (bounded memory on huge pages).
    pub max_body_bytes: usize,
}

impl HttpCheck {
    pub fn new(url: impl Into<String>) -> Self {
        HttpCheck {
            url: url.into(),
            expect_status: Vec::new(),
            body_contains: None,
            body_regex: None,
            timeout: Duration::from_secs(5),
            max_body_bytes: 1 << 20,
        }
    }

    pub fn with_regex(mut self, pattern: &str) -> Result<Self, ProbeError> {
        self.body_regex = Some(Regex::new(pattern).map_err(|source| ProbeError::BadRegex {
            pattern: pattern.to_string(),
            source,
        })?);
        Ok(self)
    }

    fn status_ok(&self, s: u16) -> bool {
        if self.expect_status.is_empty() {
            (200..300).contains(&s)
        } else {
            self.expect_status.contains(&s)
        }
    }
}

/// A reusable HTTP prober (connection pool, TLS roots).
#[derive(Clone)]
pub struct HttpProber {
    client: reqwest::Client,
}

impl HttpProber {
    pub fn new() -> Result<Self, ProbeError> {
        let client = reqwest::Client::builder()
            // A probe must see the service as it answers, not follow it elsewhere silently;
            // a few redirects are normal for portals, loops are a failure.
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("faultline-probe/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProbeError::HttpClient(e.to_string()))?;
        Ok(HttpProber { client })
    }

    pub async fn probe(&self, check: &HttpCheck) -> ProbeOutcome {
        let start = Instant::now();
        // One deadline for the whole exchange (connect, TLS, headers, body).
        match tokio::time::timeout(check.timeout, self.exchange(check, start)).await {
            Ok(outcome) => outcome,
            Err(_) => ProbeOutcome::fail(
                start.elapsed(),
                None,
                FailureKind::Timeout,
                format!("timeout after {}", fmt_dur(check.timeout)),
            ),
        }
    }

    async fn exchange(&self, check: &HttpCheck, start: Instant) -> ProbeOutcome {
        let mut resp = match self.client.get(&check.url).send().await {
            Ok(r) => r,
            Err(e) => {
                let (kind, detail) = classify_reqwest(&e);
                return ProbeOutcome::fail(start.elapsed(), None, kind, detail);
            }
        };
        let status = resp.status().as_u16();
        let latency = start.elapsed();
        if !check.status_ok(status) {
            let expected = if check.expect_status.is_empty() {
                "2xx".to_string()
            } else {
                format!("{:?}", check.expect_status)
            };
            return ProbeOutcome::fail(
                latency,
                Some(status),
                FailureKind::Status,
                format!("status {status}, expected {expected}"),
            );
        }
        if check.body_contains.is_none() && check.body_regex.is_none() {
            return ProbeOutcome {
                ok: true,
                status: Some(status),
                latency_ms: ms(latency),
                detail: None,
                failure: None,
            };
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    let room = check.max_body_bytes.saturating_sub(body.len());
                    body.extend_from_slice(&c[..c.len().min(room)]);
                    if body.len() >= check.max_body_bytes {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let (kind, detail) = classify_reqwest(&e);
                    return ProbeOutcome::fail(
                        start.elapsed(),
                        Some(status),
                        kind,
                        format!("reading body: {detail}"),
                    );
                }
            }
        }
        let text = String::from_utf8_lossy(&body);
        if let Some(needle) = &check.body_contains
            && !text.contains(needle.as_str())
        {
            return ProbeOutcome::fail(
                latency,
                Some(status),
                FailureKind::Body,
                format!("body does not contain {needle:?}"),
            );
        }
        if let Some(re) = &check.body_regex
            && !re.is_match(&text)
        {
            return ProbeOutcome::fail(
                latency,
                Some(status),
                FailureKind::Body,
                format!("body does not match /{}/", re.as_str()),
            );
        }
        ProbeOutcome {
            ok: true,
            status: Some(status),
            latency_ms: ms(latency),
            detail: None,
            failure: None,
        }
    }
}

fn fmt_dur(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Name the failure: refused, timeout, TLS, or other connect error. reqwest wraps hyper,
/// rustls and io errors; walk the source chain rather than trusting the top message.
fn classify_reqwest(e: &reqwest::Error) -> (FailureKind, String) {
    let mut chain = Vec::new();
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut refused = false;
    while let Some(s) = src {
        chain.push(s.to_string());
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            refused = true;
        }
        src = s.source();
    }
    let innermost = chain.last().cloned().unwrap_or_default();
    if refused {
        return (FailureKind::Refused, "connection refused".into());
    }
    if e.is_timeout() {
        return (FailureKind::Timeout, "timeout".into());
    }
    let lower = chain.join(" | ").to_ascii_lowercase();
    if [
        "tls",
        "certificate",
        "handshake",
        "invalidcontenttype",
        "invalid content type",
        "corrupt message",
        "peer is incompatible",
        "alert",
    ]
    .iter()
    .any(|k| lower.contains(k))
    {
        return (FailureKind::Tls, format!("TLS error: {innermost}"));
    }
    if e.is_connect() {
        return (FailureKind::Connect, format!("connect error: {innermost}"));
    }
    (FailureKind::Other, innermost)
}

/// TCP connect probe: latency of the handshake, refused vs timeout told apart.
pub async fn tcp_probe(addr: SocketAddr, timeout: Duration) -> ProbeOutcome {
    let start = Instant::now();
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => ProbeOutcome {
            ok: true,
            status: None,
            latency_ms: ms(start.elapsed()),
            detail: None,
            failure: None,
        },
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => ProbeOutcome::fail(
            start.elapsed(),
            None,
            FailureKind::Refused,
            format!("connection refused by {addr}"),
        ),
        Ok(Err(e)) => ProbeOutcome::fail(
            start.elapsed(),
            None,
            FailureKind::Connect,
            format!("connect to {addr} failed: {e}"),
        ),
        Err(_) => ProbeOutcome::fail(
            start.elapsed(),
            None,
            FailureKind::Timeout,
            format!("timeout after {} connecting to {addr}", fmt_dur(timeout)),
        ),
    }
}
