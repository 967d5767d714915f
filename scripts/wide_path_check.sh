#!/usr/bin/env bash
# Proof that the 512-bit path is really 512 bits wide, read from the machine code (it needs no
# AVX-512 CPU, so it runs everywhere): in the SIMDCoreAVX512 build, the GEMM micro-kernel's FMAs,
# and those of softmax, LayerNorm and GELU (Elementwise), must all be zmm FMAs. LLVM can legalise
# a 16-float vector as two ymm halves under some tunings; this would show it as ymm FMAs.
# Usage: scripts/wide_path_check.sh [BUILD_DIR]   (default .build/release)
set -euo pipefail
dir="${1:-.build/release}/SIMDCoreAVX512.build"
[ -d "$dir" ] || { echo "wide path check: $dir not found (build in release first)"; exit 1; }
command -v objdump >/dev/null || { echo "wide path check: objdump not found (apt-get install binutils)"; exit 1; }
fail=0
printf '%-18s %10s %10s\n' "object" "zmm FMAs" "ymm FMAs"
for f in GemmMicroKernel RowKernels LayerNorm Elementwise BatchNorm Optimizer Attention; do
  asm=$(objdump -d --no-show-raw-insn "$dir/$f.swift.o")
  z=$(grep -cE 'vfn?m(add|sub)[0-9a-z]*ps.*zmm' <<<"$asm" || true)
  y=$(grep -cE 'vfn?m(add|sub)[0-9a-z]*ps.*ymm' <<<"$asm" || true)
  note=""
  case $f in
    GemmMicroKernel) [ "$z" -eq 16 ] && [ "$y" -eq 0 ] || { note="  FAIL: expected 16 zmm FMAs (8x32 tile) and no ymm"; fail=1; } ;;
    RowKernels|LayerNorm|Elementwise) [ "$z" -gt 0 ] && [ "$y" -eq 0 ] || { note="  FAIL: expected only zmm FMAs"; fail=1; } ;;
    Attention) note="  (8-float tiles by design: its FMAs stay ymm)" ;;
  esac
  printf '%-18s %10d %10d%s\n' "$f" "$z" "$y" "$note"
done
if [ $fail -ne 0 ]; then echo "wide path check: FAILED"; exit 1; fi
echo "wide path check: the 512-bit build's hot loops use zmm FMAs only"
