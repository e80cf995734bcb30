//! How the client commands (and `replay`) show incidents and instants.

use faultline_api::{Incident, UnixMillis};

/// Suspects listed without `--verbose`-style detail (the evidence is the detail).
const SUSPECTS_BRIEF: usize = 3;
/// Suspects listed with the evidence.
const SUSPECTS_VERBOSE: usize = 20;

/// An instant for people: local time with its zone.
pub(crate) fn when(at: UnixMillis) -> String {
    faultline_observe::time::format_local(at.0)
}

/// An incident: headline, title, root causes, affected services, suspects, and (verbose) its
/// evidence timeline.
pub(crate) fn print_incident(i: &Incident, verbose: bool) {
    let sup = if i.suppressed {
        " [maintenance: not paged]"
    } else {
        ""
    };
    println!(
        "{} {} {}{sup}",
        i.severity.as_str().to_uppercase(),
        i.id,
        i.kind
    );
    println!("  {}", i.title);
    match i.resolved_at {
        Some(r) => println!(
            "  opened {}, resolved {} (lasted {})",
            when(i.opened_at),
            when(r),
            faultline_observe::time::format_span(r.0.saturating_sub(i.opened_at.0))
        ),
        None => println!("  opened {}", when(i.opened_at)),
    }
    if let Some(a) = &i.acknowledged {
        let why = if a.comment.is_empty() {
            String::new()
        } else {
            format!(": {}", a.comment)
        };
        println!("  acknowledged by {} at {}{why}", a.by, when(a.at));
    }
    if !i.root_causes.is_empty() {
        println!("  root cause: {}", i.root_causes.join(", "));
    }
    if !i.affected_services.is_empty() {
        let list: Vec<String> = i
            .affected_services
            .iter()
            .map(|x| match x.outage {
                Some(o) => format!(
                    "{} ({} now; {} from {} to {})",
                    x.id,
                    x.state,
                    o.worst,
                    when(o.from),
                    o.to.map_or_else(|| "now".to_string(), when)
                ),
                None => format!("{} ({})", x.id, x.state),
            })
            .collect();
        println!("  affected: {}", list.join(", "));
    }
    if !i.suspects.is_empty() {
        println!("  suspects:");
        let n = if verbose {
            SUSPECTS_VERBOSE
        } else {
            SUSPECTS_BRIEF
        };
        for x in i.suspects.iter().take(n) {
            println!("    {:<28} {}", x.component, x.reason);
        }
    }
    if verbose {
        println!("  evidence:");
        for e in &i.evidence {
            println!("    {}  {:<14} {}", when(e.at), e.subject, e.text);
        }
    }
}
