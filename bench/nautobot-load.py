"""Load a small inventory into a running Nautobot through its REST API: the same devices,
interfaces, cables and virtual chassis as faultline's NetBox test (crates/cli/tests/netbox_api.rs)."""
import base64, json, sys, urllib.request

BASE = sys.argv[1].rstrip('/')
TOKEN = sys.argv[2]

def call(method, path, body=None):
    req = urllib.request.Request(BASE + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json",
                 "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode()[:500]}")

def one(path, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    res = call("GET", f"{path}?{qs}")["results"]
    return res[0]["id"] if res else None

active = one("/api/extras/statuses/", name="Active")
connected = one("/api/extras/statuses/", name="Connected") or active
lt = call("POST", "/api/dcim/location-types/", {"name": "Site", "content_types": ["dcim.device", "ipam.prefix"]})["id"]
loc = call("POST", "/api/dcim/locations/", {"name": "dc1", "location_type": lt, "status": active})["id"]
man = call("POST", "/api/dcim/manufacturers/", {"name": "Acme"})["id"]
dt = call("POST", "/api/dcim/device-types/", {"manufacturer": man, "model": "X1"})["id"]
roles = {r: call("POST", "/api/extras/roles/", {"name": r, "content_types": ["dcim.device"]})["id"]
         for r in ["Core Switch", "Firewall", "Server"]}
ns = one("/api/ipam/namespaces/", name="Global")
call("POST", "/api/ipam/prefixes/", {"prefix": "10.0.0.0/24", "namespace": ns, "status": active, "type": "network"})
devs = {}
for name, role, ip in [("core sw 1", "Core Switch", "10.0.0.1/24"), ("core sw 2", "Core Switch", "10.0.0.2/24"),
                       ("fw-a", "Firewall", "10.0.0.3/24"), ("srv", "Server", None)]:
    devs[name] = call("POST", "/api/dcim/devices/", {"name": name, "device_type": dt, "role": roles[role],
                                                     "location": loc, "status": active})["id"]
ifs = {}
for dev, names in {"core sw 1": ["Gi1/0/1", "Gi1/0/2", "Gi1/0/48"], "core sw 2": ["Gi1/0/1"],
                   "fw-a": ["port2", "port3", "mgmt"], "srv": ["eth0"]}.items():
    for n in names:
        ifs[(dev, n)] = call("POST", "/api/dcim/interfaces/", {"device": devs[dev], "name": n,
                                                               "type": "1000base-t", "status": active})["id"]
for dev, ifname, ip in [("core sw 1", "Gi1/0/48", "10.0.0.1/24"), ("core sw 2", "Gi1/0/1", "10.0.0.2/24"),
                        ("fw-a", "mgmt", "10.0.0.3/24")]:
    a = call("POST", "/api/ipam/ip-addresses/", {"address": ip, "namespace": ns, "status": active, "type": "host"})["id"]
    call("POST", "/api/ipam/ip-address-to-interface/", {"ip_address": a, "interface": ifs[(dev, ifname)]})
    call("PATCH", f"/api/dcim/devices/{devs[dev]}/", {"primary_ip4": a})
for a, b in [(("core sw 1", "Gi1/0/1"), ("fw-a", "port2")), (("core sw 2", "Gi1/0/1"), ("srv", "eth0")),
             (("core sw 1", "Gi1/0/2"), ("fw-a", "port3"))]:
    call("POST", "/api/dcim/cables/", {"termination_a_type": "dcim.interface", "termination_a_id": ifs[a],
                                       "termination_b_type": "dcim.interface", "termination_b_id": ifs[b],
                                       "status": connected})
vc = call("POST", "/api/dcim/virtual-chassis/", {"name": "core stack"})["id"]
for pos, dev in enumerate(["core sw 1", "core sw 2"], start=1):
    call("PATCH", f"/api/dcim/devices/{devs[dev]}/", {"virtual_chassis": vc, "vc_position": pos})
print("loaded", len(devs), "devices", len(ifs), "interfaces, 3 cables, 1 virtual chassis")
