//! `faultline why ID` without a topology: the live why from the collector.

use std::process::ExitCode;

use faultline_api::{Method, WhyResponse, path};

use super::{ApiArgs, print_incident};

pub fn why_live(id: &str, api: &ApiArgs) -> ExitCode {
    super::with_api(api, Method::Get, &path::why(id), |v: &WhyResponse| {
        print!("{}", v.text);
        if !v.failed.is_empty() {
            println!("failed: {}", v.failed.join(", "));
        }
        if let Some(i) = &v.incident {
            println!();
            print_incident(i, true);
        }
    })
}
