//! `faultline completions SHELL` and `faultline man DIR`: shell completions and manual pages
//! generated from the same clap definitions as `--help`, so they never drift from it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for (bash: `source <(faultline completions bash)`, or save it as
    /// /usr/share/bash-completion/completions/faultline).
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Directory to write `faultline.1` and one `faultline-COMMAND.1` per subcommand into
    /// (created if missing), e.g. /usr/share/man/man1.
    pub dir: PathBuf,
}

/// Print the completion script for `a.shell` on standard output.
pub fn completions(a: CompletionsArgs, mut command: clap::Command) -> ExitCode {
    let name = command.get_name().to_string();
    clap_complete::generate(a.shell, &mut command, name, &mut std::io::stdout());
    ExitCode::SUCCESS
}

/// Write the manual pages into `a.dir` and list them.
pub fn man(a: ManArgs, command: clap::Command) -> ExitCode {
    match write_pages(&a.dir, command) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("faultline man: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `faultline.1` for the program, then `faultline-SUB.1` for every visible subcommand.
fn write_pages(dir: &Path, command: clap::Command) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut command = command;
    command.build();
    let name = command.get_name().to_string();
    let mut written = vec![write_page(dir, &name, command.clone())?];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let page = format!("{name}-{}", sub.get_name());
        written.push(write_page(dir, &page, sub.clone().name(page.clone()))?);
    }
    Ok(written)
}

fn write_page(dir: &Path, page: &str, command: clap::Command) -> Result<PathBuf, String> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut roff)
        .map_err(|e| format!("rendering {page}: {e}"))?;
    let path = dir.join(format!("{page}.1"));
    std::fs::write(&path, roff).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
