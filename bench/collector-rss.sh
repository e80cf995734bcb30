#!/usr/bin/env bash
# Collector footprint (issue #4): RSS and CPU of `faultline run` polling N devices (default
# 10,000) over SNMP every 60 s. Every device is answered by one simulated agent listening on
# 0.0.0.0:PORT (devices get 127.x.y.z addresses, all loopback). Prints max RSS, CPU % of one
# core, polls and observations. DURATION (s) defaults to 150.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${DEVICES:-10000}
DURATION=${DURATION:-150}
PORT=${PORT:-16161}
API=${API:-127.0.0.1:19181}
cargo build --release -q -p faultline-cli -p faultline-agent-sim
tmp=$(mktemp -d)
cleanup() { kill "${agent:-}" "${coll:-}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
./target/release/faultline generate --devices "$N" --loopback -o "$tmp/dc.json"
./target/release/faultline-agent-sim "0.0.0.0:$PORT" --interfaces 16 >/dev/null &
agent=$!
cat > "$tmp/faultline.toml" <<CFG
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
./target/release/faultline run --config "$tmp/faultline.toml" >/dev/null 2>"$tmp/log" &
coll=$!
hz=$(getconf CLK_TCK)
max_rss=0
start_ticks=""
t0=$(date +%s)
sleep 5
while [ $(( $(date +%s) - t0 )) -lt "$DURATION" ]; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$coll/status)
    [ "$rss" -gt "$max_rss" ] && max_rss=$rss
    ticks=$(awk '{print $14 + $15}' /proc/$coll/stat)
    [ -z "$start_ticks" ] && { start_ticks=$ticks; start_t=$(date +%s.%N); }
    sleep 5
done
end_t=$(date +%s.%N)
cpu=$(awk -v a="$start_ticks" -v b="$ticks" -v hz="$hz" -v t0="$start_t" -v t1="$end_t" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / (t1 - t0) }')
metrics=$(curl -s "http://$API/metrics")
polls=$(echo "$metrics" | awk '/^faultline_poll_duration_seconds_count/ {print $2}')
obs=$(echo "$metrics" | awk '/^faultline_observations_total/ {print $2}')
echo "collector, $N devices polled every 60 s over SNMP, ${DURATION} s:"
echo "  max RSS: $((max_rss / 1024)) MiB"
echo "  CPU: ${cpu} % of one core (steady state, after the first 5 s)"
echo "  polls: ${polls:-?}, observations journaled: ${obs:-?}"
