#!/bin/sh
# ICMP sweep: 10,000 loopback targets (127.0.0.1 .. 127.0.39.16, answered by the kernel) over
# one RAW socket, paced. Target: <= 2 s per sweep. Needs root (or CAP_NET_RAW).
set -eu
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-bench}"
cargo build --release -q -p faultline-probe --example sweep
BIN="$CARGO_TARGET_DIR/release/examples/sweep"
echo "== 10,000 targets x1, paced at 20,000 pps"
"$BIN" 10000 1 20000
echo "== 10,000 targets x1, paced at 50,000 pps"
"$BIN" 10000 1 50000
echo "== 10,000 targets x3 (interval 100 ms), paced at 20,000 pps"
"$BIN" 10000 3 20000
echo "== oracle: fping over the first 1,000 targets (one process, for comparison)"
if command -v fping >/dev/null; then
  start=$(date +%s%N)
  fping -q -c1 -t 1000 -i 1 -g 127.0.0.1 127.0.3.232 2>&1 |
    awk -F'[/ ]+' '/xmt\/rcv/ {s+=$7; r+=$8} END {printf "fping: sent %d received %d", s, r}'
  end=$(date +%s%N)
  echo " in $(( (end - start) / 1000000 )) ms"
else
  echo "fping not installed; skipping oracle"
fi
