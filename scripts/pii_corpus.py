#!/usr/bin/env python3
"""Personal-data ground truth: real captures with the profile's values planted in known places.

Real clients (raw sockets writing HTTP/1.1, curl and Python ssl over TLS 1.3 with a key log,
dig, WebSocket, UDP and TCP senders) talk to real servers on loopback (nginx, dnsmasq, and
small sinks for what those two do not speak) while tcpdump writes one capture per group of
ports. Every value of the device profile (scripts/pii/profile.toml) is planted in its normal
forms, under many transforms (URL, base64, hex, digests, JSON escapes, UTF-16, GBK...) and
through many carriers (query, form, JSON, header, cookie, multipart, gzip, chunked, base64
blobs, protobuf, WebSocket, DNS labels, UDP, TCP segments, TLS, vCard, legacy charsets),
next to decoys that resemble a value without being one (an IMEI with a digit changed,
another phone number, random hex of digest length, base64 of unrelated bytes, another
email) and that must give no finding.

Each plant travels in a flow of its own, so the truth table (truth.json, described in
scripts/pii/README.md) names the flow by its port pair and a finding maps to at most one
plant. Everything planted is a function of the seed; only the ports and the TLS randomness
differ between runs.

Usage: pii_corpus.py --out DIR [--seed N] [--profile FILE]
Needs root (tcpdump), nginx, dnsmasq, tcpdump, curl, dig and openssl.
"""

import argparse
import base64
import json
import os
import random
import re
import shutil
import signal
import sys
import time
import tomllib
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pii import clients, encodings as enc, servers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROFILE = os.path.join(HERE, "pii", "profile.toml")
DEFAULT_SEED = 20240611

# Ports of their own, apart from the other live checks' (18443, 18444).
HTTP_PORT, HTTPS_PORT, DNS_PORT, UDP_PORT, TCP_PORT, WS_PORT = 18580, 18583, 18553, 18590, 18591, 18592
BACKEND_PORT = 18581  # behind the TLS server, not captured
HTTP_HOST, TLS_HOST, DOMAIN = "api.pii.test", "secure.pii.test", "t.pii.test"

CAPTURES = {
    "http": {"bpf": f"tcp port {HTTP_PORT}", "keylog": None},
    "tls": {"bpf": f"tcp port {HTTPS_PORT}", "keylog": "tls.keys"},
    "dns": {"bpf": f"udp port {DNS_PORT}", "keylog": None},
    "raw": {"bpf": f"udp port {UDP_PORT} or tcp port {TCP_PORT} or tcp port {WS_PORT}", "keylog": None},
}
TOOLS = ("tcpdump", "nginx", "dnsmasq", "curl", "dig", "openssl")

# Parameter names apps use; which one carries a plant is drawn from the seed.
KEYS = ["did", "uid", "device", "data", "info", "token", "id", "v", "p", "ext", "ctx", "u"]


def _text(b):
    try:
        return b.decode()
    except UnicodeDecodeError:
        return None


def _ascii_printable(b):
    return all(0x20 <= c < 0x7F for c in b)


class Planner:
    """Builds the plan: every plant with its bytes and the call that will send it."""

    def __init__(self, profile, seed, work):
        self.rng = random.Random(seed)
        self.values = enc.values(profile)
        self.work = work
        self.plants = []
        self.usage = {}
        self.responses = {}  # nginx path -> body
        self.pushes = {}  # WebSocket push id -> frame payload

    # -- helpers -------------------------------------------------------------------------

    def rand_bytes(self, lo, hi):
        return bytes(self.rng.randrange(256) for _ in range(self.rng.randint(lo, hi)))

    def nonce(self):
        return "%08x" % self.rng.getrandbits(32)

    def key(self):
        return self.rng.choice(KEYS)

    def bump(self, *keys):
        for k in keys:
            self.usage[k] = self.usage.get(k, 0) + 1

    def pick(self, cands, n, *scopes):
        """n candidates, the least used so far (per scope) first, ties broken by the seed."""
        scored = sorted(cands, key=lambda c: (sum(self.usage.get((s, c), 0) for s in scopes), self.rng.random()))
        chosen = scored[:n]
        for c in chosen:
            self.bump(*[(s, c) for s in scopes])
        return chosen

    def form(self, value, transform):
        forms = value.forms_for(transform)
        if not forms:
            return None
        name, text = self.pick(forms, 1, ("form", value.label))[0]
        return name, text

    def add(self, *, capture, carrier, value=None, form=None, transform=None, chain=None, wire=b"",
            send, detectable=True, direction="client_to_server", unwrap=(), tag="", kind="plant",
            decoy=None, data_type=None, note=None):
        n = sum(1 for p in self.plants if p["kind"] == kind) + 1
        pid = ("p%04d" if kind == "plant" else "d%03d") % n
        entry = {
            "id": pid,
            "kind": kind,
            "capture": capture,
            "data_type": value.data_type if value else data_type,
            "label": value.label if value else None,
            "also_labels": list(value.also) if value else [],
            "form": form,
            "transform": transform,
            "encoding": chain if chain is not None else (enc.TRANSFORMS[transform][0] if transform else []),
            "carrier": carrier,
            "unwrap": list(unwrap),
            "detectable": detectable if kind == "plant" else False,
            "direction": direction,
            "flow": None,
            "tag": tag,
            "wire": enc.shown(wire),
        }
        if decoy:
            entry["decoy"] = decoy
        if note:
            entry["note"] = note
        entry["_send"] = send
        self.plants.append(entry)
        return pid

    # -- carriers: each returns (send thunk, unwrap, tag, direction) or None if v cannot go there --

    def _json_str(self, v, transform):
        """The JSON string body for bytes v: as is when already JSON-escaped, else escaped."""
        t = _text(v)
        if t is None:
            return None
        if transform == "json_u":
            return t
        return json.dumps(t, ensure_ascii=False)[1:-1]

    def json_body(self, v, transform, key):
        s = self._json_str(v, transform)
        if s is None:
            return None, None
        head = f'{{"app":"com.example.weather","ts":{1700000000 + self.rng.randrange(10**7)},"{key}":"'
        body = (head + s + f'","n":"{self.nonce()}"}}').encode()
        return body, len(head.encode())

    def http(self, pid, method, path, headers=(), body=None, cuts=None):
        path = path.replace("ID", pid, 1)  # the first "ID" is always the prefix's
        req = clients.http_request(method, path, HTTP_HOST, headers, body, cuts)
        return (lambda: clients.http_raw(HTTP_PORT, req)), path

    def carrier(self, name, pid, v, transform):
        """Dispatch: (send, unwrap, tag, direction) or None when v does not fit the carrier."""
        t = _text(v)
        if transform in BINARY and name not in BINARY_CARRIERS:
            return None  # UTF-16 in a URL or a JSON string is no app's habit
        if transform == "json_u" and name not in JSON_CARRIERS:
            return None  # \u escapes mean something only inside JSON
        key = self.key()
        c2s = "client_to_server"
        if name in ("query", "form"):
            if t is None or transform in ("json_u",):
                return None
            if transform == "url":
                raw = t
            elif name == "query":
                raw = urllib.parse.quote(t, safe=enc.UNRESERVED)
            else:
                raw = urllib.parse.quote_plus(t, safe=enc.UNRESERVED)
            unwrap = ["url"] if raw != t else []
            if name == "query":
                send, tag = self.http(pid, "GET", f"/q/ID?ver=2&{key}={raw}&n={self.nonce()}")
            else:
                body = f"app=com.example.weather&{key}={raw}&lang=zh-TW".encode()
                send, tag = self.http(pid, "POST", "/f/ID", [("Content-Type", "application/x-www-form-urlencoded")], body)
            return send, unwrap, tag, c2s
        if name == "cookie":
            if t is None or transform == "json_u" or not _ascii_printable(v):
                return None
            raw = t if not any(ch in t for ch in ' ;,"\\') else urllib.parse.quote(t, safe=enc.UNRESERVED)
            send, tag = self.http(pid, "GET", "/c/ID", [("Cookie", f"sid={self.nonce()}; {key}={raw}")])
            return send, (["url"] if raw != t else []), tag, c2s
        if name == "header":
            if t is None or transform == "json_u" or not _ascii_printable(v):
                return None
            send, tag = self.http(pid, "GET", "/h/ID", [(f"X-{key.capitalize()}", t)])
            return send, [], tag, c2s
        if name in ("json", "chunked", "gzip_body", "gzip_blob", "base64_json"):
            body, at = self.json_body(v, transform, key)
            if body is None:
                return None
            ct = [("Content-Type", "application/json")]
            if name == "json":
                send, tag = self.http(pid, "POST", "/j/ID", ct, body)
                return send, [], tag, c2s
            if name == "chunked":
                if len(v) < 2:
                    return None
                cut = at + self.rng.randrange(1, len(v))
                send, tag = self.http(pid, "POST", "/k/ID", ct, body, cuts=[self.rng.randrange(1, at), cut])
                return send, ["chunked"], tag, c2s
            if name == "gzip_body":
                send, tag = self.http(pid, "POST", "/z/ID", ct + [("Content-Encoding", "gzip")], enc.gz(body))
                return send, ["gzip"], tag, c2s
            if name == "gzip_blob":
                send, tag = self.http(pid, "POST", "/zb/ID", [("Content-Type", "application/octet-stream")], enc.gz(body))
                return send, ["gzip"], tag, c2s
            outer = json.dumps({"v": 1, "payload": base64.b64encode(body).decode()}).encode()
            send, tag = self.http(pid, "POST", "/bj/ID", ct, outer)
            return send, ["base64"], tag, c2s
        if name == "multipart":
            boundary = "----okhttp" + self.nonce() + self.nonce()
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"app\"\r\n\r\ncom.example.weather\r\n"
                    f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"; filename=\"blob.bin\"\r\n"
                    f"Content-Type: application/octet-stream\r\n\r\n").encode() + v + f"\r\n--{boundary}--\r\n".encode()
            send, tag = self.http(pid, "POST", "/m/ID", [("Content-Type", f"multipart/form-data; boundary={boundary}")], body)
            return send, [], tag, c2s
        if name == "octet":
            body = self.rand_bytes(8, 24) + b"\x00" + v + b"\x00" + self.rand_bytes(8, 24)
            send, tag = self.http(pid, "POST", "/o/ID", [("Content-Type", "application/octet-stream")], body)
            return send, [], tag, c2s
        if name == "base64_blob":
            # A random-length prefix puts the value at every alignment modulo 3 across plants.
            inner = (f"sdk=4.1&pad={'x' * self.rng.randrange(3)}&{key}=").encode() + v + f"&n={self.nonce()}".encode()
            send, tag = self.http(pid, "POST", "/b/ID", [("Content-Type", "text/plain")], base64.b64encode(inner))
            return send, ["base64"], tag, c2s
        if name == "protobuf":
            body = (enc.pb_field(1, "com.example.weather") + enc.pb_field(2, 1700000000 + self.rng.randrange(10**7))
                    + enc.pb_field(5, v) + enc.pb_field(6, self.rand_bytes(4, 12)))
            send, tag = self.http(pid, "POST", "/pb/ID", [("Content-Type", "application/x-protobuf")], body)
            return send, [], tag, c2s
        if name == "response":
            if t is None or transform == "json_u" or any(ch in t for ch in "'\\$\"{}"):
                return None
            path = f"/r/{pid}"
            self.responses[path] = f'{{"status":0,"{key}":"{t}"}}'
            send, tag = self.http(pid, "GET", path)
            return send, [], tag, "server_to_client"
        if name in ("tls_curl_h1", "tls_curl_h2", "tls_python", "tls_nokey"):
            body, _ = self.json_body(v, transform, key)
            if body is None:
                return None
            path = f"/t/{pid}"
            keys = os.path.join(self.work, CAPTURES["tls"]["keylog"])
            if name.startswith("tls_curl"):
                http2 = name.endswith("h2")
                send = lambda: clients.tls_curl(HTTPS_PORT, TLS_HOST, path, body, http2, keys)  # noqa: E731
            else:
                req = clients.http_request("POST", path, TLS_HOST, [("Content-Type", "application/json")], body)
                kl = keys if name == "tls_python" else None
                send = lambda: clients.tls_python(HTTPS_PORT, TLS_HOST, req, kl)  # noqa: E731
            return send, ["tls"], path, c2s
        if name == "dns":
            if not enc.is_label(v.replace(b"_", b"a")):
                return None
            qname = f"{t}.{pid}.{DOMAIN}"
            return (lambda: clients.dig(DNS_PORT, qname)), [], qname, c2s
        if name == "udp":
            payload = b"\x01PH" + pid.encode() + b"\x00" + v + b"\x00" + self.rand_bytes(4, 16)
            return (lambda: clients.udp_send(UDP_PORT, payload)), [], f"udp {pid}", c2s
        if name == "tcp_split":
            if len(v) < 3:
                return None
            stream = b"PHX1 " + pid.encode() + b"\n\x00" + v + b"\x00\n" + self.rand_bytes(4, 16)
            at = len(pid) + 7
            cuts = sorted(self.rng.sample(range(at + 1, at + len(v)), 2))
            parts = [stream[:cuts[0]], stream[cuts[0]:cuts[1]], stream[cuts[1]:]]
            return (lambda: clients.tcp_segments(TCP_PORT, parts)), ["tcp_segments"], f"tcp {pid}", c2s
        if name.startswith("ws_"):
            wskey = base64.b64encode(self.rand_bytes(16, 16)).decode()
            mask = lambda: bytes(self.rng.randrange(256) for _ in range(4))  # noqa: E731
            close = enc.ws_frame(b"\x03\xe8", 8, mask=mask())
            if name == "ws_text":
                body, _ = self.json_body(v, transform, key)
                if body is None:
                    return None
                frames = [enc.ws_frame(body, 1, mask=mask()), close]
            elif name == "ws_binary":
                frames = [enc.ws_frame(b"\x02" + self.rand_bytes(4, 8) + b"\x00" + v + b"\x00", 2, mask=mask()), close]
            elif name == "ws_fragmented":
                if len(v) < 2:
                    return None
                msg = b"\x02\x00" + v + b"\x00" + self.rand_bytes(2, 6)
                cut = 2 + self.rng.randrange(1, len(v))
                frames = [enc.ws_frame(msg[:cut], 2, fin=False, mask=mask()),
                          enc.ws_frame(msg[cut:], 0, fin=True, mask=mask()), close]
            elif name == "ws_server":
                body, _ = self.json_body(v, transform, key)
                if body is None:
                    return None
                self.pushes[pid] = body
                frames = [enc.ws_frame(f"push {pid}".encode(), 1, mask=mask()), close]
            else:
                raise ValueError(name)
            unwrap = [] if name == "ws_server" else ["websocket"]
            direction = "server_to_client" if name == "ws_server" else c2s
            send = lambda: clients.websocket(WS_PORT, HTTP_HOST, f"/ws/{pid}", wskey, frames)  # noqa: E731
            return send, unwrap, f"/ws/{pid}", direction
        raise ValueError(f"unknown carrier {name}")

    def plant(self, value, transform, carrier_name, form=None, detectable=True, note=None):
        """Plants value (one of its forms) under transform through the carrier; False if it
        does not fit."""
        if form is None:
            form = self.form(value, transform)
            if form is None:
                return False
        fname, text = form
        chain, v = enc.apply(transform, text)
        if transform == "url" and v == text.encode():
            return False  # nothing to escape: the same bytes as plain
        capture = carrier_capture(carrier_name)
        pid_guess = ("p%04d") % (sum(1 for p in self.plants if p["kind"] == "plant") + 1)
        got = self.carrier(carrier_name, pid_guess, v, transform)
        if got is None:
            return False
        send, unwrap, tag, direction = got
        self.add(capture=capture, carrier=carrier_name, value=value, form=fname, transform=transform,
                 chain=chain, wire=v, send=send, detectable=detectable, direction=direction,
                 unwrap=unwrap, tag=tag, note=note)
        self.bump(("carrier", carrier_name), ("dt", carrier_name, value.data_type))
        return True

    # -- the plan ------------------------------------------------------------------------

    def build(self):
        for value in self.values:
            for transform in value.transforms:
                for c in self.pick_carriers(value, transform, GENERIC_CARRIERS, 2):
                    self.plant(value, transform, c)
            self.special(value)
        self.legacy()
        self.decoys()
        return self.plants

    def pick_carriers(self, value, transform, pool, n):
        """Carriers for (value, transform): those that fit, least used for this data type and
        this transform first."""
        form = value.forms_for(transform)
        if not form:
            return []
        probe = enc.apply(transform, form[0][1])[1]
        fits = [c for c in pool if self.fits(c, probe, transform)]
        return self.pick(fits, n, ("carrier-dt", value.data_type), ("carrier-tr", transform))

    def fits(self, carrier, v, transform):
        saved = (self.rng.getstate(), dict(self.responses), dict(self.pushes))
        ok = self.carrier(carrier, "p0000", v, transform) is not None
        self.rng.setstate(saved[0])
        self.responses, self.pushes = saved[1], saved[2]
        return ok

    def special(self, value):
        """Carriers outside the generic HTTP set: DNS labels, UDP, TCP segments, WebSocket,
        TLS, protobuf numbers."""
        # DNS: base32 (what tunnels use) whenever it fits a label, then two others.
        labels = ["base32"] + self.pick(["hex", "base64url", "plain", "md5_hex", "sha1_hex"], 4, ("dns", value.label))
        placed = 0
        for t in labels:
            if placed >= 3:
                break
            if value.data_type == "location" and t not in ("plain", "base32", "hex"):
                continue
            placed += self.plant(value, t, "dns")
        for carrier, n in (("udp", 1), ("tcp_split", 1)):
            for t in self.pick(value.transforms, n, (carrier, value.label)):
                self.plant(value, t, carrier)
        for c in self.pick(["ws_text", "ws_binary", "ws_fragmented", "ws_server"], 2, ("ws", value.data_type)):
            for t in self.pick(value.transforms, 3, (c, value.label)):
                if self.plant(value, t, c):
                    break
        c = self.pick(["tls_curl_h1", "tls_curl_h2", "tls_python"], 1, ("tls",))[0]
        for t in self.pick(value.transforms, 3, ("tls", value.label)):
            if self.plant(value, t, c):
                break
        if value.label in ("imei", "phone", "owner.email"):
            self.plant(value, "plain", "tls_nokey", detectable=False,
                       note="TLS whose keys are not in the key log: nothing can read it")
        # Numbers as protobuf numbers: no text on the wire at all.
        if value.data_type in ("imei", "imsi", "iccid", "phone", "contact_phone"):
            fname, text = value.forms[0][:2] if value.data_type != "phone" else ("no_plus", value.forms[3][1])
            digits = "".join(ch for ch in text if ch.isdigit())
            fname = fname if text == digits else "digits"
            body = enc.pb_field(1, "com.example.weather") + enc.pb_field(3, int(digits)) + enc.pb_field(4, 1)
            self._raw_http(value, fname, "varint", ["varint"], body, "protobuf_varint", ["protobuf"],
                           enc.varint(int(digits)), "application/x-protobuf")
            body = enc.pb_field(1, "com.example.weather") + enc.pb_sint(5, int(digits))
            self._raw_http(value, fname, "zigzag", ["zigzag"], body, "protobuf_zigzag", ["protobuf"],
                           body[-9:], "application/x-protobuf")
        if value.data_type == "location":
            lat, lon = (float(x) for x in value.forms[0][1].split(","))
            body = enc.pb_field(1, "com.example.weather") + enc.pb_field(7, lat) + enc.pb_field(8, lon)
            self._raw_http(value, "comma", "double", ["double"], body, "protobuf_double", ["protobuf"],
                           body[-18:], "application/x-protobuf")
            la, lo = (int(x) for x in value.forms[2][1].split(","))
            body = enc.pb_field(1, "com.example.weather") + enc.pb_field(9, la) + enc.pb_field(10, lo)
            self._raw_http(value, "e7", "varint", ["varint"], body, "protobuf_varint", ["protobuf"],
                           body[-10:], "application/x-protobuf")
            body = enc.pb_field(1, "com.example.weather") + enc.pb_sint(9, la) + enc.pb_sint(10, lo)
            self._raw_http(value, "e7", "zigzag", ["zigzag"], body, "protobuf_zigzag", ["protobuf"],
                           body[-12:], "application/x-protobuf")

    def _raw_http(self, value, form, transform, chain, body, carrier, unwrap, wire, ctype,
                  path="/x/ID", detectable=True, note=None, method="POST"):
        pid = "p%04d" % (sum(1 for p in self.plants if p["kind"] == "plant") + 1)
        headers = [("Content-Type", ctype)] if ctype else []
        send, tag = self.http(pid, method, path, headers, body)
        self.add(capture="http", carrier=carrier, value=value, form=form, transform=transform, chain=chain,
                 wire=wire, send=send, unwrap=unwrap, tag=tag, detectable=detectable, note=note)

    def by_label(self, label):
        return next(v for v in self.values if v.label == label)

    def legacy(self):
        """vCard quoted-printable, GBK and Big5 text, and obfuscation no tool can undo."""
        def vcard(prop):
            return (f"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Entry;Lab {self.rng.randrange(100)}\r\n"
                    + prop + "\r\nEND:VCARD\r\n").encode()
        c0 = self.by_label("contacts[0].name")
        c1 = self.by_label("contacts[1].name")
        owner = self.by_label("owner.name")
        sms = self.by_label("sms[0].body")
        p1 = self.by_label("contacts[1].phone")
        cname = c0.forms[0][1]
        for value, text, brk in ((c0, cname, None), (c0, cname, 4), (c1, c1.forms[0][1], 7),
                                 (owner, owner.forms[0][1], 6), (sms, sms.forms[0][1], 30)):
            q = enc.qp(text.encode(), break_at=brk)
            prop = f"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{q}" if value is not sms else \
                f"NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{q}"
            self._raw_http(value, "as_written", "quoted_printable", ["quoted_printable"], vcard(prop),
                           "vcard_qp", [], q.encode(), "text/x-vcard; charset=utf-8",
                           path="/vcf/ID", note="soft line break inside the value" if brk else None)
        tel = p1.forms[2][1]
        self._raw_http(p1, "as_written", "plain", [], vcard(f"TEL;CELL:{tel}"), "vcard", [], tel.encode(),
                       "text/x-vcard", path="/vcf/ID")
        gbk = cname.encode("gbk")
        self._raw_http(c0, "as_written", "gbk", ["gbk"], "联系人：".encode("gbk") + gbk + b"\r\n", "gbk_text", [],
                       gbk, "text/plain; charset=GBK", path="/gbk/ID")
        self._raw_http(c0, "as_written", "gbk", ["gbk"], b'{"name":"' + gbk + b'","n":1}', "gbk_json", [],
                       gbk, "application/json; charset=GBK", path="/gbk/ID")
        q = urllib.parse.quote_from_bytes(gbk)
        self._raw_http(c0, "as_written", "gbk", ["gbk", "url"], None, "gbk_query", [], q.encode(), None,
                       path=f"/gbk/ID?name={q}&ie=gbk", method="GET")
        b5 = cname.encode("big5")
        self._raw_http(c0, "as_written", "big5", ["big5"], "聯絡人：".encode("big5") + b5 + b"\r\n", "big5_text", [],
                       b5, "text/plain; charset=Big5", path="/big5/ID")
        # XOR with a key only the app knows: the bytes are there, no tool can see them.
        for label in ("imei", "phone", "owner.email"):
            value = self.by_label(label)
            k = self.rand_bytes(8, 8)
            data = value.forms[0][1].encode()
            x = bytes(b ^ k[i % len(k)] for i, b in enumerate(data))
            self._raw_http(value, value.forms[0][0], "xor", ["xor"], b"\x00" + x + b"\x00", "octet_xor", [], x,
                           "application/octet-stream", path="/o/ID", detectable=False,
                           note="XOR with a key only the app knows")

    def decoys(self):
        """Look-alikes of profile values: any finding in their flows is a false positive."""
        imei = self.by_label("imei").forms[0][1]
        i = 6
        other = imei[:i] + str((int(imei[i]) + 5) % 10) + imei[i + 1:]
        cases = [
            ("imei", "imei with one digit changed", other, "plain", "query"),
            ("imei", "imei with one digit changed", other, "plain", "json"),
            ("imei", "imei with one digit changed", other, "sha1_hex", "json"),
            ("imei", "imei with one digit changed", other, "md5_hex", "header"),
            ("imei", "imei with one digit changed", other, "base64", "cookie"),
            ("imei", "imei with one digit changed", other, "hex", "dns"),
            ("imei", "imei with one digit changed", other, "plain", "udp"),
            ("imei", "imei with one digit changed", other, "plain", "tls_curl_h2"),
            ("imei", "imei type allocation code only (8 digits)", imei[:8], "plain", "json"),
            ("phone", "another phone number", "+886 955 801 632", "plain", "form"),
            ("phone", "another phone number", "+886955801632", "plain", "json"),
            ("phone", "another phone number", "+886955801632", "sha256_hex", "header"),
            ("phone", "another phone number", "0955801632", "plain", "ws_text"),
            ("phone", "another phone number", "+886955801632", "md5_hex", "dns"),
            ("email", "another email", "lin.yuting@example.net", "plain", "json"),
            ("email", "another email", "lin.yuting@example.net", "md5_hex", "query"),
            ("email", "another email", "lin.yuting@example.net", "sha256_b64", "header"),
            ("email", "another email", "lin.yuting@example.net", "plain", "tcp_split"),
            ("location", "a location 9,700 km away", "48.856613,2.352222", "plain", "json"),
            ("contact_name", "another Chinese name in UTF-8", "王小明", "plain", "json"),
            ("sms", "another one-time code", "Your code is 739164", "plain", "json"),
        ]
        for n, carrier in ((32, "json"), (40, "header"), (64, "cookie"), (32, "dns"), (40, "udp"), (64, "query")):
            cases.append(("digest", f"random hex of digest length {n}", self.rng.randbytes(n // 2).hex(), "plain",
                          carrier))
        for n, carrier in ((12, "json"), (20, "header"), (33, "octet"), (16, "ws_binary")):
            cases.append(("base64", "base64 of unrelated bytes", base64.b64encode(self.rng.randbytes(n)).decode(),
                          "plain", carrier))
        for data_type, what, text, transform, carrier in cases:
            chain, v = enc.apply(transform, text)
            got = self.carrier(carrier, "d%03d" % (sum(1 for p in self.plants if p["kind"] == "decoy") + 1), v, transform)
            assert got is not None, (what, carrier)
            send, unwrap, tag, direction = got
            self.add(capture=carrier_capture(carrier), carrier=carrier, transform=transform, chain=chain, wire=v,
                     send=send, unwrap=unwrap, tag=tag, direction=direction, kind="decoy", decoy=what,
                     data_type=data_type)
        # A GBK name that is not the contact's.
        gbk = "王小明".encode("gbk")
        pid = "d%03d" % (sum(1 for p in self.plants if p["kind"] == "decoy") + 1)
        send, tag = self.http(pid, "POST", "/gbk/ID", [("Content-Type", "text/plain; charset=GBK")], gbk + b"\r\n")
        self.add(capture="http", carrier="gbk_text", transform="gbk", chain=["gbk"], wire=gbk, send=send, tag=tag,
                 kind="decoy", decoy="another Chinese name in GBK", data_type="contact_name")


# Transforms whose bytes are not text, the carriers that take any bytes, and the carriers
# whose payload is JSON (where \u escapes are decoded).
BINARY = {"utf16le", "utf16be"}
BINARY_CARRIERS = {"multipart", "octet", "base64_blob", "protobuf", "protobuf_zigzag", "udp", "tcp_split", "ws_binary", "ws_fragmented"}
JSON_CARRIERS = {"json", "chunked", "gzip_body", "gzip_blob", "base64_json", "ws_text", "ws_server",
                 "tls_curl_h1", "tls_curl_h2", "tls_python", "tls_nokey"}
GENERIC_CARRIERS = ["query", "form", "json", "header", "cookie", "multipart", "octet", "chunked", "gzip_body",
                    "gzip_blob", "base64_blob", "base64_json", "protobuf", "response"]


def carrier_capture(name):
    if name.startswith("tls_"):
        return "tls"
    if name == "dns":
        return "dns"
    if name in ("udp", "tcp_split") or name.startswith("ws_"):
        return "raw"
    return "http"


def generate(out, profile_path=DEFAULT_PROFILE, seed=DEFAULT_SEED, log=print):
    """Writes the captures, the key log, the profile and truth.json into `out`."""
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise RuntimeError("missing tools: " + ", ".join(missing)
                           + " (apt-get install tcpdump nginx dnsmasq curl dnsutils openssl)")
    os.makedirs(out, exist_ok=True)
    out = os.path.abspath(out)
    with open(profile_path, "rb") as f:
        profile = tomllib.load(f)
    shutil.copy(profile_path, os.path.join(out, "profile.toml"))
    work = os.path.join(out, "work")
    os.makedirs(work, exist_ok=True)
    keylog = os.path.join(out, CAPTURES["tls"]["keylog"])
    if os.path.exists(keylog):
        os.remove(keylog)

    planner = Planner(profile, seed, out)
    plants = planner.build()
    stack = servers.Stack()
    stats = {}
    started = time.monotonic()
    try:
        servers.start_nginx(stack, work, HTTP_PORT, HTTPS_PORT, BACKEND_PORT, planner.responses)
        servers.start_dnsmasq(stack, work, DNS_PORT, DOMAIN)
        stack.server(servers.UdpSink(UDP_PORT))
        stack.server(servers.TcpSink(TCP_PORT))
        ws = stack.server(servers.WsServer(WS_PORT))
        ws.pushes = planner.pushes
        for name, spec in CAPTURES.items():
            cap = servers.Capture(stack, os.path.join(out, f"{name}.pcap"), spec["bpf"])
            for p in plants:
                if p["capture"] == name:
                    proto, cport, sport = p["_send"]()
                    p["flow"] = {"proto": proto, "client_port": cport, "server_port": sport}
            stats[name] = cap.stop()
            dropped = re.search(r"(\d+) packets dropped by kernel", stats[name])
            if dropped and int(dropped.group(1)):
                raise RuntimeError(f"tcpdump lost packets of {name}: {stats[name]!r}")
    finally:
        stack.close()
    for p in plants:
        p.pop("_send", None)
    truth = {
        "schema": "phonehome/pii-truth/v1",
        "seed": seed,
        "profile": "profile.toml",
        "captures": {n: {"file": f"{n}.pcap", "keylog": s["keylog"]} for n, s in CAPTURES.items()},
        "plants": plants,
    }
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)
    shutil.rmtree(work, ignore_errors=True)
    n_plants = sum(p["kind"] == "plant" for p in plants)
    log(f"pii corpus: {n_plants} plants, {len(plants) - n_plants} decoys in {len(CAPTURES)} captures "
        f"({time.monotonic() - started:.1f} s) -> {out}")
    for name, s in stats.items():
        log(f"  {name}: " + " / ".join(line for line in s.splitlines() if "packets" in line))
    return truth


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the captures and truth.json")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--profile", default=DEFAULT_PROFILE)
    args = ap.parse_args()
    # SIGTERM unwinds like an error, so the finally above still stops tcpdump and the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        generate(args.out, args.profile, args.seed)
    except (RuntimeError, OSError) as e:
        print(f"pii corpus: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
