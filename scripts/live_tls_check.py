#!/usr/bin/env python3
"""Decryption check with real peers.

curl (HTTP/1.1 and HTTP/2 over TLS 1.2 and 1.3, several cipher suites, SSLKEYLOGFILE) posts
bodies to nginx on loopback while tcpdump captures; phonehome, given the key log, must show
every request (method, host, path) and every body curl sent. Then curl goes through an HTTP
proxy (a CONNECT tunnel, as a phone configured with a proxy does) and the capture of the
phone-to-proxy side alone must give the same: the server's name from the SNI inside the
tunnel, every request and body decrypted; a cleartext request tunnelled the same way
(`--proxytunnel`) must give its name from the Host inside, its request and its body. Prints the
tables and exits 1 on any miss.

Usage: live_tls_check.py PHONEHOME_BINARY [--keep DIR] [--cases N]
  --keep DIR   copy the captures, their key logs and the bodies sent into DIR (test data)
  --cases N    only the first N TLS cases
Needs nginx, curl, tcpdump and openssl (`.ci/run` installs them) and root for tcpdump.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from live_capture import audit, capture, upload

PORT = 18443
PLAIN_PORT = 18081
PROXY_PORT = 18080
HOST = "upload.phonehome.test"

# Cases sent through the proxy: (label, URL scheme, curl options)
PROXY_CASES = [
    ("proxy tls1.3 http/1.1", "https", ["--tlsv1.3", "--http1.1"]),
    ("proxy tls1.3 h2", "https", ["--tlsv1.3", "--http2"]),
    ("proxy tls1.2 http/1.1", "https", ["--tlsv1.2", "--tls-max", "1.2", "--http1.1"]),
    ("proxy cleartext http/1.1 (CONNECT)", "http", ["--proxytunnel", "--http1.1"]),
]

# (label, curl TLS options)
TLS_CASES = [
    ("tls1.2 ECDHE-RSA-AES128-GCM-SHA256", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"]),
    ("tls1.2 ECDHE-RSA-AES256-GCM-SHA384", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-GCM-SHA384"]),
    ("tls1.2 ECDHE-RSA-CHACHA20-POLY1305", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-CHACHA20-POLY1305"]),
    ("tls1.2 ECDHE-RSA-AES128-SHA256 (CBC)", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-SHA256"]),
    ("tls1.2 ECDHE-RSA-AES256-SHA (CBC)", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-SHA"]),
    ("tls1.3 TLS_AES_128_GCM_SHA256", ["--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"]),
    ("tls1.3 TLS_AES_256_GCM_SHA384", ["--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"]),
    ("tls1.3 TLS_CHACHA20_POLY1305_SHA256", ["--tlsv1.3", "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"]),
]
HTTP_CASES = [("http/1.1", ["--http1.1"]), ("h2", ["--http2"])]

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {work}/cert.pem;
        ssl_certificate_key {work}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ALL;
        location / {{ return 200 "stored\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{plain_port};
        location / {{ return 200 "stored\\n"; }}
    }}
}}
"""


def connect_proxy(port, stop):
    """A minimal HTTP proxy that only tunnels (RFC 9110 section 9.3.6): answers CONNECT with
    200 and relays bytes both ways. Runs until `stop` is set."""
    import socket
    import threading

    def relay(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(client):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode()
        method, target, _ = line.split(" ", 2)
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            client.close()
            return
        host, port_text = target.rsplit(":", 1)
        upstream = socket.create_connection(("127.0.0.1", int(port_text)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        threading.Thread(target=relay, args=(upstream, client), daemon=True).start()
        relay(client, upstream)

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    listener.settimeout(0.2)

    def accept():
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(client,), daemon=True).start()
        listener.close()

    threading.Thread(target=accept, daemon=True).start()


def post(scheme, port, path, body, keys, opts):
    """curl posts `body` to nginx at HOST (resolved to loopback), logging its TLS keys to
    `keys`; whether nginx answered."""
    out = subprocess.run(
        ["curl", "-sk", "--max-time", "10", "--resolve", f"{HOST}:{port}:127.0.0.1", *opts,
         "-H", "Content-Type: application/json", "--data-binary", body,
         f"{scheme}://{HOST}:{port}{path}"],
        capture_output=True, text=True, env={**os.environ, "SSLKEYLOGFILE": keys})
    return out.returncode == 0 and "stored" in out.stdout


def proxy_phase(binary, work, keep):
    """curl through the CONNECT proxy; only the phone-to-proxy side is captured."""
    import threading
    stop = threading.Event()
    connect_proxy(PROXY_PORT, stop)
    pcap = f"{work}/proxy.pcap"
    keys = f"{work}/proxy-keys.log"
    sent = []
    try:
        with capture(pcap, f"tcp port {PROXY_PORT}"):
            for label, scheme, opts in PROXY_CASES:
                path, body = upload(label)
                port = PORT if scheme == "https" else PLAIN_PORT
                proxy = ["--proxy", f"http://127.0.0.1:{PROXY_PORT}", *opts]
                sent.append((label, scheme, path, body, post(scheme, port, path, body, keys, proxy)))
    finally:
        stop.set()
    report = audit(binary, keys, pcap)
    if report is None:
        return False
    flows = {f["id"]: f for f in report["flows"]}
    requests = [h for h in report["http"] if h["kind"] == "request" and h["method"] != "CONNECT"]
    ok = True
    print(f"{'case':<48} {'curl':>5} {'named':>6} {'request':>8} {'body':>5}")
    for label, scheme, path, body, curl_ok in sent:
        match = [h for h in requests if h["uri"] == path]
        flow = flows.get(match[0]["flow"]) if match else None
        # Named from inside the tunnel: the SNI (and decrypted), or the tunnelled Host.
        inside = ("sni", True) if scheme == "https" else ("http-host", False)
        named = bool(flow) and flow["server_name"] == HOST \
            and flow["server"].endswith(f":{PROXY_PORT}") \
            and (flow["name_source"], bool(flow["decrypted"])) == inside
        body_ok = bool(match) and match[0].get("body") == body
        if not (curl_ok and named and body_ok):
            ok = False
        yn = lambda b: "yes" if b else "NO"
        print(f"{label:<48} {yn(curl_ok):>5} {yn(named):>6} {yn(bool(match)):>8} {yn(body_ok):>5}")
    if keep:
        shutil.copy(pcap, os.path.join(keep, "curl-proxy-tls.pcap"))
        shutil.copy(keys, os.path.join(keep, "curl-proxy-tls.keys"))
        with open(os.path.join(keep, "curl-proxy-tls.sent.json"), "w") as f:
            json.dump([{"case": l, "path": p, "body": b} for l, s, p, b, _ in sent if s == "https"],
                      f, indent=1)
    return ok


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--keep")
    ap.add_argument("--cases", type=int, default=len(TLS_CASES))
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    for tool in ("nginx", "curl", "tcpdump", "openssl"):
        if not shutil.which(tool):
            print(f"live TLS check: {tool} is missing")
            return 1
    work = tempfile.mkdtemp(prefix="phonehome-live-")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{work}/key.pem",
         "-out", f"{work}/cert.pem", "-days", "2", "-subj", f"/CN={HOST}"],
        check=True, capture_output=True)
    with open(f"{work}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(work=work, port=PORT, plain_port=PLAIN_PORT))
    nginx = subprocess.Popen(["nginx", "-c", f"{work}/nginx.conf", "-p", work],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pcap = f"{work}/live.pcap"
    keys = f"{work}/keys.log"
    sent = []
    try:
        with capture(pcap, f"tcp port {PORT}"):
            for tls_label, tls_opts in TLS_CASES[: args.cases]:
                for http_label, http_opts in HTTP_CASES:
                    path, body = upload(f"{tls_label} {http_label}")
                    curl_ok = post("https", PORT, path, body, keys, [*tls_opts, *http_opts])
                    sent.append((tls_label, http_label, path, body, curl_ok))
    finally:
        # The proxy's own connections to nginx stay out of the capture above.
        try:
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
            proxied = proxy_phase(binary, work, args.keep)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)

    report = audit(binary, keys, pcap)
    if report is None:
        return 1
    requests = [h for h in report["http"] if h["kind"] == "request"]
    ok = True
    print(f"{'case':<48} {'curl':>5} {'request':>8} {'body':>5}")
    for tls_label, http_label, path, body, curl_ok in sent:
        match = [h for h in requests if h["uri"] == path]
        found = bool(match) and match[0]["method"] == "POST" and match[0]["host"] and HOST in match[0]["host"]
        body_ok = bool(match) and match[0].get("body") == body
        if not (curl_ok and found and body_ok):
            ok = False
        yn = lambda b: "yes" if b else "NO"
        print(f"{tls_label + ' ' + http_label:<48} {yn(curl_ok):>5} {yn(found):>8} {yn(body_ok):>5}")
    s = report["stats"]
    print(f"{s['decrypted_flows']} of {s['encrypted_flows']} TLS flows decrypted")
    ok = ok and proxied
    print("live TLS check:", "PASS" if ok else "FAIL")
    if args.keep:
        shutil.copy(pcap, os.path.join(args.keep, "curl-nginx-tls.pcap"))
        shutil.copy(keys, os.path.join(args.keep, "curl-nginx-tls.keys"))
        with open(os.path.join(args.keep, "curl-nginx-tls.sent.json"), "w") as f:
            json.dump([{"case": f"{t} {h}", "path": p, "body": b} for t, h, p, b, _ in sent], f, indent=1)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("kept for inspection:", work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
