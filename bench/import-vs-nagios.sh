#!/bin/sh
# Time `faultline import nagios` against `nagios4 -v` on the same generated configuration, best
# of RUNS (default 3) each, alternating, in one run: wall time, CPU time (user + system) and
# peak RSS side by side.
# Usage: bench/import-vs-nagios.sh [HOSTS]   (default 100000)
# IMPORT names the command run as `$IMPORT NAGIOS_CFG OUT`; by default the release build of
# faultline-import's `import-bench` binary (the CLI's `import nagios` code path without the rest
# of the CLI), built first with
#   cargo build --release -p faultline-import --features bench-bin --bin import-bench
# For the full CLI, point IMPORT at a wrapper running `faultline import nagios "$1" -o "$2"`.
# Needs python3 and nagios4 (nagios4-core).
set -eu
hosts=${1:-100000}
runs=${RUNS:-3}
bin=${IMPORT:-target/release/import-bench}
dir=$(mktemp -d)
chmod 755 "$dir"  # nagios4 -v checks its result directory as the nagios user
trap 'rm -rf "$dir"' EXIT
python3 "$(dirname "$0")/nagios-gen.py" "$hosts" "$dir"
/usr/sbin/nagios4 -v "$dir/nagios.cfg" >"$dir/verify.txt" || { cat "$dir/verify.txt"; exit 1; }
grep -E "Checked [0-9]+ hosts\.|Total Errors" "$dir/verify.txt"

# One timed run: "wall cpu rss_kib" appended to FILE.
timed() {
    file=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$dir/t" "$@" >/dev/null 2>"$dir/err" ||
        { cat "$dir/err"; exit 1; }
    awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$dir/t" >>"$file"
}
i=0
while [ "$i" -lt "$runs" ]; do
    timed "$dir/nagios" /usr/sbin/nagios4 -v "$dir/nagios.cfg"
    timed "$dir/import" $bin "$dir/nagios.cfg" "$dir/topology.yaml"
    i=$((i + 1))
done
grep phases "$dir/err" || true
best() { sort -n "$1" | head -1; }
set -- $(best "$dir/nagios")
n_wall=$1 n_cpu=$2 n_rss=$3
set -- $(best "$dir/import")
i_wall=$1 i_cpu=$2 i_rss=$3
echo "hosts: $hosts, best of $runs (by wall time), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %8s %8s %10s\n' "" "wall s" "cpu s" "peak MiB"
printf '%-28s %8s %8s %10d\n' "nagios4 -v" "$n_wall" "$n_cpu" "$((n_rss / 1024))"
printf '%-28s %8s %8s %10d\n' "import ($(basename "$bin"))" "$i_wall" "$i_cpu" "$((i_rss / 1024))"
echo "import / nagios4: wall $(echo "scale=2; $i_wall / $n_wall" | bc)x," \
    "cpu $(echo "scale=2; $i_cpu / $n_cpu" | bc)x, memory $(echo "scale=2; $i_rss / $n_rss" | bc)x"
