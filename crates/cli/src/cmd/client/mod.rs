//! The collector's API client commands: `status`, `incidents`, `why SERVICE` (live),
//! `timeline`, `ready [GROUP]`, `lab`. Answers are deserialised into [`faultline_api`] types, so a field renamed
//! on the server breaks the build or the tests, not a column of this output.
//!
//! They talk to `--api` (env `FAULTLINE_API`, default `http://127.0.0.1:9180`) under the
//! versioned prefix `/api/v1`. A collector with `[api.auth]` takes a bearer token from
//! `--token-file` (env `FAULTLINE_API_TOKEN_FILE`) or the variable `FAULTLINE_API_TOKEN`; an
//! `https://` collector with a private CA is trusted with `--ca-file` (env
//! `FAULTLINE_API_CA_FILE`). Exit codes: see [`EXIT_CODES`].

mod act;
mod incidents;
mod lab;
mod ready;
mod show;
mod status;
mod timeline;
mod why;

use std::path::PathBuf;
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
    /// A file holding the API's bearer token (`[api.auth]`); without it, the variable
    /// FAULTLINE_API_TOKEN is used when set.
    #[arg(long, env = "FAULTLINE_API_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM CA certificate(s) to trust for an `https://` --api (instead of the system's).
    #[arg(long, env = "FAULTLINE_API_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

/// The variable holding the API's bearer token (never a command-line argument: those show in
/// `ps`).
pub const TOKEN_ENV: &str = "FAULTLINE_API_TOKEN";

impl ApiArgs {
    /// The bearer token: `--token-file`, else `FAULTLINE_API_TOKEN`, else none.
    fn token(&self) -> Result<Option<String>, String> {
        if let Some(path) = &self.token_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
            let token = text.trim();
            if token.is_empty() {
                return Err(format!("--token-file {}: is empty", path.display()));
            }
            return Ok(Some(token.to_string()));
        }
        Ok(std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty()))
    }

    /// The HTTP client: the timeout, and `--ca-file`'s roots when given.
    fn client(&self) -> Result<reqwest::Client, String> {
        let mut b = reqwest::Client::builder().timeout(REQUEST_TIMEOUT);
        if let Some(path) = &self.ca_file {
            let pem =
                std::fs::read(path).map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "--ca-file {}: no PEM certificate in it",
                    path.display()
                ));
            }
            b = b.tls_certs_only(certs);
        }
        b.build().map_err(|e| e.to_string())
    }
}

enum CallError {
    Unreachable(String),
    Answer(String),
}

/// One request (with the token, trusting `--ca-file`); the body as received and as the
/// expected type.
fn call<T: DeserializeOwned>(
    a: &ApiArgs,
    method: Method,
    path: &str,
    body: &serde_json::Value,
) -> Result<(String, T), CallError> {
    let api = a.api.as_str();
    let token = a.token().map_err(CallError::Answer)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CallError::Unreachable(format!("cannot start the async runtime: {e}")))?;
    let url = format!("{}{path}", api.trim_end_matches('/'));
    rt.block_on(async {
        let client = a.client().map_err(CallError::Unreachable)?;
        let mut req = match method {
            Method::Get => client.get(&url),
            // A JSON body: the collector refuses changes sent as a simple (cross-site) type.
            Method::Post => client.post(&url).json(body),
        };
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
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
    match call::<T>(a, method, path, body) {
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
