#!/usr/bin/env bash
# kill -9 survival: a small `dino train` run is killed with SIGKILL at many moments (between
# iterations, during the k-NN check, while a checkpoint is being written), resumed with --resume
# after every kill until it finishes, and its final checkpoint is compared byte for byte with an
# uninterrupted run of the same seed and thread count.
#
#   scripts/kill9_test.sh [KILLS]        (default 16; needs a release build: make build)
#
# Exit 0 when every kill was survived and the tensors are identical; prints "N passed, 0 failed".
set -euo pipefail
cd "$(dirname "$0")/.."
DINO=${DINO:-.build/release/dino}
KILLS=${1:-16}
[ -x "$DINO" ] || { echo "kill9_test: $DINO not found (make build first)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--config smoke --limit 512 --epochs 4 --threads 2)

echo "reference: an uninterrupted run"
SECONDS=0
"$DINO" train "${args[@]}" --out "$work/reference" > "$work/reference.log" 2>&1
echo "  took about ${SECONDS} s"

run="$work/killed"
survived=0 attempts=0 restarts=0
# Random moments spread over a whole run: a kill lands anywhere from start-up to the last checkpoint.
RANDOM=7
while [ $survived -lt "$KILLS" ] && [ $attempts -lt $((KILLS * 4)) ]; do
    attempts=$((attempts + 1))
    # A kill before config.json was written leaves no run: start it anew (the folder may exist).
    if [ -f "$run/config.json" ]; then mode=(--resume --threads 2); else mode=("${args[@]}"); fi
    "$DINO" train "${mode[@]}" --out "$run" > "$work/attempt.log" 2>&1 &
    pid=$!
    # 0.000 to 2.999 s: a whole run takes about 2-3 s here, so kills land all over it.
    delay=$(printf '%d.%03d' $((RANDOM % 3)) $((RANDOM % 1000)))
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        survived=$((survived + 1))
        state=$(ls "$run" 2>/dev/null | tr '\n' ' ' || true)
        echo "  kill $survived after ${delay} s (folder: ${state:-empty})"
    else
        wait "$pid" || { echo "FAIL: a resumed run exited with an error:"; cat "$work/attempt.log"; echo "0 passed, 1 failed"; exit 1; }
        restarts=$((restarts + 1))
        # The run had finished before the kill: start it again so that the next kills land in it too.
        if grep -q "resumed .* after epoch 4 of 4" "$work/attempt.log" || [ -f "$run/checkpoint/state.json" ]; then
            if python3 - "$run" <<'EOF'
import json, sys
state = json.load(open(sys.argv[1] + "/checkpoint/state.json"))
sys.exit(0 if state["epoch"] == 3 else 1)
EOF
            then
                mv "$run" "$work/finished-$restarts"
            fi
        fi
    fi
done

# Finish the interrupted run (or the last restarted one) without kills.
if [ -d "$run" ]; then
    if [ -f "$run/config.json" ]; then mode=(--resume --threads 2); else mode=("${args[@]}"); fi
    "$DINO" train "${mode[@]}" --out "$run" > "$work/final.log" 2>&1 || { cat "$work/final.log"; echo "0 passed, 1 failed"; exit 1; }
fi
failed=0
for d in "$run" "$work"/finished-*; do
    [ -d "$d" ] || continue
    for f in teacher student optimizer; do
        if ! cmp -s "$work/reference/checkpoint/$f.safetensors" "$d/checkpoint/$f.safetensors"; then
            echo "FAIL: $d/checkpoint/$f.safetensors differs from the uninterrupted run"
            failed=$((failed + 1))
        fi
    done
done
echo "survived $survived kill -9 (of $attempts attempts; $restarts runs finished between kills);"
echo "final teacher, student and optimizer tensors compared with the uninterrupted run's"
if [ $failed -eq 0 ] && [ $survived -ge "$KILLS" ]; then
    echo "$survived passed, 0 failed"
else
    echo "$survived passed, $((failed + (survived < KILLS ? 1 : 0))) failed"
    exit 1
fi
