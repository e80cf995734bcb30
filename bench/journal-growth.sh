#!/usr/bin/env bash
# Journal growth (issue #14): how fast the store file grows while `faultline run` polls N
# devices (default 10,000) over SNMP every 60 s, all answered by one simulated agent that
# reports the same (a quiet network). The store is measured after the first full poll round
# (WARMUP s, default 90: first sightings are always journaled) and DURATION s later (default
# 240). Prints, per binary: store bytes per minute, observations journaled and held back
# (thinned) per minute, and the extrapolated GiB a day.
#
#   BEFORE=path/to/old/faultline bench/journal-growth.sh   # also measure an older binary
#   STALE_MS=900000 bench/journal-growth.sh                  # [engine] stale_after_ms
#
# PROFILE=debug uses target/debug (no release build); the default is release.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${DEVICES:-10000}
WARMUP=${WARMUP:-90}
DURATION=${DURATION:-240}
PORT=${PORT:-16171}
API=${API:-127.0.0.1:19191}
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
    cargo build --release -q -p faultline-cli -p faultline-agent-sim
else
    CARGO_INCREMENTAL=0 cargo build -q -p faultline-cli -p faultline-agent-sim
fi
BIN=./target/$PROFILE
tmp=$(mktemp -d)
cleanup() { kill "${agent:-}" "${coll:-}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
"$BIN/faultline" generate --devices "$N" --loopback -o "$tmp/dc.json"
"$BIN/faultline-agent-sim" "0.0.0.0:$PORT" --interfaces 16 >/dev/null &
agent=$!

metric() { curl -s "http://$API/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
size() { stat -c %s "$1/fl.redb"; }

# measure NAME BINARY: one collector run on a fresh store; prints one block of figures.
measure() {
    local name=$1 bin=$2 dir="$tmp/$1"
    mkdir -p "$dir"
    cp "$tmp/dc.json" "$dir/"
    cat > "$dir/faultline.toml" <<CFG
topology = "dc.json"
[api]
listen = "$API"
[poll]
interval_s = 60
port = $PORT
timeout_ms = 2000
concurrency = 512
[icmp]
enabled = false
[store]
path = "fl.redb"
[credentials.default]
version = "v2c"
community = "public"
CFG
    if [ -n "${STALE_MS:-}" ]; then
        printf '[engine]\nstale_after_ms = %s\n' "$STALE_MS" >> "$dir/faultline.toml"
    fi
    bin=$(realpath "$bin")
    (cd "$dir" && exec "$bin" run --config faultline.toml >/dev/null 2>log) &
    coll=$!
    sleep "$WARMUP"
    local s0 o0 t0 s1 o1 t1
    s0=$(size "$dir"); o0=$(metric faultline_observations_total); t0=$(metric faultline_journal_observations_thinned_total)
    sleep "$DURATION"
    s1=$(size "$dir"); o1=$(metric faultline_observations_total); t1=$(metric faultline_journal_observations_thinned_total)
    kill "$coll"; wait "$coll" 2>/dev/null || true
    awk -v name="$name" -v n="$N" -v d="$DURATION" -v s0="$s0" -v s1="$s1" -v o0="${o0:-0}" -v o1="${o1:-0}" \
        -v t0="${t0:-0}" -v t1="${t1:-0}" 'BEGIN {
        min = d / 60; bpm = (s1 - s0) / min
        printf "%s: %d devices, 60 s polls, %d s after a %s s warm-up\n", name, n, d, ENVIRON["WARMUP"]
        printf "  store file: %.1f MiB -> %.1f MiB, %.2f MiB/min\n", s0 / 1048576, s1 / 1048576, bpm / 1048576
        printf "  observations journaled: %.0f/min, held back (thinned): %.0f/min\n", (o1 - o0) / min, (t1 - t0) / min
        if (o1 > o0) printf "  store bytes per journaled observation: %.0f\n", (s1 - s0) / (o1 - o0)
        printf "  extrapolated: %.2f GiB/day\n", bpm * 1440 / 1073741824
    }'
}

export WARMUP
if [ -n "${BEFORE:-}" ]; then
    measure before "$BEFORE"
fi
measure after "$BIN/faultline"
