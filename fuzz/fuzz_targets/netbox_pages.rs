//! Saved NetBox / Nautobot API pages (`faultline import netbox`): any JSON, read as one page
//! (`{"results": [...]}` or a bare list of objects) or, when it is a list of pages, as all of
//! them; objects of every endpoint in any shape the server (or a hand-edited file) gives.
//!
//! Beyond "never panics": what the import writes loads. Names, interface names, ids and cable
//! ends are the inventory's, not ours, so no input may make the import write a topology the
//! model refuses.
#![no_main]

use faultline_model::Topology;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let pages = match &v {
        Value::Array(items) if !items.is_empty() && items.iter().all(|p| p.get("results").is_some()) => {
            items.clone()
        }
        _ => vec![v],
    };
    let imported = faultline_import::netbox::import_pages(&pages);
    let json = imported.to_json("fuzz");
    if let Err(e) = Topology::from_json_str(&json, "fuzz.json") {
        panic!("the import does not load: {e}\n{json}");
    }
});
