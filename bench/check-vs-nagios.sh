#!/bin/sh
# `faultline check` against `nagios4 -v` on the same hosts and parents, side by side in one run
# (issue #14), plus `faultline impact` end to end.
#
# Generates a topology (`faultline generate`, JSON), writes its devices as Nagios hosts with
# the devices each requires as parents (bench/nagios-gen.py --topology), then runs each
# verifier RUNS times (default 3) and keeps the best wall time and the lowest peak RSS.
# Usage: bench/check-vs-nagios.sh [DEVICES]   (default 100000)
# FAULTLINE names the binary (default target/release/faultline, built with
#   cargo build --release -p faultline-cli); DOWN the component `impact` fails (default a
#   top-of-rack switch). Needs python3, /usr/bin/time and nagios4 (nagios4-core).
set -eu
devices=${1:-100000}
runs=${RUNS:-3}
bin=${FAULTLINE:-target/release/faultline}
down=${DOWN:-tor-3-7-1}
dir=$(mktemp -d)
chmod 755 "$dir"  # nagios4 -v checks its result directory as the nagios user
trap 'rm -rf "$dir"' EXIT

"$bin" generate --devices "$devices" -o "$dir/dc.json"
python3 "$(dirname "$0")/nagios-gen.py" --topology "$dir/dc.json" "$dir"
echo "topology: $(wc -c <"$dir/dc.json") bytes; $("$bin" check "$dir/dc.json" --json)"
/usr/sbin/nagios4 -v "$dir/nagios.cfg" >"$dir/verify.txt" || { cat "$dir/verify.txt"; exit 1; }
grep -E "Checked [0-9]+ hosts\.|Total Errors" "$dir/verify.txt"

# best NAME CMD...: run CMD $runs times; print "seconds KiB" (best wall time, lowest max RSS).
best() {
    name=$1
    shift
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(date +%s%N)
        /usr/bin/time -f "%M" -o "$dir/rss" "$@" >"$dir/$name.out"
        t1=$(date +%s%N)
        echo "$(( (t1 - t0) / 1000 )) $(cat "$dir/rss")"
        i=$((i + 1))
    done | sort -n | awk 'NR == 1 { t = $1 } { if (r == "" || $2 < r) r = $2 }
        END { printf "%.3f %d\n", t / 1e6, r }'
}

set -- $(best nagios /usr/sbin/nagios4 -v "$dir/nagios.cfg")
n_t=$1 n_rss=$2
set -- $(best check "$bin" check "$dir/dc.json")
c_t=$1 c_rss=$2
set -- $(best impact "$bin" impact "$dir/dc.json" --down "$down" --json)
i_t=$1 i_rss=$2

echo "best of $runs, $devices devices requested"
printf '%-32s %9s %12s\n' "" "wall (s)" "max RSS (MiB)"
printf '%-32s %9s %12.1f\n' "nagios4 -v" "$n_t" "$(echo "$n_rss / 1024" | bc -l)"
printf '%-32s %9s %12.1f\n' "faultline check" "$c_t" "$(echo "$c_rss / 1024" | bc -l)"
printf '%-32s %9s %12.1f\n' "faultline impact --down $down" "$i_t" "$(echo "$i_rss / 1024" | bc -l)"
printf 'check / nagios4 -v: time %.2f×, memory %.2f×  (target ≤ 0.5× each)\n' \
    "$(echo "$c_t / $n_t" | bc -l)" "$(echo "$c_rss / $n_rss" | bc -l)"
printf 'impact end to end: %s s (target ≤ 0.5 s)\n' "$i_t"
