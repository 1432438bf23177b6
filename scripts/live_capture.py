"""What the live checks share: a tcpdump capture on loopback around the traffic they make,
the bodies they post (each marked with a fresh tag), and phonehome's report of the capture."""

import contextlib
import json
import secrets
import signal
import subprocess
import time


@contextlib.contextmanager
def capture(pcap, bpf):
    """tcpdump on loopback writing `pcap` (BPF filter `bpf`) while the block runs, with time
    to start before it and to flush after it."""
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", pcap, bpf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        yield
        time.sleep(1.0)
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)


def upload(label):
    """A fresh upload: (path, JSON body naming the case and holding an IMEI-like value)."""
    tag = secrets.token_hex(6)
    return f"/upload/{tag}", json.dumps({"case": label, "imei": "35" + tag})


def audit(binary, keys, pcap):
    """phonehome's JSON report of `pcap` with the key log and HTTP bodies kept; None (and the
    error printed) when it fails."""
    out = subprocess.run([binary, "audit", "--format", "json", "--http-bodies", "--keylog", keys, pcap],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print("phonehome failed:", out.stderr)
        return None
    return json.loads(out.stdout)
