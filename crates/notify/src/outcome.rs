//! Delivery outcomes as types (Vector's acknowledgements idea): what one attempt ended with,
//! decided by the receiver from its answer, then turned by the retry logic into what happens to
//! the outbox entry.

use std::time::Duration;

use serde::Serialize;

/// A receiver's HTTP answer, read in full (the body cut to 2 KiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// `Retry-After`, as a delay from now (seconds or an HTTP-date).
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// A receiver's answer as `faultline test-page` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver accepted the event: acknowledge (remove) the outbox entry.
    Delivered,
    /// A transient failure (connection error, timeout, 408, 429, 5xx): try again later, not
    /// before `retry_after` if the receiver said so.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The receiver will never take this event (or we gave up): dead-letter it with the answer.
    Rejected { status: Option<u16>, answer: String },
}

impl Outcome {
    /// Plain HTTP semantics: 2xx = accepted; 408, 429 and 5xx = try again (429 after
    /// `Retry-After`); any other status = the receiver will never take this event. 401 and 403
    /// (credentials refused) are rejections too, their answer saying which settings to check.
    pub fn from_http(a: HttpAnswer) -> Outcome {
        match a.status {
            200..=299 => Outcome::Delivered,
            408 | 429 | 500..=599 => Outcome::Retry {
                error: format!("HTTP {}: {}", a.status, a.body),
                retry_after: a.retry_after,
            },
            code @ (401 | 403) => Outcome::Rejected {
                status: Some(code),
                answer: format!(
                    "credentials refused (check the receiver's basic_auth / bearer_token): {}",
                    a.body.trim_end()
                ),
            },
            code => Outcome::Rejected {
                status: Some(code),
                answer: a.body,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16) -> HttpAnswer {
        HttpAnswer {
            status,
            retry_after: Some(Duration::from_secs(3)),
            body: "b".into(),
        }
    }

    #[test]
    fn http_statuses_map_to_outcomes() {
        assert_eq!(Outcome::from_http(answer(202)), Outcome::Delivered);
        for code in [408, 429, 500, 503] {
            assert_eq!(
                Outcome::from_http(answer(code)),
                Outcome::Retry {
                    error: format!("HTTP {code}: b"),
                    retry_after: Some(Duration::from_secs(3)),
                }
            );
        }
        assert_eq!(
            Outcome::from_http(answer(400)),
            Outcome::Rejected {
                status: Some(400),
                answer: "b".into()
            }
        );
        assert_eq!(
            Outcome::from_http(answer(401)),
            Outcome::Rejected {
                status: Some(401),
                answer: "credentials refused (check the receiver's basic_auth / bearer_token): b"
                    .into()
            }
        );
    }
}
