#!/usr/bin/env python3
"""Side-by-side training-step benchmark: `dino bench train` against the PyTorch step of
scripts/anchors/torch_dino_step.py, on the same machine, interleaved.

These machines are shared and noisy (the other tenant's load changes from minute to minute), so
numbers from different runs are not comparable (consecutive runs of the same program here differ
by up to 30%). This script alternates the two programs, config by config and thread count by
thread count, for several rounds (which one goes first alternates too), takes the ratio of each
adjacent pair, and reports the median of those per-round ratios with its range, beside the
median images/s of each side. PyTorch is not a dependency of the project: this script is only
for people who want to check the numbers quoted in Walkthroughs/00-kernels.md.

Usage: python3 scripts/bench_train_vs_torch.py [--rounds 3] [--configs tiny,tiny_p7,lesson]
           [--threads 1,2] [--torch-script PATH] [--json results.jsonl]
"""
import argparse, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_swift(config, threads):
    out = subprocess.run([os.path.join(ROOT, ".build/release/dino"), "bench", "train", "--config", config,
                          "--threads", str(threads), "--json", "--plots", "/tmp/bench-train-vs-torch"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return rows[-1]


def run_torch(script, config, threads):
    out = subprocess.run([sys.executable, script, "--config", config, "--threads", str(threads)],
                         capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return rows[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--configs", default="tiny,tiny_p7,lesson")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--torch-script", default=os.path.join(ROOT, "scripts", "anchors", "torch_dino_step.py"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    results = {}
    for r in range(args.rounds):
        for config in args.configs.split(","):
            for threads in [int(t) for t in args.threads.split(",")]:
                if r % 2 == 0:
                    s = run_swift(config, threads)
                    t = run_torch(args.torch_script, config, threads)
                else:
                    t = run_torch(args.torch_script, config, threads)
                    s = run_swift(config, threads)
                key = (config, threads)
                results.setdefault(key, []).append((s, t))
                print(f"round {r + 1} {config:8s} {threads} thr  swift {s['images_per_s']:8.1f} img/s "
                      f"(RSS {s['peak_rss_mb']:.0f} MB)   torch {t['images_per_s_median']:8.1f} img/s "
                      f"(RSS {t['peak_rss_mb']:.0f} MB)   ratio {s['images_per_s'] / t['images_per_s_median']:.2f}",
                      flush=True)
    print()
    print(f"{'config':8s} {'thr':>3s} {'swift img/s':>12s} {'torch img/s':>12s} {'ratio':>6s} {'ratio range':>12s} "
          f"{'swift RSS MB':>13s} {'torch RSS MB':>13s}")
    lines = []
    for (config, threads), pairs in results.items():
        s = statistics.median(p[0]["images_per_s"] for p in pairs)
        t = statistics.median(p[1]["images_per_s_median"] for p in pairs)
        ratios = sorted(p[0]["images_per_s"] / p[1]["images_per_s_median"] for p in pairs)
        ratio = statistics.median(ratios)
        sr = max(p[0]["peak_rss_mb"] for p in pairs)
        tr = max(p[1]["peak_rss_mb"] for p in pairs)
        span = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
        print(f"{config:8s} {threads:3d} {s:12.1f} {t:12.1f} {ratio:6.2f} {span:>12s} {sr:13.0f} {tr:13.0f}")
        lines.append(dict(config=config, threads=threads, swift_images_per_s=s, torch_images_per_s=t, ratio=ratio,
                          ratio_min=ratios[0], ratio_max=ratios[-1], swift_peak_rss_mb=sr, torch_peak_rss_mb=tr,
                          rounds=len(pairs)))
    if args.json:
        with open(args.json, "w") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
