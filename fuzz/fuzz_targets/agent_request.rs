//! A request datagram arriving at the simulated agent (the demo lab and load tests): BER
//! request decode and the answer built from a table.
#![no_main]

use std::sync::OnceLock;

use faultline_agent_sim::{Table, ber};
use libfuzzer_sys::fuzz_target;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table::synthetic("sim-1", 8))
}

fuzz_target!(|data: &[u8]| {
    let _ = ber::decode_request(data);
    let _ = faultline_agent_sim::answer(table(), data, 12_345);
});
