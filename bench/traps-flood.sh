#!/bin/sh
# Trap receiver throughput: blast pre-encoded v2c linkDown traps over UDP loopback at a live
# TrapReceiver (front socket -> bounded queue -> async-snmp decoder -> observations) and print
# decoded/s and where losses happened. Target: >= 20,000 traps/s decoded on 2 cores, none lost
# below the socket buffer.
set -eu
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-bench}"
cargo build --release -q -p faultline-trap --example flood
BIN="$CARGO_TARGET_DIR/release/examples/flood"
echo "== paced at 20,000/s (target rate), 100,000 traps"
"$BIN" 100000 20000
echo "== paced at 40,000/s, 200,000 traps"
"$BIN" 200000 40000
echo "== unpaced burst, 200,000 traps (shows the ceiling and where drops are counted)"
"$BIN" 200000 0
echo "== decode-path microbenchmark"
cargo bench -q -p faultline-trap --bench decode
