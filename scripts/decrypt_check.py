#!/usr/bin/env python3
"""Decryption corpus check: on every capture with a key log (`X.keys` beside `X`), the HTTP
requests phonehome reads through TLS/QUIC decryption (method, authority, path; HTTP/1.x,
HTTP/2 and HTTP/3) agree with tshark's decrypted dissection (`-o tls.keylog_file:...`).
Requests are compared as multisets per capture. Prints recall and precision and exits 1 below
the threshold (default 0.99).

Usage: decrypt_check.py PHONEHOME_BINARY CAPTURES_DIR [--min 0.99]
"""

import argparse
import json
import os
import subprocess
import sys
from collections import Counter

FIELDS = [
    "http.request.method", "http.host", "http.request.uri",
    "http2.headers.method", "http2.headers.authority", "http2.headers.path",
]
H3_FIELDS = ["http3.headers.method", "http3.headers.authority", "http3.headers.path"]


def tshark_has(field):
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True)
    return any(line.split("\t")[2:3] == [field] for line in out.stdout.splitlines())


# tshark before 4.2 does not dissect HTTP/3 headers: then HTTP/3 requests cannot be compared
# and are listed apart.
if tshark_has("http3.headers.method"):
    FIELDS += H3_FIELDS
TSHARK_H3 = "http3.headers.method" in FIELDS


def tshark_requests(path, keys):
    cmd = ["tshark", "-n", "-r", path, "-o", f"tls.keylog_file:{keys}",
           "-Y", "http.request || http2.headers.method" + (" || http3.headers.method" if TSHARK_H3 else ""),
           "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    found = Counter()
    for line in out.stdout.splitlines():
        cols = (line.split("\t") + [""] * len(FIELDS))[: len(FIELDS)]
        rec = dict(zip(FIELDS, cols))
        for prefix in ("http2.headers", "http3.headers") if TSHARK_H3 else ("http2.headers",):
            methods = [m for m in rec[f"{prefix}.method"].split(",") if m]
            hosts = rec[f"{prefix}.authority"].split(",")
            paths = rec[f"{prefix}.path"].split(",")
            for i, m in enumerate(methods):
                host = hosts[i] if i < len(hosts) else ""
                p = paths[i] if i < len(paths) else ""
                found[(m, host, p)] += 1
        if rec["http.request.method"]:
            found[(rec["http.request.method"], rec["http.host"], rec["http.request.uri"])] += 1
    return found


def phonehome_requests(binary, path, keys):
    out = subprocess.run([binary, "audit", "--format", "json", "--keylog", keys, path],
                         capture_output=True, text=True, errors="replace")
    if out.returncode not in (0, 1):
        return None, out.stderr.strip()
    report = json.loads(out.stdout)
    found = Counter()
    h3_apart = 0
    for h in report["http"]:
        if h["kind"] == "request" and h["decrypted"]:
            if h["transport"] == "h3" and not TSHARK_H3:
                h3_apart += 1
                continue
            found[(h["method"] or "", h["host"] or "", h["uri"] or "")] += 1
    s = report["stats"]
    note = f"{s['decrypted_flows']} of {s['encrypted_flows']} TLS/QUIC flows decrypted"
    if h3_apart:
        note += f"; {h3_apart} HTTP/3 requests not compared (this tshark has no HTTP/3 headers)"
    return found, note


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("captures")
    ap.add_argument("--min", type=float, default=0.99)
    args = ap.parse_args()
    both = missed = extra = 0
    failures = 0
    for name in sorted(os.listdir(args.captures)):
        path = os.path.join(args.captures, name)
        keys = path + ".keys"
        if name.endswith(".keys") or not os.path.exists(keys):
            continue
        truth = tshark_requests(path, keys)
        ours, note = phonehome_requests(args.binary, path, keys)
        if ours is None:
            print(f"{name}: phonehome failed: {note}")
            failures += 1
            continue
        agree = sum((truth & ours).values())
        m = sum((truth - ours).values())
        e = sum((ours - truth).values())
        both, missed, extra = both + agree, missed + m, extra + e
        print(f"{name}: {sum(truth.values())} requests, {agree} agree, {m} missed, {e} extra; {note}")
        for r in (truth - ours):
            print(f"    missed {r}")
        for r in (ours - truth):
            print(f"    extra  {r}")
    recall = both / (both + missed) if both + missed else 1.0
    precision = both / (both + extra) if both + extra else 1.0
    print(f"\ndecrypted requests: {both} agree, {missed} missed, {extra} extra; "
          f"recall {recall:.4f}, precision {precision:.4f}")
    ok = failures == 0 and recall >= args.min and precision >= args.min
    print("decryption check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
