#!/usr/bin/env bash
# Collector memory over time (issue #9, item 18). Two parts, release build:
#
# 1. Soak: the built-in demo lab with a failure and its repair every CYCLE s (default 60: fw-a
#    fails, heals half a cycle later) for DURATION s (default 1800). RSS is sampled every 10 s;
#    prints the RSS after the first cycle, the peak, the last, and the growth over the second
#    half (MiB/min, least squares), which is ~0 once every bounded store has filled: the
#    engine's evidence (24 per component), timeline (`timeline_capacity`), resolved incidents
#    (1,000), redb's page cache (32 MiB).
# 2. Reload: a collector on a one-device topology is reloaded (SIGHUP) onto a DEVICES-device
#    topology (default 100,000) and back; prints RSS before, at the large topology, and after.
#
#   bench/soak-rss.sh                  # both, 30 min soak
#   DURATION=600 CYCLE=30 bench/soak-rss.sh
#   CACHE_MIB=4 PART=soak bench/soak-rss.sh     # the store's page cache at 4 MiB instead of 32
#   PART=reload bench/soak-rss.sh
#   FAULTLINE_BIN=target/debug/faultline DURATION=600 CYCLE=30 bench/soak-rss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-1800}
CYCLE=${CYCLE:-60}
DEVICES=${DEVICES:-100000}
PART=${PART:-both}
# FAULTLINE_BIN runs another build (e.g. target/debug/faultline: slower, same growth shape).
if [ -z "${FAULTLINE_BIN:-}" ]; then
    cargo build --release -q -p faultline-cli
fi
bin=${FAULTLINE_BIN:-$PWD/target/release/faultline}
tmp=$(mktemp -d)
cleanup() { kill "${coll:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
mib() { echo $(( $1 / 1024 )); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The built-in demo's settings (Config::demo) as a file, with the store's cache at $1 MiB.
demo_config() {
    cat <<CFG
topology = "$PWD/topology/contractor-portal.yaml"
lab = true
[poll]
interval_s = 2
timeout_ms = 500
retries = 0
[icmp]
enabled = false
[probe]
interval_s = 2
timeout_ms = 1000
[drift]
enabled = false
[store]
path = "soak.redb"
cache_mib = $1
[engine]
stale_after_ms = 15000
[engine.device]
down_ms = 4000
up_ms = 6000
[engine.link]
down_ms = 3000
up_ms = 6000
[engine.probe]
down_ms = 4000
up_ms = 6000
[credentials.default]
version = "v2c"
community = "public"
CFG
}

soak() {
    local port api samples=() t0 now
    port=$(free_port)
    api="http://127.0.0.1:$port"
    # With CACHE_MIB, the same demo from a configuration file whose [store] cache_mib is set
    # (the store's page cache is the one owner that fills over the first hour).
    local args=(run --listen "127.0.0.1:$port")
    if [ -n "${CACHE_MIB:-}" ]; then
        demo_config "$CACHE_MIB" > "$tmp/demo.toml"
        args+=(--config "$tmp/demo.toml")
    fi
    # faultline::cmd::memory at debug: the periodic memory trim logs what it cost.
    (cd "$tmp" && FAULTLINE_LOG="warn,faultline_collector=info,faultline_lab=info,faultline::cmd::memory=debug,async_snmp=off" \
        exec "$bin" "${args[@]}" >/dev/null 2>"$tmp/soak.log") &
    coll=$!
    for _ in $(seq 100); do curl -sf "$api/api/v1/status" >/dev/null && break; sleep 0.2; done
    t0=$(date +%s)
    local next_fail=$t0 healed=1
    while now=$(date +%s); [ $((now - t0)) -lt "$DURATION" ]; do
        if [ "$now" -ge "$next_fail" ]; then
            "$bin" lab fail fw-a --api "$api" >/dev/null
            healed=0
            next_fail=$((now + CYCLE))
        elif [ "$healed" -eq 0 ] && [ "$now" -ge $((next_fail - CYCLE / 2)) ]; then
            "$bin" lab reset --api "$api" >/dev/null
            healed=1
        fi
        samples+=("$((now - t0)) $(rss_kib "$coll")")
        sleep 10
    done
    printf '%s\n' "${samples[@]}" > "$tmp/rss.txt"
    kill "$coll"; wait "$coll" 2>/dev/null || true
    local incidents
    incidents=$(grep -c 'action=Trigger' "$tmp/soak.log" || true)
    awk -v cycle="$CYCLE" -v dur="$DURATION" -v inc="$incidents" -v cache="${CACHE_MIB:-32} MiB" '
        { t[NR] = $1; r[NR] = $2 / 1024; if (r[NR] > peak) peak = r[NR] }
        END {
            for (i = 1; i <= NR; i++) if (t[i] >= cycle) { first = r[i]; break }
            half = dur / 2
            for (i = 1; i <= NR; i++) if (t[i] >= half) { n++; sx += t[i]; sy += r[i]; sxx += t[i]*t[i]; sxy += t[i]*r[i] }
            slope = (n > 1) ? (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60 : 0
            printf "soak: demo lab (store cache %s), a failure and repair every %d s for %d s (%d incidents):\n", cache, cycle, dur, inc
            printf "  RSS after the first cycle %.1f MiB, peak %.1f MiB, last %.1f MiB\n", first, peak, r[NR]
            printf "  growth over the second half: %.3f MiB/min\n", slope
        }' "$tmp/rss.txt"
    { grep -o 'took_us=[0-9]*' "$tmp/soak.log" || true; } | cut -d= -f2 | sort -n | awk '
        { v[NR] = $1 }
        END { if (NR) printf "  periodic memory trims: %d, median %d µs, max %d µs\n", NR, v[int((NR + 1) / 2)], v[NR] }'
}

reload() {
    local port
    port=$(free_port)
    echo '{"name": "one", "devices": [{"id": "d1", "kind": "server", "address": "127.0.0.1"}]}' \
        > "$tmp/small.json"
    "$bin" generate --devices "$DEVICES" --loopback -o "$tmp/large.json"
    cat > "$tmp/faultline.toml" <<CFG
topology = "current.json"
[api]
listen = "127.0.0.1:$port"
[poll]
interval_s = 3600
[icmp]
enabled = false
[store]
path = "reload.redb"
CFG
    ln -sf "$tmp/small.json" "$tmp/current.json"
    (cd "$tmp" && exec "$bin" run --config "$tmp/faultline.toml" >/dev/null 2>"$tmp/reload.log") &
    coll=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v1/status" >/dev/null && break; sleep 0.2; done
    sleep 2
    local before large after
    before=$(rss_kib "$coll")
    ln -sf "$tmp/large.json" "$tmp/current.json"
    kill -HUP "$coll"
    for _ in $(seq 600); do [ "$(grep -c 'collector running' "$tmp/reload.log")" -ge 2 ] && break; sleep 0.5; done
    sleep 5
    large=$(rss_kib "$coll")
    ln -sf "$tmp/small.json" "$tmp/current.json"
    kill -HUP "$coll"
    for _ in $(seq 600); do [ "$(grep -c 'collector running' "$tmp/reload.log")" -ge 3 ] && break; sleep 0.5; done
    sleep 5
    after=$(rss_kib "$coll")
    kill "$coll"; wait "$coll" 2>/dev/null || true
    echo "reload: one device -> $DEVICES devices -> one device (SIGHUP):"
    echo "  RSS before $(mib "$before") MiB, at $DEVICES devices $(mib "$large") MiB, after $(mib "$after") MiB"
}

case "$PART" in
    soak) soak ;;
    reload) reload ;;
    *) soak; reload ;;
esac
