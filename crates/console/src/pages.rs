//! The smaller pages: why, services, one component, readiness, not found; and the action forms.

use faultline_api::{
    ComponentStatus, GroupReady, Incident, IncidentStatus, ServiceStatus, WhyResponse,
};
use faultline_model::{ComponentRef, Topology};
use maud::{Markup, html};

use crate::format::{age, at, component_href, incident_href, state_class, state_symbol, why_href};
use crate::shell::{Ctx, page};
use crate::tree::why_tree;

/// `/why/{service}`: the live why-tree (the pager's links land here).
pub fn why_page(ctx: &Ctx, why: &WhyResponse) -> Markup {
    let body = html! {
        h1 data-id=(why.id) data-state=(why.state.as_str()) {
            "Why is " (why.id) " "
            span class={ "state " (state_class(why.state)) } { (state_symbol(why.state)) " " (why.state.as_str()) }
        }
        @if let Some(s) = &why.service {
            p.meta { (s.name) " · tier " (s.tier) " · graph says " (s.expected.as_str()) " · probe says " (s.observed.as_str()) }
        }
        @if let Some(i) = &why.incident {
            p.incident-link data-incident-id=(i.id) {
                "Incident: " a href=(incident_href(&i.id)) { (i.title) }
            }
        }
        @if !why.failed.is_empty() {
            p { "Failed: " @for (n, f) in why.failed.iter().enumerate() {
                @if n > 0 { ", " } a href=(component_href("device", f)) { (f) }
            } }
        }
        (why_tree(&why.tree))
        p { a href=(format!("/map?service={}", faultline_api::path::segment(&why.id))) { "Map of what it depends on" } }
    };
    page(ctx, &format!("Why {}", why.id), "", body)
}

/// `/services`.
pub fn services_page(ctx: &Ctx, services: &[ServiceStatus]) -> Markup {
    let body = html! {
        h1 { "Services" }
        table.services {
            thead { tr { th { "service" } th { "tier" } th { "state" } th { "graph" } th { "probe" } th { "incident" } } }
            tbody { @for s in services {
                tr data-id=(s.id) data-state=(s.state.as_str()) {
                    td { a href=(why_href(&s.id)) { (s.name) } " " span.kind { (s.id) } }
                    td { (s.tier) }
                    td class=(state_class(s.state)) { (state_symbol(s.state)) " " (s.state.as_str()) }
                    td { (s.expected.as_str()) }
                    td { (s.observed.as_str()) }
                    td { @if let Some(i) = &s.incident { a href=(incident_href(i)) { (i) } } }
                }
            } }
        }
    };
    page(ctx, "Services", "/services", body)
}

/// Everything `/components/{id}` shows.
#[derive(Debug, Clone, Copy)]
pub struct ComponentView<'a> {
    /// Its status.
    pub status: &'a ComponentStatus,
    /// The topology, for its interfaces, members and requirements.
    pub topology: &'a Topology,
    /// Every component's status, for the states of its neighbours.
    pub all: &'a [ComponentStatus],
    /// Its live why-tree.
    pub why: Option<&'a WhyResponse>,
    /// Maintenance windows naming it (current, future, recently ended).
    pub windows: &'a [faultline_api::MaintenanceWindow],
}

/// `/components/{id}`: state, HA role, last poll, interfaces (links), requirements.
pub fn component_page(ctx: &Ctx, v: &ComponentView<'_>) -> Markup {
    let c = v.status;
    let state_of = |id: &str| v.all.iter().find(|x| x.id == id).map(|x| x.state);
    let body = html! {
        h1 data-id=(c.id) data-state=(c.state.as_str()) {
            (c.id) " " span.kind { "[" (c.kind) "]" } " "
            span class={ "state " (state_class(c.state)) } { (state_symbol(c.state)) " " (c.state.as_str()) }
        }
        dl.facts {
            dt { "own state" } dd { (c.own.as_str()) }
            dt { "monitored" } dd { (if c.monitored { "yes" } else { "no" }) }
            @if c.flapping { dt { "flapping" } dd { "yes: recovery held" } }
            @if c.unreachable { dt { "unreachable" } dd { "no live path from the collector that polls it" } }
            @if let Some(r) = c.ha_role { dt { "HA role" } dd { (format!("{r:?}").to_lowercase()) } }
            dt { "last poll answered" }
            dd { @if let Some(t) = c.last_seen { (at(t)) " (" (age(ctx.now, t)) " ago)" } @else { "never" } }
            @if let Some(p) = &c.problem { dt { "poll problem" } dd.problem { (p) } }
        }
        (maintenance(ctx, v))
        (neighbours(v, &state_of))
        @if let Some(w) = v.why {
            h2 { "Why" }
            (why_tree(&w.tree))
        }
    };
    page(ctx, &c.id, "", body)
}

fn neighbours(
    v: &ComponentView<'_>,
    state_of: &dyn Fn(&str) -> Option<faultline_api::State>,
) -> Markup {
    let topo = v.topology;
    let r = topo.resolve(&v.status.id);
    let links: Vec<usize> = match r {
        Some(ComponentRef::Device(d)) => topo.links_of(d).collect(),
        _ => Vec::new(),
    };
    let requires = r.map(|r| topo.requirements(r)).unwrap_or(&[]);
    html! {
        @if !links.is_empty() {
            h2 { "Interfaces" }
            table.links {
                thead { tr { th { "interface" } th { "peer" } th { "peer interface" } th { "link state" } } }
                tbody { @for l in links.iter().filter_map(|l| topo.links.get(*l)) {
                    @let (mine, peer) = if l.a().device == v.status.id { (l.a(), l.b()) } else { (l.b(), l.a()) };
                    @let st = state_of(l.id()).unwrap_or_default();
                    tr data-id=(l.id()) data-state=(st.as_str()) {
                        td { (mine.interface) }
                        td { a href=(component_href("device", peer.device)) { (peer.device) } }
                        td { (peer.interface) }
                        td class=(state_class(st)) { (state_symbol(st)) " " (st.as_str()) }
                    }
                } }
            }
        }
        @if !requires.is_empty() {
            h2 { (if matches!(r, Some(ComponentRef::Group(_))) { "Members" } else { "Requires" }) }
            ul.requires { @for q in requires {
                @let st = state_of(q).unwrap_or_default();
                li data-id=(q) data-state=(st.as_str()) {
                    span class=(state_class(st)) { (state_symbol(st)) } " "
                    a href=(component_href(topo.resolve(q).map_or("device", |c| c.kind_name()), q)) { (q) }
                }
            } }
        }
    }
}

/// The component's maintenance windows, each run-time one with "end now", and (when the viewer
/// may act) a form to add one.
fn maintenance(ctx: &Ctx, v: &ComponentView<'_>) -> Markup {
    let here = format!("/components/{}", faultline_api::path::segment(&v.status.id));
    html! {
        @if !v.windows.is_empty() || ctx.forms.is_some() { h2 { "Maintenance" } }
        @if !v.windows.is_empty() {
            ul.maintenance { @for w in v.windows {
                li data-window=(w.id) data-active=(w.active) {
                    (at(w.from)) " – " (at(w.to))
                    @if w.active { " (in force)" }
                    @if !w.reason.is_empty() { ": " (w.reason) }
                    @if !w.by.is_empty() { " · by " (w.by) }
                    @if let Some(e) = &w.ended_by { " · ended by " (e) }
                    @if let (Some(forms), true, faultline_api::WindowSource::Runtime) =
                        (&ctx.forms, w.to > ctx.now, w.source) {
                        form.action.inline method="post"
                            action=(format!("/maintenance/{}/end", faultline_api::path::segment(&w.id))) {
                            input type="hidden" name="csrf" value=(forms.csrf);
                            input type="hidden" name="back" value=(here);
                            " " button type="submit" data-action="end-maintenance" { "end now" }
                        }
                    }
                }
            } }
        }
        @if let Some(forms) = &ctx.forms {
            form.action method="post"
                action=(format!("{here}/maintenance")) {
                input type="hidden" name="csrf" value=(forms.csrf);
                "maintenance for "
                input type="text" name="for" value="2h" size="6" aria-label="duration";
                " reason "
                input type="text" name="reason" maxlength="500" aria-label="reason";
                " " button type="submit" data-action="add-maintenance" { "Start maintenance" }
            }
        }
    }
}

/// `/ready`: standby readiness of every active-standby group.
pub fn ready_page(ctx: &Ctx, groups: &[GroupReady]) -> Markup {
    let body = html! {
        h1 { "Standby readiness" }
        @if groups.is_empty() { p.empty { "No active-standby groups." } }
        @for g in groups {
            section.group data-id=(g.group) {
                h2 { a href=(component_href("group", &g.group)) { (g.group) }
                    @if let Some(a) = &g.active { " · active " a href=(component_href("device", a)) { (a) } } }
                @for s in &g.standbys {
                    h3 data-id=(s.device) data-readiness=(s.verdict.as_str()) {
                        a href=(component_href("device", &s.device)) { (s.device) } ": " (s.verdict.as_str())
                        @if let Some(t) = s.since { " since " (at(t)) }
                    }
                    table.checks {
                        thead { tr { th { "check" } th { "standby" } th { "active" } th { "verdict" } th { "detail" } } }
                        tbody { @for c in &s.checks {
                            tr data-readiness=(c.verdict.as_str()) {
                                td { (c.check) }
                                td { @if let Some(v) = &c.standby { (v.shown.as_deref().unwrap_or(&v.value)) } }
                                td { @if let Some(v) = &c.active { (v.shown.as_deref().unwrap_or(&v.value)) } }
                                td { (c.verdict.as_str()) }
                                td { (c.detail) }
                            }
                        } }
                    }
                }
            }
        }
    };
    page(ctx, "Readiness", "/ready", body)
}

/// The 404 page: `what` was not found (an unknown id or path).
pub fn not_found_page(ctx: &Ctx, what: &str) -> Markup {
    let body = html! {
        h1 { "Not found" }
        p.not-found { (what) }
        p { a href="/incidents" { "Back to the incidents" } }
    };
    page(ctx, "Not found", "", body)
}

/// The acknowledge / unacknowledge form of an open incident, shown to operators only.
pub(crate) fn incident_actions(ctx: &Ctx, i: &Incident, acknowledged: bool) -> Markup {
    let Some(forms) = &ctx.forms else {
        return html! {};
    };
    if i.status != IncidentStatus::Open {
        return html! {};
    }
    let (action, label) = if acknowledged {
        ("unack", "Unacknowledge")
    } else {
        ("ack", "Acknowledge")
    };
    html! {
        form.action method="post" action=(format!("{}/{action}", incident_href(&i.id))) {
            input type="hidden" name="csrf" value=(forms.csrf);
            @if !acknowledged {
                label { "comment " input type="text" name="comment" maxlength="500"; }
                " "
            }
            button type="submit" name="action" value=(action) data-action=(action) { (label) }
        }
    }
}
