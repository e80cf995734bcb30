//! docs/cli-json.md's JSON examples are real: each ```json block deserialises into the type
//! named by the `<!-- type: NAME -->` line above it and serialises back to the same JSON, so a
//! renamed, removed or undocumented field fails here.

use faultline_api::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

const DOC: &str = include_str!("../../../docs/cli-json.md");

fn same_after_round_trip<T: Serialize + DeserializeOwned>(block: &str) -> Result<(), String> {
    let doc: serde_json::Value =
        serde_json::from_str(block).map_err(|e| format!("not JSON: {e}"))?;
    let typed: T = serde_json::from_value(doc.clone()).map_err(|e| format!("does not fit: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if back == doc {
        Ok(())
    } else {
        Err(format!("fields differ: the type writes\n{back:#}"))
    }
}

fn check(type_name: &str, block: &str) -> Result<(), String> {
    match type_name {
        "StatusResponse" => same_after_round_trip::<StatusResponse>(block),
        "ServicesResponse" => same_after_round_trip::<ServicesResponse>(block),
        "ComponentsResponse" => same_after_round_trip::<ComponentsResponse>(block),
        "IncidentsResponse" => same_after_round_trip::<IncidentsResponse>(block),
        "WhyResponse" => same_after_round_trip::<WhyResponse>(block),
        "TimelineResponse" => same_after_round_trip::<TimelineResponse>(block),
        "LabStatus" => same_after_round_trip::<LabStatus>(block),
        "ReadyResponse" => same_after_round_trip::<ReadyResponse>(block),
        "ImpactReport" => same_after_round_trip::<ImpactReport>(block),
        "DriftReport" => same_after_round_trip::<DriftReport>(block),
        "ApiError" => same_after_round_trip::<ApiError>(block),
        "ChangeEvent" => same_after_round_trip::<ChangeEvent>(block),
        "GraphExport" => same_keys_as_real_export(block),
        other => Err(format!("unknown type `{other}` (add it to this test)")),
    }
}

/// `faultline graph --json` (a CLI output, not an API answer): every key of the documented
/// nodes and edges is one the real export of the shipped topology (with a what-if) writes, and
/// every key the real export writes is documented.
fn same_keys_as_real_export(block: &str) -> Result<(), String> {
    use std::collections::BTreeSet;
    let doc: serde_json::Value =
        serde_json::from_str(block).map_err(|e| format!("not JSON: {e}"))?;
    let topology = faultline_model::Topology::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    )))
    .map_err(|e| e.to_string())?;
    let g = faultline_graph::DependencyGraph::build(&topology);
    let mut ev = faultline_graph::Evaluation::new(&g);
    ev.set_own(
        g.lookup("fw-a").map_err(|e| e.to_string())?,
        faultline_graph::State::Down,
    );
    ev.settle();
    let real =
        serde_json::to_value(faultline_graph::export(&g, Some(&ev))).map_err(|e| e.to_string())?;
    let keys = |v: &serde_json::Value, list: &str| -> BTreeSet<String> {
        let top = v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        let items = v[list].as_array().cloned().unwrap_or_default();
        top.into_iter()
            .flatten()
            .chain(
                items
                    .iter()
                    .filter_map(|i| i.as_object())
                    .flat_map(|o| o.keys().map(|k| format!("{list}.{k}"))),
            )
            .collect()
    };
    for list in ["nodes", "edges"] {
        let (documented, written) = (keys(&doc, list), keys(&real, list));
        if documented != written {
            return Err(format!(
                "{list}: documented keys {documented:?}, the export writes {written:?}"
            ));
        }
    }
    Ok(())
}

/// The `(line, type, block)` of every ```json block.
fn blocks(doc: &str) -> Vec<(usize, Option<String>, String)> {
    let mut out = Vec::new();
    let mut lines = doc.lines().enumerate();
    let mut marker: Option<String> = None;
    while let Some((n, line)) = lines.next() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("<!-- type:") {
            marker = Some(rest.trim_end_matches("-->").trim().to_string());
            continue;
        }
        if t == "```json" {
            let body: Vec<&str> = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| l.trim() != "```")
                .collect();
            out.push((n + 1, marker.take(), body.join("\n")));
            continue;
        }
        if !t.is_empty() {
            marker = None;
        }
    }
    out
}

#[test]
fn every_json_example_is_its_type() {
    let found = blocks(DOC);
    assert!(
        found.len() >= 10,
        "expected the documented examples, found {}",
        found.len()
    );
    let mut failures = Vec::new();
    for (line, name, block) in &found {
        let result = match name {
            Some(name) => check(name, block),
            None => Err("no `<!-- type: NAME -->` line right above it".into()),
        };
        if let Err(e) = result {
            failures.push(format!("docs/cli-json.md:{line} ({name:?}): {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_renamed_field_is_caught() {
    let good = r#"{"error": "x"}"#;
    assert!(check("ApiError", good).is_ok());
    assert!(check("ApiError", r#"{"message": "x"}"#).is_err());
    // An extra field the type does not write back is caught as well.
    assert!(check("ApiError", r#"{"error": "x", "hint": "y"}"#).is_err());
}

#[test]
fn every_route_of_the_table_is_documented() {
    for r in ROUTES {
        let full = r.full_path();
        let documented = full.replace("{action}", "{fix,reset}");
        let documented_id = full.replace("{action}", "{fail,heal}");
        assert!(
            DOC.contains(&format!("`{full}"))
                || DOC.contains(&format!("`{documented}"))
                || DOC.contains(&format!("`{documented_id}")),
            "{full} is missing from docs/cli-json.md"
        );
    }
}
