#!/usr/bin/env bash
# Distributed shape throughput and latency (issue #13): PUBLISHERS (10) pollers' publish path
# (the real Publisher) through a 3-node JetStream cluster (file storage, 3 replicas) on
# loopback into one correlator consumer feeding the engine (thin, ingest, advance; no journal).
# Prints observations/s end to end with the batch size, and the latency p50/p99 from the poll
# time (the observation's time stamp) to engine ingest: once unpaced (throughput), once paced
# at RATE (default 200000 observations/s, the target load) for the latency at that load.
# Knobs: PUBLISHERS, BATCH (1000 observations per batch), BATCHES (per publisher), RATE.
# Needs nats-server (Debian's package).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p faultline-cluster --features bench --bin cluster-throughput
bin=target/release/cluster-throughput
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -a client cluster monitor
for i in 0 1 2; do client[$i]=$(free_port); cluster[$i]=$(free_port); monitor[$i]=$(free_port); done
urls=()
for i in 0 1 2; do
    routes=""
    for j in 0 1 2; do
        [ "$j" = "$i" ] && continue
        routes="$routes\"nats://127.0.0.1:${cluster[$j]}\", "
    done
    cat > "$tmp/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${client[$i]}
http: 127.0.0.1:${monitor[$i]}
jetstream { store_dir: "$tmp/n$i" }
cluster {
  name: bench
  listen: 127.0.0.1:${cluster[$i]}
  routes: [${routes%, }]
}
CONF
    nats-server -c "$tmp/n$i.conf" >"$tmp/n$i.log" 2>&1 &
    pids+=($!)
    urls+=("nats://127.0.0.1:${client[$i]}")
done
for i in 0 1 2; do
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:${monitor[$i]}/healthz" >/dev/null 2>&1 && break
        sleep 0.2
    done
done
NATS=$(IFS=,; echo "${urls[*]}")
export NATS
echo "3-node JetStream cluster up: $NATS"
# The second run's consumer resumes after the first run's last acknowledgement.
RATE=0 BATCHES=${BATCHES:-200} "$bin"
RATE=${RATE:-200000} BATCHES=${PACED_BATCHES:-100} "$bin"
