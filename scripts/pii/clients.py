"""The clients that carry the plants: one connection (or one datagram socket) per plant.

One plant per flow is what makes the truth table unambiguous: a finding names its flow, the
flow's port pair names the plant. Each sender therefore returns the client port it used:
read back with getsockname() for Python sockets, `%{local_port}` for curl and chosen
beforehand (`-b 127.0.0.1#PORT`) for dig.

HTTP requests are written byte for byte (no http.client) so that the carrier is exactly what
the truth says: header order, chunk cuts, a Content-Encoding without a matching body.
"""

import os
import socket
import ssl
import subprocess
import time

from . import encodings

HOST = "127.0.0.1"


def _drain(sock, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data


def http_raw(port, request):
    """Sends one HTTP/1.1 request (with `Connection: close`) and reads the answer to its end."""
    with socket.create_connection((HOST, port), timeout=5) as s:
        cport = s.getsockname()[1]
        s.sendall(request)
        answer = _drain(s)
    if not answer.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"HTTP on port {port}: {answer[:80]!r}")
    return ("tcp", cport, port)


def http_request(method, path, host, headers=(), body=None, chunked_cuts=None):
    """The bytes of a request. `chunked_cuts`: send the body chunked, cut at these offsets."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + host.encode(),
             b"User-Agent: okhttp/4.12.0", b"Connection: close"]
    for k, v in headers:
        lines.append(k.encode() + b": " + (v if isinstance(v, bytes) else v.encode()))
    if body is not None:
        if chunked_cuts is not None:
            lines.append(b"Transfer-Encoding: chunked")
            body = encodings.chunked(body, chunked_cuts)
        else:
            lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def tls_curl(port, host, path, body, http2, keylog):
    """POSTs `body` with curl over TLS 1.3, the session keys written to `keylog`."""
    out = subprocess.run(
        ["curl", "-sk", "--max-time", "10", "--resolve", f"{host}:{port}:{HOST}", "--tlsv1.3",
         "--http2" if http2 else "--http1.1", "-H", "Content-Type: application/json",
         "-H", "Connection: close", "--data-binary", "@-", "-w", "\n%{local_port}",
         f"https://{host}:{port}{path}"],
        input=body, capture_output=True, env={**os.environ, "SSLKEYLOGFILE": keylog})
    lines = out.stdout.decode(errors="replace").strip().splitlines()
    if out.returncode != 0 or len(lines) < 2 or lines[0] != "ok":
        raise RuntimeError(f"curl {path}: exit {out.returncode} {out.stdout[:80]!r} {out.stderr[:200]!r}")
    return ("tcp", int(lines[-1]), port)


def tls_python(port, host, request, keylog):
    """Sends `request` over TLS 1.3 with Python's ssl; `keylog` None keeps the keys secret."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["http/1.1"])
    if keylog:
        ctx.keylog_filename = keylog
    with socket.create_connection((HOST, port), timeout=5) as raw:
        cport = raw.getsockname()[1]
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(request)
            answer = b""
            try:
                answer = _drain(s)
            except ssl.SSLError:
                pass
    if not answer.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"TLS request: {answer[:80]!r}")
    return ("tcp", cport, port)


# Client ports handed out so far: the kernel may give a closed port out again, and two
# plants on one port pair would be one flow (as phonehome rightly sees them), which the
# checker could not tell apart.
_USED_UDP_PORTS = set()


def free_udp_port():
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((HOST, 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _USED_UDP_PORTS:
            _USED_UDP_PORTS.add(port)
            return port


def dig(port, name, qtype="A"):
    """One query with dig from a port chosen here, so the flow is known."""
    cport = free_udp_port()
    out = subprocess.run(
        ["dig", f"@{HOST}", "-p", str(port), "-b", f"{HOST}#{cport}", "+tries=1", "+time=3",
         "+short", name, qtype],
        capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"dig {name}: exit {out.returncode} {out.stdout!r} {out.stderr!r}")
    return ("udp", cport, port)


def udp_send(port, payload):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        cport = free_udp_port()
        s.bind((HOST, cport))
        s.sendto(payload, (HOST, port))
    return ("udp", cport, port)


def tcp_segments(port, parts, gap=0.02):
    """Sends each part as its own TCP segment (Nagle off, a pause between writes)."""
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cport = s.getsockname()[1]
        for i, p in enumerate(parts):
            if i:
                time.sleep(gap)
            s.sendall(p)
        s.shutdown(socket.SHUT_WR)
        _drain(s)
    return ("tcp", cport, port)


def websocket(port, host, path, key, frames):
    """The opening handshake (RFC 6455 section 4.1), then the frames as given (already
    masked), then a Close; reads until the server closes."""
    req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cport = s.getsockname()[1]
        s.sendall(req)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("WebSocket handshake refused")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"WebSocket handshake: {head[:80]!r}")
        for f in frames:
            s.sendall(f)
            time.sleep(0.005)
        _drain(s)
    return ("tcp", cport, port)
