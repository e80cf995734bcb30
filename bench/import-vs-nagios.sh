#!/bin/sh
# Time `faultline import nagios` against `nagios4 -v` on the same generated configuration.
# Usage: bench/import-vs-nagios.sh [HOSTS]   (default 100000)
# IMPORT names the command run as `$IMPORT NAGIOS_CFG OUT`; by default the release build of
# faultline-import's `import-bench` binary (the CLI's `import nagios` code path without the rest
# of the CLI), built first with
#   cargo build --release -p faultline-import --features bench-bin --bin import-bench
# For the full CLI, point IMPORT at a wrapper running `faultline import nagios "$1" -o "$2"`.
# Needs python3 and nagios4 (nagios4-core).
set -eu
hosts=${1:-100000}
bin=${IMPORT:-target/release/import-bench}
dir=$(mktemp -d)
chmod 755 "$dir"  # nagios4 -v checks its result directory as the nagios user
trap 'rm -rf "$dir"' EXIT
python3 "$(dirname "$0")/nagios-gen.py" "$hosts" "$dir"
now() { date +%s.%N; }
t0=$(now)
/usr/sbin/nagios4 -v "$dir/nagios.cfg" >"$dir/verify.txt" || { cat "$dir/verify.txt"; exit 1; }
t1=$(now)
$bin "$dir/nagios.cfg" "$dir/topology.yaml"
t2=$(now)
grep -E "Checked [0-9]+ hosts\.|Total Errors" "$dir/verify.txt"
echo "hosts: $hosts"
echo "nagios4 -v:              $(echo "$t1 - $t0" | bc) s"
echo "import ($bin): $(echo "$t2 - $t1" | bc) s (read, resolve, render, validate, write)"
