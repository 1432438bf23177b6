"""The peers the corpus talks to, and the capture, all on loopback.

nginx (plain HTTP and TLS) and dnsmasq are the real servers; what neither speaks (a raw TCP
protocol, bare UDP datagrams, WebSocket) is served by small threads here. tcpdump writes one
capture per group of ports.

Everything started is registered in a `Stack` and stopped in reverse order by `close()`,
which the generator calls in a `finally`: tcpdump gets SIGINT and is waited for, so its last
buffered packets reach the file and the pcap is whole; servers get SIGTERM, then SIGKILL
after a grace period. Only processes started here are signalled, by their own handle.
"""

import base64
import hashlib
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time

from . import encodings

HERE = os.path.dirname(os.path.abspath(__file__))
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3


class Stack:
    """Started processes and servers, stopped in reverse order."""

    def __init__(self):
        self._items = []

    def process(self, argv, stop=signal.SIGTERM, **kw):
        p = subprocess.Popen(argv, **kw)
        self._items.append(("proc", p, stop))
        return p

    def server(self, srv):
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        t.start()
        self._items.append(("server", srv, t))
        return srv

    def close(self):
        errors = []
        while self._items:
            kind, obj, extra = self._items.pop()
            try:
                if kind == "proc":
                    stop_process(obj, extra)
                else:
                    obj.shutdown()
                    obj.server_close()
                    extra.join(timeout=5)
            except Exception as e:  # keep stopping the rest
                errors.append(e)
        if errors:
            raise errors[0]


def stop_process(p, sig, grace=10):
    if p.poll() is not None:
        return
    p.send_signal(sig)
    try:
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)


def wait_port(port, proto="tcp", timeout=10):
    """Until something listens on 127.0.0.1:port."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proto == "tcp":
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                pass
        else:
            # A UDP bind fails while the port is taken: that means the server is up.
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
            finally:
                s.close()
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {proto} port {port}")


def template(name, **subst):
    with open(os.path.join(HERE, name)) as f:
        text = f.read()
    for k, v in subst.items():
        text = text.replace(f"@{k}@", str(v))
    return text


def start_nginx(stack, work, http_port, https_port, backend_port, responses):
    """nginx with a self-signed certificate. `responses`: {path: body text} served on plain
    HTTP (the server-to-client plants)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem", "-days", "2",
         "-subj", "/CN=api.pii.test"],
        check=True, capture_output=True)
    locs = []
    for path, body in responses.items():
        # Single-quoted nginx strings: the carrier keeps quotes, backslashes and '$' out.
        locs.append(f"        location = {path} {{ default_type application/json; return 200 '{body}'; }}")
    conf = template("nginx.conf", WORK=work, HTTP_PORT=http_port, HTTPS_PORT=https_port,
                    BACKEND_PORT=backend_port,
                    RESPONSES="\n".join(locs))
    with open(f"{work}/nginx.conf", "w") as f:
        f.write(conf)
    stack.process(["nginx", "-c", f"{work}/nginx.conf", "-p", work],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(http_port)
    wait_port(https_port)


def start_dnsmasq(stack, work, port, domain):
    with open(f"{work}/dnsmasq.conf", "w") as f:
        f.write(template("dnsmasq.conf", WORK=work, PORT=port, DOMAIN=domain))
    stack.process(["dnsmasq", "-k", "-C", f"{work}/dnsmasq.conf"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, "udp")


class Capture:
    """tcpdump on loopback into one file, ready when it says it is listening."""

    def __init__(self, stack, path, bpf):
        self.path = path
        self.proc = stack.process(["tcpdump", "-i", "lo", "--immediate-mode", "-B", "65536", "-U", "-n", "-s", "0", "-w", path, bpf],
                                  stop=signal.SIGINT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = self.proc.stderr.readline().decode(errors="replace")
        if "listening on" not in line:
            raise RuntimeError(f"tcpdump did not start: {line.strip()}")
        # The capture socket is open; give the kernel filter a moment before traffic starts.
        time.sleep(0.2)

    def stop(self):
        """Stops tcpdump and returns its closing statistics."""
        time.sleep(0.3)  # let the last segments (FIN, ACK) reach the socket
        stop_process(self.proc, signal.SIGINT)
        return self.proc.stderr.read().decode(errors="replace").strip()


# ---- servers for what nginx and dnsmasq do not speak ---------------------------------------

class _Threaded(socketserver.ThreadingMixIn):
    daemon_threads = True
    allow_reuse_address = True


class TcpSink(_Threaded, socketserver.TCPServer):
    """Reads a client's stream to its end, then answers "ok"."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(5)
            try:
                while self.request.recv(65536):
                    pass
                self.request.sendall(b"ok\n")
            except OSError:
                pass

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), self.Handler)


class UdpSink(_Threaded, socketserver.UDPServer):
    """Takes datagrams and answers none (a telemetry collector)."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            pass

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), self.Handler)


def _read_frame(sock):
    """One WebSocket frame (RFC 6455 section 5.2) -> (fin, opcode, unmasked payload)."""
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf
    b0, b1 = exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(exact(2), "big")
    elif n == 127:
        n = int.from_bytes(exact(8), "big")
    mask = exact(4) if b1 & 0x80 else None
    data = exact(n)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return bool(b0 & 0x80), b0 & 0x0F, data


class WsServer(_Threaded, socketserver.TCPServer):
    """A WebSocket endpoint (RFC 6455): the opening handshake, then frames until Close. A
    text message "push ID" is answered with the bytes `pushes[ID]` in one unmasked frame
    (the server-to-client plants)."""

    pushes = {}

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.settimeout(5)
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                key = b""
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"sec-websocket-key:"):
                        key = line.split(b":", 1)[1].strip()
                accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())  # section 4.2.2
                sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
                while True:
                    fin, op, data = _read_frame(sock)
                    if op == 8:
                        sock.sendall(encodings.ws_frame(data[:2], 8))
                        return
                    if op == 1 and data.startswith(b"push "):
                        body = self.server.pushes.get(data[5:].decode(), b"")
                        sock.sendall(encodings.ws_frame(body, 1))
            except (OSError, EOFError):
                pass

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), self.Handler)
