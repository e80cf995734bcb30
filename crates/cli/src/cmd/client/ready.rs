//! `faultline ready [GROUP] [--json]`: standby readiness of each active-standby group, live.

use std::process::ExitCode;

use faultline_api::{GroupReady, Method, Readiness, ReadyResponse, StandbyReady, path};

use super::{ApiArgs, CallError, EXIT_ANSWER, EXIT_UNREACHABLE, call, show::when};

#[derive(clap::Args)]
pub struct ReadyArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Only this active-standby group.
    pub group: Option<String>,
}

pub fn ready(a: ReadyArgs) -> ExitCode {
    let (_, mut v) = match call::<ReadyResponse>(
        &a.api,
        Method::Get,
        &path::v1(path::READY),
        &serde_json::json!({}),
    ) {
        Ok(answer) => answer,
        Err(CallError::Unreachable(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_UNREACHABLE);
        }
        Err(CallError::Answer(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_ANSWER);
        }
    };
    if let Some(g) = &a.group {
        let known: Vec<String> = v.groups.iter().map(|x| x.group.clone()).collect();
        v.groups.retain(|x| &x.group == g);
        if v.groups.is_empty() {
            eprintln!(
                "error: `{g}` is not an active-standby group (groups: {})",
                known.join(", ")
            );
            return ExitCode::from(EXIT_ANSWER);
        }
    }
    if a.api.json {
        match serde_json::to_string(&v) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_ANSWER);
            }
        }
    } else if v.groups.is_empty() {
        println!("no active-standby groups");
    } else {
        for g in &v.groups {
            print_group(g);
        }
    }
    ExitCode::SUCCESS
}

fn print_group(g: &GroupReady) {
    println!(
        "{}: active {}",
        g.group,
        g.active
            .as_deref()
            .unwrap_or("not known (no single active member)")
    );
    for s in &g.standbys {
        print_standby(s);
    }
    if let Some(note) = spof_note(g) {
        println!("  {note}");
    }
}

/// What offline `spof` cannot know: a group whose every standby is declared not ready is,
/// right now, a single point of failure in front of its services.
fn spof_note(g: &GroupReady) -> Option<String> {
    let active = g.active.as_deref()?;
    let all_not_ready = !g.standbys.is_empty() && g.standbys.iter().all(|s| s.declared_not_ready);
    all_not_ready.then(|| {
        format!(
            "=> {} is effectively a single point of failure: no standby can take over from {active}",
            g.group
        )
    })
}

fn print_standby(s: &StandbyReady) {
    let since = s
        .since
        .map(|at| format!(" since {}", when(at)))
        .unwrap_or_default();
    let declared = if s.declared_not_ready {
        " (declared: the group is degraded)"
    } else {
        ""
    };
    println!(
        "  standby {}: {}{since}{declared}",
        s.device,
        s.verdict.as_str().to_uppercase()
    );
    for c in &s.checks {
        let mark = match c.verdict {
            Readiness::Ready => "ok  ",
            Readiness::NotReady => "FAIL",
            Readiness::Unknown if !c.applies => "n/a ",
            Readiness::Unknown => "??  ",
        };
        println!("    {mark} {}", c.detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standby(device: &str, declared: bool) -> StandbyReady {
        StandbyReady {
            device: device.into(),
            verdict: if declared {
                Readiness::NotReady
            } else {
                Readiness::Ready
            },
            since: None,
            declared_not_ready: declared,
            checks: Vec::new(),
        }
    }

    #[test]
    fn a_group_without_a_ready_standby_is_called_a_single_point_of_failure() {
        let mut g = GroupReady {
            group: "fw-pair".into(),
            active: Some("fw-a".into()),
            standbys: vec![standby("fw-b", true)],
        };
        let note = spof_note(&g).expect("a note");
        assert!(
            note.contains("fw-pair is effectively a single point of failure"),
            "{note}"
        );
        assert!(note.contains("from fw-a"), "{note}");
        g.standbys.push(standby("fw-c", false));
        assert_eq!(spof_note(&g), None, "one ready standby is enough");
        g.standbys.clear();
        assert_eq!(spof_note(&g), None);
        g.standbys.push(standby("fw-b", true));
        g.active = None;
        assert_eq!(spof_note(&g), None, "no active: nothing to fail over from");
    }
}
