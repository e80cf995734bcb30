//! Print a store's journal entries and the bytes their records take (keys and values, before
//! redb's page overhead), read-only while a collector writes: `bench/journal-growth.sh` samples
//! it twice to measure how fast the journal grows.
//!
//! `cargo run -p faultline-store --example journal-size -- STORE.redb` prints `ENTRIES BYTES`.

use std::process::ExitCode;

use faultline_store::Store;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: journal-size STORE.redb");
        return ExitCode::from(2);
    };
    match Store::open_read_only(&path).and_then(|s| s.journal_size()) {
        Ok((entries, bytes)) => {
            println!("{entries} {bytes}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("journal-size: {e}");
            ExitCode::FAILURE
        }
    }
}
