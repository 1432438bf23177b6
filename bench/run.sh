#!/usr/bin/env bash
# The comparative benchmark: phonehome against cat, tshark and ndpiReader on one synthetic capture of
# at least 1 GB, in one run. Prints wall time, throughput and peak RSS per tool, the ratios, and
# PASS/FAIL per target. It is a measurement, not a test: it exits 0 whatever the numbers are.
#
# Environment:
#   BENCH_DIR     where the capture goes (default: a fresh temporary directory, removed at exit)
#   BENCH_BYTES   capture size (default 1_100_000_000)
#   BENCH_SEED    generator seed (default 1)
#   BENCH_SKIP    space-separated tools to skip: cat tshark ndpi phonehome1 phonehomeN
#                 profile1 profileN
#   PHONEHOME_BIN the phonehome binary to measure (default: the workspace's release build)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BYTES="${BENCH_BYTES:-1_100_000_000}"
SEED="${BENCH_SEED:-1}"
SKIP=" ${BENCH_SKIP:-} "
OUT_DIR="$ROOT/bench/out"
mkdir -p "$OUT_DIR"

log() { printf 'bench: %s\n' "$*" >&2; }

# --- peers ---------------------------------------------------------------------------------------
need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v ndpiReader >/dev/null 2>&1 || need+=(libndpi-bin)
[ -x /usr/bin/time ] || need+=(time)
if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
        || log "could not install ${need[*]}; those rows will say 'missing'"
fi

# --- build and generate ----------------------------------------------------------------------------
log "building release binaries"
(cd "$ROOT" && cargo build --release -p phonehome-bench 2>&1 | tail -n 2) >&2
(cd "$ROOT" && cargo build --release -p phonehome-cli 2>&1 | tail -n 2) >&2 \
    || log "phonehome did not build; measuring the previous binary if there is one"
TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
TARGET_DIR="${TARGET_DIR:-$ROOT/target}"
PHONEHOME="${PHONEHOME_BIN:-$TARGET_DIR/release/phonehome}"
SYNTH="$TARGET_DIR/release/synth"
[ -x "$SYNTH" ] || { log "synth did not build"; exit 0; }

if [ -n "${BENCH_DIR:-}" ]; then
    DIR="$BENCH_DIR"
    mkdir -p "$DIR"
else
    DIR="$(mktemp -d "${TMPDIR:-/tmp}/phonehome-bench.XXXXXX")"
    trap 'rm -rf "$DIR"' EXIT
fi
FILE="$DIR/bench-seed$SEED-${BYTES//_/}.pcap"
if [ ! -s "$FILE" ]; then
    log "generating $FILE"
    "$SYNTH" --profile bench --seed "$SEED" --target-bytes "$BYTES" --out "$FILE" || { log "synth failed"; exit 0; }
fi
SIZE=$(stat -c %s "$FILE")
CORES=$(nproc)

# --- measure -------------------------------------------------------------------------------------
# run NAME CMD...: wall seconds (from the shell's clock) and peak RSS (from /usr/bin/time -v).
declare -A SECS RSS STATUS
ORDER=()
run() {
    local name="$1"; shift
    ORDER+=("$name")
    if [[ "$SKIP" == *" $name "* ]]; then STATUS[$name]="skipped"; return; fi
    if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then STATUS[$name]="missing"; return; fi
    local tf; tf="$(mktemp)"
    log "running $name"
    local t0 t1 rc
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tf" "$@" >/dev/null 2>"$tf.err"
    rc=$?
    t1=$(date +%s%N)
    SECS[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    RSS[$name]=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); printf "%.1f", $2 / 1024 }' "$tf")
    # phonehome exits 1 when it found policy violations: that is a completed run.
    if [ "$rc" -eq 0 ] || { [[ "$name" == phonehome* ]] && [ "$rc" -eq 1 ]; }; then
        STATUS[$name]="ok"
    else
        STATUS[$name]="exit $rc"
        log "$name exited $rc: $(grep -v '^Command exited' "$tf.err" | tail -n 3 | tr '\n' ' ')"
    fi
    rm -f "$tf" "$tf.err"
}

cat "$FILE" >/dev/null # warm the page cache so every tool reads from memory
run cat cat "$FILE"
run phonehome1 "$PHONEHOME" audit --threads 1 --format json -o /dev/null "$FILE"
run phonehomeN "$PHONEHOME" audit --threads "$CORES" --format json -o /dev/null "$FILE"
# The full audit with a device profile of 20 values (bench/profile-20.toml).
PROFILE="$ROOT/bench/profile-20.toml"
run profile1 "$PHONEHOME" audit --threads 1 --profile "$PROFILE" --format json -o /dev/null "$FILE"
run profileN "$PHONEHOME" audit --threads "$CORES" --profile "$PROFILE" --format json -o /dev/null "$FILE"
run tshark tshark -r "$FILE" -T fields -e dns.qry.name -e tls.handshake.extensions_server_name -e http.host
run ndpi ndpiReader -i "$FILE" -q

# --- report --------------------------------------------------------------------------------------
label() {
    case "$1" in
        cat) echo "cat > /dev/null" ;;
        phonehome1) echo "phonehome audit --threads 1" ;;
        phonehomeN) echo "phonehome audit --threads $CORES" ;;
        profile1) echo "  ... --profile (20 values), 1 thread" ;;
        profileN) echo "  ... --profile (20 values), $CORES threads" ;;
        tshark) echo "tshark -T fields (dns, sni, host)" ;;
        ndpi) echo "ndpiReader -q" ;;
    esac
}
ok() { [ "${STATUS[$1]:-}" = "ok" ]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
times() { if [ "$1" = "n/a" ]; then echo "n/a"; else echo "$1x"; fi; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
verdict() { if [ "$1" = "n/a" ]; then echo "n/a"; elif ge "$1" "$2"; then echo "PASS"; else echo "FAIL"; fi; }

REPORT="$(mktemp)"
{
    echo "phonehome benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "capture: $(basename "$FILE"), $SIZE bytes, seed $SEED; $CORES cores; $(uname -m)"
    echo "phonehome: $("$PHONEHOME" --version 2>/dev/null || echo unknown); $(tshark --version 2>/dev/null | head -n 1)"
    echo
    printf '%-36s %10s %10s %14s  %s\n' "tool" "seconds" "MB/s" "peak RSS MB" "status"
    for n in "${ORDER[@]}"; do
        if ok "$n"; then
            mbs=$(awk -v s="$SIZE" -v t="${SECS[$n]}" 'BEGIN { if (t > 0) printf "%.1f", s / 1e6 / t; else print "inf" }')
            printf '%-36s %10s %10s %14s  %s\n' "$(label "$n")" "${SECS[$n]}" "$mbs" "${RSS[$n]}" "ok"
        else
            printf '%-36s %10s %10s %14s  %s\n' "$(label "$n")" "-" "-" "-" "${STATUS[$n]:-not run}"
        fi
    done
    echo
    r_tshark="n/a"; r_ndpi="n/a"; r_scale="n/a"; rss_max="n/a"
    ok phonehome1 && ok tshark && r_tshark=$(ratio "${SECS[tshark]}" "${SECS[phonehome1]}")
    ok phonehome1 && ok ndpi && r_ndpi=$(ratio "${SECS[ndpi]}" "${SECS[phonehome1]}")
    ok phonehome1 && ok phonehomeN && r_scale=$(ratio "${SECS[phonehome1]}" "${SECS[phonehomeN]}")
    if ok phonehome1 || ok phonehomeN; then
        rss_max=$(printf '%s\n' "${RSS[phonehome1]:-0}" "${RSS[phonehomeN]:-0}" | sort -g | tail -n 1)
    fi
    printf '%-44s %8s   target %-8s %s\n' "phonehome (1 thread) vs tshark" "$(times "$r_tshark")" ">= 20x" "$(verdict "$r_tshark" 20)"
    printf '%-44s %8s   target %-8s %s\n' "phonehome (1 thread) vs ndpiReader" "$(times "$r_ndpi")" "> 1x" \
        "$( [ "$r_ndpi" = "n/a" ] && echo n/a || { awk -v a="$r_ndpi" 'BEGIN { exit !(a > 1) }' && echo PASS || echo FAIL; } )"
    scale_target="1.7"
    [ "$CORES" -lt 2 ] && r_scale="n/a"
    printf '%-44s %8s   target %-8s %s\n' "phonehome $CORES threads vs 1 thread" "$(times "$r_scale")" ">= ${scale_target}x" "$(verdict "$r_scale" "$scale_target")"
    variants=$("$PHONEHOME" profile variants "$PROFILE" 2>/dev/null | wc -l)
    p_tshark="n/a"; p_ndpi="n/a"; p_scale="n/a"
    ok profile1 && ok tshark && p_tshark=$(ratio "${SECS[tshark]}" "${SECS[profile1]}")
    ok profile1 && ok ndpi && p_ndpi=$(ratio "${SECS[ndpi]}" "${SECS[profile1]}")
    ok profile1 && ok profileN && p_scale=$(ratio "${SECS[profile1]}" "${SECS[profileN]}")
    [ "$CORES" -lt 2 ] && p_scale="n/a"
    echo "with a profile of 20 values ($variants variants):"
    printf '%-44s %8s   target %-8s %s\n' "  1 thread vs tshark" "$(times "$p_tshark")" ">= 10x" "$(verdict "$p_tshark" 10)"
    printf '%-44s %8s   target %-8s %s\n' "  1 thread vs ndpiReader (aim 1.5x)" "$(times "$p_ndpi")" ">= 0.6x" "$(verdict "$p_ndpi" 0.6)"
    printf '%-44s %8s   target %-8s %s\n' "  $CORES threads vs 1 thread" "$(times "$p_scale")" ">= 1.7x" "$(verdict "$p_scale" 1.7)"
    rss_verdict="n/a"
    [ "$rss_max" != "n/a" ] && { awk -v a="$rss_max" 'BEGIN { exit !(a < 500) }' && rss_verdict=PASS || rss_verdict=FAIL; }
    printf '%-44s %8s   target %-8s %s\n' "phonehome peak RSS (MB, worst of both runs)" "$rss_max" "< 500" "$rss_verdict"
} >"$REPORT"

cat "$REPORT"
cp "$REPORT" "$OUT_DIR/latest.txt"
rm -f "$REPORT"
log "table written to bench/out/latest.txt"
exit 0
