#!/usr/bin/env python3
"""Personal-data recall and precision against planted ground truth.

Generates the corpus (scripts/pii_corpus.py: real clients and servers on loopback, tcpdump,
every profile value planted in many forms and carriers, plus decoys), or reads one already
made with --dir, runs `phonehome audit --profile` on each capture, and matches every
personal-data finding to the plant of its flow (each plant has a flow of its own; a flow is
known by protocol and port pair).

- A detectable plant is found when a finding in its flow, in its direction, names its data
  type and its profile label (or a label the truth lists as also correct, e.g. an SMS's code
  inside its body).
- Recall = found / detectable plants. Plants marked not detectable (TLS without keys, XOR
  with an app's secret) count neither way; a finding on one is reported, not penalised.
- Precision = findings that land on a plant with a correct label / all findings. A finding
  in a decoy's flow is a decoy hit; one with another label, or in a flow without a plant, is
  stray.

Prints a table per data type, per carrier and per transform, the misses, the decoy hits and
the stray findings. Exits 1 when recall is below --min-recall or any decoy is hit (unless
--report-only), 2 when the corpus or phonehome could not be run.

Usage: pii_check.py [--binary PATH] [--dir CORPUS] [--keep DIR] [--seed N]
                    [--min-recall 0.99] [--report-only] [--verbose]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def default_binary():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "release", "phonehome")


def ports(endpoint):
    """Port of "127.0.0.1:5353" or "[::1]:5353"."""
    return int(endpoint.rsplit(":", 1)[1])


def audit(binary, corpus, name, spec, out_dir):
    cap = os.path.join(corpus, spec["file"])
    out = os.path.join(out_dir, f"{name}.json")
    argv = [binary, "audit", cap, "--profile", os.path.join(corpus, "profile.toml"), "-F", "json", "-o", out]
    if spec.get("keylog"):
        argv += ["--keylog", os.path.join(corpus, spec["keylog"])]
    r = subprocess.run(argv, capture_output=True, text=True)
    # 0 is a clean report, 1 a policy verdict of fail; both wrote the report.
    if r.returncode not in (0, 1) or not os.path.exists(out):
        raise RuntimeError(f"phonehome audit {name}: exit {r.returncode}: {r.stderr.strip()[:500]}")
    with open(out) as f:
        return json.load(f)


def match(truth, reports):
    """Classifies every finding and marks the plants found. Returns (results per plant id,
    decoy hits, stray findings, matched finding count, total finding count, flows missing)."""
    by_flow = {}
    for p in truth["plants"]:
        f = p["flow"]
        by_flow[(p["capture"], f["proto"], frozenset((f["client_port"], f["server_port"])))] = p
    found = defaultdict(list)  # plant id -> findings in its direction with a correct label
    extra = defaultdict(list)  # plant id -> correct-label findings in the other direction
    decoy_hits, stray = [], []
    matched = total = 0
    seen_flows = set()
    for cap, report in reports.items():
        flows = {fl["id"]: fl for fl in report["flows"]}
        for fl in report["flows"]:
            seen_flows.add((cap, fl["proto"], frozenset((ports(fl["client"]), ports(fl["server"])))))
        for f in report["findings"]:
            if f.get("kind") != "personal_data":
                continue
            total += 1
            fl = flows.get(f.get("flow"))
            p = None
            if fl is not None:
                p = by_flow.get((cap, fl["proto"], frozenset((ports(fl["client"]), ports(fl["server"])))))
            if p is None:
                stray.append((cap, None, f, "no plant in this flow"))
                continue
            if p["kind"] == "decoy":
                decoy_hits.append((p, f))
                continue
            labels = {p["label"], *p.get("also_labels", [])}
            if f.get("data_type") != p["data_type"] or f.get("label") not in labels:
                stray.append((cap, p, f, "another value than the plant's"))
                continue
            matched += 1
            (found if f.get("direction") == p["direction"] else extra)[p["id"]].append(f)
    missing = {p["id"] for p in truth["plants"]
               if (p["capture"], p["flow"]["proto"], frozenset((p["flow"]["client_port"], p["flow"]["server_port"])))
               not in seen_flows}
    return found, extra, decoy_hits, stray, matched, total, missing


def table(title, plants, found, key):
    rows = defaultdict(lambda: [0, 0])
    for p in plants:
        if p["kind"] != "plant" or not p["detectable"]:
            continue
        k = key(p)
        rows[k][0] += 1
        rows[k][1] += p["id"] in found
    width = max([len(title)] + [len(str(k)) for k in rows])
    print(f"\n{title:<{width}}  {'plants':>6}  {'found':>5}  {'recall':>6}")
    tp = tf = 0
    for k in sorted(rows, key=lambda k: (rows[k][1] / rows[k][0], str(k))):
        n, f = rows[k]
        tp, tf = tp + n, tf + f
        print(f"{str(k):<{width}}  {n:>6}  {f:>5}  {f / n:>6.1%}")
    print(f"{'all':<{width}}  {tp:>6}  {tf:>5}  {(tf / tp if tp else 1):>6.1%}")


def describe(p):
    chain = "+".join(p["encoding"]) or "plain"
    unwrap = ("/" + "+".join(p["unwrap"])) if p["unwrap"] else ""
    wire = p["wire"] if len(p["wire"]) <= 48 else p["wire"][:45] + "..."
    return (f"{p['id']} {p['capture']:<4} {p['carrier']:<15} {p['data_type']:<14} {str(p['label']):<18} "
            f"{str(p['form']):<12} {chain + unwrap:<26} {p['tag'][:40]:<40} {wire}")


def finding_text(f):
    return (f"{f.get('data_type')} {f.get('label')} enc={'+'.join(f.get('encoding') or []) or 'plain'} "
            f"layers={'/'.join(f.get('layers') or [])} {f.get('direction')} frames={f.get('frames')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=default_binary())
    ap.add_argument("--dir", help="a corpus already generated (truth.json and captures)")
    ap.add_argument("--keep", help="generate into this directory and keep it")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--min-recall", type=float, default=0.99)
    ap.add_argument("--report-only", action="store_true", help="print the tables, never fail")
    ap.add_argument("--verbose", action="store_true", help="list every found plant with its findings")
    ap.add_argument("--self-test", action="store_true", help="check the matching on a made-up report")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return 0
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        print(f"pii check: no phonehome binary at {binary} (cargo build --release)", file=sys.stderr)
        return 2
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="phonehome-pii-")
    child = None
    try:
        corpus = args.dir or args.keep or os.path.join(tmp, "corpus")
        if not args.dir:
            argv = [sys.executable, os.path.join(HERE, "pii_corpus.py"), "--out", corpus]
            if args.seed is not None:
                argv += ["--seed", str(args.seed)]
            # Popen, not run: on SIGTERM the finally below stops the generator, which then
            # stops its own servers and tcpdump.
            child = subprocess.Popen(argv)
            if child.wait() != 0:
                print("pii check: the corpus could not be generated", file=sys.stderr)
                return 2
        with open(os.path.join(corpus, "truth.json")) as f:
            truth = json.load(f)
        reports = {name: audit(binary, corpus, name, spec, tmp) for name, spec in truth["captures"].items()}
        return report(truth, reports, args, time.monotonic() - started)
    except (RuntimeError, OSError, json.JSONDecodeError) as e:
        print(f"pii check: {e}", file=sys.stderr)
        return 2
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def report(truth, reports, args, elapsed):
    plants = truth["plants"]
    found, extra, decoy_hits, stray, matched, total, missing = match(truth, reports)
    real = [p for p in plants if p["kind"] == "plant"]
    detectable = [p for p in real if p["detectable"]]
    hit = [p for p in detectable if p["id"] in found]
    recall = len(hit) / len(detectable) if detectable else 1.0
    precision = matched / total if total else 1.0
    decoys = [p for p in plants if p["kind"] == "decoy"]

    table("data type", plants, found, lambda p: p["data_type"])
    table("carrier", plants, found, lambda p: f"{p['carrier']} ({p['capture']})")
    table("transform", plants, found, lambda p: p["transform"])

    misses = [p for p in detectable if p["id"] not in found]
    print(f"\nmisses ({len(misses)}):")
    for p in misses:
        note = " [flow not in report]" if p["id"] in missing else ""
        note += " [found only in the other direction]" if p["id"] in extra else ""
        print("  " + describe(p) + note)
    print(f"\ndecoy hits ({len(decoy_hits)}):")
    for p, f in decoy_hits:
        print(f"  {p['id']} {p['capture']} {p['carrier']} ({p['decoy']}, {p['wire']}): {finding_text(f)}")
    print(f"\nstray findings ({len(stray)}):")
    for cap, p, f, why in stray:
        where = f"in {p['id']} ({p['data_type']} {p['label']})" if p else f"in {cap} flow {f.get('flow')}"
        print(f"  {where}: {why}: {finding_text(f)}")
    undetectable = [p for p in real if not p["detectable"]]
    seen = [p for p in undetectable if p["id"] in found]
    print(f"\nnot detectable by design: {len(undetectable)} plants, {len(seen)} reported anyway")
    for p in seen:
        print("  " + describe(p))
    if args.verbose:
        print("\nfound:")
        for p in hit:
            print("  " + describe(p))
            for f in found[p["id"]]:
                print("      " + finding_text(f))
    if missing:
        print(f"\nwarning: {len(missing)} planted flows are not in the reports' flows")

    print(f"\nplants {len(real)} ({len(detectable)} detectable), decoys {len(decoys)}, findings {total}")
    print(f"recall {recall:.1%} ({len(hit)}/{len(detectable)}), precision {precision:.1%} ({matched}/{total}), "
          f"decoy hits {len(decoy_hits)}, stray {len(stray)}  [{elapsed:.0f} s]")
    ok = recall >= args.min_recall and not decoy_hits
    print("pii check:", "PASS" if ok else ("FAIL" + (" (report only)" if args.report_only else "")))
    return 0 if ok or args.report_only else 1


def self_test():
    """The matching rules on a made-up truth and report."""
    def plant(pid, kind, label, cport, direction="client_to_server", detectable=True):
        return {"id": pid, "kind": kind, "capture": "http", "data_type": "imei",
                "label": label, "also_labels": [], "detectable": detectable, "direction": direction,
                "flow": {"proto": "tcp", "client_port": cport, "server_port": 80}}
    truth = {"plants": [
        plant("p1", "plant", "imei", 1001),
        plant("p2", "plant", "imei", 1002),  # found only server-to-client: a miss
        plant("p3", "plant", "imei", 1003),  # another label in its flow: stray, a miss
        plant("d1", "decoy", None, 1004),
        plant("p4", "plant", "imei", 1005),  # its flow is not in the report
    ]}
    flows = [{"id": i, "proto": "tcp", "client": f"127.0.0.1:{1000 + i}", "server": "127.0.0.1:80"}
             for i in range(1, 5)]
    flows.append({"id": 9, "proto": "udp", "client": "127.0.0.1:1001", "server": "127.0.0.1:80"})

    def finding(flow, label="imei", direction="client_to_server", data_type="imei"):
        return {"kind": "personal_data", "flow": flow, "data_type": data_type, "label": label,
                "direction": direction}
    report = {"flows": flows, "findings": [
        finding(1), finding(1, direction="server_to_client"), finding(2, direction="server_to_client"),
        finding(3, label="imei2"), finding(4), finding(9), {"kind": "policy", "flow": 1}]}
    found, extra, decoys, stray, matched, total, missing = match(truth, {"http": report})
    assert set(found) == {"p1"}, found
    assert set(extra) == {"p1", "p2"}, extra
    assert [p["id"] for p, _ in decoys] == ["d1"], decoys
    assert [(p and p["id"], why) for _, p, _, why in stray] == [
        ("p3", "another value than the plant's"), (None, "no plant in this flow")], stray
    assert (matched, total) == (3, 6), (matched, total)
    assert missing == {"p4"}, missing
    assert ports("[::1]:5353") == 5353
    print("pii check self-test: ok")


if __name__ == "__main__":
    sys.exit(main())
