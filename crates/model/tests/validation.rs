//! Every class of topology error gets a precise `file:line:col: message`, and nothing panics.

use faultline_model::{ComponentRef, GroupMode, Topology};
use proptest::prelude::*;

fn err(yaml: &str) -> String {
    match Topology::from_yaml_str(yaml, "t.yaml") {
        Ok(_) => panic!("expected an error for:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn shipped_incident_topology_loads() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let t = Topology::load(std::path::Path::new(path)).expect("shipped topology is valid");
    assert_eq!(t.name, "contractor-portal");
    assert_eq!(t.collector.as_deref(), Some("mon-1"));
    let fw = t
        .groups
        .iter()
        .find(|g| g.id == "fw-pair")
        .expect("fw-pair");
    assert_eq!(fw.mode, GroupMode::ActiveStandby);
    assert!(matches!(
        t.resolve("fw-a:port1"),
        Some(ComponentRef::Link(_))
    ));
    assert_eq!(
        t.resolve("fw-a:port1"),
        t.resolve("rtr-1:ge-0/0/2--fw-a:port1")
    );
}

#[test]
fn unknown_reference_names_position_and_suggests() {
    let e = err(
        "name: x\ndevices:\n  - {id: fw-a, kind: firewall}\nservices:\n  - {id: p, requires: [fw-b]}\n",
    );
    assert_eq!(
        e,
        "t.yaml:5:24: service `p` requires unknown component `fw-b` (did you mean `fw-a`?)"
    );
}

#[test]
fn duplicate_ids_across_kinds() {
    let e = err(
        "name: x\ndevices:\n  - {id: a, kind: switch}\ngroups:\n  - {id: a, mode: any, members: [b]}\n  - {id: b, mode: any, members: [x]}\n",
    );
    assert!(
        e.contains("t.yaml:5:10: duplicate id `a`: already declared as a device at line 3"),
        "{e}"
    );
    assert!(
        e.contains("t.yaml:6:34: group `b` has member unknown component `x`"),
        "{e}"
    );
}

#[test]
fn cycle_is_named() {
    let e = err(
        "name: x\ndevices:\n  - {id: a, kind: switch, requires: [b]}\n  - {id: b, kind: switch, requires: [g]}\ngroups:\n  - {id: g, mode: all, members: [a]}\n",
    );
    assert!(e.starts_with("t.yaml:"), "{e}");
    assert!(e.contains("dependency cycle: a -> b -> g -> a"), "{e}");
}

#[test]
fn self_requirement() {
    let e = err("name: x\ndevices:\n  - {id: a, kind: switch, requires: [a]}\n");
    assert_eq!(e, "t.yaml:3:38: device `a` requires itself");
}

#[test]
fn group_min_larger_than_group_and_empty_group() {
    let e = err(
        "name: x\ndevices:\n  - {id: a, kind: server}\ngroups:\n  - {id: g, mode: at-least, min: 3, members: [a]}\n  - {id: e, mode: any, members: []}\n",
    );
    assert!(
        e.contains("t.yaml:5:34: group `g`: `min` is 3 but the group has only 1 member(s)"),
        "{e}"
    );
    assert!(e.contains("t.yaml:6:10: group `e` has no members"), "{e}");
}

#[test]
fn group_mode_errors() {
    let e = err(
        "name: x\ndevices:\n  - {id: a, kind: server}\ngroups:\n  - {id: g, mode: most, members: [a]}\n  - {id: h, mode: at-least, members: [a]}\n  - {id: i, mode: any, min: 1, members: [a]}\n",
    );
    assert!(e.contains("unknown mode `most`"), "{e}");
    assert!(e.contains("mode `at-least` needs `min`"), "{e}");
    assert!(e.contains("`min` applies only to mode `at-least`"), "{e}");
}

#[test]
fn malformed_addresses() {
    for bad in [
        "10.0.1.300",
        "10.0.1",
        "fe80:::1",
        "bad_host!",
        "-leading.example",
    ] {
        let e = err(&format!(
            "name: x\ndevices:\n  - {{id: a, kind: server, address: \"{bad}\"}}\n"
        ));
        assert!(e.starts_with("t.yaml:3:"), "{bad}: {e}");
        assert!(e.contains("malformed address"), "{bad}: {e}");
    }
    for good in ["10.0.1.1", "2001:db8::1", "fw-a.dc1.example.com"] {
        let y = format!("name: x\ndevices:\n  - {{id: a, kind: server, address: \"{good}\"}}\n");
        assert!(Topology::from_yaml_str(&y, "t.yaml").is_ok(), "{good}");
    }
}

#[test]
fn link_errors() {
    let e = err(
        "name: x\ndevices:\n  - {id: a, kind: switch}\n  - {id: b, kind: switch}\nlinks:\n  - [a:1, c:1]\n  - [a-1, b:1]\n  - [a:2, a:3]\n  - [a:4, b:4]\n  - [a:4, b:5]\n  - [a:9]\n",
    );
    assert!(
        e.contains("t.yaml:6:5: link end `c:1` names unknown device `c`"),
        "{e}"
    );
    assert!(e.contains("t.yaml:7:5: malformed link end `a-1`"), "{e}");
    assert!(
        e.contains("t.yaml:8:5: link `a:2`--`a:3` connects device `a` to itself"),
        "{e}"
    );
    assert!(
        e.contains("t.yaml:10:5: `a:4` is already used by link `a:4--b:4` (line 9)"),
        "{e}"
    );
    assert!(
        e.contains("t.yaml:11:5: a link has exactly two ends"),
        "{e}"
    );
}

#[test]
fn links_as_lists_or_mappings_in_json_and_yaml() {
    let json = r#"{"name": "x",
"devices": [{"id": "a", "kind": "switch"}, {"id": "b", "kind": "switch"}],
"links": [["a:1", "b:1"], {"b": "b:2", "a": "a:2", "note": "ignored"}],
"services": [{"id": "s", "requires": ["a:2--b:2", "b:1"]}]}"#;
    let t = Topology::from_json_str(json, "t.json").expect("valid");
    let ids: Vec<&str> = t.links.iter().map(|l| l.id()).collect();
    assert_eq!(ids, ["a:1--b:1", "a:2--b:2"]);
    assert_eq!(t.resolve("b:1"), Some(ComponentRef::Link(0)));
    assert_eq!(t.resolve("a:2"), t.resolve("a:2--b:2"));
    assert_eq!(t.links[1].b().interface, "2");

    let bad = "{\"name\": \"x\",\n\"devices\": [{\"id\": \"a\", \"kind\": \"switch\"}],\n\"links\": [[\"a:1\", \"a:2\", \"a:3\"]]}";
    let e = Topology::from_json_str(bad, "t.json")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "t.json:3:11: a link has exactly two ends `[device:interface, device:interface]`, found 3"
    );
    let e = err("name: x\nlinks:\n  - a:1\n  - {a: a:1}\n");
    let shape = "a link is `[device:interface, device:interface]` or \
        `{a: device:interface, b: device:interface}`";
    assert!(e.contains(&format!("t.yaml:3:5: link 1: {shape}")), "{e}");
    assert!(e.contains(&format!("t.yaml:4:5: link 2: {shape}")), "{e}");
}

#[test]
fn typos_in_field_names_are_errors_with_position() {
    let e = err("name: x\ndevices:\n  - {id: a, kind: switch, require: [b]}\n");
    assert!(e.starts_with("t.yaml:3:"), "{e}");
    assert!(e.contains("require"), "{e}");
}

#[test]
fn unknown_device_kind() {
    let e = err("name: x\ndevices:\n  - {id: a, kind: toaster}\n");
    assert!(e.starts_with("t.yaml:3:"), "{e}");
    assert!(e.contains("toaster"), "{e}");
}

#[test]
fn yaml_syntax_error_has_position() {
    let e = err("name: x\ndevices:\n  - {id: a, kind: switch\n");
    assert!(e.starts_with("t.yaml:"), "{e}");
}

#[test]
fn json_same_schema_and_positions() {
    let ok = r#"{"name":"j","devices":[{"id":"a","kind":"switch"}],"services":[{"id":"s","requires":["a"]}]}"#;
    let t = Topology::from_json_str(ok, "t.json").expect("valid json");
    assert_eq!(t.services[0].requires, vec!["a".to_string()]);
    let bad = "{\"name\":\"j\",\n\"devices\":[{\"id\":\"a\",\"kind\":\"switch\"}],\n\"services\":[{\"id\":\"s\",\"requires\":[\"b\"]}]}";
    let e = Topology::from_json_str(bad, "t.json")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("t.json:3:"), "{e}");
    assert!(e.contains("requires unknown component `b`"), "{e}");
    let syntax = "{\"name\":\"j\",\n\"devices\":[}";
    let e = Topology::from_json_str(syntax, "t.json")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("t.json:2:"), "{e}");
}

#[test]
fn all_errors_reported_in_one_pass() {
    let e = Topology::from_yaml_str(
        "name: x\ndevices:\n  - {id: a, kind: switch, requires: [q1]}\n  - {id: b, kind: switch, requires: [q2]}\n",
        "t.yaml",
    )
    .unwrap_err();
    assert_eq!(e.diagnostics.len(), 2);
    assert!(e.diagnostics[0].line < e.diagnostics[1].line);
}

#[test]
fn generated_topology_is_valid_and_sized() {
    let text = faultline_model::generate::datacenter_json(
        faultline_model::generate::GenerateOptions::new(2_000),
    );
    let t = Topology::from_json_str(&text, "gen.json").expect("generator output is valid");
    assert!(
        t.devices.len() > 1_800 && t.devices.len() <= 2_000,
        "{}",
        t.devices.len()
    );
    assert!(t.links.len() >= t.devices.len() * 2, "{}", t.links.len());
    assert!(!t.services.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Arbitrary bytes never panic the loader.
    #[test]
    fn arbitrary_text_never_panics(s in ".{0,300}") {
        let _ = Topology::from_yaml_str(&s, "fuzz.yaml");
        let _ = Topology::from_json_str(&s, "fuzz.json");
    }

    /// Mutations of a valid topology (deleting a span of characters) never panic and, when
    /// they fail, every diagnostic names the file.
    #[test]
    fn mutated_topology_never_panics(start in 0usize..2000, len in 1usize..40) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../topology/contractor-portal.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let start = start.min(text.len());
        let end = (start + len).min(text.len());
        if text.is_char_boundary(start) && text.is_char_boundary(end) {
            let mutated = format!("{}{}", &text[..start], &text[end..]);
            if let Err(e) = Topology::from_yaml_str(&mutated, "m.yaml") {
                prop_assert!(!e.diagnostics.is_empty());
                prop_assert!(e.diagnostics.iter().all(|d| d.file == "m.yaml"));
            }
        }
    }
}

#[test]
fn yaml_errors_carry_one_position() {
    for (yaml, at) in [
        (
            "name: x\ndevices:\n  - {id: a, kind: switch\n",
            "t.yaml:3:5: ",
        ),
        ("name: [x\n", "t.yaml:1:7: "),
        ("name: x\nfoo: 1\n", "t.yaml:2:1: "),
    ] {
        let e = err(yaml);
        assert!(e.starts_with(at), "{e}");
        assert!(!e.contains("line") && !e.contains("column"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}

/// Four entries, four different schema problems (unknown field, wrong type, missing field,
/// unknown variant): one run reports all four, each at its token.
const FOUR_PROBLEMS: &str = "name: four
devices:
  - {id: fw-a, kind: firewall, adress: 10.0.1.1}
  - {id: fw-b, kind: firewall, requires: fw-a}
  - {id: sw-1}
services:
  - {id: portal, tier: urgent, requires: [fw-a]}
";

#[test]
fn schema_problems_in_four_entries_reported_in_one_run() {
    let e = Topology::from_yaml_str(FOUR_PROBLEMS, "t.yaml").unwrap_err();
    let got: Vec<String> = e.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(
        got[0].starts_with("t.yaml:3:32: device `fw-a`: unknown field `adress`"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("t.yaml:4:42: device `fw-b`: invalid type: string \"fw-a\""),
        "{got:#?}"
    );
    assert_eq!(got[2], "t.yaml:5:5: device `sw-1`: missing field `kind`");
    assert!(
        got[3].starts_with("t.yaml:7:24: service `portal`: unknown variant `urgent`"),
        "{got:#?}"
    );
}

#[test]
fn schema_problems_in_json_reported_in_one_run() {
    let json = "{\"name\": \"j\",\n\"devices\": [{\"id\": \"a\", \"kind\": \"toaster\"},\n{\"id\": \"b\", \"kind\": \"switch\", \"tags\": 3}]}";
    let e = Topology::from_json_str(json, "t.json").unwrap_err();
    let got: Vec<String> = e.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with("t.json:2:33: device `a`: unknown variant `toaster`"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("t.json:3:39: device `b`: invalid type: integer `3`"),
        "{got:#?}"
    );
}

#[test]
fn several_problems_in_one_entry_and_at_top_level() {
    let e = err(
        "name: x\nextra: 1\nservices:\n  - id: p\n    tier: urgent\n    colour: red\n    probe: {url: \"http://x/\", interval_s: -5}\n  - {}\n",
    );
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 5, "{e}");
    assert!(
        lines[0].starts_with("t.yaml:2:1: unknown field `extra`"),
        "{e}"
    );
    assert!(
        lines[1].starts_with("t.yaml:5:11: service `p`: unknown variant `urgent`"),
        "{e}"
    );
    assert!(
        lines[2].starts_with("t.yaml:6:5: service `p`: unknown field `colour`"),
        "{e}"
    );
    assert!(
        lines[3].starts_with("t.yaml:7:43: service `p`: invalid value: integer `-5`"),
        "{e}"
    );
    assert_eq!(lines[4], "t.yaml:8:5: service 2: missing field `id`");
}

#[test]
fn an_unknown_first_key_of_a_block_entry_hides_nothing_after_it() {
    let e = err("name: x\ndevices:\n  - colour: red\n    id: a\n    kind: toaster\n");
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 2, "{e}");
    assert!(
        lines[0].starts_with("t.yaml:3:5: device `a`: unknown field `colour`"),
        "{e}"
    );
    assert!(
        lines[1].starts_with("t.yaml:5:11: device `a`: unknown variant `toaster`"),
        "{e}"
    );
}

#[test]
fn a_dropped_wrong_field_is_not_also_reported_missing() {
    let e = err("name: x\ndevices:\n  - {id: a, kind: [switch]}\n");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("t.yaml:3:19: device `a`: invalid type: sequence"),
        "{e}"
    );
}

/// Nesting far beyond the schema is an error with a position, never a stack overflow, on the
/// fast path and on the re-read that collects every problem.
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = 100_000;
    for yaml in [
        format!(
            "name: x\nlinks:\n  - {}{}\n",
            "[".repeat(deep),
            "]".repeat(deep)
        ),
        format!(
            "name: x\ndevices:\n  - {{id: a, kind: switch, tags: {}{}}}\n",
            "[".repeat(deep),
            "]".repeat(deep)
        ),
    ] {
        let e = err(&yaml);
        assert!(e.starts_with("t.yaml:"), "{}", &e[..e.len().min(200)]);
    }
}

/// A file beyond the parser's default counts (250,000 nodes) loads: the limits grow with the
/// file, as a generated data centre needs.
#[test]
fn large_yaml_topology_loads() {
    let tags = vec!["t"; 260_000].join(",");
    let yaml = format!("name: big\ndevices:\n  - {{id: a, kind: server, tags: [{tags}]}}\n");
    let t = Topology::from_yaml_str(&yaml, "big.yaml").expect("large file loads");
    assert_eq!(t.devices[0].tags.len(), 260_000);
}

#[test]
fn devices_and_services_carry_their_optional_zone() {
    let t = Topology::from_yaml_str(
        "name: z\ndevices:\n  - {id: fw, kind: firewall, zone: dmz}\n  - {id: sw, kind: switch}\n\
         services:\n  - {id: portal, requires: [fw], zone: outside}\n",
        "z.yaml",
    )
    .unwrap();
    assert_eq!(t.devices[0].zone.as_deref(), Some("dmz"));
    assert_eq!(t.devices[1].zone, None);
    assert_eq!(t.services[0].zones, ["outside"]);
}

/// A service probed from several zones lists them under `zones`; `zone` is the one-zone form.
/// Both at once, or a zone listed twice, is an error at its position; a zone is any name.
#[test]
fn services_list_their_vantage_zones() {
    let t = Topology::from_yaml_str(
        "name: z\nservices:\n  - {id: portal, zones: [inside, outside]}\n  - {id: a}\n",
        "z.yaml",
    )
    .unwrap();
    assert_eq!(t.services[0].zones, ["inside", "outside"]);
    assert!(t.services[1].zones.is_empty());
    let json = r#"{"name": "z", "services": [{"id": "portal", "zones": ["inside", "dmz-9"]}]}"#;
    let t = Topology::from_json_str(json, "z.json").unwrap();
    assert_eq!(t.services[0].zones, ["inside", "dmz-9"]);

    let e = err("name: z\nservices:\n  - {id: p, zone: a, zones: [b]}\n  \
                 - {id: q, zones: [a, b, a]}\n");
    assert!(
        e.contains("t.yaml:3:19: service `p` has both `zone` and `zones`"),
        "{e}"
    );
    assert!(
        e.contains("t.yaml:4:27: service `q` lists zone `a` twice (also at line 4)"),
        "{e}"
    );
    let json = r#"{"name": "z", "services": [{"id": "q", "zones": ["a", "a"]}]}"#;
    let e = Topology::from_json_str(json, "z.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("lists zone `a` twice"), "{e}");
}

/// `zone_collectors` names the device each zone's poller runs on (YAML and JSON alike); every
/// problem is reported at once, at the named device: an unknown device (with a hint), a
/// component that is not a device, a zone no device or service is in (with a hint), and the
/// default `collector` the same way.
#[test]
fn zone_collectors_name_devices_of_known_zones() {
    let yaml = "name: z\ncollector: mon\nzone_collectors: {outside: ext, inside: mon}\n\
                devices:\n  - {id: mon, kind: host}\n  - {id: ext, kind: host, zone: outside}\n  \
                - {id: fw, kind: firewall, zone: inside}\n";
    let t = Topology::from_yaml_str(yaml, "z.yaml").unwrap();
    let want = [("inside", "mon"), ("outside", "ext")];
    let got: Vec<(&str, &str)> = (t.zone_collectors.iter())
        .map(|(z, c)| (z.as_str(), c.as_str()))
        .collect();
    assert_eq!(got, want);
    let json = r#"{"name": "z", "zone_collectors": {"outside": "ext"},
        "devices": [{"id": "ext", "kind": "host", "zone": "outside"}]}"#;
    let t = Topology::from_json_str(json, "z.json").unwrap();
    assert_eq!(t.zone_collectors["outside"], "ext");
    // Files without the key keep their meaning: no zone collectors.
    let t = Topology::from_yaml_str("name: z\n", "z.yaml").unwrap();
    assert!(t.zone_collectors.is_empty());

    let e = err(
        "name: z\ncollector: mn\nzone_collectors:\n  outside: ext-1\n  inside: web\n  \
                 dmz: portal\n  outsde: mon\ndevices:\n  - {id: mon, kind: host}\n  \
                 - {id: ext, kind: host, zone: outside}\n  - {id: web, kind: server, zone: inside}\n\
                 services:\n  - {id: portal, zones: [inside, dmz]}\n",
    );
    for want in [
        "t.yaml:2:12: collector names unknown device `mn` (did you mean `mon`?)",
        "t.yaml:4:12: zone `outside`'s collector names unknown device `ext-1`\n",
        "t.yaml:6:8: zone `dmz`'s collector `portal` is a service, not a device",
        "t.yaml:7:11: zone_collectors names zone `outsde`, which no device or service is in \
         (did you mean `outside`?)",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    assert_eq!(e.lines().count(), 4, "inside: web is fine:\n{e}");
    let json = r#"{"name": "z", "zone_collectors": {"outside": "nope"}}"#;
    let e = Topology::from_json_str(json, "z.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("z.json:1:46: zone `outside`'s collector names unknown device `nope`"),
        "{e}"
    );
    assert!(
        e.contains("names zone `outside`, which no device or service is in"),
        "{e}"
    );
    // Not a map: a schema problem, at once.
    let e = err("name: z\nzone_collectors: [a, b]\n");
    assert!(e.contains("t.yaml:2:"), "{e}");
}

/// A program-made [`Draft`](faultline_model::Draft) is checked by the same rules as the
/// equivalent JSON file: the same topology when valid, the same problems when not.
#[test]
fn a_draft_is_checked_like_the_equivalent_json() {
    use faultline_model::{DeviceKind, Draft, DraftDevice, DraftGroup, Topology};
    let device = |id: &str, requires: &[&str]| DraftDevice {
        id: id.into(),
        kind: DeviceKind::Host,
        address: Some("10.0.0.1".into()),
        requires: requires.iter().map(|r| (*r).to_owned()).collect(),
        tags: vec!["t".into()],
    };
    let draft = |requires_of_a: &[&str]| Draft {
        name: "d".into(),
        devices: vec![
            device("a", requires_of_a),
            device("b", &[]),
            device("c", &["g"]),
        ],
        groups: vec![DraftGroup {
            id: "g".into(),
            mode: "any".into(),
            min: None,
            members: vec!["a".into(), "b".into()],
        }],
        links: vec![("a:e1".into(), "b:e1".into())],
    };
    let json = |requires_of_a: &str| {
        format!(
            r#"{{"name":"d","devices":[
            {{"id":"a","kind":"host","address":"10.0.0.1","requires":[{requires_of_a}],"tags":["t"]}},
            {{"id":"b","kind":"host","address":"10.0.0.1","tags":["t"]}},
            {{"id":"c","kind":"host","address":"10.0.0.1","requires":["g"],"tags":["t"]}}],
            "groups":[{{"id":"g","mode":"any","members":["a","b"]}}],
            "links":[["a:e1","b:e1"]]}}"#
        )
    };
    let from_draft = Topology::from_draft(draft(&[]), "d.json").expect("valid");
    let from_json = Topology::from_json_str(&json(""), "d.json").expect("valid");
    assert_eq!(format!("{from_draft:?}"), format!("{from_json:?}"));
    // A cycle (c requires g, g holds a, a requires c) is the same problem either way.
    let refused = Topology::from_draft(draft(&["c"]), "d.json").expect_err("a cycle");
    let plain =
        faultline_model::Topology::from_json_str(&json(r#""c""#), "d.json").expect_err("a cycle");
    let strip = |e: &faultline_model::LoadError| {
        e.diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&refused), strip(&plain));
    assert!(!strip(&refused).is_empty());
}
