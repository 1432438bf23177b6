#!/usr/bin/env python3
"""Service recognition compared with nDPI on nDPI's own test captures.

Usage: ndpi_check.py PHONEHOME_BINARY CAPTURES_DIR

For every capture X in CAPTURES_DIR that has nDPI's expected output X.ndpi.out beside it,
runs `phonehome audit --format json X`, matches flows by transport and unordered endpoint
pair, and compares phonehome's `service` with nDPI's application label on the flows nDPI
names with one of the services below. Prints per-service and total agreement and exits 1
when the total is under 0.95 (or nothing could be compared).

Only flows nDPI names with an application of the table count. Flows whose nDPI master
protocol is DNS (or mDNS/LLMNR) are left out: nDPI labels a resolver query by the name asked
("DNS.WeChat"), while phonehome attributes the flow to the resolver it goes to. A labelled flow
phonehome did not report at all counts as a miss.
"""

import ipaddress
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

# nDPI application name -> the service group it means.
NDPI = {
    "Xiaomi": "Xiaomi",
    "WeChat": "WeChat",
    "QQ": "QQ",
    "OICQ": "QQ",
    "Line": "LINE",
    "LineCall": "LINE",
    "WhatsApp": "WhatsApp",
    "WhatsAppCall": "WhatsApp",
    "WhatsAppFiles": "WhatsApp",
    "Telegram": "Telegram",
    "Signal": "Signal",
    "TikTok": "TikTok",
    "Facebook": "Facebook",
    "FacebookMessenger": "Messenger",
    "Messenger": "Messenger",
    "Instagram": "Instagram",
    "Threads": "Threads",
    "Google": "Google",
    "GoogleServices": "Google",
    "PlayStore": "Google",
    "GoogleMaps": "Google",
    "GoogleDrive": "Google",
    "GoogleDocs": "Google",
    "GoogleClassroom": "Google",
    "YouTube": "Google",
    "Apple": "Apple",
    "AppleiTunes": "Apple",
    "AppleStore": "Apple",
    "AppleSiri": "Apple",
    "ApplePush": "Apple",
    "AppleiCloud": "Apple",
    "Alibaba": "Alibaba",
    "AliCloud": "Alibaba",
    "Baidu": "Baidu",
    "HuaweiCloud": "Huawei",
    "Huawei": "Huawei",
}

# phonehome service name -> group.
PHONEHOME = {
    "Xiaomi": "Xiaomi",
    "Xiaomi Push": "Xiaomi",
    "Xiaomi Account": "Xiaomi",
    "Xiaomi Cloud": "Xiaomi",
    "Xiaomi Analytics": "Xiaomi",
    "Xiaomi Ads": "Xiaomi",
    "MIUI Update": "Xiaomi",
    "WeChat": "WeChat",
    "QQ": "QQ",
    "LINE": "LINE",
    "WhatsApp": "WhatsApp",
    "Telegram": "Telegram",
    "Signal": "Signal",
    "TikTok": "TikTok",
    "Douyin": "TikTok",
    "Facebook": "Facebook",
    "Messenger": "Messenger",
    "Instagram": "Instagram",
    "Threads": "Threads",
    "Google": "Google",
    "Google Play": "Google",
    "Google Ads": "Google",
    "Google Analytics": "Google",
    "Google Maps": "Google",
    "Google Drive": "Google",
    "YouTube": "Google",
    "Firebase": "Google",
    "Firebase Cloud Messaging": "Google",
    "Apple": "Apple",
    "Apple Push": "Apple",
    "iCloud": "Apple",
    "Alipay": "Alibaba",
    "Aliyun": "Alibaba",
    "Taobao": "Alibaba",
    "Umeng": "Alibaba",
    "Baidu": "Baidu",
    "Baidu Push": "Baidu",
    "Huawei HMS": "Huawei",
    "Huawei Push": "Huawei",
}

# Where nDPI's label is broader than one phonehome service: nDPI's QQ matches every qq.com
# host, WeChat's web hosts (wx.qq.com) included.
ALSO = {"QQ": {"WeChat"}}

NOT_APP_MASTERS = {"DNS", "MDNS", "LLMNR"}

LINE = re.compile(
    r"^\s*\d+\s+(?P<proto>TCP|UDP)\s+(?P<a>\S+)\s+<?->\s+(?P<b>\S+)\s.*?\[proto: [\d.]+/(?P<label>[^\]]+)\]"
)


def endpoint(text):
    """'1.2.3.4:80' or '[2001:db8::1]:443' -> (ip, port)."""
    if text.startswith("["):
        ip, _, port = text[1:].partition("]:")
    else:
        ip, _, port = text.rpartition(":")
    # Addresses are compared as values: "b00c::43fe" and "b00c:0:43fe" are one address.
    return ipaddress.ip_address(ip), int(port)


def key(proto, a, b):
    return proto.lower(), frozenset([endpoint(a), endpoint(b)])


def ndpi_flows(path):
    for line in path.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if not m:
            continue
        label = m.group("label")
        master, _, app = label.partition(".")
        if not app:
            master, app = "", label
        if master in NOT_APP_MASTERS or app not in NDPI:
            continue
        yield key(m.group("proto"), m.group("a"), m.group("b")), app, line.strip()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, captures = sys.argv[1], Path(sys.argv[2])
    per = defaultdict(lambda: [0, 0])
    misses = []
    for out in sorted(captures.glob("*.ndpi.out")):
        capture = out.with_name(out.name[: -len(".ndpi.out")])
        if not capture.exists():
            continue
        expected = list(ndpi_flows(out))
        if not expected:
            continue
        run = subprocess.run(
            [binary, "audit", "--format", "json", str(capture)],
            capture_output=True,
            text=True,
        )
        if run.returncode not in (0, 1) or not run.stdout:
            print(f"{capture.name}: phonehome failed: {run.stderr.strip()}", file=sys.stderr)
            report = {"flows": []}
        else:
            report = json.loads(run.stdout)
        ours = {}
        for f in report["flows"]:
            ours.setdefault(key(f["proto"], f["client"], f["server"]), f)
        for k, app, line in expected:
            want = NDPI[app]
            f = ours.get(k)
            service = f.get("service") if f else None
            got = PHONEHOME.get(service) if service else None
            ok = got == want or service in ALSO.get(want, set()) or got in ALSO.get(want, set())
            per[want][0] += 1
            per[want][1] += int(ok)
            if not ok:
                why = "flow not reported" if f is None else f"service {service!r}"
                misses.append(f"{capture.name}: nDPI {app}, phonehome {why}: {line[:160]}")
    total = sum(n for n, _ in per.values())
    agree = sum(a for _, a in per.values())
    print(f"{'SERVICE':<12} {'FLOWS':>5} {'AGREE':>5} {'RATIO':>6}")
    for name in sorted(per):
        n, a = per[name]
        print(f"{name:<12} {n:>5} {a:>5} {a / n:>6.3f}")
    ratio = agree / total if total else 0.0
    print(f"{'total':<12} {total:>5} {agree:>5} {ratio:>6.3f}")
    for m in misses:
        print("  miss:", m)
    if total == 0 or ratio < 0.95:
        print(f"service agreement with nDPI {ratio:.3f} is under 0.95", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
