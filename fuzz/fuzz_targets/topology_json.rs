//! A topology file in JSON: the serde_json fast path, and the span-aware re-read on errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = faultline_model::Topology::from_json_str(text, "fuzz.json");
    }
});
