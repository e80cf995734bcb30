//! What a packager ships beside the binary: shell completions that the shell accepts, manual
//! pages that groff renders without warnings, a `--version` naming the commit, a systemd unit
//! that `systemd-analyze` accepts and the Debian package's configuration that `run --check`
//! accepts. Installing the package itself is packaging/test-deb.sh's (run by hand, as root).

use std::path::Path;
use std::process::{Command, Output};

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("run faultline")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn bash_completion_is_valid_bash_and_knows_the_commands() {
    let out = faultline(&["completions", "bash"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    for word in ["why", "impact", "spof", "--log-format"] {
        assert!(script.contains(word), "completion lacks {word}");
    }
    if !faultline_testpeers::have("bash") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("faultline.bash");
    std::fs::write(&file, &script).expect("write completion");
    let check = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash -n");
    assert!(check.status.success(), "{}", text(&check.stderr));
}

#[test]
fn man_pages_render_without_warnings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = faultline(&["man", &dir.path().to_string_lossy()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    for page in ["faultline.1", "faultline-why.1", "faultline-run.1"] {
        assert!(dir.path().join(page).is_file(), "{page} missing: {listed}");
    }
    if !faultline_testpeers::have("groff") {
        return;
    }
    let rendered = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .arg(dir.path().join("faultline-why.1"))
        .output()
        .expect("groff");
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    assert_eq!(text(&rendered.stderr), "", "groff warnings");
    let page = text(&rendered.stdout);
    assert!(page.contains("--down"), "{page}");
}

#[test]
fn version_names_the_commit() {
    let out = faultline(&["--version"]);
    assert!(out.status.success());
    let version = text(&out.stdout);
    assert!(
        version.starts_with(&format!("faultline {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match head {
        Ok(h) if h.status.success() => {
            let commit = text(&h.stdout).trim().to_string();
            assert!(version.contains(&commit), "{version} lacks {commit}");
        }
        // Built outside a checkout: the build says so instead of inventing a commit.
        _ => assert!(version.contains("unknown commit"), "{version}"),
    }
}

#[test]
fn the_systemd_unit_passes_systemd_analyze() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/faultline.service");
    let text_of_unit = std::fs::read_to_string(&unit).expect("packaging/faultline.service");
    for needed in [
        "AmbientCapabilities=CAP_NET_RAW CAP_NET_BIND_SERVICE",
        "DynamicUser=yes",
        "StateDirectory=faultline",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(text_of_unit.contains(needed), "unit lacks {needed}");
    }
    if !faultline_testpeers::have("systemd-analyze") {
        return;
    }
    // The unit names /usr/bin/faultline: verify a copy that names this build's binary instead.
    // systemd-analyze exits 0 on unknown keys and bad values, with a warning naming the file.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("faultline.service");
    std::fs::write(
        &copy,
        text_of_unit.replace("/usr/bin/faultline", env!("CARGO_BIN_EXE_faultline")),
    )
    .expect("copy unit");
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .expect("systemd-analyze");
    let complaints = text(&verify.stderr);
    assert!(verify.status.success(), "{complaints}");
    assert!(
        !complaints.contains("faultline.service"),
        "systemd-analyze warns about the unit:\n{complaints}"
    );
}

/// The configuration the Debian package installs in /etc/faultline passes `run --check` (the
/// same construction as a start), with its store moved from the unit's state directory into a
/// temporary one. packaging/test-deb.sh starts it for real from the installed package.
#[test]
fn the_packaged_configuration_passes_run_check() {
    let etc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/etc");
    let config = std::fs::read_to_string(etc.join("faultline.toml")).expect("packaged config");
    let state = "/var/lib/faultline/faultline.redb";
    assert!(config.contains(state), "the store is not in the state dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("faultline.redb");
    std::fs::write(
        dir.path().join("faultline.toml"),
        config.replace(state, &store.to_string_lossy()),
    )
    .expect("write config");
    std::fs::copy(etc.join("topology.yaml"), dir.path().join("topology.yaml")).expect("topology");
    let config_path = dir.path().join("faultline.toml");
    let out = faultline(&["run", "--check", "--config", &config_path.to_string_lossy()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(summary.contains("1 devices"), "{summary}");
    assert!(!store.exists(), "--check created the store");
}
