#!/bin/sh
# Time `faultline import nagios` against `nagios4 -v` on the same generated configuration.
# Usage: bench/import-vs-nagios.sh [HOSTS]   (default 100000)
# FAULTLINE names the binary (default target/release/faultline; build it first with
# `cargo build --release -p faultline-cli`). Needs python3 and nagios4 (nagios4-core).
set -eu
hosts=${1:-100000}
bin=${FAULTLINE:-target/release/faultline}
dir=$(mktemp -d)
chmod 755 "$dir"  # nagios4 -v checks its result directory as the nagios user
trap 'rm -rf "$dir"' EXIT
python3 "$(dirname "$0")/nagios-gen.py" "$hosts" "$dir"
now() { date +%s.%N; }
t0=$(now)
/usr/sbin/nagios4 -v "$dir/nagios.cfg" >"$dir/verify.txt" || { cat "$dir/verify.txt"; exit 1; }
t1=$(now)
"$bin" import nagios "$dir/nagios.cfg" -o "$dir/topology.yaml"
t2=$(now)
grep -E "Checked [0-9]+ hosts\.|Total Errors" "$dir/verify.txt"
echo "hosts: $hosts"
echo "nagios4 -v:              $(echo "$t1 - $t0" | bc) s"
echo "faultline import nagios: $(echo "$t2 - $t1" | bc) s (parse, resolve, write, validate the result)"
