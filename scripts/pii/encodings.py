"""How a profile value is disguised before an app sends it, and the byte formats that carry it.

Two halves:

- *value transforms* (`TRANSFORMS`): what an app does to a value before it leaves (URL
  escaping, base64, hex, a digest, JSON \\u escapes, UTF-16, a legacy Chinese charset). Each
  is named by the chain phonehome reports in a finding's `encoding` (`["sha1", "hex"]`), so
  the truth table and the report speak the same words.
- *wire formats* (protobuf, WebSocket frames, vCard quoted-printable, gzip, HTTP chunked):
  written here by hand because the point is to control every byte (where a segment or a
  chunk is cut, which mask a frame uses) and because the standard library has no protobuf or
  WebSocket writer; each follows the section of its specification cited at the function.

`values(profile)` turns the profile into the list of values to plant, each with the normal
forms phonehome is expected to know (an IMEI with and without its check digit, a phone number
as E.164, national, spaced...). Forms that only make sense with some transforms (a
lowercased name is only ever hashed) say so.

Limits: location values are planted as text pairs ("lat,lon"); digests of coordinates are not
planted because no tool can be expected to guess the exact text an app hashed.
"""

import base64
import gzip
import hashlib
import re
import struct
import urllib.parse

# Characters RFC 3986 section 2.3 leaves unescaped.
UNRESERVED = "-._~"


def _url(text):
    return urllib.parse.quote(text, safe=UNRESERVED)


def _json_u(text):
    """Every character as a JSON \\uXXXX escape (RFC 8259 section 7), UTF-16 units for
    characters outside the BMP: what ASCII-only JSON encoders write for non-ASCII text and
    what obfuscating SDKs write for everything."""
    out = []
    for unit in struct.unpack(f">{len(text.encode('utf-16-be')) // 2}H", text.encode("utf-16-be")):
        out.append(f"\\u{unit:04x}")
    return "".join(out)


def _digest(name, enc):
    def f(text):
        d = hashlib.new(name, text.encode()).digest()
        if enc == "hex":
            return d.hex().encode()
        return base64.b64encode(d)
    return f


# name -> (phonehome encoding chain, function of the form's text returning bytes)
TRANSFORMS = {
    "plain": ([], lambda t: t.encode()),
    "url": (["url"], lambda t: _url(t).encode()),
    "base64": (["base64"], lambda t: base64.b64encode(t.encode())),
    "base64url": (["base64url"], lambda t: base64.urlsafe_b64encode(t.encode()).rstrip(b"=")),
    "base32": (["base32"], lambda t: base64.b32encode(t.encode()).rstrip(b"=").lower()),
    "hex": (["hex"], lambda t: t.encode().hex().encode()),
    "md5_hex": (["md5", "hex"], _digest("md5", "hex")),
    "sha1_hex": (["sha1", "hex"], _digest("sha1", "hex")),
    "sha256_hex": (["sha256", "hex"], _digest("sha256", "hex")),
    "md5_b64": (["md5", "base64"], _digest("md5", "b64")),
    "sha1_b64": (["sha1", "base64"], _digest("sha1", "b64")),
    "sha256_b64": (["sha256", "base64"], _digest("sha256", "b64")),
    "json_u": (["json"], lambda t: _json_u(t).encode()),
    "utf16le": (["utf16le"], lambda t: t.encode("utf-16-le")),
    "utf16be": (["utf16be"], lambda t: t.encode("utf-16-be")),
    "gbk": (["gbk"], lambda t: t.encode("gbk")),
    "big5": (["big5"], lambda t: t.encode("big5")),
}

# The transforms planted through the generic HTTP carriers, for every value. base32 and the
# legacy charsets have their own carriers (DNS labels, Chinese text bodies).
GENERIC = [
    "plain", "url", "base64", "base64url", "hex", "md5_hex", "sha1_hex", "sha256_hex",
    "md5_b64", "sha1_b64", "sha256_b64", "json_u", "utf16le", "utf16be",
]
DIGESTS = {"md5_hex", "sha1_hex", "sha256_hex", "md5_b64", "sha1_b64", "sha256_b64"}
# Text transforms: a form that only exists in one letter case still matches them.
CASE_FREE = {"plain", "url", "json_u", "utf16le", "utf16be"}
LOCATION = ["plain", "url", "base64", "json_u", "utf16le"]


def apply(transform, text):
    chain, f = TRANSFORMS[transform]
    return list(chain), f(text)


class Value:
    """One profile value to plant: its data type, the profile label phonehome reports, and
    its normal forms as (form name, text, transforms allowed or None for all)."""

    def __init__(self, data_type, label, forms, transforms=None, also=()):
        self.data_type = data_type
        self.label = label
        self.forms = forms
        self.transforms = transforms or GENERIC
        # Other labels a correct tool may also report for the same bytes (an SMS body holds
        # its one-time code).
        self.also = list(also)

    def forms_for(self, transform):
        return [(n, t) for n, t, allowed in self.forms if allowed is None or transform in allowed]


def _phone_parts(written):
    digits = re.sub(r"\D", "", written)
    # The profile writes every number as +886 9xx xxx xxx: country code 886, 9 digits after.
    return digits[:-9], digits[-9:]


def _phone_forms(written, full=True):
    cc, n = _phone_parts(written)
    forms = [
        ("e164", f"+{cc}{n}", None),
        ("national", f"0{n}", None),
        ("as_written", written, None),
    ]
    if full:
        forms += [
            ("no_plus", f"{cc}{n}", None),
            ("dashed", f"+{cc}-{n[:3]}-{n[3:6]}-{n[6:]}", None),
        ]
    return forms


def values(profile):
    """The values of a parsed profile (tomllib dict) to plant, in a fixed order."""
    ids = profile["identifiers"]
    owner = profile["owner"]
    out = []
    imei = ids["imei"]
    out.append(Value("imei", "imei", [("15_digits", imei, None), ("14_digits", imei[:14], None)]))
    out.append(Value("imsi", "imsi", [("digits", ids["imsi"], None)]))
    out.append(Value("iccid", "iccid", [("digits", ids["iccid"], None)]))
    out.append(Value("phone", "phone", _phone_forms(ids["phone"])))
    serial = ids["serial"]
    out.append(Value("serial", "serial", [("as_written", serial, None), ("lowercase", serial.lower(), None)]))
    aid = ids["android_id"]
    out.append(Value("android_id", "android_id", [("hex", aid.lower(), None), ("upper", aid.upper(), None)]))
    ad = ids["advertising_id"]
    out.append(Value("advertising_id", "advertising_id", [
        ("uuid", ad.lower(), None), ("bare", ad.replace("-", "").lower(), None), ("uuid_upper", ad.upper(), None)]))
    mac = ids["wifi_mac"].lower()
    out.append(Value("mac", "wifi_mac", [
        ("colons", mac, None), ("dashes", mac.replace(":", "-"), None), ("bare", mac.replace(":", ""), None),
        ("colons_upper", mac.upper(), None)]))
    email = owner["email"]
    local, domain = email.split("@")
    mixed = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
    out.append(Value("email", "owner.email", [("folded", email.lower(), None), ("mixed_case", mixed, CASE_FREE)]))
    name = owner["name"]
    out.append(Value("name", "owner.name", [
        ("as_written", name, None), ("no_spaces", name.replace(" ", ""), None), ("lowercase", name.lower(), DIGESTS)]))
    for i, c in enumerate(profile.get("contacts", [])):
        cname = c["name"]
        forms = [("as_written", cname, None)]
        if " " in cname:
            forms.append(("no_spaces", cname.replace(" ", ""), None))
        out.append(Value("contact_name", f"contacts[{i}].name", forms))
        out.append(Value("contact_phone", f"contacts[{i}].phone", _phone_forms(c["phone"], full=False)))
    for i, m in enumerate(profile.get("sms", [])):
        body = m["body"]
        out.append(Value("sms", f"sms[{i}].body", [("as_written", body, None)], also=[f"sms[{i}].code"]))
        for code in re.findall(r"\d{6,}", body):
            out.append(Value("sms", f"sms[{i}].code", [("code", code, None)]))
        out.append(Value("sms", f"sms[{i}].from", _phone_forms(m["from"], full=False)))
    for i, loc in enumerate(profile.get("locations", [])):
        lat, lon = loc["lat"], loc["lon"]
        out.append(Value("location", f"locations[{i}]", [
            ("comma", f"{lat},{lon}", None),
            ("5dp", f"{lat:.5f},{lon:.5f}", None),
            ("e7", f"{round(lat * 1e7)},{round(lon * 1e7)}", None),
        ], transforms=LOCATION))
    return out


# ---- wire formats -------------------------------------------------------------------------

def gz(data):
    """gzip with a zero timestamp, so the same input gives the same bytes (RFC 1952 MTIME)."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def varint(n):
    """Protocol Buffers base-128 varint (encoding guide, "Base 128 Varints")."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_sint(number, value):
    """One sint64 field: the value zigzag-encoded (encoding guide, "Signed Integers") in a
    varint."""
    return varint(number << 3 | 0) + varint(((value << 1) ^ (value >> 63)) & (2**64 - 1))


def pb_field(number, value):
    """One protobuf field: int -> varint (wire type 0), float -> double (type 1), bytes/str ->
    length-delimited (type 2)."""
    if isinstance(value, bool) or isinstance(value, int):
        return varint(number << 3 | 0) + varint(value)
    if isinstance(value, float):
        return varint(number << 3 | 1) + struct.pack("<d", value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def ws_frame(payload, opcode, fin=True, mask=None):
    """One WebSocket frame (RFC 6455 section 5.2); a client's frames are masked (5.3)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    m = 0x80 if mask is not None else 0
    n = len(payload)
    if n < 126:
        head.append(m | n)
    elif n < 65536:
        head.append(m | 126)
        head += struct.pack(">H", n)
    else:
        head.append(m | 127)
        head += struct.pack(">Q", n)
    if mask is None:
        return bytes(head) + payload
    return bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def qp(data, break_at=None):
    """Quoted-printable (RFC 2045 section 6.7): bytes outside printable ASCII and '=' as =XX.
    `break_at`: a byte offset where a soft line break (=CRLF, rule 5) is forced, as a vCard
    writer folding a long line does."""
    out = []
    for i, b in enumerate(data):
        if break_at is not None and i == break_at:
            out.append("=\r\n")
        if 33 <= b <= 126 and b != ord("=") or b == ord(" "):
            out.append(chr(b))
        else:
            out.append(f"={b:02X}")
    return "".join(out)


def chunked(body, cuts):
    """HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1), cut at the given offsets."""
    out = bytearray()
    last = 0
    for c in sorted(set(cuts)) + [len(body)]:
        if c <= last:
            continue
        part = body[last:c]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
        last = c
    return bytes(out + b"0\r\n\r\n")


def is_label(b):
    """Usable as one DNS label as is (RFC 1035 section 2.3.1 letters, digits, hyphen; 63 max)."""
    return re.fullmatch(rb"[A-Za-z0-9][A-Za-z0-9-]{0,62}", b) is not None and not b.endswith(b"-")


def shown(b):
    """The planted bytes for the truth table: text when printable UTF-8, else hex."""
    try:
        s = b.decode()
        if s.isprintable():
            return s
    except UnicodeDecodeError:
        pass
    return "hex:" + b.hex()


if __name__ == "__main__":
    # Known answers, computed independently (RFC 4648 test vectors, hashlib, RFC 6455 example).
    assert apply("base64", "foobar")[1] == b"Zm9vYmFy"
    assert apply("base32", "foobar")[1] == b"mzxw6ytboi"
    assert apply("md5_hex", "")[1] == b"d41d8cd98f00b204e9800998ecf8427e"
    assert apply("json_u", "林a")[1] == b"\\u6797\\u0061"
    assert varint(300) == b"\xac\x02"
    # RFC 6455 section 5.7: a masked "Hello".
    assert ws_frame(b"Hello", 1, mask=b"\x37\xfa\x21\x3d") == bytes.fromhex("818537fa213d7f9f4d5158")
    assert qp("林".encode()) == "=E6=9E=97"
    assert chunked(b"abcdef", [2]) == b"2\r\nab\r\n4\r\ncdef\r\n0\r\n\r\n"
    assert is_label(b"abc-1") and not is_label(b"a.b") and not is_label(b"x" * 64)
    print("encodings: ok")
