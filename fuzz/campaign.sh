#!/usr/bin/env bash
# Runs each fuzz target in turn (never in parallel) for SECONDS seconds with one job, starting
# from its committed seeds, and prints one table row per target:
#   target | seconds run | executions | corpus files | result
# Usage: fuzz/campaign.sh [SECONDS] [TARGET...]   (default 180 s, every target)
# Set SANITIZER=none if the address-sanitizer build fails on the toolchain at hand.
set -u
cd "$(dirname "$0")"
secs=${1:-180}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null
    RUSTC_BOOTSTRAP=1 cargo fuzz build -s "${SANITIZER:-address}" "$t" >"logs/$t.build.log" 2>&1
    start=$SECONDS
    RUSTC_BOOTSTRAP=1 cargo fuzz run -s "${SANITIZER:-address}" "$t" "corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 >"logs/$t.log" 2>&1
    rc=$?
    took=$((SECONDS - start))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1)
    if [ -z "$execs" ]; then
        execs=$(grep -o '^#[0-9]*' "logs/$t.log" | tail -1 | tr -d '#')
    fi
    result=ok
    [ $rc -ne 0 ] && result="FAILED rc=$rc: $(grep -m1 -o 'ERROR: libFuzzer: [a-z-]*\|panicked at [^ ]*' "logs/$t.log")"
    echo "| $t | $took | ${execs:-?} | $(ls "corpus/$t" | wc -l) | $result |"
done
