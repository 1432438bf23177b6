#!/usr/bin/env bash
# Rebuilds data/ip/ipdb.bin, the bundled IP to country and AS database, from two npm packages at
# pinned versions (see data/ip/README.md), then checks it. The same versions give the same bytes.
#
#   scripts/update-ip-data.sh [VERSION]   # VERSION for both packages; default: the pinned one
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${1:-2.3.2026061719}"
COUNTRY_PKG="@ip-location-db/geo-whois-asn-country-mmdb@$VERSION"
ASN_PKG="@ip-location-db/asn@$VERSION"
OUT=data/ip/ipdb.bin

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "packing $COUNTRY_PKG and $ASN_PKG" >&2
(cd "$work" && npm pack --silent "$COUNTRY_PKG" "$ASN_PKG" >/dev/null)
mkdir -p "$work/country" "$work/asn"
tar -xzf "$work"/ip-location-db-geo-whois-asn-country-mmdb-"$VERSION".tgz -C "$work/country"
tar -xzf "$work"/ip-location-db-asn-"$VERSION".tgz -C "$work/asn"

cargo build --release --locked -p phonehome-ipdata
tool=target/release/phonehome-ipdata

"$tool" build --country-pkg "$work/country/package" --asn-pkg "$work/asn/package" --out "$OUT"

# Determinism: a second build from the same packages must be byte-identical.
"$tool" build --country-pkg "$work/country/package" --asn-pkg "$work/asn/package" --out "$work/again.bin" 2>/dev/null
cmp "$OUT" "$work/again.bin"

# from_mmdb on real data: the package's combined mmdb, read through maxminddb, must give the
# same country as the converted tables at every range boundary.
"$tool" check --db "$OUT" --country-mmdb "$work/country/package/geo-whois-asn-country.mmdb"

# The answers the enrich tests pin, with load time and lookup speed.
"$tool" lookup --db "$OUT" 8.8.8.8 1.1.1.1 9.9.9.9 114.114.114.114 223.5.5.5 168.95.1.1 \
    2001:4860:4860::8888 2606:4700:4700::1111 2400:3200::1 2001:b000:168::1

ls -l "$OUT"
sha256sum "$OUT"
