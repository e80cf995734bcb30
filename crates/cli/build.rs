//! Records the commit the binary is built from for `faultline --version`: `git describe` of
//! the checkout (with `-dirty` for uncommitted changes), or `FAULTLINE_COMMIT` from the
//! environment (packaging from a tarball), else "unknown commit".

use std::process::Command;

fn main() {
    let commit = std::env::var("FAULTLINE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown commit".to_string());
    println!("cargo:rustc-env=FAULTLINE_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=FAULTLINE_COMMIT");
    // A new commit or checkout changes HEAD or the ref it points at.
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(git_dir);
            println!("cargo:rerun-if-changed={common}/{head_ref}");
        }
    }
}

fn git_commit() -> Option<String> {
    git(&["describe", "--always", "--dirty", "--abbrev=12"])
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}
