#!/usr/bin/env python3
"""Move DINO weights between the official PyTorch checkpoints and this project's safetensors files.

The Swift library reads and writes safetensors with the official state-dict names
(`backbone.cls_token`, `backbone.blocks.0.attn.qkv.weight`, ..., `head.last_layer.weight_v`), so a
file converted here loads with `DINONetwork.load(from:)` / `ViT.load(_:)`, and a file written by
the library converts back into a checkpoint that `main_dino.py` / `vision_transformer.py` load.

Commands
  to-safetensors IN.pth OUT.safetensors [--key teacher|student]
      An official checkpoint (`checkpoint.pth`, `dino_deitsmall16_pretrain_full_checkpoint.pth`:
      a dict with `teacher` and `student`; the DDP `module.` prefix is stripped) or a plain state
      dict (`dino_vits16_pretrain.pth`: backbone only, bare names, kept as they are).
  to-pth IN.safetensors OUT.pth [--key teacher|student] [--module-prefix] [--into CKPT.pth]
      Writes {KEY: state_dict}; with --into, replaces KEY inside a copy of an existing official
      checkpoint (optimizer, epoch, args, dino_loss are kept) so a run continues in PyTorch.
      --module-prefix adds `module.` (the DDP student of main_dino.py expects it).
  inspect FILE
      Lists names, shapes and dtypes of a .safetensors (or, with torch, a .pth) file.
  check FILE --heads H [--golden CASE.json]
      Builds the module tree of the official `vision_transformer.py` (VisionTransformer +
      DINOHead inside a MultiCropWrapper; shapes inferred from FILE, the head count given) and
      loads FILE into it with strict=True, so every name and shape must match the official code.
      With --golden (a `vit_forward` case of Tests/golden) it also runs the images through and
      compares with the expected CLS features, CLS attention and head outputs.

Requirements: numpy. `torch` only for the .pth side and `check` (to-safetensors, to-pth, check, inspecting .pth);
`safetensors` is NOT needed: the format is written and read here directly, so the files can be
checked without torch too (`inspect`, or `python -c "import safetensors.numpy as s; s.load_file(...)"`).
"""
import argparse
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np


def read_safetensors(path):
    """Returns ({name: float32 array}, metadata) in file order; errors name the tensor or offset."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        sys.exit(f"{path}: at byte offset 0: the file has {len(data)} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        sys.exit(f"{path}: at byte offset {len(data)}: the {n}-byte header runs past the end of the file")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        sys.exit(f"{path}: at byte offset 8: the header is not valid JSON")
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if entry["dtype"] != "F32":
            sys.exit(f"{path}: tensor '{name}': dtype {entry['dtype']}; only F32 is supported")
        begin, end = entry["data_offsets"]
        count = int(np.prod(entry["shape"], dtype=np.int64))
        if end - begin != 4 * count:
            sys.exit(f"{path}: tensor '{name}': data_offsets [{begin}, {end}] do not fit shape {entry['shape']}")
        if 8 + n + end > len(data):
            sys.exit(f"{path}: tensor '{name}': at byte offset {8 + n + end}: data runs past the end of the file")
        tensors[name] = np.frombuffer(data, dtype="<f4", count=count, offset=8 + n + begin).reshape(entry["shape"]).copy()
    return tensors, metadata


def write_safetensors(tensors, path, metadata=None):
    """Writes {name: array} as float32 safetensors, atomically (temporary file + rename)."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, array in tensors.items():
        a = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".convert-")
    with os.fdopen(fd, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(temporary, path)


def need_torch():
    try:
        import torch  # noqa: F401
        return torch
    except ImportError:
        sys.exit("this command needs PyTorch for the .pth side: pip install torch")


def state_dict_of(checkpoint, key):
    """The teacher/student dict of an official checkpoint, or a plain state dict, without `module.`."""
    if isinstance(checkpoint, dict) and key in checkpoint and isinstance(checkpoint[key], dict):
        sd = checkpoint[key]
    elif isinstance(checkpoint, dict) and all(hasattr(v, "shape") for v in checkpoint.values()):
        sd = checkpoint
    else:
        keys = list(checkpoint.keys()) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        sys.exit(f"no '{key}' state dict in this checkpoint (top-level keys: {keys})")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


def to_safetensors(args):
    torch = need_torch()
    checkpoint = torch.load(args.input, map_location="cpu", weights_only=False)
    sd = state_dict_of(checkpoint, args.key)
    tensors = {}
    for name, value in sd.items():
        if not value.is_floating_point():
            print(f"skipping {name}: dtype {value.dtype} is not a parameter")
            continue
        tensors[name] = value.detach().to(torch.float32).cpu().numpy()
    write_safetensors(tensors, args.output, {"source": os.path.basename(args.input), "key": args.key})
    print(f"wrote {args.output}: {len(tensors)} tensors, {sum(a.size for a in tensors.values())} values")


def to_pth(args):
    torch = need_torch()
    tensors, _ = read_safetensors(args.input)
    prefix = "module." if args.module_prefix else ""
    sd = {prefix + name: torch.from_numpy(a) for name, a in tensors.items()}
    if args.into:
        checkpoint = torch.load(args.into, map_location="cpu", weights_only=False)
        if args.key not in checkpoint:
            sys.exit(f"{args.into}: no '{args.key}' entry to replace")
        old = checkpoint[args.key]
        missing = sorted(set(old) - set(sd))
        unexpected = sorted(set(sd) - set(old))
        if missing or unexpected:
            sys.exit(f"{args.into}: names differ: missing {missing[:3]}, unexpected {unexpected[:3]}"
                     + (" (try --module-prefix)" if any(k.startswith("module.") for k in old) else ""))
        for k in old:
            if tuple(old[k].shape) != tuple(sd[k].shape):
                sys.exit(f"tensor '{k}': shape {tuple(sd[k].shape)} here, {tuple(old[k].shape)} in {args.into}")
        checkpoint[args.key] = sd
    else:
        checkpoint = {args.key: sd}
    torch.save(checkpoint, args.output)
    print(f"wrote {args.output}: '{args.key}' with {len(sd)} tensors")


def inspect(args):
    if args.file.endswith(".safetensors"):
        tensors, metadata = read_safetensors(args.file)
        items = [(k, tuple(v.shape), "float32") for k, v in tensors.items()]
        if metadata:
            print(f"metadata: {metadata}")
    else:
        torch = need_torch()
        sd = state_dict_of(torch.load(args.file, map_location="cpu", weights_only=False), args.key)
        items = [(k, tuple(v.shape), str(v.dtype)) for k, v in sd.items()]
    for name, shape, dtype in items:
        print(f"{name:48s} {str(list(shape)):20s} {dtype}")
    print(f"{len(items)} tensors")


def official_modules(torch, sd, heads):
    """The module tree of the official vision_transformer.py / utils.MultiCropWrapper, rebuilt here
    (same attribute names, so the same state-dict names), with shapes inferred from `sd`."""
    nn, F = torch.nn, torch.nn.functional
    dim, in_chans, patch, _ = sd["backbone.patch_embed.proj.weight"].shape
    grid = int(round(math.sqrt(sd["backbone.pos_embed"].shape[1] - 1)))
    depth = len({k.split(".")[2] for k in sd if k.startswith("backbone.blocks.")})
    hidden = sd["backbone.blocks.0.mlp.fc1.weight"].shape[0]

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_heads, self.scale = heads, (dim // heads) ** -0.5
            self.qkv, self.proj = nn.Linear(dim, 3 * dim, bias=True), nn.Linear(dim, dim)

        def forward(self, x):
            b, n, c = x.shape
            q, k, v = self.qkv(x).reshape(b, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
            attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
            return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c)), attn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention()
            self.norm2, self.mlp = nn.LayerNorm(dim, eps=1e-6), Mlp()

        def forward(self, x):
            y, attn = self.attn(self.norm1(x))
            x = x + y
            return x + self.mlp(self.norm2(x)), attn

    class PatchEmbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_size = patch
            self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

        def forward(self, x):
            return self.proj(x).flatten(2).transpose(1, 2)

    class VisionTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = PatchEmbed()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, 1 + grid * grid, dim))
            self.blocks = nn.ModuleList([Block() for _ in range(depth)])
            self.norm = nn.LayerNorm(dim, eps=1e-6)

        def interpolate_pos_encoding(self, npatch, w, h):
            if npatch == grid * grid and w == h:
                return self.pos_embed
            d = self.pos_embed.shape[-1]
            rows, cols = w // patch + 0.1, h // patch + 0.1       # the official +0.1 (DINO issue #8)
            table = self.pos_embed[:, 1:].reshape(1, grid, grid, d).permute(0, 3, 1, 2)
            table = F.interpolate(table, scale_factor=(rows / grid, cols / grid), mode="bicubic")
            return torch.cat((self.pos_embed[:, :1], table.permute(0, 2, 3, 1).reshape(1, -1, d)), dim=1)

        def forward(self, x):
            w, h = x.shape[2], x.shape[3]
            x = self.patch_embed(x)
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
            x = x + self.interpolate_pos_encoding(x.shape[1] - 1, w, h)
            for block in self.blocks:
                x, attn = block(x)
            return self.norm(x)[:, 0], attn

    class DINOHead(nn.Module):
        def __init__(self):
            super().__init__()
            layers = sorted({int(k.split(".")[2]) for k in sd if k.startswith("head.mlp.")})
            mods = []
            for i in range(0, layers[-1] + 1):
                if i in layers:
                    w = sd[f"head.mlp.{i}.weight"]
                    mods.append(nn.Linear(w.shape[1], w.shape[0]))
                else:
                    mods.append(nn.GELU())
            self.mlp = nn.Sequential(*mods)
            v = sd["head.last_layer.weight_v"]
            self.last_layer = nn.utils.weight_norm(nn.Linear(v.shape[1], v.shape[0], bias=False))
            self.last_layer.weight_g.data.fill_(1)

        def forward(self, x):
            return self.last_layer(F.normalize(self.mlp(x), dim=-1, p=2))

    class MultiCropWrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = VisionTransformer(), DINOHead()

    return MultiCropWrapper()


def check(args):
    torch = need_torch()
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)           # nn.utils.weight_norm
    if args.file.endswith(".safetensors"):
        arrays, _ = read_safetensors(args.file)
        sd = {k: torch.from_numpy(v) for k, v in arrays.items()}
    else:
        sd = state_dict_of(torch.load(args.file, map_location="cpu", weights_only=False), args.key)
    model = official_modules(torch, sd, args.heads)
    model.load_state_dict(sd, strict=True)
    names = list(model.state_dict().keys())
    print(f"{args.file}: {len(sd)} tensors loaded into the official module tree with strict=True")
    print(f"  state-dict order matches the file: {names == list(sd.keys())}")
    if not args.golden:
        return
    with open(args.golden) as f:
        case = json.load(f)
    worst = 0.0
    with torch.no_grad():
        for resolution in ("global", "local"):
            t = case["inputs"]["images_" + resolution]
            images = torch.tensor(t["data"], dtype=torch.float32).reshape(t["shape"])
            cls, attn = model.backbone(images)
            outputs = {"cls_" + resolution: cls, "attn_cls_" + resolution: attn[:, :, 0, :],
                       "head_" + resolution: model.head(cls)}
            for name, value in outputs.items():
                e = case["expected"][name]
                diff = (value - torch.tensor(e["data"]).reshape(e["shape"])).abs().max().item()
                worst = max(worst, diff)
                print(f"  {name:18s} max |PyTorch - expected| = {diff:.3e}")
    tol = case["tolerance"]["abs"]
    print(f"  {'PASS' if worst <= tol else 'FAIL'} (abs tolerance {tol})")
    if worst > tol:
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("to-safetensors")
    a.add_argument("input"); a.add_argument("output"); a.add_argument("--key", default="teacher", choices=["teacher", "student"])
    b = sub.add_parser("to-pth")
    b.add_argument("input"); b.add_argument("output"); b.add_argument("--key", default="teacher", choices=["teacher", "student"])
    b.add_argument("--module-prefix", action="store_true"); b.add_argument("--into")
    c = sub.add_parser("inspect")
    c.add_argument("file"); c.add_argument("--key", default="teacher", choices=["teacher", "student"])
    d = sub.add_parser("check")
    d.add_argument("file"); d.add_argument("--heads", type=int, required=True)
    d.add_argument("--key", default="teacher", choices=["teacher", "student"]); d.add_argument("--golden")
    args = p.parse_args()
    {"to-safetensors": to_safetensors, "to-pth": to_pth, "inspect": inspect, "check": check}[args.command](args)


if __name__ == "__main__":
    main()
