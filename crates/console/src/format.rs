//! Instants, ages and links, shown the same way on every page.

use faultline_api::{State, UnixMillis, path};
use faultline_observe::time::{format_span, format_utc};

/// An instant with its zone (`2026-11-28 04:27:52 UTC`).
pub(crate) fn at(ms: UnixMillis) -> String {
    format_utc(ms.0)
}

/// How long ago `then` was, seen from `now` (`3m 12s`).
pub(crate) fn age(now: UnixMillis, then: UnixMillis) -> String {
    format_span(now.0.saturating_sub(then.0))
}

/// The console page that explains a component: `/why/{id}` for services, else
/// `/components/{id}`.
pub(crate) fn component_href(kind: &str, id: &str) -> String {
    if kind == "service" {
        why_href(id)
    } else {
        format!("/components/{}", path::segment(id))
    }
}

/// `/why/{id}`, the id percent-encoded.
pub(crate) fn why_href(id: &str) -> String {
    format!("/why/{}", path::segment(id))
}

/// `/incidents/{id}`, the id percent-encoded.
pub(crate) fn incident_href(id: &str) -> String {
    format!("/incidents/{}", path::segment(id))
}

/// The CSS class of a state: `s-up`, `s-degraded`, `s-down`, `s-unknown`.
pub(crate) fn state_class(s: State) -> &'static str {
    match s {
        State::Up => "s-up",
        State::Degraded => "s-degraded",
        State::Down => "s-down",
        State::Unknown => "s-unknown",
    }
}

/// A state's symbol, so that colour is never the only sign.
pub(crate) fn state_symbol(s: State) -> &'static str {
    match s {
        State::Up => "●",
        State::Degraded => "◆",
        State::Down => "■",
        State::Unknown => "▲",
    }
}
