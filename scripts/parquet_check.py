#!/usr/bin/env python3
"""Checks phonehome's Parquet tables against its JSON report, with DuckDB.

    parquet_check.py [BIN] [CAPTURE ...] [--profile FILE] [--policy NAME]
        Runs `BIN audit CAPTURE --format json -o run-N.json --parquet run-N/` on each capture
        (default: target/release/phonehome on examples/phone-session.pcap, with
        examples/device-profile.toml and the cleartext policy so that there are
        findings), then checks.
    parquet_check.py --dir DIR [DIR ...] --json REPORT.json [REPORT.json ...]
        Checks tables already written: every DIR's files are read as one table each (as a
        fleet analysis would), against the union of the JSON reports.

For every table it compares row counts, and a few sums and group counts (bytes, packets,
findings per data type, DNS responses), checks the column types DuckDB sees (timestamps with
time zone, lists as lists), that every row names a capture of the reports, and that each row
group holds one capture's rows. It prints one line per check and exits 1 on any mismatch,
2 when it cannot run. DuckDB is installed with pip when missing.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = ["inputs", "flows", "destinations", "dns", "http", "findings"]


def die(message):
    print(f"parquet_check: {message}", file=sys.stderr)
    sys.exit(2)


def duckdb_module():
    try:
        import duckdb
    except ImportError:
        print("parquet_check: installing duckdb with pip", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "duckdb"], check=True
        )
        import duckdb
    return duckdb


def run_phonehome(binary, captures, extra, work):
    """Runs one audit per capture; returns (parquet dirs, json paths)."""
    if not Path(binary).is_file():
        die(f"no phonehome binary at {binary} (cargo build --release -p phonehome-cli)")
    dirs, reports = [], []
    for i, capture in enumerate(captures):
        out_dir, out_json = work / f"run-{i}", work / f"run-{i}.json"
        cmd = [str(binary), "audit", str(capture), "--format", "json",
               "-o", str(out_json), "--parquet", str(out_dir)] + extra
        proc = subprocess.run(cmd, capture_output=True, text=True)
        # 0: clean, 1: policy violations; both wrote a report.
        if proc.returncode not in (0, 1):
            hint = ""
            if "--parquet" in proc.stderr:
                hint = " (this phonehome has no --parquet flag yet)"
            die(f"{' '.join(cmd)} exited {proc.returncode}{hint}:\n{proc.stderr.strip()}")
        dirs.append(out_dir)
        reports.append(out_json)
    return dirs, reports


class Checker:
    def __init__(self, con, dirs, reports):
        self.con = con
        self.dirs = dirs
        self.reports = reports
        self.failures = []
        self.lines = []

    def files(self, table):
        paths = [str(d / f"{table}.parquet") for d in self.dirs]
        for p in paths:
            if not Path(p).is_file():
                die(f"missing {p}")
        return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"

    def query(self, table, select):
        return self.con.execute(
            select.replace("$T", f"read_parquet({self.files(table)})")
        ).fetchall()

    def scalar(self, table, select):
        return self.query(table, select)[0][0]

    def expect(self, table, check, expected, actual):
        ok = expected == actual
        self.lines.append((table, check, expected, actual, ok))
        if not ok:
            self.failures.append(f"{table}: {check}: JSON says {expected!r}, Parquet {actual!r}")

    def records(self, field):
        return [r for report in self.reports for r in report[field]]

    def run(self):
        for table in TABLES:
            self.expect(table, "rows", len(self.records(table)),
                        self.scalar(table, "SELECT count(*) FROM $T"))

        flows = self.records("flows")
        for col in ("bytes_up", "bytes_down", "packets_up", "packets_down"):
            self.expect("flows", f"sum({col})", sum(f[col] for f in flows),
                        self.scalar("flows", f"SELECT coalesce(sum({col}), 0) FROM $T"))
        self.expect("flows", "distinct (capture, flow_id)", len(flows),
                    self.scalar("flows", "SELECT count(*) FROM (SELECT DISTINCT "
                                "capture_sha256, report, flow_id FROM $T)"))
        self.expect("flows", "with TLS ALPN list", sum(1 for f in flows if f["tls"]),
                    self.scalar("flows", "SELECT count(tls_alpn) FROM $T"))

        dests = self.records("destinations")
        self.expect("destinations", "sum(bytes_up)", sum(d["bytes_up"] for d in dests),
                    self.scalar("destinations", "SELECT coalesce(sum(bytes_up), 0) FROM $T"))
        self.expect("destinations", "addresses", sum(len(d["ips"]) for d in dests),
                    self.scalar("destinations", "SELECT coalesce(sum(len(ips)), 0) FROM $T"))

        dns = self.records("dns")
        self.expect("dns", "responses", sum(1 for d in dns if d["response"]),
                    self.scalar("dns", "SELECT count(*) FROM $T WHERE response"))
        self.expect("dns", "answers", sum(len(d["answers"]) for d in dns),
                    self.scalar("dns", "SELECT coalesce(sum(len(answers)), 0) FROM $T"))

        http = self.records("http")
        self.expect("http", "sum(body_len)", sum(h["body_len"] for h in http),
                    self.scalar("http", "SELECT coalesce(sum(body_len), 0) FROM $T"))

        findings = self.records("findings")
        self.expect("findings", "per data_type",
                    dict(Counter(f["data_type"] or "-" for f in findings)),
                    dict(self.query("findings", "SELECT coalesce(data_type, '-'), count(*) "
                                    "FROM $T GROUP BY 1")))
        self.expect("findings", "per kind", dict(Counter(f["kind"] for f in findings)),
                    dict(self.query("findings", "SELECT kind, count(*) FROM $T GROUP BY 1")))
        self.expect("findings", "frames", sum(len(f["frames"]) for f in findings),
                    self.scalar("findings", "SELECT coalesce(sum(len(frames)), 0) FROM $T"))

        inputs = self.records("inputs")
        self.expect("inputs", "sum(packets)", sum(i["packets"] for i in inputs),
                    self.scalar("inputs", "SELECT coalesce(sum(packets), 0) FROM $T"))
        shas = {i["sha256"] for i in inputs}
        for table in TABLES:
            seen = {r[0] for r in self.query(
                table, "SELECT DISTINCT capture_sha256 FROM $T WHERE capture_sha256 IS NOT NULL")}
            self.expect(table, "captures named are the inputs'", True, seen <= shas)
        if all(len(r["inputs"]) == 1 for r in self.reports):
            for table in TABLES:
                self.expect(table, "rows without capture", 0, self.scalar(
                    table, "SELECT count(*) FROM $T WHERE capture_sha256 IS NULL"))

        self.check_types()
        self.check_row_groups()
        return self.failures

    def check_types(self):
        types = {
            ("flows", "first_ts"): "TIMESTAMP WITH TIME ZONE",
            ("flows", "bytes_up"): "BIGINT",
            ("flows", "tls_alpn"): "VARCHAR[]",
            ("destinations", "ips"): "VARCHAR[]",
            ("findings", "frames"): "BIGINT[]",
            ("findings", "layers"): "VARCHAR[]",
            ("dns", "ts"): "TIMESTAMP WITH TIME ZONE",
            ("dns", "answers"):
                "STRUCT(\"name\" VARCHAR, rrtype VARCHAR, ttl BIGINT, \"data\" VARCHAR)[]",
        }
        described = {}
        for table in {t for t, _ in types}:
            for row in self.con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({self.files(table)})").fetchall():
                described[(table, row[0])] = row[1]
        for (table, column), expected in types.items():
            actual = described.get((table, column))
            # DuckDB versions differ in quoting struct field names.
            norm = lambda t: (t or "").replace('"', "")
            self.expect(table, f"type of {column}", norm(expected), norm(actual))

    def check_row_groups(self):
        """Each row group holds the rows of one capture (or of none)."""
        for table in TABLES:
            rows = self.con.execute(
                "SELECT file_name, row_group_id, stats_min_value, stats_max_value "
                f"FROM parquet_metadata({self.files(table)}) "
                "WHERE path_in_schema = 'capture_sha256'").fetchall()
            mixed = [(f, g) for f, g, lo, hi in rows if lo != hi]
            self.expect(table, "row groups mixing captures", 0, len(mixed))


def short(value):
    """A value for the summary table: counts per key as k=v, long text cut."""
    if isinstance(value, dict):
        value = " ".join(f"{k}={v}" for k, v in sorted(value.items()))
    text = str(value)
    return text if len(text) <= 28 else text[:27] + "~"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary", nargs="?", default=str(ROOT / "target/release/phonehome"))
    parser.add_argument("captures", nargs="*")
    parser.add_argument("--dir", nargs="+", type=Path, help="directories of Parquet tables")
    parser.add_argument("--json", nargs="+", type=Path, help="the JSON reports they came from")
    parser.add_argument("--profile", help="device profile given to phonehome audit")
    parser.add_argument("--policy", help="policy given to phonehome audit")
    args = parser.parse_args()

    duckdb = duckdb_module()
    with tempfile.TemporaryDirectory(prefix="parquet-check-") as tmp:
        if args.dir or args.json:
            if not (args.dir and args.json):
                die("--dir and --json go together")
            dirs, report_paths = args.dir, args.json
        else:
            captures = args.captures
            if not captures:
                captures = [str(ROOT / "examples/phone-session.pcap")]
                args.profile = args.profile or str(ROOT / "examples/device-profile.toml")
                args.policy = args.policy or "cleartext"
            extra = []
            if args.profile:
                extra += ["--profile", args.profile]
            if args.policy:
                extra += ["--policy", args.policy]
            dirs, report_paths = run_phonehome(args.binary, captures, extra, Path(tmp))
        reports = []
        for p in report_paths:
            try:
                reports.append(json.loads(Path(p).read_text()))
            except (OSError, ValueError) as e:
                die(f"cannot read the JSON report {p}: {e}")
        checker = Checker(duckdb.connect(), [Path(d) for d in dirs], reports)
        failures = checker.run()

    print(f"{'table':<13} {'check':<32} {'json':>12} {'parquet':>12}")
    for table, check, expected, actual, ok in checker.lines:
        e, a = short(expected), short(actual)
        print(f"{table:<13} {check:<32} {e:>12} {a:>12}  {'ok' if ok else 'MISMATCH'}")
    if failures:
        print(f"\nparquet_check: {len(failures)} mismatch(es):", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)
    print(f"\n{len(checker.lines)} passed, 0 failed")


if __name__ == "__main__":
    main()
