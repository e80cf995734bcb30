//! The renderer without a server: escaping, data attributes, the map's layers and its scale.

use std::collections::HashMap;

use faultline_api::{
    AffectedService, Incident, IncidentKind, IncidentStatus, Severity, State, Suspect, UnixMillis,
    WhyNode,
};
use faultline_console::{
    Ctx, IncidentView, MapError, MapOptions, incident_page, incidents_page, map_svg, not_found_page,
};
use faultline_model::Topology;

const EVIL: &str = "<script>alert(1)</script>";

fn demo() -> Topology {
    Topology::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    )))
    .expect("demo topology")
}

/// A topology whose service name carries a script tag and an interface name markup (ids may
/// hold only letters, digits, `-`, `_`, `.` and `/`: validation refuses the rest).
fn evil() -> Topology {
    let yaml = format!(
        "name: evil\ndevices:\n  - {{id: r1, kind: router}}\n  - {{id: sw, kind: switch, requires: [r1]}}\n\
         links:\n  - ['r1:eth0', 'sw:<b>x</b>']\n\
         services:\n  - {{id: svc, name: '{EVIL}', tier: high, requires: [sw]}}\n"
    );
    Topology::from_yaml_str(&yaml, "evil.yaml").expect("valid topology")
}

fn incident(id: &str, root: &str, name: &str) -> Incident {
    Incident {
        id: id.to_string(),
        kind: IncidentKind::FailoverIneffective,
        severity: Severity::Critical,
        title: format!("{name} down"),
        root_causes: vec![root.to_string()],
        affected_services: vec![AffectedService {
            id: "svc".to_string(),
            name: name.to_string(),
            tier: "critical".to_string(),
            state: State::Down,
            tags: Vec::new(),
            outage: None,
        }],
        suspects: vec![Suspect {
            component: "fw-b".to_string(),
            reason: "became active".to_string(),
            score: 1.0,
        }],
        evidence: Vec::new(),
        status: IncidentStatus::Open,
        opened_at: UnixMillis(1_000),
        updated_at: UnixMillis(2_000),
        resolved_at: None,
        suppressed: false,
        acknowledged: None,
    }
}

fn states(t: &Topology, s: State) -> HashMap<String, State> {
    t.devices
        .iter()
        .map(|d| d.id.clone())
        .chain(t.services.iter().map(|x| x.id.clone()))
        .chain(t.groups.iter().map(|g| g.id.clone()))
        .chain(t.links.iter().map(|l| l.id().to_string()))
        .map(|id| (id, s))
        .collect()
}

#[test]
fn a_script_in_the_topology_is_escaped_in_html_and_svg() {
    let t = evil();
    let svg = map_svg(&t, &states(&t, State::Down), &MapOptions::default())
        .expect("map")
        .into_string();
    assert!(!svg.contains("<script>"), "{svg}");
    assert!(!svg.contains("<b>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;"), "{svg}");
    let ctx = Ctx::new(5_000, EVIL);
    let i = incident(EVIL, EVIL, EVIL);
    let trees = [WhyNode {
        id: EVIL.to_string(),
        kind: "device".to_string(),
        state: State::Down,
        path: None,
        detail: EVIL.to_string(),
        failed_itself: true,
        repeated: false,
        children: Vec::new(),
    }];
    let pages = [
        incidents_page(&ctx, std::slice::from_ref(&i), &[]).into_string(),
        incident_page(
            &ctx,
            &IncidentView {
                incident: &i,
                trees: &trees,
                deliveries: &[],
                acknowledged: None,
            },
        )
        .into_string(),
        not_found_page(&ctx, EVIL).into_string(),
    ];
    for page in pages {
        // The only script element is the console's own, by src.
        assert_eq!(page.matches("<script").count(), 1, "{page}");
        assert!(page.contains(r#"<script src="/assets/console.js" defer>"#));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}

#[test]
fn incidents_carry_their_data_attributes() {
    let ctx = Ctx::new(61_000, "demo");
    let page = incidents_page(&ctx, &[incident("fw-a@1", "fw-a", "Portal")], &[]).into_string();
    assert!(page.contains(r#"data-incident-id="fw-a@1""#), "{page}");
    assert!(page.contains(r#"data-kind="failover_ineffective""#));
    assert!(page.contains(r#"data-severity="critical""#));
    assert!(page.contains(r#"data-suspect="fw-b""#));
    assert!(page.contains("1m 0s"), "age from now: {page}");
    assert!(
        page.contains(r#"href="/incidents/fw-a%401""#),
        "ids are percent-encoded in links"
    );
}

/// The y coordinate of the node `id` in the SVG.
fn y_of(svg: &str, id: &str) -> f64 {
    let at = svg
        .find(&format!(r#"data-id="{id}" data-kind="#))
        .unwrap_or_else(|| panic!("{id} drawn"));
    let rest = &svg[at..];
    let t = rest.find("translate(").expect("translate") + "translate(".len();
    let coords = &rest[t..t + rest[t..].find(')').expect(")")];
    coords
        .split(' ')
        .nth(1)
        .and_then(|y| y.parse().ok())
        .expect("y")
}

#[test]
fn the_map_is_layered_services_on_top_edge_at_the_bottom() {
    let t = demo();
    let mut st = states(&t, State::Up);
    st.insert("fw-a".to_string(), State::Down);
    let svg = map_svg(&t, &st, &MapOptions::default())
        .expect("map")
        .into_string();
    assert!(svg.contains(r#"data-id="fw-a" data-kind="device" data-state="down""#));
    assert!(svg.contains(r#"data-id="fw-b" data-kind="device" data-state="up""#));
    assert!(svg.contains("active-standby"), "group mode labels");
    assert!(svg.contains("at least 2 of 3"));
    assert!(svg.contains(">gi1/0/1<"), "interface names on links");
    let portal = y_of(&svg, "portal");
    let (lb, fw, isp) = (y_of(&svg, "lb-a"), y_of(&svg, "fw-a"), y_of(&svg, "isp-a"));
    assert!(
        portal < lb && lb < fw && fw < isp,
        "{portal} {lb} {fw} {isp}"
    );
    assert_eq!(
        y_of(&svg, "fw-a"),
        y_of(&svg, "fw-b"),
        "a pair shares its layer"
    );
    // Down and up are told apart by shape, not only colour.
    assert!(svg.contains("M-11 -11 H11 V11 H-11 Z"));
    assert!(svg.contains(r#"<circle class="shape" r="12">"#));
}

#[test]
fn the_service_filter_keeps_only_its_cone() {
    let t = demo();
    let svg = map_svg(
        &t,
        &states(&t, State::Up),
        &MapOptions {
            service: Some("accounts".to_string()),
        },
    )
    .expect("map")
    .into_string();
    for kept in ["accounts", "db-1", "sw-core-1", "fw-a", "isp-b"] {
        assert!(
            svg.contains(&format!(r#"data-id="{kept}" data-kind"#)),
            "{kept}"
        );
    }
    for dropped in ["portal", "web-1", "lb-a", "sw-core-2"] {
        assert!(
            !svg.contains(&format!(r#"data-id="{dropped}" data-kind"#)),
            "{dropped}"
        );
    }
    let unknown = map_svg(
        &t,
        &HashMap::new(),
        &MapOptions {
            service: Some("nope".to_string()),
        },
    );
    assert_eq!(
        unknown.err(),
        Some(MapError::UnknownService("nope".to_string()))
    );
}

#[test]
fn a_two_thousand_device_map_draws_every_device() {
    let g = faultline_model::generate::datacenter(faultline_model::generate::GenerateOptions::new(
        2_000,
    ));
    let t = Topology::from_json_str(&g.json, "dc.json").expect("generated topology");
    let svg = map_svg(&t, &states(&t, State::Up), &MapOptions::default())
        .expect("map")
        .into_string();
    let drawn = svg.matches(r#"data-kind="device""#).count();
    assert_eq!(drawn, t.devices.len());
    assert!(t.devices.len() >= 1_900, "{}", t.devices.len());
    assert!(
        !svg.contains("class=\"ifname\""),
        "labels become tooltips at this size"
    );
}
