#!/usr/bin/env bash
# Poller throughput on one core against simulated agents (separate processes): prints
# varbinds/s per core, polls/s, CPU time, and the CPU share of 10,000 devices every 60 s.
#   FL_BENCH_DEVICES=10000 bench/snmp-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target-snmp} cargo bench -q -p faultline-agent-sim --bench poll_throughput 2>&1 \
  | grep -v -E '^\s*(Compiling|Finished|Running)'
