#!/bin/bash
# A real Nautobot, set up here phase by phase with each phase timed, loaded through its REST API
# with a small inventory (bench/nautobot-load.py), and recorded: the pages `faultline import
# netbox --url` reads (`/api/status/` and devices, interfaces, cables at depth=1, two objects a
# page), saved as crates/cli/tests/data/nautobot-3.2.json for crates/cli/tests/nautobot_saved.rs.
# Also runs `faultline import netbox --url` against the live server and prints the topology.
#
#   bench/nautobot-record.sh            # as root; installs postgresql, redis-server, a venv
#
# Why the test suite does not start Nautobot itself: the set-up time this prints (packages,
# pip, and above all `nautobot-server migrate`, ~480 migrations) is far beyond the suite's
# budget. Needs FAULTLINE_BIN (default target/debug/faultline). Leaves the server stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${FAULTLINE_BIN:-$repo/target/debug/faultline}
venv=${NAUTOBOT_VENV:-/opt/nautobot-venv}
port=${NAUTOBOT_PORT:-18080}
work=$(mktemp -d)
export NAUTOBOT_ROOT=$work/root
now() { date +%s.%N; }
phase_start=$(now)
phase() {
    local t
    t=$(now)
    printf '%-34s %8.1f s\n' "$1" "$(echo "$t - $phase_start" | bc)"
    phase_start=$t
}
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    redis-cli -p 6391 shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends postgresql redis-server >/dev/null
phase "apt: postgresql, redis-server"
[ -x "$venv/bin/nautobot-server" ] || {
    python3 -m venv "$venv" && "$venv/bin/pip" install -q nautobot
}
phase "pip: nautobot"
pg_ctlcluster 15 main start 2>/dev/null || true
redis-server --port 6391 --bind 127.0.0.1 --daemonize yes --save "" --appendonly no
db=faultline_nb_$$
su postgres -c "psql -q -c \"CREATE USER $db WITH PASSWORD '$db';\""
su postgres -c "psql -q -c \"CREATE DATABASE $db OWNER $db;\""
export NAUTOBOT_DB_HOST=127.0.0.1 NAUTOBOT_DB_USER=$db NAUTOBOT_DB_PASSWORD=$db NAUTOBOT_DB_NAME=$db
export NAUTOBOT_REDIS_HOST=127.0.0.1 NAUTOBOT_REDIS_PORT=6391 NAUTOBOT_ALLOWED_HOSTS='*'
NAUTOBOT_SECRET_KEY=$(head -c 40 /dev/urandom | base64)
export NAUTOBOT_SECRET_KEY
mkdir -p "$NAUTOBOT_ROOT"
"$venv/bin/nautobot-server" init </dev/null >/dev/null 2>&1
phase "database, redis, init"
"$venv/bin/nautobot-server" migrate >"$work/migrate.log" 2>&1
phase "nautobot-server migrate"
password=$(head -c 18 /dev/urandom | base64)
DJANGO_SUPERUSER_PASSWORD=$password "$venv/bin/nautobot-server" createsuperuser --noinput \
    --username admin --email admin@example.invalid >/dev/null
"$venv/bin/nautobot-server" runserver "127.0.0.1:$port" --noreload >"$work/server.log" 2>&1 &
server=$!
base=http://127.0.0.1:$port
until curl -sf -o /dev/null "$base/health/"; do sleep 1; done
phase "superuser, server started"
token=$(curl -sf -X POST -u "admin:$password" -H "Content-Type: application/json" \
    -H "Accept: application/json" "$base/api/users/tokens/" -d '{}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
python3 bench/nautobot-load.py "$base" "$token"
phase "inventory loaded over the API"

python3 - "$base" "$token" "$repo/crates/cli/tests/data/nautobot-3.2.json" <<'PY'
import json, sys, urllib.request
base, token, out = sys.argv[1:]
def get(url):
    req = urllib.request.Request(url, headers={"Authorization": f"Token {token}",
                                               "Accept": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())
size = 2
rec = {"recorded_from": "Nautobot (bench/nautobot-record.sh)", "page_size": size,
       "status": get(f"{base}/api/status/"), "pages": {}}
for endpoint in ["devices", "interfaces", "cables"]:
    url, pages = f"{base}/api/dcim/{endpoint}/?limit={size}&depth=1&location=dc1", []
    while url:
        page = get(url)
        pages.append(page)
        url = page.get("next")
    rec["pages"][endpoint] = pages
text = json.dumps(rec, indent=1, sort_keys=True).replace(base, "{{BASE}}")
open(out, "w").write(text + "\n")
print("recorded", {k: len(v) for k, v in rec["pages"].items()}, "pages to", out)
PY
phase "recorded"
NETBOX_TOKEN=$token "$bin" import netbox --url "$base" --site dc1 --page-size 2 -o "$work/topology.json"
cat "$work/topology.json"
phase "faultline import netbox --url (live)"
