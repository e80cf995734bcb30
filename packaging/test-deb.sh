#!/usr/bin/env bash
# Install the Debian package into this machine for real, check what it installed, start the
# unit's command lines as systemd would, then purge it. As root; refuses to run when a faultline
# package is already installed (it would be replaced and then purged).
#
#   packaging/test-deb.sh                          # packages from packaging/build-deb.sh
#   packaging/test-deb.sh faultline_*.deb faultline-dbgsym_*.deb
#
# PID 1 is not always systemd (containers, CI), so the unit is not started by systemctl. Instead
# `systemd-analyze verify` checks the installed unit, and its ExecStartPre= and ExecStart= lines,
# read from the installed file, run as systemd would run them for this unit: as an unprivileged
# user (a free UID from DynamicUser's range, 61184-65519) holding only the unit's
# AmbientCapabilities (setpriv: ambient, inheritable and bounding sets, no_new_privs), with the
# StateDirectory created for that user and STATE_DIRECTORY/CONFIGURATION_DIRECTORY set. It runs
# in a network namespace of its own, so its fixed ports (9180, 162) cannot collide with anything
# else on the machine. The sandboxing options (ProtectSystem=, PrivateTmp=, ...) are checked by
# systemd-analyze only, not applied. Output: one "ok ..." line per check; exit 0 when all pass.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok   $*"; }

[ "$(id -u)" = 0 ] || fail "run as root (dpkg -i, setpriv)"
for tool in dpkg setpriv unshare curl systemd-analyze readelf ss; do
    command -v "$tool" >/dev/null || fail "$tool is missing"
done
if dpkg-query -W -f='${Status}' faultline 2>/dev/null | grep -q installed; then
    fail "a faultline package is installed already; not touching it"
fi

if [ $# -gt 0 ]; then
    debs=("$@")
else
    mapfile -t debs < <(packaging/build-deb.sh)
fi
[ ${#debs[@]} -gt 0 ] || fail "no package to install"

work=$(mktemp -d)
pid_file=$work/pid
cleanup() {
    if [ -s "$pid_file" ]; then kill "$(cat "$pid_file")" 2>/dev/null || true; fi
    if dpkg-query -W faultline >/dev/null 2>&1; then
        dpkg --purge faultline-dbgsym faultline >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# --- install ---------------------------------------------------------------------------------
start=$(date +%s%N)
dpkg -i "${debs[@]}" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
ok "dpkg -i ${debs[*]##*/} ($(( ($(date +%s%N) - start) / 1000000 )) ms)"

files=$(dpkg -L faultline)
for f in /usr/bin/faultline /etc/faultline/faultline.toml /etc/faultline/topology.yaml \
    /usr/share/man/man1/faultline.1.gz /usr/share/man/man1/faultline-run.1.gz \
    /usr/share/bash-completion/completions/faultline /usr/share/zsh/vendor-completions/_faultline \
    /usr/share/fish/vendor_completions.d/faultline.fish \
    /usr/share/doc/faultline/examples/faultline.toml; do
    grep -qx "$f" <<<"$files" || fail "$f is not in the package"
    [ -e "$f" ] || fail "$f was not installed"
done
unit=$(grep -E '^(/usr)?/lib/systemd/system/faultline\.service$' <<<"$files") ||
    fail "the systemd unit is not in the package"
ok "files: binary, unit $unit, configuration, $(grep -c '\.1\.gz$' <<<"$files") manual pages, 3 completions"
conffiles=$(dpkg-query -W -f='${Conffiles}' faultline)
grep -q '/etc/faultline/faultline.toml' <<<"$conffiles" || fail "faultline.toml is not a conffile"
ok "/etc/faultline/*: conffiles"

size=$(stat -c %s /usr/bin/faultline)
[ "$size" -le 25000000 ] || fail "/usr/bin/faultline is $size bytes (> 25 MB)"
ok "/usr/bin/faultline: $size bytes ($(awk "BEGIN {printf \"%.1f\", $size / 1e6}") MB)"
version=$(/usr/bin/faultline --version)
if grep -q 'unknown commit' <<<"$version"; then fail "--version names no commit: $version"; fi
ok "--version: $version"

# The debug info: shipped apart, found by the build id of the installed binary.
build_id=$(readelf -n /usr/bin/faultline 2>/dev/null | awk '/Build ID/ {print $3}')
debug=/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug
[ -f "$debug" ] || fail "no debug file $debug for build id $build_id"
readelf -S /usr/bin/faultline 2>/dev/null | grep -q '\.debug_line' && fail "the binary still has line tables"
readelf -S "$debug" 2>/dev/null | grep -q '\.debug_line' || fail "$debug has no line tables"
ok "debug info in $debug ($(stat -c %s "$debug") bytes, package $(dpkg -S "$debug" | cut -d: -f1))"
if command -v gdb >/dev/null; then
    line=$(gdb -batch -ex 'info line faultline::main' /usr/bin/faultline 2>&1 | grep -m1 '^Line') ||
        fail "gdb finds no line for faultline::main through the debug file"
    ok "gdb through the build id: $line"
fi

# --- what a user sees: manual pages, completions -----------------------------------------------
if command -v man >/dev/null; then
    man -w faultline-run >/dev/null || fail "man faultline-run is not found"
    ok "man -w faultline-run: $(man -w faultline-run)"
fi
bash -c 'source /usr/share/bash-completion/completions/faultline && complete -p faultline' \
    >/dev/null || fail "the bash completion does not register"
ok "bash completion registers"

# --- the unit --------------------------------------------------------------------------------
verify=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $verify"
grep -q faultline <<<"$verify" && fail "systemd-analyze warns: $verify"
ok "systemd-analyze verify $unit (manual pages named in Documentation= found)"

unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n1; }
exec_pre=$(unit_value ExecStartPre)
exec_start=$(unit_value ExecStart)
ambient=$(unit_value AmbientCapabilities)
state=$(unit_value StateDirectory)
config=$(unit_value ConfigurationDirectory)
[ "$(unit_value DynamicUser)" = yes ] || fail "the unit has no DynamicUser=yes"
caps=$(tr ' ' '\n' <<<"$ambient" | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,)

# A UID in DynamicUser's range that no process or file on this machine uses.
uid=61184
while getent passwd "$uid" >/dev/null || pgrep -u "$uid" >/dev/null; do uid=$((uid + 1)); done
mkdir -p "/var/lib/$state"
chown "$uid:$uid" "/var/lib/$state"
chmod 700 "/var/lib/$state"
as_unit() {
    exec env -i PATH=/usr/bin:/bin LANG=C.UTF-8 STATE_DIRECTORY="/var/lib/$state" \
        CONFIGURATION_DIRECTORY="/etc/$config" \
        setpriv --reuid="$uid" --regid="$uid" --clear-groups \
        --inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" \
        --no-new-privs "$@"
}
export -f as_unit
export uid caps state config exec_pre exec_start pid_file work

# Everything below runs in a new network namespace (loopback only).
unshare --net bash -euo pipefail -c '
    ip link set lo up
    # shellcheck disable=SC2086 # the unit line is split into words, as systemd does here
    (as_unit $exec_pre) >"$work/check.log" 2>&1 ||
        { cat "$work/check.log"; echo "FAIL: ExecStartPre $exec_pre"; exit 1; }
    echo "ok   ExecStartPre as uid $uid: $exec_pre"

    # shellcheck disable=SC2086
    as_unit $exec_start >"$work/run.log" 2>&1 &
    pid=$!
    echo "$pid" >"$pid_file"
    ready=""
    for _ in $(seq 1 120); do
        ready=$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:9180/-/ready || true)
        [ "$ready" = 200 ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$work/run.log"; echo "FAIL: ExecStart exited"; exit 1; }
        sleep 0.5
    done
    [ "$ready" = 200 ] || { cat "$work/run.log"; echo "FAIL: /-/ready answers $ready"; exit 1; }
    echo "ok   ExecStart as uid $uid: $exec_start: /-/ready 200"

    amb=$(awk "/^CapAmb/ {print \$2}" "/proc/$pid/status")
    eff=$(awk "/^CapEff/ {print \$2}" "/proc/$pid/status")
    [ "$eff" = 0000000000002400 ] || { echo "FAIL: effective capabilities $eff"; exit 1; }
    echo "ok   capabilities: ambient $amb, effective $eff (net_bind_service, net_raw), uid $(stat -c %u "/proc/$pid")"
    ss -Hulnp | grep -q ":162 .*pid=$pid," ||
        { ss -ulnp; echo "FAIL: the trap listener is not on port 162"; exit 1; }
    echo "ok   trap listener bound to port 162 (CAP_NET_BIND_SERVICE)"
    sleep 3
    if grep -Ei "permission denied|operation not permitted" "$work/run.log"; then
        echo "FAIL: a permission error in the log"; exit 1
    fi
    echo "ok   no permission error in the log (ICMP sweep on a raw socket: CAP_NET_RAW)"
    ls "/var/lib/$state"/faultline.redb >/dev/null ||
        { echo "FAIL: no store in the state directory"; exit 1; }
    echo "ok   store created in /var/lib/$state, owned by uid $(stat -c %u "/var/lib/$state/faultline.redb")"

    kill -HUP "$pid"
    sleep 2
    kill -0 "$pid" 2>/dev/null || { cat "$work/run.log"; echo "FAIL: died on SIGHUP"; exit 1; }
    [ "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:9180/-/ready)" = 200 ] ||
        { echo "FAIL: not ready after SIGHUP"; exit 1; }
    echo "ok   ExecReload (SIGHUP): still ready"
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    : >"$pid_file"
    [ "$rc" = 0 ] || { cat "$work/run.log"; echo "FAIL: exit $rc after SIGTERM"; exit 1; }
    echo "ok   SIGTERM: clean exit 0"
'

# --- purge -----------------------------------------------------------------------------------
dpkg --purge faultline-dbgsym faultline >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
for gone in /usr/bin/faultline /etc/faultline "$unit" "/var/lib/$state" "$debug"; do
    [ ! -e "$gone" ] || fail "$gone is left after the purge"
done
ok "dpkg --purge: binary, unit, /etc/faultline, /var/lib/$state and the debug file removed"
