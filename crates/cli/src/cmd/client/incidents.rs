//! `faultline incidents [--all]`.

use std::process::ExitCode;

use faultline_api::{IncidentsQuery, IncidentsResponse, Method, path};

use super::{ApiArgs, print_incident};

#[derive(clap::Args)]
pub struct IncidentsArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Include recently resolved incidents.
    #[arg(long)]
    pub all: bool,
}

pub fn incidents(a: IncidentsArgs) -> ExitCode {
    let q = IncidentsQuery { all: a.all };
    super::with_api(
        &a.api,
        Method::Get,
        &path::incidents(q),
        |v: &IncidentsResponse| {
            if v.open.is_empty() {
                println!("no open incidents");
            }
            for i in &v.open {
                print_incident(i, true);
            }
            for i in &v.resolved {
                println!("(resolved)");
                print_incident(i, false);
            }
        },
    )
}
