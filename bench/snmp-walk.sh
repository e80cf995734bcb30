#!/usr/bin/env bash
# Walk a 200-interface ifTable (100 veth pairs in a network namespace, served by net-snmp's
# snmpd) with `faultline poll` and with net-snmp's `snmpbulkwalk`; print both wall times and
# the ratio. Needs root, iproute2, snmpd, snmp tools.
#
#   bench/snmp-walk.sh            (builds faultline in release into target-snmp if needed)
#   FAULTLINE=/path/to/faultline RUNS=20 bench/snmp-walk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
PAIRS=${PAIRS:-100}
FAULTLINE=${FAULTLINE:-target-snmp/release/faultline}
if [[ ! -x $FAULTLINE ]]; then
  CARGO_TARGET_DIR=target-snmp cargo build --release -q -p faultline-cli
fi
[[ $(id -u) == 0 ]] || { echo "needs root (network namespaces)"; exit 1; }

NS=fl-walk-$$
HOST_IF=flw$$
LAB=$(mktemp -d)
N=$(( $$ % 250 ))
HOST_IP=10.214.$N.1 NS_IP=10.214.$N.2
cleanup() {
  [[ -f $LAB/snmpd.pid ]] && kill "$(cat "$LAB/snmpd.pid")" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$LAB"
}
trap cleanup EXIT

ip netns add "$NS"
ip -n "$NS" link set lo up
ip link add "$HOST_IF" type veth peer name mgmt0 netns "$NS"
ip addr add "$HOST_IP/30" dev "$HOST_IF"; ip link set "$HOST_IF" up
ip -n "$NS" addr add "$NS_IP/30" dev mgmt0; ip -n "$NS" link set mgmt0 up
for i in $(seq 1 "$PAIRS"); do
  ip -n "$NS" link add "a$i" type veth peer name "b$i"
done
mkdir -p "$LAB/persist"
cat > "$LAB/snmpd.conf" <<CONF
agentaddress udp:$NS_IP:1161
rocommunity public default
master off
CONF
SNMP_PERSISTENT_DIR=$LAB/persist ip netns exec "$NS" /usr/sbin/snmpd -C -c "$LAB/snmpd.conf" -Lf "$LAB/snmpd.log" -p "$LAB/snmpd.pid"
for _ in $(seq 50); do
  snmpget -v2c -c public -m '' -t 0.2 -r 0 "$NS_IP:1161" 1.3.6.1.2.1.1.5.0 >/dev/null 2>&1 && break
  sleep 0.1
done

ms() { date +%s%N; }
run_timed() { # label command...
  local label=$1; shift
  local best=999999999 total=0
  for _ in $(seq "$RUNS"); do
    local t0 t1; t0=$(ms); "$@" >/dev/null; t1=$(ms)
    local d=$(( (t1 - t0) / 1000 ))
    total=$(( total + d )); (( d < best )) && best=$d
  done
  echo "$label: best $(( best / 1000 )).$(( best % 1000 / 100 )) ms, mean $(( total / RUNS / 1000 )).$(( total / RUNS % 1000 / 100 )) ms" >&2
  echo "$best"
}
IFS_SEEN=$("$FAULTLINE" poll "$NS_IP:1161" --json | grep -c '"index"')
echo "interfaces in ifTable: $IFS_SEEN (runs: $RUNS, max-repetitions 25)"
netsnmp_walk() {
  snmpbulkwalk -v2c -c public -m '' -Cr25 "$NS_IP:1161" 1.3.6.1.2.1.2.2
  snmpbulkwalk -v2c -c public -m '' -Cr25 "$NS_IP:1161" 1.3.6.1.2.1.31.1.1
}
A=$(run_timed "faultline poll (system + 12 IF/IF-X columns + LLDP, one process)" "$FAULTLINE" poll "$NS_IP:1161" --json --max-repetitions 25)
B=$(run_timed "snmpbulkwalk ifTable + ifXTable (all 41 columns, two processes)" netsnmp_walk)
C=$(run_timed "snmpbulkwalk ifTable only (22 columns, one process)" snmpbulkwalk -v2c -c public -m '' -Cr25 "$NS_IP:1161" 1.3.6.1.2.1.2.2)
echo "ratio faultline / snmpbulkwalk(ifTable+ifXTable): $(awk "BEGIN{printf \"%.2f\", $A/$B}")"
echo "ratio faultline / snmpbulkwalk(ifTable only):     $(awk "BEGIN{printf \"%.2f\", $A/$C}")"
