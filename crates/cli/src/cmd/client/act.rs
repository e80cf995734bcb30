//! `faultline ack ID [--comment ..]`, `faultline unack ID`, `faultline maintenance add
//! COMPONENT... (--for 2h | --until T) [--from T] --reason ..`, `maintenance list`,
//! `maintenance end ID`: operators' actions, journaled by the collector like observations.
//! Who acts is `$USER` (the collector's authenticated user, once it has one, wins).

use std::process::ExitCode;

use faultline_api::{
    AckRequest, Incident, MaintenanceRequest, MaintenanceResponse, Method, UnixMillis, path,
};
use faultline_observe::time::{format_local, parse_rfc3339};

use super::{ApiArgs, EXIT_USAGE, print_incident};

#[derive(clap::Args)]
pub struct AckArgs {
    /// Incident id (as `faultline incidents` shows it, e.g. `fw-a@1764387000000`).
    pub id: String,
    /// Why, for the record and the pagers.
    #[arg(long)]
    pub comment: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(clap::Args)]
pub struct UnackArgs {
    /// Incident id.
    pub id: String,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(clap::Args)]
pub struct MaintenanceArgs {
    #[command(subcommand)]
    pub action: MaintenanceAction,
}

#[derive(clap::Subcommand)]
pub enum MaintenanceAction {
    /// Put components under maintenance: their failures are recorded, not paged (only what
    /// their own failure takes down is excused).
    Add {
        /// Topology ids of the components.
        #[arg(required = true)]
        components: Vec<String>,
        /// How long: `2h`, `90m`, `1h 30m`.
        #[arg(long = "for", value_parser = humantime::parse_duration, conflicts_with = "until")]
        duration: Option<std::time::Duration>,
        /// Start (RFC 3339, e.g. `2026-11-29T22:00:00+01:00`); default now.
        #[arg(long, value_parser = parse_rfc3339)]
        from: Option<u64>,
        /// End (RFC 3339).
        #[arg(long, value_parser = parse_rfc3339)]
        until: Option<u64>,
        /// Why, for people.
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Every window: the configuration's and the run-time ones.
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// End a run-time window now.
    End {
        /// The window's id (from `maintenance list`).
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Who acts: `$USER`, else `cli`.
fn who() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "cli".to_string())
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

pub fn ack(a: AckArgs) -> ExitCode {
    let body = json(&AckRequest {
        comment: a.comment,
        by: Some(who()),
    });
    super::with_api_body(
        &a.api,
        Method::Post,
        &path::ack(&a.id),
        &body,
        |i: &Incident| print_incident(i, false),
    )
}

pub fn unack(a: UnackArgs) -> ExitCode {
    let body = json(&AckRequest {
        comment: None,
        by: Some(who()),
    });
    super::with_api_body(
        &a.api,
        Method::Post,
        &path::unack(&a.id),
        &body,
        |i: &Incident| print_incident(i, false),
    )
}

pub fn maintenance(a: MaintenanceArgs) -> ExitCode {
    match a.action {
        MaintenanceAction::Add {
            components,
            duration,
            from,
            until,
            reason,
            api,
        } => {
            let for_ms = duration.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            if for_ms.is_none() && until.is_none() {
                eprintln!("error: say how long: --for 2h, or --until RFC3339");
                return ExitCode::from(EXIT_USAGE);
            }
            let body = json(&MaintenanceRequest {
                components,
                from: from.map(UnixMillis),
                to: until.map(UnixMillis),
                for_ms,
                reason,
                by: Some(who()),
            });
            let p = path::v1(path::MAINTENANCE);
            super::with_api_body(&api, Method::Post, &p, &body, show)
        }
        MaintenanceAction::List { api } => {
            super::with_api(&api, Method::Get, &path::v1(path::MAINTENANCE), show)
        }
        MaintenanceAction::End { id, api } => {
            let p = path::maintenance_end(&id);
            let body = json(&AckRequest {
                comment: None,
                by: Some(who()),
            });
            super::with_api_body(&api, Method::Post, &p, &body, show)
        }
    }
}

fn show(r: &MaintenanceResponse) {
    if r.windows.is_empty() {
        println!("no maintenance windows");
    }
    for w in &r.windows {
        let state = if w.active { "ACTIVE" } else { "" };
        let who = match (&w.ended_by, w.by.is_empty()) {
            (Some(e), _) => format!(" (by {}, ended by {e})", w.by),
            (None, false) => format!(" (by {})", w.by),
            (None, true) => " (configuration)".to_string(),
        };
        println!(
            "{:<22} {:<6} {} .. {}  {}{who}",
            w.id,
            state,
            format_local(w.from.0),
            format_local(w.to.0),
            w.components.join(", ")
        );
        if !w.reason.is_empty() {
            println!("{:<29} {}", "", w.reason);
        }
    }
}
