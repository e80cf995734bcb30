#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60) on the stable toolchain; exit non-zero on
# the first crash, leaving the crashing input under fuzz/artifacts/TARGET/.
#
#   fuzz/run.sh 120              # every target, two minutes each
#   fuzz/run.sh 30 trap_datagram # one target
#   fuzz/run.sh --build-only     # build every target, run none (CI builds them while tests run)
#
# How it builds without nightly or cargo-fuzz: libfuzzer-sys links libFuzzer's driver, and the
# coverage instrumentation comes from rustc's stable `-C passes=sancov-module` plus LLVM
# options. `--target` keeps those flags off build scripts and proc macros. The crates under
# test are built with debug assertions and overflow checks (fuzz/Cargo.toml), and a panic
# aborts, which libFuzzer reports as a crash.
#
# Each target starts from its seed corpus in fuzz/seeds/TARGET (committed) and grows a working
# corpus in fuzz/corpus/TARGET (not committed).
set -euo pipefail
cd "$(dirname "$0")"

build_only=false
if [ "${1:-}" = "--build-only" ]; then
    build_only=true
    shift
fi
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(trap_datagram snmp_response usm_report agent_request topology_yaml topology_json
        lldp_tables nagios_objects netbox_pages)
fi

host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="--cfg fuzzing -C passes=sancov-module \
 -C llvm-args=-sanitizer-coverage-level=4 \
 -C llvm-args=-sanitizer-coverage-inline-8bit-counters \
 -C llvm-args=-sanitizer-coverage-pc-table \
 -C llvm-args=-sanitizer-coverage-trace-compares"
# Bounded per input too: the topology loader must not take seconds on a small file.
max_len=${FUZZ_MAX_LEN:-8192}

echo "== fuzz: building ${#targets[@]} target(s) for $host"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
cargo build --release --locked --target "$host" "${bins[@]}"
if $build_only; then
    exit 0
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== fuzz: $t for ${seconds}s"
    if ! "target/$host/release/$t" "corpus/$t" "seeds/$t" \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>"artifacts/$t.log"; then
        tail -n 40 "artifacts/$t.log"
        failed+=("$t")
        continue
    fi
    grep -E "^stat::number_of_executed_units|^Done" "artifacts/$t.log" || true
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crash or failure in: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: ${#targets[@]} target(s) ran ${seconds}s each without a crash"
