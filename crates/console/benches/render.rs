//! Render time of the console's pages for a 2,000-device data centre with 50 open incidents
//! (the budget: 100 ms of server time per page).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use faultline_api::{
    AffectedService, Evidence, Incident, IncidentKind, IncidentStatus, Outage, Severity, State,
    Suspect, UnixMillis,
};
use faultline_console::{Ctx, IncidentView, MapOptions, incident_page, incidents_page, map_page};
use faultline_model::Topology;
use faultline_model::generate::{GenerateOptions, datacenter};

const OPEN_INCIDENTS: usize = 50;

fn topology() -> Topology {
    let g = datacenter(GenerateOptions::new(2_000));
    Topology::from_json_str(&g.json, "dc.json").expect("generated topology")
}

/// Every fifth device down, the rest up.
fn states(t: &Topology) -> HashMap<String, State> {
    let mut m = HashMap::new();
    for (i, d) in t.devices.iter().enumerate() {
        m.insert(
            d.id.clone(),
            if i % 5 == 0 { State::Down } else { State::Up },
        );
    }
    for s in &t.services {
        m.insert(s.id.clone(), State::Degraded);
    }
    for g in &t.groups {
        m.insert(g.id.clone(), State::Degraded);
    }
    for l in &t.links {
        m.insert(l.id().to_string(), State::Up);
    }
    m
}

fn incidents(t: &Topology) -> Vec<Incident> {
    (0..OPEN_INCIDENTS)
        .map(|n| {
            let root = &t.devices[(n * 37) % t.devices.len()].id;
            Incident {
                id: format!("{root}@{n}"),
                kind: IncidentKind::ServiceDown,
                severity: Severity::Critical,
                title: format!("{root} down"),
                root_causes: vec![root.clone()],
                affected_services: t
                    .services
                    .iter()
                    .take(5)
                    .map(|s| AffectedService {
                        id: s.id.clone(),
                        name: s.name.clone(),
                        tier: "high".to_string(),
                        state: State::Down,
                        tags: Vec::new(),
                        outage: Some(Outage {
                            from: UnixMillis(1_000),
                            to: None,
                            worst: State::Down,
                        }),
                    })
                    .collect(),
                suspects: vec![Suspect {
                    component: root.clone(),
                    reason: "stopped answering".to_string(),
                    score: 1.0,
                }],
                evidence: (0..20)
                    .map(|e| Evidence {
                        at: UnixMillis(1_000 + e),
                        subject: root.clone(),
                        text: "ifOperStatus down".to_string(),
                    })
                    .collect(),
                status: IncidentStatus::Open,
                opened_at: UnixMillis(1_000),
                updated_at: UnixMillis(2_000),
                resolved_at: None,
                suppressed: false,
                acknowledged: None,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let t = topology();
    let st = states(&t);
    let open = incidents(&t);
    let ctx = Ctx::new(100_000, &t.name);
    let mut g = c.benchmark_group("console_2000_devices");
    g.sample_size(20);
    g.bench_function("map_all", |b| {
        b.iter(|| {
            map_page(&ctx, &t, &st, &MapOptions::default()).map(|m| black_box(m.into_string()))
        })
    });
    let service = MapOptions {
        service: t.services.first().map(|s| s.id.clone()),
    };
    g.bench_function("map_one_service", |b| {
        b.iter(|| map_page(&ctx, &t, &st, &service).map(|m| black_box(m.into_string())))
    });
    g.bench_function("incidents_50_open", |b| {
        b.iter(|| black_box(incidents_page(&ctx, &open, &[]).into_string()))
    });
    g.bench_function("incident_detail", |b| {
        let v = IncidentView {
            incident: &open[0],
            trees: &[],
            deliveries: &[],
            acknowledged: None,
        };
        b.iter(|| black_box(incident_page(&ctx, &v).into_string()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
