//! `import-bench NAGIOS_CFG OUT`: what `faultline import nagios NAGIOS_CFG -o OUT` does (read,
//! resolve, render, validate, write), built from this crate alone so that
//! `bench/import-vs-nagios.sh` can time a release build without building the whole CLI.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cfg, out] = args.as_slice() else {
        eprintln!("usage: import-bench NAGIOS_CFG OUT");
        return ExitCode::from(2);
    };
    let run = || -> Result<usize, String> {
        let started = std::time::Instant::now();
        let imported = faultline_import::nagios::import(&[PathBuf::from(cfg)])?;
        let read = started.elapsed();
        let text = imported.to_checked_yaml("nagios", "import-bench", out)?;
        let checked = started.elapsed();
        std::fs::write(out, text).map_err(|e| format!("{out}: {e}"))?;
        eprintln!(
            "phases: read+resolve {read:.2?}, render+validate {:.2?}, write {:.2?}",
            checked - read,
            started.elapsed() - checked
        );
        Ok(imported.hosts.len())
    };
    match run() {
        Ok(n) => {
            eprintln!("imported {n} hosts");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("import-bench: {e}");
            ExitCode::from(1)
        }
    }
}
