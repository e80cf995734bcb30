//! `faultline lab status|fail ID|heal ID|drift ID WHAT|fix|reset`: drive the demo lab.

use std::process::ExitCode;

use faultline_api::{LabAction, LabStatus, Method, path};

use super::{ApiArgs, EXIT_USAGE};

#[derive(clap::Args)]
pub struct LabArgs {
    /// `status`, `fail ID`, `heal ID`, `drift ID forwarding` (the device stops forwarding),
    /// `fix` (copy the config to the spare, undo drifts), `reset`.
    pub action: String,
    /// Device or link id (for fail / heal / drift).
    pub id: Option<String>,
    /// What drifts (for drift): `forwarding`.
    pub what: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn lab(a: LabArgs) -> ExitCode {
    let (method, path) = if a.action == "status" {
        (Method::Get, path::v1(path::LAB))
    } else if a.action == "drift" {
        let (Some(id), Some(what)) = (&a.id, &a.what) else {
            eprintln!(
                "error: `faultline lab drift` needs a device id and what drifts (forwarding)"
            );
            return ExitCode::from(EXIT_USAGE);
        };
        (Method::Post, path::lab_drift(id, what))
    } else {
        let Some(action) = LabAction::from_name(&a.action) else {
            eprintln!(
                "error: unknown lab action `{}`: use status, fail ID, heal ID, drift ID WHAT, \
                 fix or reset",
                a.action
            );
            return ExitCode::from(EXIT_USAGE);
        };
        match (action.needs_id(), &a.id) {
            (true, None) => {
                eprintln!("error: `faultline lab {action}` needs a device or link id");
                return ExitCode::from(EXIT_USAGE);
            }
            (true, Some(id)) => (Method::Post, path::lab_action(action, Some(id))),
            (false, _) => (Method::Post, path::lab_action(action, None)),
        }
    };
    super::with_api(&a.api, method, &path, show)
}

fn show(v: &LabStatus) {
    println!(
        "failed: {}",
        if v.failed.is_empty() {
            "nothing".to_string()
        } else {
            v.failed.join(", ")
        }
    );
    for (g, m) in &v.active {
        println!("active in {g}: {m}");
    }
    for (device, drifts) in &v.drift {
        println!("drift on {device}: {}", drifts.join(", "));
    }
    println!("spare configuration fixed: {}", v.fixed);
}
