#!/usr/bin/env python3
"""QUIC and HTTP/3 decryption check with a real client and server (aioquic, PyPI).

An aioquic HTTP/3 server on loopback answers an aioquic client that posts distinct JSON bodies
over several connections: the default suite, ChaCha20-Poly1305, and QUIC version 2. tcpdump
captures the UDP port; the client writes a key log. phonehome, given the key log, must show
every request (method, authority, path, body) as HTTP/3, decrypted. Prints the table and exits 1
on any miss.

Usage: live_quic_check.py PHONEHOME_BINARY [--keep DIR]
Needs aioquic (`pip install aioquic`), tcpdump, openssl and root for tcpdump.
"""

import argparse
import asyncio
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile

from live_capture import audit, capture, upload

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated
from aioquic.quic.packet import QuicProtocolVersion
from aioquic.tls import CipherSuite

PORT = 18444
HOST = "h3.phonehome.test"


class Server(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._http = None

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
            self._http = H3Connection(self._quic)
        if self._http is None:
            return
        for ev in self._http.handle_event(event):
            if isinstance(ev, (HeadersReceived, DataReceived)) and ev.stream_ended:
                self._http.send_headers(ev.stream_id, [(b":status", b"200"), (b"content-type", b"text/plain")])
                self._http.send_data(ev.stream_id, b"stored\n", end_stream=True)
                self.transmit()


class Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._http = H3Connection(self._quic)
        self._waiting = {}

    def quic_event_received(self, event):
        for ev in self._http.handle_event(event):
            if isinstance(ev, (HeadersReceived, DataReceived)) and ev.stream_ended:
                fut = self._waiting.pop(ev.stream_id, None)
                if fut and not fut.done():
                    fut.set_result(True)

    async def request(self, method, path, body):
        sid = self._quic.get_next_available_stream_id()
        headers = [(b":method", method.encode()), (b":scheme", b"https"),
                   (b":authority", HOST.encode()), (b":path", path.encode()),
                   (b"user-agent", b"phonehome-check")]
        if body is not None:
            headers.append((b"content-type", b"application/json"))
        self._http.send_headers(sid, headers, end_stream=body is None)
        if body is not None:
            self._http.send_data(sid, body.encode(), end_stream=True)
        fut = asyncio.get_running_loop().create_future()
        self._waiting[sid] = fut
        self.transmit()
        await asyncio.wait_for(fut, 10)


CASES = [
    ("v1 default suite", {}),
    ("v1 TLS_CHACHA20_POLY1305_SHA256", {"cipher_suites": [CipherSuite.CHACHA20_POLY1305_SHA256]}),
    ("v2 TLS_AES_256_GCM_SHA384", {"supported_versions": [QuicProtocolVersion.VERSION_2],
                                    "cipher_suites": [CipherSuite.AES_256_GCM_SHA384]}),
]


async def exchange(work, keys, sent):
    server_config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    server_config.load_cert_chain(f"{work}/cert.pem", f"{work}/key.pem")
    server = await serve("127.0.0.1", PORT, configuration=server_config, create_protocol=Server)
    try:
        with open(keys, "a") as keylog:
            for label, options in CASES:
                config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=HOST,
                                           verify_mode=ssl.CERT_NONE, secrets_log_file=keylog)
                for name, value in options.items():
                    setattr(config, name, value)
                ok = True
                try:
                    async with connect("127.0.0.1", PORT, configuration=config, create_protocol=Client) as client:
                        for i in range(2):
                            path, body = upload(label)
                            await client.request("POST", path, body)
                            sent.append((label, "POST", path, body))
                        tag = secrets.token_hex(6)
                        await client.request("GET", f"/config/{tag}", None)
                        sent.append((label, "GET", f"/config/{tag}", None))
                except Exception as e:  # a case the library cannot do is reported, not hidden
                    print(f"{label}: client failed: {e!r}")
                    ok = False
                if not ok:
                    sent.append((label, "CLIENT-FAILED", "", None))
    finally:
        server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--keep")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    for tool in ("tcpdump", "openssl"):
        if not shutil.which(tool):
            print(f"live QUIC check: {tool} is missing")
            return 1
    work = tempfile.mkdtemp(prefix="phonehome-quic-")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem", "-days", "2", "-subj", f"/CN={HOST}"],
        check=True, capture_output=True)
    pcap = f"{work}/quic.pcap"
    keys = f"{work}/keys.log"
    sent = []
    with capture(pcap, f"udp port {PORT}"):
        asyncio.run(exchange(work, keys, sent))

    report = audit(binary, keys, pcap)
    if report is None:
        return 1
    requests = [h for h in report["http"] if h["kind"] == "request"]
    ok = True
    print(f"{'case':<36} {'request':<28} {'found':>5} {'body':>5}")
    for label, method, path, body in sent:
        if method == "CLIENT-FAILED":
            ok = False
            print(f"{label:<36} {'(client failed)':<28} {'NO':>5} {'NO':>5}")
            continue
        match = [h for h in requests if h["uri"] == path]
        found = (bool(match) and match[0]["method"] == method and match[0]["host"] == HOST
                 and match[0]["transport"] == "h3" and match[0]["decrypted"])
        body_ok = bool(match) and (match[0].get("body") or None) == body
        ok = ok and found and body_ok
        yn = lambda b: "yes" if b else "NO"
        print(f"{label:<36} {method + ' ' + path:<28} {yn(found):>5} {yn(body_ok):>5}")
    s = report["stats"]
    print(f"{s['decrypted_flows']} of {s['encrypted_flows']} TLS/QUIC flows decrypted")
    for f in report["flows"]:
        if f["app_proto"] == "quic":
            print(f"  {f['quic']['version']} {f['quic']['sni']} decrypted={f['decrypted']} {f['not_decrypted'] or ''}")
    print("live QUIC check:", "PASS" if ok else "FAIL")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        shutil.copy(pcap, os.path.join(args.keep, "aioquic-h3.pcap"))
        shutil.copy(keys, os.path.join(args.keep, "aioquic-h3.keys"))
        with open(os.path.join(args.keep, "aioquic-h3.sent.json"), "w") as f:
            json.dump([{"case": c, "method": m, "path": p, "body": b} for c, m, p, b in sent], f, indent=1)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("kept for inspection:", work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
