#!/usr/bin/env bash
# The walkthroughs paste real lesson output. This re-runs each lesson and compares what it prints
# now with what its walkthrough pastes, so the text cannot drift from the code.
#
#   scripts/walkthrough_check.sh [--update] [--quick-only] [--from=DIR] [LESSON ...]
#
# A pasted block is the fenced block right after a marker line in a walkthrough:
#
#   <!-- lesson-output: lesson02-temperature -->
#   <!-- lesson-output: lesson07-dino-training (timed: ^epoch|img/s) -->
#
# The lesson runs with the flags after its name (none: as shipped), `--threads 2` and
# `DINO_ISA=avx2` (the pasted runs used 2 threads and the 8-float SIMD code; a 512-bit CPU would
# round differently), charts into a temporary folder and run folders under it. Before comparing,
# both sides are masked: durations (`3.4 s`, `8:46`, `512 img/s`, `12.3 ms`, `81.2 GFLOP/s`) and
# speed-ups become `#`, runs of blanks count as one (a wider number shifts its columns), lines matching the marker's `timed:` pattern are compared by their first word only,
# and the temporary folder is written as the repository's `plots`/`runs`.
#
# --update rewrites each pasted block with the new output (real output, timings included).
# --from=DIR takes a lesson's output from DIR/<lesson>.out, written by a run as shipped, instead
# of running it again (lessons 07 and 09 train for minutes).
# Exit status: 0 when every block matches, 1 otherwise (the differences are printed).
set -u
cd "$(dirname "$0")/.."
update=0 quickonly=0 from="" wanted=()
for a in "$@"; do
  case "$a" in
    --update) update=1 ;;
    --quick-only) quickonly=1 ;;
    --from=*) from=${a#--from=} ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "error: walkthrough_check.sh: unknown option '$a'" >&2; exit 64 ;;
    *) wanted+=("$a") ;;
  esac
done

mask() {   # $1 = timed-line pattern (may be empty)
  sed -E -e 's/[0-9]+(\.[0-9]+)? ?(s|ms|µs|min|minutes)\b/# \2/g' \
         -e 's/\b[0-9]+:[0-9]{2}(:[0-9]{2})?\b/#:##/g' \
         -e 's/[0-9][0-9.,]* ?(img\/s|images\/s|crops\/s|GFLOP\/s|GB\/s|it\/s)/# \1/g' \
         -e 's/(speed-?up:?) [0-9][0-9.]*×?/\1 #/g' -e 's/[[:space:]]+$//' -e 's/ +/ /g' |
  if [ -n "$1" ]; then awk -v re="$1" '{ if ($0 ~ re) print "(timed) " $1; else print }'; else cat; fi
}

status=0 checked=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for md in Walkthroughs/*.md; do
  grep -q '<!-- lesson-output:' "$md" || continue
  # One marker per line: "<!-- lesson-output: NAME FLAGS... (timed: RE) -->"
  mapfile -t markers < <(grep -n '<!-- lesson-output:' "$md")
  for m in "${markers[@]}"; do
    line=${m%%:*}
    spec=$(printf '%s' "${m#*:}" | sed -E 's/.*<!-- lesson-output: *(.*) *-->.*/\1/')
    timed=$(printf '%s' "$spec" | sed -nE 's/.*\(timed: (.*)\).*/\1/p')
    spec=$(printf '%s' "$spec" | sed -E 's/\(timed: .*\)//; s/ +$//')
    read -r exe flags <<<"$spec"
    if [ ${#wanted[@]} -gt 0 ]; then
      keep=0; for w in "${wanted[@]}"; do [[ "$exe" == *"$w"* ]] && keep=1; done
      [ $keep = 1 ] || continue
    fi
    if [ $quickonly = 1 ] && [[ " $flags " != *" --quick "* ]]; then continue; fi
    if [ ! -x ".build/release/$exe" ]; then
      echo "error: $md:$line: .build/release/$exe is not built (swift build -c release)" >&2; status=1; continue
    fi
    # The pasted block: the fenced block starting on the first ``` line after the marker.
    awk -v start="$line" 'NR > start && /^```/ { if (inb) exit; inb = 1; next } inb { print }' "$md" >"$tmp/pasted"
    run="$tmp/run-$exe"
    mkdir -p "$run"
    name=${exe#lesson}
    if [ -n "$from" ] && [ -f "$from/$exe.out" ]; then
      # A run made earlier, as shipped (lessons 07 and 09 take minutes): paste or compare that.
      cp "$from/$exe.out" "$run/out"; rc=0
    else
      # shellcheck disable=SC2086
      DINO_ISA=avx2 ".build/release/$exe" $flags --threads 2 --plots "$run/plots" \
        $( .build/release/$exe --help 2>/dev/null | grep -q -- '--run DIR' && echo --run "$run/runs/$name") \
        >"$run/out" 2>&1
      rc=$?
    fi
    sed -e "s#$run/plots#plots#g" -e "s#$run/runs/$name#runs/$name#g" "$run/out" >"$tmp/now"
    checked=$((checked + 1))
    if [ $update = 1 ]; then
      awk -v start="$line" -v new="$tmp/now" '
        NR > start && /^```/ && state < 2 {
          if (state == 0) { print; while ((getline l < new) > 0) print l; state = 1; next }
          state = 2; print; next }
        state == 1 { next }
        { print }' "$md" >"$tmp/md" && cat "$tmp/md" >"$md"
      echo "updated $md ($exe $flags, exit $rc)"
    elif diff <(mask "$timed" <"$tmp/pasted") <(mask "$timed" <"$tmp/now") >"$tmp/diff"; then
      echo "ok    $md: $exe $flags"
    else
      echo "DRIFT $md: $exe $flags (exit $rc); < pasted, > now:"
      head -40 "$tmp/diff"
      status=1
    fi
    [ $rc = 0 ] || { echo "error: $exe $flags exited $rc" >&2; status=1; }
  done
done
if [ $checked = 0 ]; then echo "error: no lesson-output markers matched" >&2; exit 1; fi
exit $status
