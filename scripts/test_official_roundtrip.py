#!/usr/bin/env python3
"""Test: a checkpoint written by `dino train` loads into the official DINO modules and gives the same outputs.

    python3 scripts/test_official_roundtrip.py --run RUN [--dino-repo DIR] [--golden CASE.json]
                                               [--golden-key teacher|student] [--bn-stats batch|running] [--keep]

RUN is a run folder of `dino train` (its latest checkpoint: RUN/checkpoint/, or that folder itself); no run is
made here. DIR is a copy of the facebookresearch/dino repository: its vision_transformer.py, utils.py and
main_dino.py are imported (not copied) and the official modules are built from them; without it the test
uses convert_checkpoint.py's rebuild of the official module tree and says so.

What it checks, in order:
  1. convert_checkpoint.py to-pth turns teacher.safetensors and student.safetensors into .pth files whose
     tensors are float32, with BatchNorm's num_batches_tracked a 0-dim torch.int64.
  2. Both load with load_state_dict(strict=True) into the official tree (VisionTransformer + DINOHead inside
     MultiCropWrapper, shapes from the files, head count, norm_last_layer and use_bn from state.json), and
     every tensor arrives bit-identical.
  3. convert_checkpoint.py to-checkpoint writes a whole checkpoint.pth; the official
     utils.restart_from_checkpoint (with --dino-repo) loads student, teacher, optimizer and dino_loss from it
     into official modules wrapped as main_dino.py wraps them, with no missing or unexpected key, and the
     weights, AdamW moments and step counts, centre and epoch are those of the run.
  4. A seeded batch of global and local crops (the run's crop sizes) goes through the official tree loaded
     from the .pth and through the converter's rebuild loaded straight from the safetensors: CLS features,
     last-block CLS attention and head outputs must agree (abs 1e-5 + rel 1e-4).
  5. With --golden (a vit_forward-style case: images_global / images_local in, cls_*, attn_cls_*, head_*
     expected; e.g. written by the Swift forward of the same checkpoint), the official tree's outputs for
     --golden-key (default teacher) must match it within the case's tolerance.
A BatchNorm head runs with batch statistics (train mode, as during DINO training) unless --bn-stats running.

Exit status 0 when everything matches, 1 on any mismatch, 2 for bad arguments or an unreadable run. Without
torch it prints `skipped: torch is not installed (pip install torch)` and exits 0.
"""
import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERTER = os.path.join(HERE, "convert_checkpoint.py")
TOL_ABS, TOL_REL = 1e-5, 1e-4


class Report:
    def __init__(self):
        self.failures = 0

    def check(self, ok, text):
        print(f"  {'ok  ' if ok else 'FAIL'} {text}")
        self.failures += not ok
        return ok


def converter(*args):
    """Runs convert_checkpoint.py; returns its output, or None after printing why it failed."""
    run = subprocess.run([sys.executable, CONVERTER, *args], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"  FAIL convert_checkpoint.py {' '.join(args)}: {(run.stderr or run.stdout).strip()}")
        return None
    return run.stdout.strip()


def close(a, b):
    d = (a.double() - b.double()).abs()
    return bool((d <= TOL_ABS + TOL_REL * b.double().abs()).all()), d.max().item() if d.numel() else 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--run", required=True, help="a run folder of dino train (or its checkpoint folder)")
    p.add_argument("--dino-repo", help="a copy of the facebookresearch/dino repository")
    p.add_argument("--golden", help="a vit_forward-style case to compare the official outputs with")
    p.add_argument("--golden-key", default="teacher", choices=["teacher", "student"])
    p.add_argument("--bn-stats", default="batch", choices=["batch", "running"])
    p.add_argument("--keep", action="store_true", help="keep the converted files (their folder is printed)")
    args = p.parse_args()
    try:
        import torch
    except ImportError:
        print("skipped: torch is not installed (pip install torch)")
        return 0
    torch.set_num_threads(1)
    import warnings
    warnings.filterwarnings("ignore", message=".*weight_norm.*")
    warnings.filterwarnings("ignore", message=".*TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD.*")
    sys.path.insert(0, HERE)
    import numpy as np
    import convert_checkpoint as cc

    try:
        folder, state, files = cc.read_run(args.run)
        config = state["config"]
        heads = cc.default_heads(cc.infer_arch(files["teacher"], folder), config.get("heads"), folder)
        official = cc.import_official(args.dino_repo) if args.dino_repo else None
    except cc.ConvertError as e:
        print(f"error: {e}")
        return 2
    tree = f"the official modules of {args.dino_repo}" if official else \
        "convert_checkpoint.py's rebuild of the official module tree (no --dino-repo given)"
    print(f"run checkpoint {folder} (epoch {state['epoch']}); modules: {tree}")
    report = Report()
    work = tempfile.mkdtemp(prefix="dino-roundtrip-")
    models = {}

    # 1-2: to-pth, dtypes, strict load, values
    for key in ("teacher", "student"):
        print(f"{key}:")
        pth = os.path.join(work, key + ".pth")
        out = converter("to-pth", os.path.join(folder, key + ".safetensors"), pth, "--key", key)
        if out is None:
            report.failures += 1
            continue
        sd = torch.load(pth, map_location="cpu", weights_only=True)[key]
        counters = {k: v for k, v in sd.items() if k.endswith("num_batches_tracked")}
        report.check(all(v.dtype == torch.float32 for k, v in sd.items() if k not in counters)
                     and all(v.dtype == torch.int64 and v.dim() == 0 for v in counters.values()),
                     f"{len(sd)} tensors in {key}.pth: float32, and {len(counters)} num_batches_tracked as 0-dim int64")
        arch = cc.infer_arch(sd, pth)
        nll = bool(config.get("normLastLayer", True)) if key == "student" else True   # main_dino.py's teacher head
        try:
            model, _ = cc.build_tree(torch, arch, heads, args.dino_repo, nll)
            source = f"{os.path.join(folder, key + '.safetensors')} (as {key}.pth)"
            cc.load_strict(torch, model, sd, source, "official MultiCropWrapper")
            report.check(True, f"load_state_dict(strict=True) into {type(model).__module__}.{type(model).__name__} "
                               f"({type(model.backbone).__module__}.VisionTransformer, {type(model.head).__module__}.DINOHead)")
        except cc.ConvertError as e:
            report.check(False, str(e))
            continue
        same = all(np.array_equal(v.numpy(), files[key][k]) for k, v in model.state_dict().items())
        report.check(same, "every tensor bit-identical to the safetensors file")
        models[key] = model

    # 3: to-checkpoint and the official restart_from_checkpoint
    print("checkpoint.pth:")
    ckpt = os.path.join(work, "checkpoint.pth")
    out = converter("to-checkpoint", folder, ckpt)
    if out is None:
        report.failures += 1
    else:
        print("  " + out.splitlines()[0])
        restart_check(torch, np, cc, official, ckpt, state, files, heads, report)

    # 4: seeded batch, official tree from .pth vs rebuild from safetensors
    print("forward, seeded batch:")
    in_chans = files["teacher"]["backbone.patch_embed.proj.weight"].shape[1]
    g = torch.Generator().manual_seed(0)
    sizes = [config.get("globalSize", 224)] * 2 + [config.get("localSize", 96)] * int(config.get("localCount", 0))
    crops = [torch.randn(2, in_chans, s, s, generator=g) for s in sizes]
    for key, model in models.items():
        arrays = {k: cc.to_torch(torch, k, v, key) for k, v in files[key].items()}
        arch = cc.infer_arch(arrays, key)
        rebuilt = cc.rebuilt_modules(torch, arch, heads, True)
        rebuilt.load_state_dict(arrays, strict=True)
        for size in sorted(set(sizes), reverse=True):
            images = next(c for c in crops if c.shape[-1] == size)
            a = cc.run_network(torch, model, images, args.bn_stats)
            b = cc.run_network(torch, rebuilt, images, args.bn_stats)
            for name, x, y in zip(("CLS", "CLS attention", "head"), a, b):
                ok, d = close(x, y)
                report.check(ok, f"{key} {size}x{size} {name} {list(x.shape)}: max |official .pth - safetensors| {d:.2e}")
        for m in (model, rebuilt):                                     # the whole MultiCropWrapper forward
            m.eval()
            if args.bn_stats == "batch":
                m.head.train()
        with torch.no_grad():
            ok, d = close(model(crops), rebuilt(crops))
        report.check(ok, f"{key} MultiCropWrapper on {len(crops)} crops: max |official - safetensors| {d:.2e}")

    # 5: golden
    if args.golden:
        print(f"golden {args.golden} ({args.golden_key}):")
        if args.golden_key not in models:
            report.check(False, f"no {args.golden_key} network loaded")
        else:
            try:
                worst, ok, tol, rel, lines = cc.compare_golden(torch, models[args.golden_key], args.golden, args.bn_stats)
                for line in lines:
                    print(line)
                report.check(ok, f"within abs {tol} + rel {rel} (largest difference {worst:.3e})")
            except cc.ConvertError as e:
                report.check(False, str(e))
    else:
        print("golden: none given (--golden FILE compares with the Swift forward's outputs)")

    if args.keep:
        print(f"converted files kept in {work}")
    else:
        for name in os.listdir(work):
            os.remove(os.path.join(work, name))
        os.rmdir(work)
    print("PASS" if report.failures == 0 else f"FAIL ({report.failures} checks failed)")
    return 1 if report.failures else 0


def restart_check(torch, np, cc, official, ckpt, state, files, heads, report):
    """Loads checkpoint.pth as main_dino.py resumes, with the official restart_from_checkpoint when the official
    repository is given, and compares what arrived with the run."""
    config = state["config"]
    nn = torch.nn
    bn = bool(config.get("headBatchNorm"))
    arch = cc.infer_arch(files["student"], "student.safetensors")

    class Wrapped(nn.Module):
        """What DistributedDataParallel adds to the state-dict names: a `module` attribute."""
        def __init__(self, m):
            super().__init__()
            self.module = m

    def tree(nll):
        return (cc.official_modules(torch, arch, heads, official_dir, nll) if official
                else cc.rebuilt_modules(torch, arch, heads, nll))

    official_dir = None
    if official:
        official_dir = os.path.dirname(official[0].__file__)
    torch.manual_seed(1)
    student = Wrapped(tree(bool(config.get("normLastLayer", True))))
    teacher_plain = tree(True)
    teacher = Wrapped(teacher_plain) if bn else teacher_plain      # main_dino.py: DDP only with batch norms
    for p in teacher.parameters():
        p.requires_grad = False
    groups = (official[1].get_params_groups(student) if official else
              [{"params": [p for n, p in student.named_parameters() if p.requires_grad and not (n.endswith(".bias") or p.ndim == 1)]},
               {"params": [p for n, p in student.named_parameters() if p.requires_grad and (n.endswith(".bias") or p.ndim == 1)],
                "weight_decay": 0.0}])
    optimizer = torch.optim.AdamW(groups)
    dino_loss = None
    if official:
        try:
            sys.path.insert(0, official_dir)
            from main_dino import DINOLoss
            dino_loss = DINOLoss(config["outDim"], int(config.get("localCount", 0)) + 2, 0.04, 0.04, 0, 10)
        except Exception as e:                                         # main_dino.py needs torchvision
            print(f"  note: main_dino.DINOLoss not importable ({type(e).__name__}: {e}); a stand-in holds the centre")
        finally:
            sys.path.pop(0)
    if dino_loss is None:
        dino_loss = nn.Module()
        dino_loss.register_buffer("center", torch.zeros(1, config["outDim"]))
    run_variables = {"epoch": 0}
    if official:
        os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"           # our own file; args is an argparse.Namespace
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            official[1].restart_from_checkpoint(ckpt, run_variables=run_variables, student=student, teacher=teacher,
                                                optimizer=optimizer, fp16_scaler=None, dino_loss=dino_loss)
        del os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"]
        text = printed.getvalue().strip()
        for line in text.splitlines():
            print("    | " + line)
        loaded = [line for line in text.splitlines() if line.startswith("=> loaded")]
        report.check(len(loaded) == 4 and all("with msg" not in l or "All keys matched successfully" in l for l in loaded),
                     "utils.restart_from_checkpoint loaded student, teacher, optimizer, dino_loss with no missing or "
                     "unexpected key")
    else:
        checkpoint = cc.torch_load(torch, ckpt)
        for name, module in (("student", student), ("teacher", teacher), ("optimizer", optimizer), ("dino_loss", dino_loss)):
            module.load_state_dict(checkpoint[name])
        run_variables["epoch"] = checkpoint["epoch"]
        report.check(True, "student, teacher, optimizer, dino_loss load_state_dict from checkpoint.pth (rebuilt tree)")
    report.check(run_variables["epoch"] == state["epoch"] + 1,
                 f"epoch {run_variables['epoch']} = the run's last finished epoch {state['epoch']} + 1")
    same = all(np.array_equal(v.numpy(), files["student"][k[len("module."):]]) for k, v in student.state_dict().items()) and \
        all(np.array_equal(v.numpy(), files["teacher"][k[len("module."):] if bn else k]) for k, v in teacher.state_dict().items())
    report.check(same, f"student and teacher weights are the run's ({'module.' if bn else 'no'} prefix on the teacher)")
    opt = files["optimizer"]
    order = [n for n in files["student"] if "m." + n in opt]
    steps = dict(zip(order, opt["adam_steps"].reshape(-1).tolist()))
    ok, count = True, 0
    for name, p in student.named_parameters():
        name = name[len("module."):]
        if not p.requires_grad:
            continue
        st = optimizer.state.get(p)
        if steps[name] == 0:
            ok &= not st
            continue
        count += 1
        ok &= bool(st) and float(st["step"]) == steps[name] and np.array_equal(st["exp_avg"].numpy(), opt["m." + name]) \
            and np.array_equal(st["exp_avg_sq"].numpy(), opt["v." + name])
    report.check(ok, f"AdamW state of {count} parameters: step counts and moments are the run's")
    report.check(np.array_equal(dino_loss.center.numpy(), opt["dino_loss.center"]), "dino_loss.center is the run's")


if __name__ == "__main__":
    sys.exit(main())
