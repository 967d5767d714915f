#!/usr/bin/env bash
# A full disk during training: a small run writes into a 1.5 MB tmpfs, which holds the first
# checkpoint but not the second. The run must stop with an error that names the file and the
# problem, leave the epoch-1 checkpoint intact and loadable (dino eval reads it), leave no
# half-written checkpoint.tmp behind, and finish with --resume once there is room.
#
#   scripts/full_disk_test.sh          (needs root to mount a tmpfs; says so and skips otherwise)
set -uo pipefail
cd "$(dirname "$0")/.."
DINO=${DINO:-.build/release/dino}
[ -x "$DINO" ] || { echo "full_disk_test: $DINO not found (make build first)" >&2; exit 2; }
mnt=$(mktemp -d)
if ! mount -t tmpfs -o size=1500k tmpfs "$mnt" 2>/dev/null; then
    rmdir "$mnt"
    echo "full_disk_test: skipped (cannot mount a tmpfs here: needs root)"
    exit 0
fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$mnt"' EXIT
failures=0
check() { if eval "$2"; then echo "  ok: $1"; else echo "  FAIL: $1"; failures=$((failures + 1)); fi; }
run="$mnt/run"
"$DINO" train --config smoke --limit 512 --epochs 4 --threads 2 --out "$run" > "$mnt/../full-disk.log" 2>&1
status=$?
log=$(cat "$mnt/../full-disk.log"); rm -f "$mnt/../full-disk.log"
check "the run stops with an error" "[ $status -ne 0 ]"
check "the error names the file and says the disk is full" "echo \"\$log\" | grep -q 'checkpoint.tmp/.*safetensors: cannot write the checkpoint.*space'"
check "the epoch-1 checkpoint is intact" "python3 -c \"import json,sys; sys.exit(0 if json.load(open('$run/checkpoint/state.json'))['epoch'] == 0 else 1)\""
check "no half-written checkpoint.tmp is left" "[ ! -e '$run/checkpoint.tmp' ]"
check "dino eval reads the kept checkpoint" "'$DINO' eval --checkpoint '$run' --train-size 200 --test-size 100 --no-linear > /dev/null 2>&1"
# Make room (a real user would free disk): copy the run out and finish it there.
cp -r "$run" "$mnt.room" && umount "$mnt" && rm -rf "$mnt" && mkdir "$mnt" && mv "$mnt.room" "$run"
check "--resume finishes the run once there is room" "'$DINO' train --resume --threads 2 --out '$run' > /dev/null 2>&1 && python3 -c \"import json,sys; sys.exit(0 if json.load(open('$run/checkpoint/state.json'))['epoch'] == 3 else 1)\""
passed=$((6 - failures))
echo "$passed passed, $failures failed"
[ $failures -eq 0 ]
