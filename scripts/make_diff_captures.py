#!/usr/bin/env python3
"""Writes the two small captures `phonehome diff` is tested on: a phone with cloud sync off
(BEFORE) and on (AFTER). They differ in known ways:

  both    DNS for api.example-vendor.com, then a TLS ClientHello with that SNI (same bytes)
  BEFORE  DNS + TLS to connectivitycheck.gstatic.com (Google, US), which AFTER drops
  AFTER   DNS + TLS to sync.xiaomi.com (Xiaomi, an organisation headquartered in CN, on a
          server registered in CN), and a cleartext HTTP POST to the same name carrying the
          owner's phone number, +44 7700 900123 (an Ofcom range kept for drama, never a
          subscriber's)

so a diff shows one destination, organisation, organisation country and server country only
in AFTER, one only in BEFORE, and a phone-number finding only in AFTER (with a profile that
holds the number: `--profile-out FILE` writes one).

Every TCP connection has a full handshake, consistent sequence and acknowledgement numbers
and a FIN exchange; timestamps and TLS randoms are fixed, so the files are the same on every
run.

Usage: make_diff_captures.py [OUT_DIR] [--profile-out FILE]
       (OUT_DIR defaults to tests/e2e/data beside this script's repository)
"""

import argparse
import os
import struct
from decimal import Decimal

from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, Raw, wrpcap

DEVICE_MAC = "02:00:00:00:00:17"
ROUTER_MAC = "02:00:00:00:00:01"
DEVICE_IP = "192.168.1.23"
RESOLVER_IP = "192.168.1.1"

PHONE = "+447700900123"

# Names and the addresses their DNS answers give.
COMMON = ("api.example-vendor.com", "203.0.113.10")
DROPPED = ("connectivitycheck.gstatic.com", "142.250.74.35")
ADDED = ("sync.xiaomi.com", "111.13.141.211")

BASE_TIME = 1_714_564_800  # 2024-05-01T12:00:00Z


class Capture:
    """Frames of one capture, with a clock that only moves forward."""

    def __init__(self, start):
        self.frames = []
        # Microseconds, counted as integers so timestamps carry no float rounding.
        self.now_us = start * 1_000_000
        self.next_port = 40000
        self.next_dns_id = 0x1000

    def add(self, pkt, gap_us=1_000):
        self.now_us += gap_us
        pkt.time = Decimal(self.now_us) / 1_000_000
        self.frames.append(pkt)

    def up(self, ip_layer):
        return Ether(src=DEVICE_MAC, dst=ROUTER_MAC) / ip_layer

    def down(self, ip_layer):
        return Ether(src=ROUTER_MAC, dst=DEVICE_MAC) / ip_layer

    def dns(self, name, address):
        """One A query and its answer."""
        qid = self.next_dns_id
        self.next_dns_id += 1
        sport = self.port()
        query = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype="A"))
        answer = DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype="A"),
                     an=DNSRR(rrname=name, type="A", ttl=300, rdata=address))
        self.add(self.up(IP(src=DEVICE_IP, dst=RESOLVER_IP) / UDP(sport=sport, dport=53) / query))
        self.add(self.down(IP(src=RESOLVER_IP, dst=DEVICE_IP) / UDP(sport=53, dport=sport) / answer),
                 gap_us=12_000)

    def port(self):
        self.next_port += 1
        return self.next_port

    def tcp(self, server, dport, client_data, server_data):
        """A whole TCP connection: handshake, one request and one response, FINs both ways."""
        sport = self.port()
        cseq, sseq = 1_000_000 + sport, 2_000_000 + sport

        def c(flags, seq, ack, payload=b"", gap_us=1_000):
            seg = IP(src=DEVICE_IP, dst=server) / TCP(sport=sport, dport=dport, flags=flags,
                                                      seq=seq, ack=ack, window=65535)
            self.add(self.up(seg / Raw(payload) if payload else seg), gap_us)

        def s(flags, seq, ack, payload=b"", gap_us=20_000):
            seg = IP(src=server, dst=DEVICE_IP) / TCP(sport=dport, dport=sport, flags=flags,
                                                      seq=seq, ack=ack, window=65535)
            self.add(self.down(seg / Raw(payload) if payload else seg), gap_us)

        c("S", cseq, 0)
        s("SA", sseq, cseq + 1)
        c("A", cseq + 1, sseq + 1)
        c("PA", cseq + 1, sseq + 1, client_data)
        cseq += 1 + len(client_data)
        s("A", sseq + 1, cseq)
        s("PA", sseq + 1, cseq, server_data, gap_us=5_000)
        sseq += 1 + len(server_data)
        c("A", cseq, sseq)
        c("FA", cseq, sseq, gap_us=50_000)
        s("FA", sseq, cseq + 1)
        c("A", cseq + 1, sseq + 1)


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u24(n):
    return struct.pack("!I", n)[1:]


def ext(kind, body):
    return u16(kind) + u16(len(body)) + body


def client_hello(sni, seed):
    """A TLS 1.3 ClientHello record as a phone's TLS stack sends it, with fixed randoms."""
    random = bytes((seed + i) & 0xFF for i in range(32))
    session_id = bytes((seed * 7 + i) & 0xFF for i in range(32))
    key_share = bytes((seed * 13 + i) & 0xFF for i in range(32))
    suites = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8]
    name = sni.encode()
    alpn = b"".join(u8(len(p)) + p for p in (b"h2", b"http/1.1"))
    groups = [0x001D, 0x0017, 0x0018]
    sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    extensions = b"".join([
        ext(0x0000, u16(len(name) + 3) + u8(0) + u16(len(name)) + name),  # server_name
        ext(0x0017, b""),  # extended_master_secret
        ext(0xFF01, b"\x00"),  # renegotiation_info
        ext(0x000A, u16(2 * len(groups)) + b"".join(map(u16, groups))),  # supported_groups
        ext(0x000B, b"\x01\x00"),  # ec_point_formats
        ext(0x0010, u16(len(alpn)) + alpn),  # ALPN
        ext(0x000D, u16(2 * len(sigalgs)) + b"".join(map(u16, sigalgs))),  # signature_algorithms
        ext(0x0033, u16(36) + u16(0x001D) + u16(32) + key_share),  # key_share
        ext(0x002D, b"\x01\x01"),  # psk_key_exchange_modes
        ext(0x002B, b"\x04\x03\x04\x03\x03"),  # supported_versions: 1.3, 1.2
    ])
    body = (u16(0x0303) + random + u8(len(session_id)) + session_id
            + u16(2 * len(suites)) + b"".join(map(u16, suites))
            + b"\x01\x00" + u16(len(extensions)) + extensions)
    handshake = u8(1) + u24(len(body)) + body
    return u8(22) + u16(0x0301) + u16(len(handshake)) + handshake


def server_reply(seed, size):
    """Opaque TLS records standing in for the server's flight (never parsed as a handshake)."""
    data = bytes((seed * 31 + i * 17) & 0xFF for i in range(size))
    return u8(23) + u16(0x0303) + u16(len(data)) + data


def tls_visit(cap, name, address, seed, reply_size):
    cap.dns(name, address)
    cap.tcp(address, 443, client_hello(name, seed), server_reply(seed, reply_size))


def http_post(cap, name, address):
    body = ('{"device":"phone","account":{"phone":"%s","sync":true},"albums":3}' % PHONE).encode()
    request = (b"POST /v2/sync/register HTTP/1.1\r\n"
               b"Host: " + name.encode() + b"\r\n"
               b"User-Agent: CloudSync/5.1 (Android 14)\r\n"
               b"Content-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n"
               b"Connection: close\r\n\r\n" + body)
    reply_body = b'{"ok":true}'
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(reply_body)).encode() + b"\r\n"
                b"Connection: close\r\n\r\n" + reply_body)
    cap.tcp(address, 80, request, response)


def before():
    cap = Capture(BASE_TIME)
    tls_visit(cap, *COMMON, seed=1, reply_size=1200)
    tls_visit(cap, *DROPPED, seed=2, reply_size=900)
    return cap.frames


def after():
    cap = Capture(BASE_TIME + 3600)
    tls_visit(cap, *COMMON, seed=1, reply_size=1200)
    tls_visit(cap, *ADDED, seed=3, reply_size=1500)
    http_post(cap, *ADDED)
    return cap.frames


PROFILE = """# The device profile matching diff-before.pcap and diff-after.pcap.
[identifiers]
phone = "+44 7700 900123"
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "tests", "e2e", "data")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", nargs="?", default=default_out)
    ap.add_argument("--profile-out", metavar="FILE",
                    help="also write a device profile holding the phone number")
    args = ap.parse_args()
    for name, frames in (("diff-before.pcap", before()), ("diff-after.pcap", after())):
        path = os.path.normpath(os.path.join(args.out_dir, name))
        wrpcap(path, frames, linktype=1)
        print(f"{path}: {len(frames)} frames, {os.path.getsize(path)} bytes")
    if args.profile_out:
        with open(args.profile_out, "w") as f:
            f.write(PROFILE)


if __name__ == "__main__":
    main()
