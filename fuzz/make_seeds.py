#!/usr/bin/env python3
"""Builds the curated seed sets in fuzz/seeds/<target>/ from real captures.

Usage: python3 fuzz/make_seeds.py CAPTURES_DIR

Needs tshark (4.x) on PATH. Frames come from classic pcap files (read here), stream bytes
from `tshark -z follow,tcp,raw`, datagram payloads from `tshark -T fields -e udp.payload`.
The output is deterministic for a given tshark and set of captures; each seed is cut to a
few KiB so that the whole set stays small and fast to execute.
"""

import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")
MAX_SEED = 6 * 1024

# Link types in the order of the wire_decode target's table (fuzz_targets/wire_decode.rs).
LINKS = [0, 1, 101, 108, 113, 228, 229, 239, 276, 12, 14]


def tshark(*args):
    out = subprocess.run(
        ["tshark", *args], capture_output=True, check=False, text=True
    ).stdout
    return out


def put(target, name, data):
    if not data:
        return
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    data = data[:MAX_SEED]
    digest = hashlib.sha1(data).hexdigest()[:8]
    with open(os.path.join(d, f"{name}-{digest}"), "wb") as f:
        f.write(data)


def pcap_frames(path):
    """(linktype, frame) of a classic pcap file, either byte order, any timestamp unit."""
    with open(path, "rb") as f:
        raw = f.read()
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return []
    link = struct.unpack(e + "I", raw[20:24])[0] & 0xFFFF
    out, off = [], 24
    while off + 16 <= len(raw):
        incl = struct.unpack(e + "I", raw[off + 8 : off + 12])[0]
        frame = raw[off + 16 : off + 16 + incl]
        if len(frame) < incl:
            break
        out.append((link, frame))
        off += 16 + incl
    return out


def tcp_streams(path):
    """[(client bytes, server bytes)] for every TCP stream, as tshark reassembles them."""
    ids = sorted(
        {int(s) for s in tshark("-r", path, "-T", "fields", "-e", "tcp.stream").split() if s}
    )
    result = []
    for i in ids:
        text = tshark("-r", path, "-q", "-z", f"follow,tcp,raw,{i}")
        c, s = bytearray(), bytearray()
        for line in text.splitlines():
            if not line.strip() or line.startswith(("=", "Follow", "Filter", "Node")):
                continue
            try:
                chunk = bytes.fromhex(line.strip())
            except ValueError:
                continue
            (s if line.startswith("\t") else c).extend(chunk)
        result.append((bytes(c), bytes(s)))
    return result


def udp_payloads(path, display_filter):
    rows = tshark(
        "-r", path, "-Y", display_filter, "-T", "fields", "-e", "udp.srcport", "-e", "udp.payload"
    )
    out = []
    for row in rows.splitlines():
        parts = row.split("\t")
        if len(parts) == 2 and parts[1]:
            out.append((int(parts[0]), bytes.fromhex(parts[1].replace(":", ""))))
    return out


def main():
    caps = sys.argv[1]
    cap = lambda name: os.path.join(caps, name)  # noqa: E731
    shutil.rmtree(SEEDS, ignore_errors=True)

    # Whole small files: every container variant the reader handles.
    files = [
        "dns_udp_dig_a_query__suri.pcap",
        "dns_https_rr__zeek.pcap",
        "http_chunked__suri.pcap",
        "sll2_http__suri.pcap",
        "sll2_icmp__zeek.pcap",
        "ipfrag_v4_udp__zeek.pcap",
        "ipfrag_v6_tcp__suri.pcap",
        "malformed_cut_short__ndpi.pcap",
        "malformed_ipv4_truncated__zeek.pcap",
        "pcap_modified_format__pcapparser.pcap",
        "pcapng_big_endian__pcapparser.pcapng",
        "pcapng_multi_interface__zeek.pcapng",
        "vlan_dns__ndpi.pcap",
        "tcp_overlap__suri.pcap",
        "http_ipv6_loopback_null__suri.pcap",
        "app_tencent_games_rawip__ndpi.pcap",
    ]
    for name in files:
        with open(cap(name), "rb") as f:
            data = f.read()[:4096]
        stem = name.split("__")[0]
        put("capture_read", stem, data)
        put("pipeline", stem, data)
    with open(cap("dns_udp_dig_a_query__suri.pcap"), "rb") as f:
        small = f.read()
    put("capture_read", "gzip", gzip.compress(small, mtime=0))
    zst = subprocess.run(["zstd", "-q", "-c"], input=small, capture_output=True).stdout
    put("capture_read", "zstd", zst)

    # Single frames, one per link type and protocol mix.
    frame_files = [
        "dns_udp_google_a_aaaa_mx__suri.pcap",
        "ipfrag_v4__suri.pcap",
        "ipfrag_v6_tcp__suri.pcap",
        "sll2_icmp__zeek.pcap",
        "sll2_http__suri.pcap",
        "http_ipv6_loopback_null__suri.pcap",
        "tls_alpn_rawip__suri.pcap",
        "app_kakaotalk_chat_sll__ndpi.pcap",
        "app_xiaomi__ndpi.pcap",
        "dns_ipv6_fragmented__zeek.pcap",
    ]
    for name in frame_files:
        frames = pcap_frames(cap(name))
        for link, frame in frames[:3]:
            if link in LINKS:
                put("wire_decode", name.split("__")[0], bytes([LINKS.index(link)]) + frame)

    # DNS messages over UDP.
    for name in [
        "dns_udp_google_a_aaaa_mx__suri.pcap",
        "dns_https_rr__zeek.pcap",
        "dns_edns_ecs_mixed_v4_v6_tcp__zeek.pcap",
        "malformed_dns__ndpi.pcap",
        "app_telegram__ndpi.pcap",
    ]:
        seen = set()
        for _, p in udp_payloads(cap(name), "dns && udp"):
            if p not in seen and len(seen) < 4:
                seen.add(p)
                put("dns_parse", name.split("__")[0], p)

    # DNS over TCP: a seed byte for the cut points, then the client or server stream.
    for name in ["dns_tcp_www_google_com__suri.pcap", "dns_tcp_multirequest__suri.pcap"]:
        for i, (c, s) in enumerate(tcp_streams(cap(name))[:2]):
            put("dns_tcp", name.split("__")[0], bytes([i]) + c)
            put("dns_tcp", name.split("__")[0], bytes([i + 3]) + s)

    # HTTP/1.x streams: seed byte bit 0 = direction (0 request), bit 1 = small limits.
    for name in [
        "http_chunked__suri.pcap",
        "http_compressed_gzip__scapy.pcap",
        "http_get_gzip__zeek.pcap",
        "http_layered_gzip_encodings__suri.pcap",
        "sll2_http__suri.pcap",
        "http_basic_auth_chunked__ndpi.pcap",
        "vlan_http__zeek.pcap",
    ]:
        for i, (c, s) in enumerate(tcp_streams(cap(name))[:1]):
            put("http_stream", name.split("__")[0], bytes([0x10 * i]) + c)
            put("http_stream", name.split("__")[0], bytes([0x10 * i + 1]) + s)
            put("http_stream", name.split("__")[0] + "-small", bytes([0x10 * i + 3]) + s)

    # HTTP over UDP (SSDP) and request/response heads as datagrams.
    seen = set()
    for name in ["app_android_phone__ndpi.pcap", "app_alicloud__ndpi.pcap"]:
        for _, p in udp_payloads(cap(name), "ssdp"):
            if p not in seen and len(seen) < 4:
                seen.add(p)
                put("http_datagram", "ssdp", p)
    # Hand-built SSDP datagrams (UPnP Device Architecture 2.0, section 1.3) in case the
    # captures at hand hold none.
    put("http_datagram", "ssdp-msearch", b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Google Chrome/120.0 Linux\r\n\r\n')
    put("http_datagram", "ssdp-notify", b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.20:8008/ssdp/device-desc.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/3.8 UPnP/1.0\r\nUSN: uuid:1234::upnp:rootdevice\r\n\r\n")
    put("http_datagram", "ssdp-response-gzip", b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\nContent-Length: 5\r\nContent-Encoding: gzip\r\n\r\nhello")
    for c, s in tcp_streams(cap("http_chunked__suri.pcap"))[:1]:
        put("http_datagram", "request", c)
        put("http_datagram", "response", s)

    # TLS streams, both directions.
    for name in [
        "tls13_wolfssl__zeek.pcap",
        "tls_ja4__suri.pcap",
        "tls12_handshake_certs__zeek.pcap",
        "tls13_hello_retry_request__zeek.pcap",
        "tls_ja3_many_ciphers__ndpi.pcap",
        "tls_alpn_rawip__suri.pcap",
        "tls13_ech__zeek.pcap",
        "tls12_chrome34_google__zeek.pcap",
    ]:
        for c, s in tcp_streams(cap(name))[:1]:
            put("tls_record_stream", name.split("__")[0], c)
            put("tls_record_stream", name.split("__")[0], s)

    # QUIC: the first datagrams of a connection, each with a 2-byte length whose top bit
    # marks the server's (fuzz_targets/quic_datagrams.rs).
    for name, port in [
        ("quic_chromium_cirrus__zeek.pcap", 443),
        ("quic_v2_echo__zeek.pcap", 443),
        ("quic_ietf27_play_google__ndpi.pcap", 443),
        ("quic_ja4__suri.pcap", 443),
        ("keylog_quic_illustrated__iquic.pcap", 8400),
        ("quic_crypto_frag__suri.pcap", 443),
    ]:
        out = bytearray()
        for src, p in udp_payloads(cap(name), "udp")[:4]:
            n = min(len(p), 0x7FFF)
            out += struct.pack(">H", n | (0x8000 if src == port else 0)) + p[:n]
        put("quic_datagrams", name.split("__")[0], bytes(out))

    # Flow components take a small record language (crates/flow/src/fuzzing.rs); seeds
    # are the shapes a real connection takes.
    def seg(op, off, length):
        return bytes([op, off >> 8, off & 0xFF, length])

    put("flow_stream", "in-order", bytes([8, 8, 0, 1]) + b"".join(seg(0, o, 100) for o in range(0, 800, 100)) + seg(4, 800, 10))
    put("flow_stream", "reordered", bytes([16, 16, 0, 1]) + seg(0, 100, 100) + seg(0, 0, 100) + seg(0, 300, 50) + seg(0, 200, 100) + seg(4, 350, 0))
    put("flow_stream", "overlap", bytes([4, 4, 0xFF, 0xF0]) + seg(0, 0, 60) + seg(0, 30, 60) + seg(0x80, 40, 30) + seg(5, 200, 0) + seg(6, 210, 0))
    put("flow_stream", "syn-half", bytes([2, 2, 0, 0]) + seg(7, 0, 0) + seg(0x40, 0, 200) + seg(0, 200, 100) + seg(8, 300, 10))

    def frag(ident, off, length, flags):
        return bytes([ident, off >> 8, off & 0xFF, length, flags])

    put("flow_defrag", "in-order", frag(1, 0, 200, 1) + frag(1, 200, 200, 1) + frag(1, 400, 40, 0))
    put("flow_defrag", "reversed", frag(2, 400, 40, 0) + frag(2, 200, 200, 1) + frag(2, 0, 200, 1))
    put("flow_defrag", "overlap-expire", frag(3, 0, 100, 1) + frag(3, 50, 100, 3) + frag(4, 0, 8, 1) + frag(3, 150, 10, 4))


if __name__ == "__main__":
    main()
