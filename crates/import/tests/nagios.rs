//! `faultline import nagios`: templates, parents, hostgroups and problems on a small config;
//! and on a generated 2,000-host configuration that Nagios itself (`nagios4 -v`) accepts, the
//! same hosts and the same parent relations as written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use faultline_import::nagios::{import, import_text};
use faultline_model::{ComponentRef, GroupMode, Topology};
use faultline_testpeers::have;

const SMALL: &str = "
define host {
    name        base        ; template
    hostgroups  all-hosts
    register    0
}
define host {
    name        routers
    use         base
    hostgroups  +routers
    register    0
}
define host {
    use         routers
    host_name   core router
    address     10.0.0.1
}
define host {
    use         base
    host_name   edge
    address     10.0.0.2
    parents     core router
}
define host {
    use         base
    host_name   web
    address     web.example.net
    parents     core router, edge
}
define host {
    use         base, nosuch
    host_name   orphan
    parents     ghost
}
";

#[test]
fn templates_parents_hostgroups_and_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("hosts.cfg");
    std::fs::write(&file, SMALL).expect("write");
    let imp = import(std::slice::from_ref(&file)).expect("import");
    let names: Vec<&str> = imp.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        ["core router", "edge", "web", "orphan"],
        "templates are not hosts"
    );
    assert_eq!(imp.hosts[0].id, "core-router");
    assert_eq!(
        imp.hosts[0].hostgroups,
        BTreeSet::from(["all-hosts".to_owned(), "routers".to_owned()]),
        "`+` adds to the inherited value"
    );
    let place = |line: u32| format!("{}:{line}", file.display());
    assert_eq!(
        imp.problems,
        [
            format!("{}: unknown template `nosuch`", place(30)),
            format!("{}: host `orphan` has no address", place(30)),
            format!("{}: host `orphan` has unknown parent `ghost`", place(30)),
        ]
    );
    let text = imp.to_yaml("small", "test");
    let t = Topology::from_yaml_str(&text, "small.yaml").expect(&text);
    assert!(text.contains("# nagios host \"core router\" at"), "{text}");
    assert_eq!(
        t.device("edge").map(|d| d.requires.clone()),
        Some(vec!["core-router".to_owned()])
    );
    let web = t.device("web").expect("web");
    let Some(ComponentRef::Group(g)) = t.resolve(&web.requires[0]) else {
        panic!("web requires a group: {text}");
    };
    assert_eq!(t.groups[g].mode, GroupMode::Any);
    assert_eq!(t.groups[g].members, ["core-router", "edge"]);
    assert!(t.device("orphan").is_some_and(|d| d.address.is_none()));
}

/// Text given directly (the fuzz target's way in) resolves exactly like the same text read
/// from a file, and its `cfg_file` / `cfg_dir` lines are not followed.
#[test]
fn text_import_matches_the_file_import_and_reads_no_includes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("hosts.cfg");
    std::fs::write(&file, SMALL).expect("write");
    let from_file = import(std::slice::from_ref(&file)).expect("import");
    let name = file.display().to_string();
    let from_text = import_text(&name, SMALL);
    assert_eq!(from_text.hosts, from_file.hosts);
    assert_eq!(from_text.problems, from_file.problems);

    let other = dir.path().join("more.cfg");
    std::fs::write(
        &other,
        "define host {\n host_name extra\n address 10.0.0.9\n}\n",
    )
    .expect("write");
    let main = format!(
        "cfg_file={}\ncfg_dir={}\n{SMALL}",
        other.display(),
        dir.path().display()
    );
    let hosts = |imp: &faultline_import::nagios::Import| -> Vec<String> {
        imp.hosts.iter().map(|h| h.name.clone()).collect()
    };
    assert!(!hosts(&import_text("main.cfg", &main)).contains(&"extra".to_owned()));
    let main_file = dir.path().join("main.cfg");
    std::fs::write(&main_file, &main).expect("write");
    let followed = import(std::slice::from_ref(&main_file)).expect("import");
    assert!(
        hosts(&followed).contains(&"extra".to_owned()),
        "a file import follows them"
    );
}

/// A configuration without hosts (found by the nagios_objects fuzz target on empty input):
/// the checked YAML used to say `devices:` (null), which does not load; it is an empty list.
#[test]
fn no_hosts_renders_a_topology_that_loads() {
    for text in ["", "define host {\n name t\n register 0\n}\n"] {
        let imp = import_text("empty.cfg", text);
        assert!(imp.hosts.is_empty());
        let yaml = imp
            .to_checked_yaml("empty", "test", "empty.yaml")
            .expect("checked");
        let t = Topology::from_yaml_str(&yaml, "empty.yaml").expect(&yaml);
        assert!(t.devices.is_empty());
    }
}

/// Found by the nagios_objects fuzz target: names and hostgroups with characters YAML does not
/// allow even quoted (DEL, C1 controls) still give YAML that loads, with the same values.
#[test]
fn unprintable_characters_in_names_render_yaml_that_loads() {
    let text = "define host {\n host_name a\u{7f}b\n address 10.0.0.1\n hostgroups g\u{85}1\n}\n";
    let imp = import_text("odd.cfg", text);
    let yaml = imp.to_yaml("odd", "test");
    let t = Topology::from_yaml_str(&yaml, "odd.yaml").expect(&yaml);
    assert_eq!(t.devices[0].tags, ["g\u{85}1"]);
    assert!(imp.to_checked_yaml("odd", "test", "odd.yaml").is_ok());
}

/// Host name → sorted parent names, from the generator's record.
fn expected(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    std::fs::read_to_string(dir.join("expected.tsv"))
        .expect("expected.tsv")
        .lines()
        .map(|l| {
            let (h, p) = l.split_once('\t').unwrap_or((l, ""));
            let parents = p
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            (h.to_owned(), parents)
        })
        .collect()
}

#[test]
fn nagios4_accepts_the_config_and_the_import_has_the_same_hosts_and_parents() {
    if !have("nagios4") || !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let gen_script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/nagios-gen.py");
    let ok = Command::new("python3")
        .arg(&gen_script)
        .args(["2000"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "nagios-gen.py failed");
    let main = dir.path().join("nagios.cfg");
    let out = Command::new("/usr/sbin/nagios4")
        .arg("-v")
        .arg(&main)
        .output()
        .expect("run nagios4 -v");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "nagios4 -v rejected the config:\n{report}"
    );
    assert!(report.contains("Checked 2000 hosts."), "{report}");
    assert!(report.contains("Total Errors:   0"), "{report}");

    let imp = import(&[PathBuf::from(&main)]).expect("import");
    assert!(imp.problems.is_empty(), "{:?}", imp.problems);
    let want = expected(dir.path());
    let got: BTreeMap<String, BTreeSet<String>> = imp
        .hosts
        .iter()
        .map(|h| (h.name.clone(), h.parents.iter().cloned().collect()))
        .collect();
    assert_eq!(got.len(), 2000);
    assert_eq!(got, want);

    // The topology says the same: each host requires its parent, or an `any` group of them.
    let text = imp.to_yaml("gen", "test");
    let t = Topology::from_yaml_str(&text, "gen.yaml").expect("valid topology");
    assert_eq!(t.devices.len(), 2000);
    let id_of: BTreeMap<&str, &str> = imp
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.id.as_str()))
        .collect();
    for (host, parents) in &want {
        let d = t.device(id_of[host.as_str()]).expect("device");
        let required: BTreeSet<String> = match d.requires.as_slice() {
            [] => BTreeSet::new(),
            [r] => match t.resolve(r) {
                Some(ComponentRef::Group(g)) => {
                    assert_eq!(t.groups[g].mode, GroupMode::Any);
                    t.groups[g].members.iter().cloned().collect()
                }
                _ => BTreeSet::from([r.clone()]),
            },
            more => panic!("{host} requires {more:?}"),
        };
        let want_ids: BTreeSet<String> = parents
            .iter()
            .map(|p| id_of[p.as_str()].to_owned())
            .collect();
        assert_eq!(required, want_ids, "{host}");
    }
}

/// A template named twice in one `use` (or reached by two paths) is searched once, and a `use`
/// cycle ends: the fuzzer's `use base, base` on a self-using template once doubled the search at
/// every level (2^64 lookups). Here a 40-deep chain where each template names the next twice,
/// closed into a cycle, still resolves to the value at its end, and Nagios' first-in-`use`-order
/// rule holds.
#[test]
fn repeated_and_cyclic_templates_are_searched_once() {
    let mut text = String::new();
    for i in 0..40 {
        let next = (i + 1) % 40;
        text.push_str(&format!(
            "define host {{\n name t{i}\n use t{next}, t{next}, t{i}\n register 0\n}}\n"
        ));
    }
    text.push_str("define host {\n name t39b\n address 10.9.9.9\n register 0\n}\n");
    text.push_str("define host {\n name first\n address 10.1.1.1\n register 0\n}\n");
    // t39 closes the cycle back to t0 and then names the template holding the address.
    text = text.replace(" use t0, t0, t39\n", " use t0, t0, t39, t39b\n");
    text.push_str("define host {\n use t0\n host_name deep\n}\n");
    text.push_str("define host {\n use first, t0\n host_name ordered\n}\n");
    let imp = import_text("cycle.cfg", &text);
    let address = |name: &str| {
        imp.hosts
            .iter()
            .find(|h| h.name == name)
            .and_then(|h| h.address.clone())
    };
    assert_eq!(address("deep").as_deref(), Some("10.9.9.9"), "{imp:?}");
    assert_eq!(address("ordered").as_deref(), Some("10.1.1.1"), "{imp:?}");
}

/// `parents a, a` names one parent: the host requires it once (a group listing a member twice
/// does not load; the fuzzer found it).
#[test]
fn a_parent_named_twice_is_one_requirement() {
    let text = "define host {\n host_name fw-a\n address 10.0.0.1\n}\n\
                define host {\n host_name fw-b\n address 10.0.0.2\n}\n\
                define host {\n host_name web\n address 10.0.0.3\n parents fw-a, fw-a, fw-b\n}\n";
    let imp = import_text("twice.cfg", text);
    let web = imp.hosts.iter().find(|h| h.name == "web").expect("web");
    assert_eq!(web.parents, ["fw-a", "fw-b"]);
    let yaml = imp
        .to_checked_yaml("twice", "test", "twice.yaml")
        .expect("the import loads");
    Topology::from_yaml_str(&yaml, "twice.yaml").expect(&yaml);
}
