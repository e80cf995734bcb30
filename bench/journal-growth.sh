#!/usr/bin/env bash
# Journal growth (issue #14): how fast the journal grows while `faultline run` polls N
# devices (default 10,000) over SNMP every 60 s, all answered by one simulated agent that
# reports the same (a quiet network). Measured after the first full poll round (WARMUP s,
# default 90: first sightings are always journaled) and DURATION s later (default 240), with
# the store's `journal-size` example (journal entries and the bytes of their keys and records,
# read-only while the collector writes). Prints, per binary: journal bytes and entries per
# minute, observations held back (thinned), polls, the store file's growth (which also holds
# snapshots, incidents and redb's page overhead) and the extrapolated GiB a day; the per-device
# figures extrapolate to 10,000 devices when N is smaller (a loaded machine's debug build
# cannot poll 10,000 devices a minute).
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
CARGO_INCREMENTAL=0 cargo build -q -p faultline-store --example journal-size
JSIZE=$(realpath ./target/debug/examples/journal-size)
BIN=./target/$PROFILE
tmp=$(mktemp -d)
cleanup() { kill "${agent:-}" "${coll:-}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
"$BIN/faultline" generate --devices "$N" --loopback -o "$tmp/dc.json"
"$BIN/faultline-agent-sim" "0.0.0.0:$PORT" --interfaces 16 >/dev/null &
agent=$!

metric() { curl -s "http://$API/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# Sum of a labelled series.
metric_sum() { curl -s "http://$API/metrics" | awk -v m="$1" 'index($1, m "{") == 1 || $1 == m {s += $2} END {print s + 0}'; }
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
    local s0 s1 j0 j1 t0 t1 p0 p1 f0 f1
    s0=$(size "$dir"); j0=$("$JSIZE" "$dir/fl.redb")
    t0=$(metric faultline_journal_observations_thinned_total)
    p0=$(metric faultline_poll_duration_seconds_count); f0=$(metric_sum faultline_poll_failures_total)
    # The store file each minute: snapshots are replaced in place and redb reuses freed pages,
    # so after the first snapshots the file should level off rather than grow with the journal.
    local sizes="" waited=0
    while [ "$waited" -lt "$DURATION" ]; do
        local step=$(( DURATION - waited < 60 ? DURATION - waited : 60 ))
        sleep "$step"; waited=$(( waited + step ))
        sizes="$sizes $(awk -v s="$(size "$dir")" 'BEGIN { printf "%.1f", s / 1048576 }')"
    done
    s1=$(size "$dir"); j1=$("$JSIZE" "$dir/fl.redb")
    t1=$(metric faultline_journal_observations_thinned_total)
    p1=$(metric faultline_poll_duration_seconds_count); f1=$(metric_sum faultline_poll_failures_total)
    kill "$coll"; wait "$coll" 2>/dev/null || true
    SIZES="$sizes" awk -v name="$name" -v n="$N" -v d="$DURATION" -v s0="$s0" -v s1="$s1" -v j0="$j0" -v j1="$j1" \
        -v t0="${t0:-0}" -v t1="${t1:-0}" -v p0="${p0:-0}" -v p1="${p1:-0}" -v f0="${f0:-0}" -v f1="${f1:-0}" 'BEGIN {
        min = d / 60; split(j0, a, " "); split(j1, b, " ")
        entries = (b[1] - a[1]) / min; bpm = (b[2] - a[2]) / min; scale = 10000 / n
        printf "%s: %d devices, 60 s polls, %d s after a %s s warm-up\n", name, n, d, ENVIRON["WARMUP"]
        printf "  polls: %.0f/min (%.0f%% of the devices), failed: %.0f/min\n", (p1 - p0) / min, 100 * (p1 - p0) / min / n, (f1 - f0) / min
        printf "  journal: %.0f entries/min, %.0f B/entry, %.1f KiB/min; held back (thinned): %.0f/min\n", entries, (entries > 0 ? bpm / entries : 0), bpm / 1024, (t1 - t0) / min
        printf "  store file: %.1f -> %.1f MiB (%.2f MiB/min, snapshots and page overhead included)\n", s0 / 1048576, s1 / 1048576, (s1 - s0) / min / 1048576
        printf "  store file each minute (MiB):%s\n", ENVIRON["SIZES"]
        printf "  extrapolated to 10,000 devices: journal %.2f GiB/day, store file %.2f GiB/day\n", bpm * scale * 1440 / 1073741824, (s1 - s0) / min * scale * 1440 / 1073741824
    }'
}

export WARMUP
if [ -n "${BEFORE:-}" ]; then
    measure before "$BEFORE"
fi
measure after "$BIN/faultline"
