#!/usr/bin/env bash
# Pager delivery benchmark: enqueue -> receiver latency (p50/p99, outbox fsync included),
# outage-backlog drain throughput (deliveries/s) and per-incident order, against a local webhook.
# Usage: bench/pager-latency.sh   (env: PAGER_BENCH_LATENCY_N, PAGER_BENCH_BACKLOG_INCIDENTS)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-pager}"
cargo bench -p faultline-notify --bench pager_latency 2>/dev/null
