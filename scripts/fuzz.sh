#!/usr/bin/env bash
# Fuzz the parsers with libFuzzer + AddressSanitizer (the Swift toolchain's -sanitize=fuzzer,address):
# idx (IDX behind gzip), png (libpng), safetensors, config (training-config JSON), golden (a
# golden-vector case file). Targets are in Tests/Fuzz/, seed corpora in Tests/Fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default 60 s, every target)
#   FUZZ_RUNS=1000000 scripts/fuzz.sh 0 idx               (a number of executions instead of a time)
#
# Leak detection is off: Foundation's Data(contentsOf:) keeps a 4 KiB buffer LeakSanitizer reports
# (an allocation inside FoundationEssentials, not in this project's code).
# Libraries are built with coverage and ASan into .build-fuzz; each target is linked against them.
# Crashes land in .build-fuzz/crashes/<target>/; copy each into Tests/DataTests/fuzz-regressions
# (or the matching test) and fix it. Prints one line per target with its execution count.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(idx png safetensors config golden)
SCRATCH=.build-fuzz
swift build -c release --scratch-path "$SCRATCH" --target KernelCheck -Xswiftc -sanitize=fuzzer,address >/dev/null
LINKLOG="$SCRATCH/link.log"
: > "$LINKLOG"
OUT="$SCRATCH/release"
objects=$(ls "$OUT"/DINOCore.build/*.o "$OUT"/ReferenceCore.build/*.o "$OUT"/SIMDCore.build/*.o \
             "$OUT"/SIMDCoreAVX2.build/*.o "$OUT"/SIMDCoreAVX512.build/*.o "$OUT"/SIMDCoreAVX512OnAVX2.build/*.o "$OUT"/DINOData.build/*.o \
             "$OUT"/DINOPlot.build/*.o "$OUT"/DINOModel.build/*.o "$OUT"/KernelCheck.build/*.o)
failed=0
for t in "${TARGETS[@]}"; do
    exe="$SCRATCH/fuzz-$t"
    swiftc -O -parse-as-library -sanitize=fuzzer,address -I "$OUT/Modules" -I Sources/CZlib -I Sources/CLibPNG -I Sources/CCPUID \
        -Xcc -march=x86-64-v3 Tests/Fuzz/$t.swift $objects -lz -lpng16 -o "$exe" >> "$LINKLOG" 2>&1 \
        || { cat "$LINKLOG"; echo "$t: cannot build the fuzz target"; exit 1; }
    corpus="$SCRATCH/corpus/$t"
    mkdir -p "$corpus" "$SCRATCH/crashes/$t"
    cp Tests/Fuzz/corpus/$t/* "$corpus"/ 2>/dev/null || true
    log="$SCRATCH/fuzz-$t.log"
    if [ -n "${FUZZ_RUNS:-}" ]; then limit=(-runs="$FUZZ_RUNS"); what="$FUZZ_RUNS runs"; else limit=(-max_total_time="$SECONDS_PER_TARGET"); what="${SECONDS_PER_TARGET} s"; fi
    SECONDS=0
    if ASAN_OPTIONS=detect_leaks=0 "$exe" "${limit[@]}" -max_len=65536 -rss_limit_mb=4096 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$SCRATCH/crashes/$t/" "$corpus" > "$log" 2>&1; then status=ok; else status=CRASH; failed=$((failed + 1)); fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "$t: $runs executions in ${SECONDS} s (limit $what): $status$( [ $status = ok ] || echo " (see $log and $SCRATCH/crashes/$t/)")"
done
[ $failed -eq 0 ]
