#!/usr/bin/env python3
"""PyTorch timings of the row operations the SIMD core is compared against: softmax over 4160 x 1024 and
LayerNorm over 4160 x 192 (forward, FP32), median of many runs, one or two threads. Run it right
after `dino bench kernels --op softmax` / `--op layerNorm` on the same machine (these machines are
shared: compare numbers taken together). PyTorch is not a dependency of the project.

Usage: python3 scripts/torch_rowops_bench.py [--threads 1] [--runs 51]
"""
import argparse, statistics, time

import torch
import torch.nn.functional as F


def median_ms(fn, runs):
    for _ in range(5):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=51)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4160, 1024, generator=g) * 25          # logits / 0.04-like spread
    out = torch.empty_like(x)
    y = torch.randn(4160, 192, generator=g)
    w, b = torch.randn(192, generator=g), torch.randn(192, generator=g)
    with torch.no_grad():
        # Into a preallocated output where PyTorch allows it (a fresh 17 MB tensor per call would
        # time page faults too), otherwise the allocating call.
        try:
            torch._softmax(x, 1, False, out=out)
            soft = lambda: torch._softmax(x, 1, False, out=out)
        except Exception:
            soft = lambda: F.softmax(x, -1)
        s = median_ms(soft, args.runs)
        s_alloc = median_ms(lambda: F.softmax(x, -1), args.runs)
        ln = median_ms(lambda: F.layer_norm(y, (192,), w, b, 1e-6), args.runs)
    print(f"torch {torch.__version__} threads {torch.get_num_threads()}: softmax 4160x1024 {s:.3f} ms, "
          f"(allocating: {s_alloc:.3f} ms), layer_norm 4160x192 {ln:.3f} ms")


if __name__ == "__main__":
    main()
