//! The collector's API client commands: `status`, `incidents`, `why SERVICE` (live),
//! `timeline`, `ready [GROUP]`, `lab`. Answers are deserialised into [`faultline_api`] types, so a field renamed
//! on the server breaks the build or the tests, not a column of this output.
//!
//! They talk to `--api` (env `FAULTLINE_API`, default `http://127.0.0.1:9180`) under the
//! versioned prefix `/api/v1`. Exit codes: see [`EXIT_CODES`].

mod act;
mod incidents;
mod lab;
mod ready;
mod show;
mod status;
mod timeline;
mod why;

use std::process::ExitCode;
use std::time::Duration;

use faultline_api::Method;
use serde::de::DeserializeOwned;

pub use act::{AckArgs, MaintenanceArgs, UnackArgs, ack, maintenance, unack};
pub use incidents::{IncidentsArgs, incidents};
pub use lab::{LabArgs, lab};
pub use ready::{ReadyArgs, ready};
pub(crate) use show::print_incident;
pub use status::{StatusArgs, status};
pub use timeline::{TimelineArgs, timeline};
pub use why::why_live;

/// The collector answered with an error (unknown id, not running the lab) or a malformed answer.
const EXIT_ANSWER: u8 = 1;
/// The command line was wrong (clap uses 2 as well).
pub(crate) const EXIT_USAGE: u8 = 2;
/// The collector could not be reached: not running, or a wrong `--api`.
const EXIT_UNREACHABLE: u8 = 3;

/// Shown under `--help` of every client command.
pub const EXIT_CODES: &str = "Exit codes: 0 ok; 1 the collector answered with an error \
    (e.g. an unknown id) or a malformed answer; 2 usage error; 3 the collector could not be \
    reached (is `faultline run` running? see --api).";

/// A collector that has not answered in this long is treated as unreachable: the API answers
/// from memory, so anything slower means it is stuck or gone.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(clap::Args, Clone)]
pub struct ApiArgs {
    /// Collector API base URL.
    #[arg(long, env = "FAULTLINE_API", default_value = "http://127.0.0.1:9180")]
    pub api: String,
    /// Machine-readable output (the API's JSON, docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
}

enum CallError {
    Unreachable(String),
    Answer(String),
}

/// One request; the body as received and as the expected type.
fn call<T: DeserializeOwned>(
    api: &str,
    method: Method,
    path: &str,
    body: &serde_json::Value,
) -> Result<(String, T), CallError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CallError::Unreachable(format!("cannot start the async runtime: {e}")))?;
    let url = format!("{}{path}", api.trim_end_matches('/'));
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        let req = match method {
            Method::Get => client.get(&url),
            // A JSON body: the collector refuses changes sent as a simple (cross-site) type.
            Method::Post => client.post(&url).json(body),
        };
        let resp = req.send().await.map_err(|e| {
            CallError::Unreachable(format!(
                "cannot reach the collector at {api}: {e} (is `faultline run` running? see --api)"
            ))
        })?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| CallError::Answer(format!("bad answer from {url}: {e}")))?;
        if !status.is_success() {
            return Err(CallError::Answer(
                match serde_json::from_str::<faultline_api::ApiError>(&body) {
                    Ok(e) => e.error,
                    Err(_) => format!("{url} answered {status}"),
                },
            ));
        }
        let value = serde_json::from_str(&body)
            .map_err(|e| CallError::Answer(format!("bad answer from {url}: {e}")))?;
        Ok((body, value))
    })
}

/// Call the API, print the answer as JSON (`--json`) or through `text`, and map failures to
/// the documented exit codes.
fn with_api<T: DeserializeOwned>(
    a: &ApiArgs,
    method: Method,
    path: &str,
    text: impl FnOnce(&T),
) -> ExitCode {
    with_api_body(a, method, path, &serde_json::json!({}), text)
}

/// [`with_api`] with a JSON body (for a POST).
fn with_api_body<T: DeserializeOwned>(
    a: &ApiArgs,
    method: Method,
    path: &str,
    body: &serde_json::Value,
    text: impl FnOnce(&T),
) -> ExitCode {
    match call::<T>(&a.api, method, path, body) {
        Ok((body, value)) => {
            if a.json {
                println!("{}", body.trim_end());
            } else {
                text(&value);
            }
            ExitCode::SUCCESS
        }
        Err(CallError::Unreachable(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_UNREACHABLE)
        }
        Err(CallError::Answer(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_ANSWER)
        }
    }
}
