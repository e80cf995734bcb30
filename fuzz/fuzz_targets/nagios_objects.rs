//! A Nagios object configuration (`faultline import nagios`): `define` blocks, comments and
//! settings parsed, templates resolved, hosts rendered as a topology. Includes (`cfg_file`,
//! `cfg_dir`) are not followed: the text is the whole input.
//!
//! Beyond "never panics": what the import renders loads. The only topology problems an
//! import may have are the ones Nagios files can hold and faultline refuses, parent loops
//! (a host its own parent, or a cycle); anything else is a bug in the import's rendering.
#![no_main]

use faultline_model::Topology;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let imported = faultline_import::nagios::import_text("fuzz.cfg", text);
    match imported.to_checked_yaml("fuzz", "fuzz", "fuzz.yaml") {
        Ok(yaml) => {
            if let Err(e) = Topology::from_yaml_str(&yaml, "fuzz.yaml") {
                panic!("the checked YAML does not load: {e}\n{yaml}");
            }
        }
        Err(e) => {
            let loops = e
                .lines()
                .all(|l| l.contains("dependency cycle") || l.contains("requires itself"));
            assert!(loops, "the import renders an invalid topology: {e}\n{text}");
        }
    }
});
