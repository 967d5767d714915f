#!/usr/bin/env python3
"""Writes Tests/fixtures/official/: test vectors computed by the official DINO modules themselves.

    python3 scripts/make_official_fixtures.py --dino-repo DIR [--out DIR] [--vit-dim 96]

DIR is a copy of the facebookresearch/dino repository (its vision_transformer.py and utils.py are
imported, nothing of it is copied here). Needs torch and numpy; runs on one CPU thread with fixed seeds,
so the files come out the same on every run of the same PyTorch.

  bn_head.safetensors, bn_head.json
      vision_transformer.DINOHead(in_dim=64, out_dim=32, use_bn=True, norm_last_layer=True, nlayers=3,
      hidden_dim=48, bottleneck_dim=16) in train mode. The safetensors file holds its initial state dict under
      the names a MultiCropWrapper gives it (`head.mlp.0.weight`, ..., `head.mlp.1.running_mean`,
      `head.mlp.1.running_var`, `head.mlp.1.num_batches_tracked` as I64 shape [], ...). The JSON holds the
      input x [12, 64], one train-mode forward's output, loss = sum(output * R) with R given, the gradient of
      every trained head parameter (`grad:<name>`) and of x, the running statistics and counters after that
      forward (`after_forward_1:<name>`), then a second input x2, its output and the statistics after the
      second forward (`after_forward_2:<name>`).
  vit_tiny_p16_random.safetensors, vit_tiny_p16_random.json
      vision_transformer.VisionTransformer(img_size=[224], patch_size=16, depth=2, num_heads=3) with vit_tiny's
      other settings (mlp_ratio 4, qkv_bias, LayerNorm eps 1e-6) but embed_dim 96 instead of 192: at 192 two
      blocks alone are 4 MB of float32, over the 2 MB these fixtures may take (--vit-dim 192 writes the real
      width for local use). Seeded random weights, perturbed away from the official init (larger attention and
      MLP weights, non-zero biases, LayerNorm weights away from 1, a larger pos_embed) so that attention is far
      from uniform and every tensor matters. Backbone only, bare names: the layout of the released
      dino_deitsmall16_pretrain.pth. The JSON is a `vit_forward`-style case (so `convert_checkpoint.py check
      FILE --golden JSON` runs it): one image batch [1, 3, 64, 80] as `images_global`, the CLS feature of
      forward() as `cls_global` and get_last_selfattention()'s CLS row [1, 3, 1 + 4*5] as `attn_cls_global`;
      64 x 80 px is a 4 x 5 patch grid, so the 14 x 14 pos_embed is interpolated to a non-square grid (the
      result is given too, as `pos_embed_interpolated`).

JSON tensors use the format of Tests/golden: {"shape": [...], "data": [...]} row-major, float32 values
printed with %.9g, integers as whole numbers. Each case records the largest difference between the float32
result and the same computation in float64, against its tolerance.
"""
import argparse
import json
import os
import sys
from functools import partial

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import convert_checkpoint as cc  # noqa: E402  (safetensors writer, official-module import)

SEED = 20210429                      # the date of the DINO paper on arXiv


def tensor_json(t):
    a = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
    if a.dtype.kind in "iub":
        data = ",".join(str(int(v)) for v in a.reshape(-1))
    else:
        data = ",".join("%.9g" % float(np.float32(v)) for v in a.reshape(-1))
    return '{"shape":%s,"data":[%s]}' % (json.dumps(list(a.shape)), data)


def write_case(path, head, tensors):
    """A golden-format JSON: `head` (plain JSON values) with `inputs` and `expected` tensor dicts."""
    parts = []
    for key, value in head.items():
        if key in tensors:
            inner = ",\n".join(f"    {json.dumps(n)}: {tensor_json(t)}" for n, t in tensors[key].items())
            parts.append(f'  {json.dumps(key)}: {{\n{inner}\n  }}')
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    json.loads(text)                                             # well-formed
    with open(path, "w") as f:
        f.write(text)


def error_over_tolerance(values, reference, tol_abs, tol_rel, overrides):
    """The largest |float32 - float64| / (abs + rel * |float64|) over all outputs, each with its tolerance."""
    worst = 0.0
    for k, v in values.items():
        o = next((o for o in overrides if o["output"] == k), {"abs": tol_abs, "rel": tol_rel})
        ref = reference[k].double()
        worst = max(worst, ((v.double() - ref).abs() / (o["abs"] + o["rel"] * ref.abs())).max().item())
    return worst


def bn_head_case(torch, vits, out):
    def make():
        torch.manual_seed(SEED)
        return vits.DINOHead(64, 32, use_bn=True, norm_last_layer=True, nlayers=3, hidden_dim=48,
                             bottleneck_dim=16).train()

    head = make()
    initial = {"head." + k: v.detach().clone() for k, v in head.state_dict().items()}
    g = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(12, 64, generator=g)
    r = torch.randn(12, 32, generator=g)
    x2 = torch.randn(12, 64, generator=g)
    buffers = [n for n in initial if n.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    trained = [n for n, p in head.named_parameters() if p.requires_grad]

    def run(module, dtype):
        module = module.to(dtype)
        xi = x.detach().clone().to(dtype).requires_grad_(True)
        y = module(xi)
        loss = (y * r.to(dtype)).sum()
        loss.backward()
        state1 = {n: module.state_dict()[n[len("head."):]].clone() for n in buffers}
        with torch.no_grad():
            y2 = module(x2.to(dtype))
        state2 = {n: module.state_dict()[n[len("head."):]].clone() for n in buffers}
        grads = {n: dict(module.named_parameters())[n].grad.clone() for n in trained}
        return y, loss, xi.grad, grads, state1, y2, state2

    reference = make()                                           # the same seed: the same initial weights
    y, loss, gx, grads, s1, y2, s2 = run(head, torch.float32)
    y64, loss64, gx64, grads64, s1_64, y2_64, s2_64 = run(reference, torch.float64)
    expected = {"output": y, "loss": loss, "grad_x": gx}
    expected.update({f"grad:head.{n}": v for n, v in grads.items()})
    expected.update({f"after_forward_1:{n}": v for n, v in s1.items()})
    expected["output_2"] = y2
    expected.update({f"after_forward_2:{n}": v for n, v in s2.items()})
    ref = {"output": y64, "loss": loss64, "grad_x": gx64, "output_2": y2_64}
    ref.update({f"grad:head.{n}": v for n, v in grads64.items()})
    ref.update({f"after_forward_1:{n}": v for n, v in s1_64.items()})
    ref.update({f"after_forward_2:{n}": v for n, v in s2_64.items()})
    tol_abs, tol_rel = 1e-5, 1e-4
    overrides = []
    for i in (0, 3):                                             # the Linear layers in front of a BatchNorm
        overrides.append({"output": f"grad:head.mlp.{i}.weight", "abs": 1.5e-4, "rel": tol_rel,
                          "reason": "the official init gives pre-BatchNorm activations of std ~0.1, so BatchNorm's "
                                    "1/std amplifies these gradients (up to ~40) and their float32 round-off"})
        overrides.append({"output": f"grad:head.mlp.{i}.bias", "abs": 5e-5, "rel": 0.0,
                          "reason": "analytically zero (BatchNorm removes any per-feature constant): round-off only"})
    ratio = error_over_tolerance(expected, ref, tol_abs, tol_rel, overrides)
    arrays = {k: (v.numpy() if v.is_floating_point() else v.to(torch.int64).numpy()) for k, v in initial.items()}
    cc.write_safetensors(arrays, os.path.join(out, "bn_head.safetensors"),
                         {"format": "dino-official-fixture/1", "source": "vision_transformer.DINOHead, initial state"})
    write_case(os.path.join(out, "bn_head.json"), {
        "format": "dino-golden/1",
        "op": "dino_head_bn_train",
        "description": (
            "The official vision_transformer.DINOHead(in_dim=64, out_dim=32, use_bn=True, norm_last_layer=True, "
            "nlayers=3, hidden_dim=48, bottleneck_dim=16) in train mode: mlp = Linear(64,48), BatchNorm1d(48), "
            "GELU, Linear(48,48), BatchNorm1d(48), GELU, Linear(48,16); L2 normalisation; weight-normalised "
            "Linear(16,32) without bias. Weights: the official init (seed given), in the weights file with the "
            "MultiCropWrapper names (head.*), running_mean 0, running_var 1, num_batches_tracked 0. BatchNorm in "
            "train mode normalises with the batch mean and the biased batch variance (eps 1e-5) and updates "
            "running_mean = 0.9*running_mean + 0.1*batch_mean, running_var = 0.9*running_var + 0.1*unbiased "
            "batch variance (divide by B-1), num_batches_tracked += 1. One forward of x, loss = sum(output * R), "
            "backward: grad:<name> for every trained parameter (weight_g is frozen: none), grad_x; "
            "after_forward_1:<buffer> the buffers after that forward (the gradients of mlp.0.bias and mlp.3.bias "
            "are analytically zero, BatchNorm removing any per-feature constant: round-off values). Then a forward of x2 (no backward, weights "
            "unchanged): output_2 and after_forward_2:<buffer>."),
        "config": {"in_dim": 64, "out_dim": 32, "use_bn": True, "norm_last_layer": True, "nlayers": 3,
                   "hidden_dim": 48, "bottleneck_dim": 16, "bn_eps": 1e-5, "bn_momentum": 0.1, "seed": SEED},
        "weights": "bn_head.safetensors",
        "inputs": {},
        "expected": {},
        "tolerance": {"abs": tol_abs, "rel": tol_rel, "overrides": overrides},
        "float64_error_over_tolerance": round(ratio, 4),
    }, {"inputs": {"x": x, "R": r, "x2": x2}, "expected": expected})
    return len(arrays), len(expected), ratio


def vit_case(torch, vits, out, dim):
    nn = torch.nn
    torch.manual_seed(SEED + 2)
    vit = vits.VisionTransformer(img_size=[224], patch_size=16, in_chans=3, embed_dim=dim, depth=2, num_heads=3,
                                 mlp_ratio=4, qkv_bias=True, norm_layer=partial(nn.LayerNorm, eps=1e-6))
    g = torch.Generator().manual_seed(SEED + 3)
    with torch.no_grad():                                        # away from the init: every tensor matters
        for name, p in vit.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("qkv.weight"):
                p.mul_(8.0)
            elif name.endswith(("proj.weight", "fc1.weight", "fc2.weight")) and "patch_embed" not in name:
                p.mul_(4.0)
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * noise)
            elif name.endswith("bias"):
                p.copy_(0.05 * noise)
            elif name == "pos_embed":
                p.mul_(25.0)
            elif name == "cls_token":
                p.mul_(10.0)
    vit.eval()
    images = torch.randn(1, 3, 64, 80, generator=g)

    def outputs(model, dtype):
        model = model.to(dtype)
        with torch.no_grad():
            x = images.to(dtype)
            cls = model(x)
            attn = model.get_last_selfattention(x)[:, :, 0, :]
            pos = model.interpolate_pos_encoding(torch.zeros(1, 1 + 4 * 5, dim, dtype=dtype), 64, 80)
        return cls, attn, pos

    reference = vits.VisionTransformer(img_size=[224], patch_size=16, in_chans=3, embed_dim=dim, depth=2, num_heads=3,
                                       mlp_ratio=4, qkv_bias=True, norm_layer=partial(nn.LayerNorm, eps=1e-6))
    reference.load_state_dict(vit.state_dict())
    reference.eval()
    cls, attn, pos = outputs(vit, torch.float32)
    cls64, attn64, pos64 = outputs(reference, torch.float64)
    tol_abs, tol_rel = 1e-5, 1e-4
    ratio = error_over_tolerance({"cls": cls, "attn": attn, "pos": pos}, {"cls": cls64, "attn": attn64, "pos": pos64},
                                 tol_abs, tol_rel, [])
    sd = {k: v.numpy() for k, v in vit.state_dict().items()}
    name = "vit_tiny_p16_random" if dim == 96 else f"vit_d{dim}_p16_random"
    cc.write_safetensors(sd, os.path.join(out, name + ".safetensors"),
                         {"format": "dino-official-fixture/1", "source": "vision_transformer.VisionTransformer, seeded"})
    write_case(os.path.join(out, name + ".json"), {
        "format": "dino-golden/1",
        "op": "vit_forward",
        "description": (
            f"The official vision_transformer.VisionTransformer(img_size=[224], patch_size=16, embed_dim={dim}, "
            "depth=2, num_heads=3, mlp_ratio=4, qkv_bias=True, LayerNorm eps 1e-6): vit_tiny's settings with "
            f"embed_dim {dim} and 2 blocks. Seeded weights from the official init, then perturbed (qkv x8, "
            "attention proj and MLP weights x4, biases N(0, 0.05^2), LayerNorm weights 1 + N(0, 0.2^2), pos_embed "
            "x25, cls_token x10) so attention is far from uniform. Backbone only, bare names as in the released "
            "dino_deitsmall16_pretrain.pth. One image [1, 3, 64, 80] (height 64, width 80: a 4 x 5 patch grid); "
            "pos_embed (14 x 14 grid) is interpolated bicubically to 4 x 5 with the official +0.1 scale offset. "
            "cls_global = forward(images) (final LayerNorm, CLS token); attn_cls_global = "
            "get_last_selfattention(images)[:, :, 0, :] (last block, CLS query, all 21 keys, per head); "
            "pos_embed_interpolated = interpolate_pos_encoding for 64 x 80 (CLS row first). Eval mode, no dropout."),
        "config": {"img_size": 224, "patch_size": 16, "in_chans": 3, "embed_dim": dim, "depth": 2, "num_heads": 3,
                   "mlp_ratio": 4.0, "qkv_bias": True, "qk_scale": None, "layernorm_eps": 1e-6,
                   "input_height": 64, "input_width": 80, "seed": SEED + 2},
        "weights": name + ".safetensors",
        "inputs": {},
        "expected": {},
        "tolerance": {"abs": tol_abs, "rel": tol_rel},
        "float64_error_over_tolerance": round(ratio, 4),
    }, {"inputs": {"images_global": images},
        "expected": {"cls_global": cls, "attn_cls_global": attn, "pos_embed_interpolated": pos}})
    return name, len(sd), ratio, attn


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--dino-repo", required=True, help="a copy of the facebookresearch/dino repository")
    p.add_argument("--out", default=os.path.join(HERE, "..", "Tests", "fixtures", "official"))
    p.add_argument("--vit-dim", type=int, default=96, help="embed_dim of the ViT case (96 fits the 2 MB budget)")
    args = p.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("this script needs PyTorch: pip install torch")
    torch.set_num_threads(1)
    import warnings
    warnings.filterwarnings("ignore", message=".*weight_norm.*")
    try:
        vits, _ = cc.import_official(args.dino_repo)
    except cc.ConvertError as e:
        sys.exit(f"error: {e}")
    if args.vit_dim % 3:
        sys.exit(f"error: --vit-dim {args.vit_dim} is not divisible by the 3 heads")
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    n_state, n_expected, r1 = bn_head_case(torch, vits, out)
    name, n_vit, r2, attn = vit_case(torch, vits, out, args.vit_dim)
    print(f"wrote {out} (official modules from {args.dino_repo}, PyTorch {torch.__version__}):")
    total = 0
    for f, what in (("bn_head.safetensors", f"{n_state} tensors: the head's initial state dict, I64 counters"),
                    ("bn_head.json", f"x, R, x2 and {n_expected} expected tensors; float32 vs float64: "
                                     f"{r1:.3f} of the tolerance"),
                    (name + ".safetensors", f"{n_vit} tensors, backbone only, bare names"),
                    (name + ".json", f"images [1, 3, 64, 80], CLS feature, CLS attention {list(attn.shape)}, "
                                     f"interpolated pos_embed; float32 vs float64: {r2:.3f} of the tolerance")):
        size = os.path.getsize(os.path.join(out, f))
        total += size
        print(f"  {f:34s} {size:9d} bytes  {what}")
    print(f"  total {total} bytes ({total / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
