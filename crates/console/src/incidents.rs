//! `/incidents` (the list) and `/incidents/{id}` (one incident, whole).

use faultline_api::{Incident, IncidentKind, IncidentStatus, UnixMillis, WhyNode};
use maud::{Markup, html};

use crate::format::{age, at, component_href, incident_href, state_class, state_symbol, why_href};
use crate::shell::{Ctx, page};
use crate::tree::why_tree;

/// How one receiver stands with one incident (from the store: paged records, outbox, dead
/// letters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Receiver name from the notify configuration.
    pub receiver: String,
    /// `delivered`, `pending` or `dead-lettered`.
    pub state: String,
    /// For people: the last error, the attempts, what was sent.
    pub detail: String,
    /// When it was first paged (or queued).
    pub since: Option<UnixMillis>,
}

/// Everything `/incidents/{id}` shows.
#[derive(Debug, Clone, Copy)]
pub struct IncidentView<'a> {
    /// The incident.
    pub incident: &'a Incident,
    /// The live why-tree of each affected service (and of the root cause when no service is
    /// affected), in the incident's order.
    pub trees: &'a [WhyNode],
    /// Its pages, per receiver.
    pub deliveries: &'a [Delivery],
    /// It was acknowledged: by whom, when.
    pub acknowledged: Option<(&'a str, UnixMillis)>,
}

/// `/incidents`: open incidents first, then the recently resolved.
pub fn incidents_page(ctx: &Ctx, open: &[Incident], resolved: &[Incident]) -> Markup {
    let body = html! {
        h1 { "Incidents" }
        section.open {
            h2 { "Open (" (open.len()) ")" }
            @if open.is_empty() {
                p.empty { "No open incidents: every service is up or degraded by nothing faultline knows about." }
            }
            @for i in open { (card(ctx, i)) }
        }
        section.resolved {
            h2 { "Recently resolved (" (resolved.len()) ")" }
            @for i in resolved { (card(ctx, i)) }
        }
    };
    page(ctx, "Incidents", "/incidents", body)
}

fn card(ctx: &Ctx, i: &Incident) -> Markup {
    html! {
        article class={ "incident sev-" (i.severity.as_str()) }
            data-incident-id=(i.id) data-kind=(i.kind.as_str()) data-severity=(i.severity.as_str())
            data-status=(status_name(i.status)) {
            header {
                span class={ "badge sev-" (i.severity.as_str()) } { (i.severity.as_str()) }
                " "
                a.title href=(incident_href(&i.id)) { (i.title) }
            }
            dl {
                dt { "kind" } dd.kind { (i.kind.as_str()) }
                dt { "age" } dd.age title=(at(i.opened_at)) { (age(ctx.now, i.opened_at)) }
                dt { "root cause" }
                dd.root { @for (n, r) in i.root_causes.iter().enumerate() {
                    @if n > 0 { ", " }
                    a href=(format!("/components/{}", faultline_api::path::segment(r))) { (r) }
                } }
                dt { "affected" }
                dd.affected { @for (n, s) in i.affected_services.iter().enumerate() {
                    @if n > 0 { ", " }
                    a href=(why_href(&s.id)) class=(state_class(s.state)) { (s.name) }
                } }
                @if let Some(s) = i.suspects.first() {
                    dt { "first suspect" }
                    dd.suspect data-suspect=(s.component) { a href=(component_href("device", &s.component)) { (s.component) } ": " (s.reason) }
                }
                @if i.suppressed {
                    dt { "maintenance" } dd { "suppressed: recorded, not paged" }
                }
            }
        }
    }
}

fn status_name(s: IncidentStatus) -> &'static str {
    match s {
        IncidentStatus::Open => "open",
        IncidentStatus::Resolved => "resolved",
    }
}

/// The verdict in one sentence.
fn verdict(i: &Incident) -> String {
    let roots = i.root_causes.join(", ");
    let services = i
        .affected_services
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match i.kind {
        IncidentKind::FailoverIneffective => match i.suspects.first() {
            Some(s) => format!(
                "{roots} failed and the failover did not carry {services}; first suspect: {}.",
                s.component
            ),
            None => format!("{roots} failed and the failover did not carry {services}."),
        },
        IncidentKind::ServiceDown => format!("{roots} failed and took down {services}."),
        IncidentKind::RedundancyLost => {
            format!("{roots} failed; redundancy carries {services}, now without a spare.")
        }
        IncidentKind::UnexplainedServiceFailure => {
            format!("{services} fail(s) while nothing it depends on has failed.")
        }
        IncidentKind::SplitBrain => format!("{roots}: more than one member is active."),
        IncidentKind::StandbyNotReady => {
            format!("{roots}: a standby could not take over if the active failed.")
        }
        IncidentKind::TopologyDrift => {
            format!("{roots}: the cabling differs from the topology (LLDP/CDP).")
        }
        IncidentKind::PartialOutage if roots.is_empty() => {
            format!("{services} fail(s) from some zones and work(s) from others.")
        }
        IncidentKind::PartialOutage => {
            format!("{roots} failed; {services} fail(s) from some zones and work(s) from others.")
        }
    }
}

/// `/incidents/{id}`.
pub fn incident_page(ctx: &Ctx, v: &IncidentView<'_>) -> Markup {
    let i = v.incident;
    let body = html! {
        article class={ "incident-detail sev-" (i.severity.as_str()) }
            data-incident-id=(i.id) data-kind=(i.kind.as_str()) data-severity=(i.severity.as_str())
            data-status=(status_name(i.status)) {
            h1 { span class={ "badge sev-" (i.severity.as_str()) } { (i.severity.as_str()) } " " (i.title) }
            p.verdict { (verdict(i)) }
            p.meta {
                (i.kind.as_str()) " · opened " (at(i.opened_at)) " (" (age(ctx.now, i.opened_at)) " ago)"
                @if let Some(r) = i.resolved_at { " · resolved " (at(r)) }
                @if i.suppressed { " · in maintenance: not paged" }
                @if let Some((who, when)) = v.acknowledged { " · acknowledged by " (who) " at " (at(when)) }
            }
            (crate::pages::incident_actions(ctx, i, v.acknowledged.is_some()))
            h2 { "Why" }
            @for t in v.trees { (why_tree(t)) }
            @if !i.suspects.is_empty() {
                h2 { "Suspects" }
                ol.suspects { @for s in &i.suspects {
                    li data-suspect=(s.component) {
                        a href=(component_href("device", &s.component)) { (s.component) } ": " (s.reason)
                        ul.evidence { @for e in i.evidence.iter().filter(|e| e.subject == s.component) {
                            li { time { (at(e.at)) } " " (e.text) }
                        } }
                    }
                } }
            }
            h2 { "Affected services" }
            table.services {
                thead { tr { th { "service" } th { "tier" } th { "now" } th { "worst" } th { "outage from" } th { "to" } } }
                tbody { @for s in &i.affected_services {
                    tr data-id=(s.id) {
                        td { a href=(why_href(&s.id)) { (s.name) } }
                        td { (s.tier) }
                        td class=(state_class(s.state)) { (state_symbol(s.state)) " " (s.state.as_str()) }
                        @if let Some(o) = s.outage {
                            td class=(state_class(o.worst)) { (o.worst.as_str()) }
                            td { (at(o.from)) }
                            td { @if let Some(t) = o.to { (at(t)) } @else { "ongoing" } }
                        } @else { td {} td {} td {} }
                    }
                } }
            }
            h2 { "Evidence" }
            ol.timeline { @for e in &i.evidence {
                li { time { (at(e.at)) } " " a href=(component_href("device", &e.subject)) { (e.subject) } ": " (e.text) }
            } }
            h2 { "Pages" }
            @if v.deliveries.is_empty() {
                p.empty { "Not paged (no receiver configured, suppressed, or still settling)." }
            } @else {
                table.pages {
                    thead { tr { th { "receiver" } th { "state" } th { "since" } th { "detail" } } }
                    tbody { @for d in v.deliveries {
                        tr data-receiver=(d.receiver) data-delivery=(d.state) {
                            td { (d.receiver) } td { (d.state) }
                            td { @if let Some(s) = d.since { (at(s)) } }
                            td { (d.detail) }
                        }
                    } }
                }
            }
        }
    };
    page(ctx, &i.title, "/incidents", body)
}
