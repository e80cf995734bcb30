#!/bin/sh
# Trap receiver throughput: blast pre-encoded v2c linkDown traps over UDP loopback at a live
# TrapReceiver (front socket -> bounded queue -> async-snmp decoder -> observations) and print
# decoded/s and where losses happened. Target: >= 20,000 traps/s decoded on 2 cores, none lost
# below the socket buffer.
#
# Then the CPU a receiving `faultline traps` process spends per trap (issue #14: <= 10 us at
# 5-10k/s, zero loss at 100k/s paced): the sender runs in another process, the receiver's
# user+sys time (/proc/PID/stat), context switches (all its threads) and write syscalls
# (/proc/PID/io) over the run are divided by the traps it decoded.
#
# FAULTLINE_BIN=path uses that binary (e.g. a debug build) instead of building a release one;
# FLOOD_BIN likewise for the sender; CPU_RATES="5000 10000" and CPU_SECONDS=10 set the runs;
# PART=cpu runs only the CPU-per-trap part.
set -eu
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-bench}"
if [ -z "${FLOOD_BIN:-}" ]; then
    cargo build --release -q -p faultline-trap --example flood
fi
BIN="${FLOOD_BIN:-$CARGO_TARGET_DIR/release/examples/flood}"
if [ "${PART:-all}" = cpu ]; then
    exec "$(dirname "$0")/traps-cpu.sh"
fi
echo "== paced at 20,000/s (target rate), 100,000 traps"
"$BIN" 100000 20000
echo "== paced at 40,000/s, 200,000 traps"
"$BIN" 200000 40000
echo "== unpaced burst, 200,000 traps (shows the ceiling and where drops are counted)"
"$BIN" 200000 0
echo "== decode-path microbenchmark"
cargo bench -q -p faultline-trap --bench decode
echo "== CPU per trap of a receiving faultline traps process"
FLOOD_BIN="$BIN" "$(dirname "$0")/traps-cpu.sh"
