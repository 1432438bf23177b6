#!/usr/bin/env python3
"""Corpus check: phonehome's names agree with tshark's on real captures.

For every capture in the shared corpus, compares, per flow (protocol + unordered endpoint pair),
the DNS query names, TLS SNIs, QUIC SNIs and HTTP hosts that phonehome reports with what
`tshark -T fields` dissects. Prints recall and precision per kind and fails below the threshold.

Usage: corpus_check.py PHONEHOME_BINARY CAPTURES_DIR [--min 0.99] [--verbose]
"""

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict

KINDS = ("dns", "tls_sni", "quic_sni", "http_host")

TSHARK_FIELDS = [
    "frame.number",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "dns.qry.name",
    "tls.handshake.extensions_server_name",
    "http.host",
    "icmp.type",
    "icmpv6.type",
]


def first(value):
    """tshark joins repeated fields with ','; the outer header comes first."""
    return value.split(",")[0] if value else ""


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def flow_key(proto, a, b):
    return (proto,) + tuple(sorted((a, b)))


def tshark_items(path, extra_opts):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"]
    cmd += extra_opts
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    items = set()
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(TSHARK_FIELDS) - len(cols))
        rec = dict(zip(TSHARK_FIELDS, cols))
        src = first(rec["ip.src"]) or first(rec["ipv6.src"])
        dst = first(rec["ip.dst"]) or first(rec["ipv6.dst"])
        if not src:
            continue
        # An ICMP error quotes the datagram it answers; its names belong to no flow of its own.
        if rec["icmp.type"] or rec["icmpv6.type"]:
            continue
        if rec["tcp.srcport"]:
            proto, sp, dp = "tcp", first(rec["tcp.srcport"]), first(rec["tcp.dstport"])
        elif rec["udp.srcport"]:
            proto, sp, dp = "udp", first(rec["udp.srcport"]), first(rec["udp.dstport"])
        else:
            continue
        key = flow_key(proto, endpoint(src, sp), endpoint(dst, dp))
        for name in filter(None, rec["dns.qry.name"].split(",")):
            # tshark writes the root as "<Root>" (phonehome as "."), and puts placeholders such
            # as "<Name too long>" where a name could not be read: those are no names.
            if name == "<Root>":
                name = "."
            elif name.startswith("<") and name.endswith(">"):
                continue
            items.add((key, "dns", name))
        for name in filter(None, rec["tls.handshake.extensions_server_name"].split(",")):
            items.add((key, "quic_sni" if proto == "udp" else "tls_sni", name))
        for name in filter(None, rec["http.host"].split(",")):
            items.add((key, "http_host", name))
    return items


def phonehome_items(binary, path):
    out = subprocess.run(
        [binary, "audit", "--format", "json", path], capture_output=True, text=True, errors="replace"
    )
    if out.returncode not in (0, 1):
        return None, out.stderr.strip()
    report = json.loads(out.stdout)
    flows = {}
    items = set()
    for f in report["flows"]:
        key = flow_key(f["proto"], f["client"], f["server"])
        flows[f["id"]] = key
        if f.get("tls") and f["tls"].get("sni"):
            items.add((key, "tls_sni", f["tls"]["sni"]))
        if f.get("quic") and f["quic"].get("sni"):
            items.add((key, "quic_sni", f["quic"]["sni"]))
    for d in report["dns"]:
        # DNS inside HTTP that is not DNS's own wire format (a resolver's JSON API, an app's
        # HTTPDNS) is no DNS message to tshark: it shows those as HTTP, whose hosts are
        # compared below. DNS over HTTPS in wire format is DNS to both.
        if d.get("transport") in ("doh-json", "httpdns"):
            continue
        for name in d["questions"]:
            items.add((flows[d["flow"]], "dns", name))
    for h in report["http"]:
        if h.get("host"):
            items.add((flows[h["flow"]], "http_host", h["host"]))
    return items, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("captures")
    ap.add_argument("--min", type=float, default=0.99)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    names = sorted(
        n for n in os.listdir(args.captures) if n.endswith((".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"))
    )
    totals = {k: [0, 0, 0] for k in KINDS}  # both, tshark only, phonehome only
    failures = 0
    for name in names:
        path = os.path.join(args.captures, name)
        # Key logs are not given to tshark here: this check is about what is visible without them.
        truth = tshark_items(path, [])
        ours, err = phonehome_items(args.binary, path)
        if ours is None:
            print(f"{name}: phonehome failed: {err}")
            failures += 1
            ours = set()
        missed = truth - ours
        extra = ours - truth
        for kind in KINDS:
            totals[kind][0] += sum(1 for i in truth & ours if i[1] == kind)
            totals[kind][1] += sum(1 for i in missed if i[1] == kind)
            totals[kind][2] += sum(1 for i in extra if i[1] == kind)
        status = "ok" if not missed and not extra else f"{len(missed)} missed, {len(extra)} extra"
        print(f"{name}: {len(truth)} names, {status}")
        if args.verbose or missed or extra:
            for i in sorted(missed)[:20]:
                print(f"    missed {i[1]} {i[2]!r} on {i[0]}")
            for i in sorted(extra)[:20]:
                print(f"    extra  {i[1]} {i[2]!r} on {i[0]}")

    print()
    print(f"{'kind':<10} {'agree':>6} {'missed':>6} {'extra':>6} {'recall':>7} {'precision':>9}")
    ok = failures == 0
    for kind in KINDS:
        both, missed, extra = totals[kind]
        recall = both / (both + missed) if both + missed else 1.0
        precision = both / (both + extra) if both + extra else 1.0
        flag = "" if recall >= args.min and precision >= args.min else "  BELOW"
        if flag:
            ok = False
        print(f"{kind:<10} {both:>6} {missed:>6} {extra:>6} {recall:>7.4f} {precision:>9.4f}{flag}")
    print("corpus check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
