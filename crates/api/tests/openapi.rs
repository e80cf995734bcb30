//! The OpenAPI document lists exactly the routes of [`ROUTES`], each with its method, and the
//! schemas of every response type.

use std::collections::BTreeSet;

use faultline_api::{Method, ROUTES, openapi};

#[test]
fn document_lists_every_route() {
    let doc = serde_json::to_value(openapi()).expect("serialises");
    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let routes: Vec<String> = ROUTES.iter().map(|r| r.full_path()).collect();
    let routed: BTreeSet<&str> = routes.iter().map(String::as_str).collect();
    assert_eq!(documented, routed);
    for r in ROUTES {
        let method = match r.method {
            Method::Get => "get",
            Method::Post => "post",
        };
        assert!(
            paths[&r.full_path()].get(method).is_some(),
            "{} lacks {method}",
            r.full_path()
        );
    }
}

#[test]
fn document_carries_the_schemas() {
    let doc = serde_json::to_value(openapi()).expect("serialises");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "StatusResponse",
        "ServicesResponse",
        "ComponentsResponse",
        "IncidentsResponse",
        "Incident",
        "WhyResponse",
        "WhyNode",
        "TimelineResponse",
        "LabStatus",
        "ApiError",
    ] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    let why = &doc["paths"]["/api/v1/why/{id}"]["get"];
    assert_eq!(why["parameters"][0]["name"], "id");
    let incidents = &doc["paths"]["/api/v1/incidents"]["get"];
    assert_eq!(incidents["parameters"][0]["name"], "all");
}
