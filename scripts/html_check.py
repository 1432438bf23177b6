#!/usr/bin/env python3
"""Opens phonehome's HTML report in a real browser and checks what a reader would see.

    scripts/html_check.py [--bin target/release/phonehome] [CAPTURE] [--profile FILE]
                          [--policy NAME|FILE] [--home CC]
    scripts/html_check.py --html report.html [--json report.json]

The first form runs `phonehome audit --format json` and `--format html` on the capture
(default examples/phone-session.pcap with examples/device-profile.toml); the second checks an
HTML file already written (with the JSON report beside it as FILE.json, or --json).

Headless Chromium (Debian package `chromium`) loads the file from disk, driven through the
DevTools protocol (PyPI `websocket-client`). Checked:
  - the verdict element is there and says what the JSON report says;
  - one finding row per finding of the JSON report (or, past the row cap, as many as the
    table says it shows, with the total matching);
  - the map, the flow diagram and the destinations table are drawn;
  - the page's script ran under its Content-Security-Policy (the filter boxes show and a
    column sorts);
  - the console shows no error, no exception and no blocked resource;
and a full-page screenshot is saved (--screenshot, default target/html-report.png).

Exit status: 0 when every check passed, 1 when one failed, 2 when the check could not run
(no browser, no binary, phonehome failed).
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def die(msg, code=2):
    print(f"html_check: {msg}", file=sys.stderr)
    sys.exit(code)


try:
    import websocket  # PyPI: websocket-client
except ImportError:
    die("needs the PyPI package websocket-client: pip install websocket-client")


def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    die("no Chromium found; install it with: "
        "DEBIAN_FRONTEND=noninteractive apt-get install -y chromium")


class Browser:
    """One headless Chromium with one page, spoken to over the DevTools protocol."""

    def __init__(self, width, height):
        self.profile = tempfile.mkdtemp(prefix="html-check-")
        self.proc = subprocess.Popen(
            [find_browser(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             f"--window-size={width},{height}", f"--user-data-dir={self.profile}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t.get("type") == "page"]
        if not pages:
            self.close()
            die("Chromium started without a page")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.events = []

    def _port(self):
        # Chromium writes the port it chose (with --remote-debugging-port=0) into this file.
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                die(f"Chromium exited at start (status {self.proc.returncode})")
            if marker.exists():
                lines = marker.read_text().split("\n")
                if lines and lines[0].strip().isdigit():
                    return int(lines[0])
            time.sleep(0.1)
        self.close()
        die("Chromium did not open its DevTools port within 30 s")

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event, timeout=30):
        deadline = time.time() + timeout
        for e in self.events:
            if e["method"] == event:
                return e
        while time.time() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == event:
                    return msg
        return None

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluating {expression!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def console_errors(events):
    """Errors a reader's console would show: console.error, uncaught exceptions, and browser
    log entries at error level (CSP violations, blocked or failed loads)."""
    errors = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console.error: " + " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif e["method"] == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif e["method"] == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "about:")):
                errors.append(f"network request: {url}")
    return errors


def run_phonehome(args, workdir):
    binary = Path(args.bin)
    if not binary.exists():
        die(f"no phonehome binary at {binary}: build it with cargo build --release, or pass --bin")
    html = Path(workdir) / "report.html"
    js = Path(workdir) / "report.json"
    for fmt, out in (("json", js), ("html", html)):
        cmd = [str(binary), "audit", "--quiet", "--format", fmt, "-o", str(out)]
        if args.profile:
            cmd += ["--profile", args.profile]
        if args.policy:
            cmd += ["--policy", args.policy]
        if args.home:
            cmd += ["--home", args.home]
        cmd.append(args.capture)
        r = subprocess.run(cmd, capture_output=True, text=True)
        # 0: clean, 1: policy violations (the report is still written).
        if r.returncode not in (0, 1) or not out.exists():
            die(f"{' '.join(cmd)} failed with status {r.returncode}:\n{r.stderr.strip()}")
    return html, js


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture", nargs="?", default=str(ROOT / "examples/phone-session.pcap"))
    ap.add_argument("--bin", default=str(ROOT / "target/release/phonehome"),
                    help="the phonehome binary (default target/release/phonehome)")
    ap.add_argument("--profile", default=str(ROOT / "examples/device-profile.toml"),
                    help="device profile passed to audit ('' for none)")
    ap.add_argument("--html", help="check this HTML file instead of running phonehome")
    ap.add_argument("--json", help="the JSON report of --html (default: FILE.json beside it)")
    ap.add_argument("--screenshot", default=str(ROOT / "target/html-report.png"))
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--policy", help="policy passed to audit (a built-in name or a file)")
    ap.add_argument("--home", help="home jurisdiction passed to audit (ISO alpha-2)")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="html-check-run-")
    try:
        if args.html:
            html = Path(args.html).resolve()
            js = Path(args.json) if args.json else html.with_suffix(".json")
            if not html.exists():
                die(f"no such file: {html}")
            report = json.loads(js.read_text()) if js.exists() else None
        else:
            html, js = run_phonehome(args, workdir)
            report = json.loads(js.read_text())
        failures = check(html.resolve(), report, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        for f in failures:
            print(f"FAIL: {f}", file=sys.stderr)
        print(f"html_check: {len(failures)} check(s) failed for {html}", file=sys.stderr)
        sys.exit(1)
    print(f"html_check: all checks passed; screenshot in {args.screenshot}")


def check(html, report, args):
    failures = []
    ok = lambda cond, msg: cond or failures.append(msg)  # noqa: E731
    browser = Browser(args.width, 900)
    try:
        for domain in ("Runtime", "Log", "Page", "Network"):
            browser.call(f"{domain}.enable")
        browser.call("Page.navigate", url=html.as_uri())
        if browser.wait_for("Page.loadEventFired", timeout=60) is None:
            return ["the page did not finish loading within 60 s"]
        time.sleep(0.5)  # let late console messages arrive

        dom = browser.eval("""(() => {
          const v = document.getElementById('verdict');
          const f = document.getElementById('findings');
          const q = s => document.querySelectorAll(s).length;
          return {
            verdict: v ? v.getAttribute('data-status') : null,
            verdictText: v ? v.innerText.slice(0, 200) : '',
            rows: q('#findings tbody tr.finding'),
            total: f ? Number(f.getAttribute('data-total')) : null,
            shown: f ? Number(f.getAttribute('data-shown')) : null,
            mapCountries: q('#world-map .country'),
            shaded: q('#world-map .country:not(.s0)'),
            sankey: q('#sankey, #sankey-section p.empty'),
            timeline: q('#timeline, #timeline-section p.empty'),
            destinations: q('#destinations tbody tr.destination'),
            tools: q('.table-tools:not([hidden])'),
            sortButtons: q('table.sortable button.sort'),
            scripts: q('script'),
            external: q('[src], link[href]:not([href^="data:"])'),
            height: document.documentElement.scrollHeight,
          };
        })()""")

        ok(dom["verdict"] in ("pass", "fail", "no-policy"),
           f"no verdict element with a status (got {dom['verdict']!r})")
        if report is not None:
            want = report["verdict"]["status"] or "no-policy"
            ok(dom["verdict"] == want, f"verdict {dom['verdict']!r} but the JSON report says {want!r}")
            n = len(report["findings"])
            ok(dom["total"] == n, f"findings table says {dom['total']} findings, JSON report has {n}")
            ok(dom["rows"] == min(n, dom["shown"] or 0) and (dom["rows"] == n or dom["shown"] < n),
               f"{dom['rows']} finding rows for {n} findings (table shows {dom['shown']})")
            ok(dom["destinations"] == min(len(report["destinations"]), 5000),
               f"{dom['destinations']} destination rows for {len(report['destinations'])} destinations")
            sent = sum(f["bytes_up"] for f in report["flows"] if f.get("server_country"))
            ok(sent == 0 or dom["shaded"] > 0, "bytes went to known countries but no country is shaded")
        else:
            ok(dom["rows"] == dom["shown"], f"{dom['rows']} finding rows, table says {dom['shown']}")
        ok(dom["mapCountries"] > 150, f"the world map has only {dom['mapCountries']} countries")
        ok(dom["sankey"] >= 1, "no flow diagram")
        ok(dom["timeline"] >= 1, "no timeline")
        ok(dom["scripts"] == 1, f"{dom['scripts']} script elements, expected the page's own only")
        ok(dom["external"] == 0, f"{dom['external']} elements refer to outside resources")
        ok(dom["tools"] >= 1, "the filter boxes stayed hidden: the page's script did not run (CSP hash?)")
        ok(dom["sortButtons"] >= 1, "no sort buttons: the page's script did not run")

        if dom["destinations"] > 1:
            sorted_ok = browser.eval("""(() => {
              const th = document.querySelectorAll('#destinations thead th')[1];
              th.querySelector('button.sort').click();
              th.querySelector('button.sort').click();
              const v = [...document.querySelectorAll('#destinations tbody tr')]
                .map(r => Number(r.cells[1].getAttribute('data-v')));
              const asc = v.every((x, i) => i === 0 || v[i - 1] <= x);
              th.querySelector('button.sort').click();
              return th.getAttribute('aria-sort') === 'descending' && asc;
            })()""")
            ok(sorted_ok, "clicking the Sent column did not sort the destinations")
        if dom["rows"] > 0:
            filtered = browser.eval("""(() => {
              const box = document.querySelector('.table-tools[data-for="findings"] input');
              box.value = 'no row contains this \u2603';
              box.dispatchEvent(new Event('input'));
              const hidden = document.querySelectorAll('#findings tbody tr[hidden]').length;
              box.value = ''; box.dispatchEvent(new Event('input'));
              return hidden === document.querySelectorAll('#findings tbody tr').length;
            })()""")
            ok(filtered, "the findings filter did not hide rows")

        time.sleep(0.2)
        for e in console_errors(browser.events):
            failures.append(f"browser console: {e}")

        height = min(int(dom["height"] or 900), 16000)
        browser.call("Emulation.setDeviceMetricsOverride", width=args.width, height=height,
                     deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        out = Path(args.screenshot)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        print(f"html_check: verdict {dom['verdict']}, {dom['rows']} finding rows, "
              f"{dom['destinations']} destinations, {dom['shaded']} countries shaded; "
              f"page {height}px tall")
    finally:
        browser.close()
    return failures


if __name__ == "__main__":
    os.environ.setdefault("LANG", "C.UTF-8")
    main()
