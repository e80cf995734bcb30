//! A topology file in YAML: parse, schema check with every problem collected, validation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = faultline_model::Topology::from_yaml_str(text, "fuzz.yaml");
    }
});
