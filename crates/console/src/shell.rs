//! The frame around every page: head, navigation, the live-update hook.

use faultline_api::UnixMillis;
use maud::{DOCTYPE, Markup, html};

/// What every page needs besides its own data.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The collector's (engine's) instant: ages are measured from it.
    pub now: UnixMillis,
    /// The topology's name, shown in the header.
    pub topology: String,
    /// When the viewer may act (acknowledge, maintenance): the form's anti-forgery token.
    /// `None` renders read-only pages.
    pub forms: Option<Forms>,
}

impl Ctx {
    /// A read-only context at `now` (Unix milliseconds).
    pub fn new(now: u64, topology: &str) -> Ctx {
        Ctx {
            now: UnixMillis(now),
            topology: topology.to_string(),
            forms: None,
        }
    }
}

/// Action forms are shown, each carrying this anti-forgery token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forms {
    /// The token every form posts back in its `csrf` field.
    pub csrf: String,
}

/// Navigation entries: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/incidents", "Incidents"),
    ("/services", "Services"),
    ("/map", "Map"),
    ("/ready", "Readiness"),
];

/// A whole page: `title` in the tab, `active` the navigation entry to mark, `body` in `<main>`.
pub(crate) fn page(ctx: &Ctx, title: &str, active: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · faultline" }
                @if let Some(f) = &ctx.forms {
                    // For the script's posts; the forms carry it in their `csrf` field.
                    meta name="csrf-token" content=(f.csrf);
                }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/incidents" { "faultline" }
                    span.topology { (ctx.topology) }
                    nav {
                        @for (href, label) in NAV {
                            a href=(href) class=[(*href == active).then_some("active")] { (label) }
                        }
                    }
                    span.live #live title="live updates" { "" }
                }
                main #main data-now=(ctx.now.0) {
                    (body)
                }
            }
        }
    }
}
