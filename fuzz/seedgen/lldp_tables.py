"""Seed inputs for the lldp_tables fuzz target: SNMPv2c Response messages whose varbinds are
whole rows of real LLDP-MIB / CISCO-CDP-MIB recordings (snmpsim-data: Cisco Nexus 5000,
Catalyst 3750), BER-encoded with pysnmp.

    /opt/faultline-venv/bin/python fuzz/seedgen/lldp_tables.py fuzz/seeds/lldp_tables

(the venv .ci/run makes for snmpsim holds pysnmp and snmpsim-data)."""
import bz2
import os
import sys

from pysnmp.proto import api
from pyasn1.codec.ber import encoder

import snmpsim_data

DATA = os.path.join(os.path.dirname(snmpsim_data.__file__), "data/network/switch/")
p = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

def records(rec):
    with bz2.open(DATA + rec, "rt", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("|", 2)
            if len(parts) == 3:
                yield parts

def pick(rec, tables, keep_scalars, rows_wanted):
    """Whole rows: every column of the first `rows_wanted` indices of each table (column
    prefix → index), plus scalars under `keep_scalars`; related tables follow the rows picked
    (`follow`: a function of the chosen indices)."""
    recs = list(records(rec))
    out = [r for r in recs if any(r[0].startswith(s) for s in keep_scalars)]
    chosen = {}
    for table, columns, follow in tables:
        idx = []
        for oid, tag, val in recs:
            for c in columns:
                if oid.startswith(table + c + "."):
                    i = oid[len(table + c) + 1:]
                    if follow is None and i not in idx and len(idx) < rows_wanted:
                        idx.append(i)
                    elif follow is not None and follow(i, chosen) and i not in idx:
                        idx.append(i)
        chosen[table] = idx
        for oid, tag, val in recs:
            for c in columns:
                if oid.startswith(table + c + ".") and oid[len(table + c) + 1:] in idx:
                    out.append((oid, tag, val))
    return out

def value(tag, val):
    if tag == "2":
        return p.Integer(int(val))
    if tag == "4":
        return p.OctetString(val.encode())
    if tag == "4x":
        return p.OctetString(hexValue=val)
    if tag == "6":
        return p.ObjectIdentifier(val)
    if tag == "64":
        return p.IpAddress(val)
    if tag == "64x":
        return p.IpAddress(hexValue=val)
    if tag == "65":
        return p.Counter32(int(val))
    if tag == "66":
        return p.Gauge32(int(val))
    if tag == "67":
        return p.TimeTicks(int(val))
    if tag == "70":
        return p.Counter64(int(val))
    raise ValueError(tag)

def message(varbinds):
    pdu = p.GetResponsePDU()
    p.apiPDU.set_defaults(pdu)
    p.apiPDU.set_request_id(pdu, 4242)
    vbs = []
    for oid, tag, val in varbinds:
        try:
            vbs.append((p.ObjectIdentifier(oid), value(tag, val)))
        except ValueError:
            continue
    p.apiPDU.set_varbinds(pdu, vbs)
    msg = p.Message()
    p.apiMessage.set_defaults(msg)
    p.apiMessage.set_community(msg, "public")
    p.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
REM = "1.0.8802.1.1.2.1.4.1.1."
LOC = "1.0.8802.1.1.2.1.3.7.1."
MAN = "1.0.8802.1.1.2.1.4.2.1."
CDP = "1.3.6.1.4.1.9.9.23.1.2.1.1."
IFNAME = "1.3.6.1.2.1.31.1.1.1."
local_of = lambda i: i.split(".")[1] if i.count(".") >= 2 else None
seeds = {
    # lldpLocalSystemData scalars; three lldpRemTable rows with their lldpRemManAddrTable rows
    # and the lldpLocPortTable rows of their local ports.
    "n5000-lldp.bin": ("cisco-n5000.snmprec.bz2", [
        (REM, ["4", "5", "6", "7", "8", "9", "12"], None),
        (MAN, ["3"], lambda i, ch: ".".join(i.split(".")[:3]) in ch[REM]),
        (LOC, ["2", "3", "4"], lambda i, ch: any(local_of(r) == i for r in ch[REM])),
    ], ["1.0.8802.1.1.2.1.3.1.0", "1.0.8802.1.1.2.1.3.2.0", "1.0.8802.1.1.2.1.3.3.0", "1.0.8802.1.1.2.1.3.6.0"]),
    # Three cdpCacheTable rows and the ifName rows of their ifIndexes.
    "c3750-cdp.bin": ("cisco-c3750.snmprec.bz2", [
        (CDP, ["3", "4", "6", "7", "9"], None),
        (IFNAME, ["1"], lambda i, ch: any(r.split(".")[0] == i for r in ch[CDP])),
    ], []),
}
def write(name, vbs):
    vbs = sorted(vbs, key=lambda r: [int(x) for x in r[0].split(".")])
    data = message(vbs)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(name, len(vbs), "varbinds", len(data), "bytes")

picked = {}
for name, (rec, tables, scalars) in seeds.items():
    vbs = picked[name] = pick(rec, tables, scalars, 3)
    write(name, vbs)
# Both protocols in one answer (a device speaking LLDP and CDP), one row each.
write("lldp-and-cdp.bin", [r for r in picked["n5000-lldp.bin"] if ".436207616" not in r[0] and ".436211712" not in r[0]]
      + [r for r in picked["c3750-cdp.bin"] if r[0].endswith(".1307") or r[0].endswith(".10101")])

