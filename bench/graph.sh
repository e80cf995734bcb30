#!/usr/bin/env bash
# Scale figures for the topology model and dependency graph (issue #2):
# load+validate, what-if, SPOF (divan) and peak memory per device of `faultline check`.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${DEVICES:-100000}
cargo build --release -q -p faultline-cli
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
./target/release/faultline generate --devices "$N" -o "$tmp/dc.json"
./target/release/faultline check "$tmp/dc.json" --json
for cmd in "check $tmp/dc.json" "impact $tmp/dc.json --down tor-3-7-1 --json" "spof $tmp/dc.json --service svc-42 --json"; do
    /usr/bin/time -f "%e s wall, %M KiB max RSS" -o "$tmp/t" ./target/release/faultline $cmd >/dev/null
    read -r wall _ _ rss _ < "$tmp/t"
    devices=$(./target/release/faultline check "$tmp/dc.json" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"])')
    echo "faultline ${cmd%% *}: ${wall} s wall (process incl. load), $((rss / 1024)) MiB max RSS = $((rss * 1024 / devices)) bytes/device"
done
cargo bench -q -p faultline-graph --bench graph 2>&1 | grep -v '^$'
