#!/usr/bin/env bash
# Runs the libFuzzer targets (Tests/Fuzz/README.md) for FUZZ_SECONDS each (default 60), after
# building them (build.sh); with FUZZ_RUNS set, a target also stops after that many executions
# (FUZZ_RUNS=10000000 FUZZ_SECONDS=36000 for the long run the README records).
# Arguments: target names (default: every Tests/Fuzz/Targets/*.swift).
#
# Each target's corpus lives in .build-fuzz/corpus/<name> (kept between runs, so a long run goes on
# where the last one stopped) and starts from the seeds its file names on its `// fuzz-seeds:`
# line. A crash, leak, timeout or out-of-memory leaves the input in .build-fuzz/artifacts/<name>/
# and makes this script fail once every target has run. The last line per target, also appended to
# .build-fuzz/fuzz-stats.tsv, gives the runs and executions per second.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH="${FUZZ_SECONDS:-60}"
RUNS_LIMIT=()
if [ -n "${FUZZ_RUNS:-}" ]; then RUNS_LIMIT=(-runs="$FUZZ_RUNS"); fi
Tests/Fuzz/build.sh "$@" || exit 1

if [ $# -gt 0 ]; then names=("$@"); else names=($(ls Tests/Fuzz/Targets | sed -n 's/\.swift$//p')); fi
failed=()
for name in "${names[@]}"; do
    corpus=".build-fuzz/corpus/$name" artifacts=".build-fuzz/artifacts/$name/" log=".build-fuzz/logs/$name.log"
    mkdir -p "$corpus" "$artifacts" .build-fuzz/logs
    seeds=$(sed -n 's|^// fuzz-seeds: *||p' "Tests/Fuzz/Targets/$name.swift")
    for pattern in $seeds; do
        for f in $pattern; do [ -f "$f" ] && [ ! -e "$corpus/$(basename "$f")" ] && cp "$f" "$corpus/"; done
    done
    # ASan's leak check off: the targets keep adapters in statics, and libFuzzer's -detect_leaks
    # reports at exit; everything else (heap overflows, use after free) stays on.
    # The Swift runtime's backtracer off: libFuzzer prints the stack itself, and swift-backtrace
    # can hang on an instrumented binary.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" ".build-fuzz/fuzz/$name" "$corpus" \
        -max_total_time="$SECONDS_EACH" "${RUNS_LIMIT[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf '%-32s %4ss  %10s runs  %7s exec/s  %s\n' "$name" "$SECONDS_EACH" "${runs:-?}" "${rate:-?}" \
        "$([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc, log $log)")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$SECONDS_EACH" "${runs:-}" "${rate:-}" "$rc" >>.build-fuzz/fuzz-stats.tsv
    if [ $rc != 0 ]; then
        failed+=("$name")
        grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|Fatal error|Test unit written' "$log" | sed 's/^/    /'
        grep -m1 'Test unit written' "$log" | sed 's/^/    /'
    fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz: failed: ${failed[*]}" >&2; exit 1; fi
