#!/bin/sh
# CPU per trap of a receiving `faultline traps` process, with a paced sender in another process
# (the flood example's send-only mode). For each rate: the receiver's user+sys time from
# /proc/PID/stat, its context switches (every thread) and write syscalls (/proc/PID/io) over the
# run, divided by the traps it decoded; then a 100k/s paced run for loss. Called by
# traps-flood.sh; FAULTLINE_BIN and FLOOD_BIN name the binaries (built release when unset).
set -eu
# Job control, so that the background receiver does not start with SIGINT ignored.
set -m 2>/dev/null || true
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-bench}"
if [ -z "${FAULTLINE_BIN:-}" ]; then
    cargo build --release -q -p faultline-cli
    FAULTLINE_BIN="$CARGO_TARGET_DIR/release/faultline"
fi
if [ -z "${FLOOD_BIN:-}" ]; then
    cargo build --release -q -p faultline-trap --example flood
    FLOOD_BIN="$CARGO_TARGET_DIR/release/examples/flood"
fi
SECONDS_PER_RUN="${CPU_SECONDS:-10}"
HZ=$(getconf CLK_TCK)

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s }'; }
writes() { awk '/^syscw/ { print $2 }' "/proc/$1/io"; }

# run RATE COUNT: one receiver, one paced sender; prints one line of figures.
run() {
    rate=$1 count=$2
    err=$(mktemp)
    "$FAULTLINE_BIN" traps --listen 127.0.0.1:0 >/dev/null 2>"$err" &
    pid=$!
    addr=""
    for _ in $(seq 100); do
        addr=$(sed -n 's/^listening for traps on \([^ ]*\).*/\1/p' "$err")
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { cat "$err"; kill "$pid"; exit 1; }
    t0=$(ticks "$pid") c0=$(switches "$pid") w0=$(writes "$pid")
    "$FLOOD_BIN" "$count" "$rate" "$addr" >/dev/null
    # Until the receiver is idle (it may still be working through its backlog), 2 min at most.
    t1=$(ticks "$pid")
    for _ in $(seq 240); do
        sleep 0.5
        t=$(ticks "$pid")
        [ "$t" = "$t1" ] && break
        t1=$t
    done
    c1=$(switches "$pid") w1=$(writes "$pid")
    kill -INT "$pid"
    wait "$pid" || true
    stats=$(grep '^received' "$err" || echo "received 0 decoded 0")
    rm -f "$err"
    echo "$stats" | awk -v rate="$rate" -v count="$count" -v t="$((t1 - t0))" -v hz="$HZ" \
        -v c="$((c1 - c0))" -v w="$((w1 - w0))" '{
        decoded = $4; lost = count - decoded  # kernel drops + counted drops
        if (decoded == 0) { print "paced " rate "/s: nothing decoded"; exit }
        printf "paced %d/s, %d traps: decoded %d, lost %d | CPU %.1f us/trap (user+sys %.2f s) | %.2f context switches/trap | %.3f writes/trap\n",
            rate, count, decoded, lost, t / hz * 1e6 / decoded, t / hz, c / decoded, w / decoded
    }'
}

for rate in ${CPU_RATES:-5000 10000}; do
    run "$rate" $((rate * SECONDS_PER_RUN))
done
echo "== loss at 100k/s paced through faultline traps, 500,000 traps"
run 100000 500000
