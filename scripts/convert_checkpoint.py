#!/usr/bin/env python3
"""Move DINO weights between the official PyTorch checkpoints and this project's safetensors files.

The Swift library reads and writes safetensors with the official state-dict names
(`backbone.cls_token`, `backbone.blocks.0.attn.qkv.weight`, ..., `head.last_layer.weight_v`), so a
file converted here loads with `DINONetwork.load(from:)` / `ViT.load(_:)`, and a file written by
the library converts back into a checkpoint that `main_dino.py` / `vision_transformer.py` load.

File layouts understood by every command
  backbone + head   `backbone.*` and `head.*`, the state dict of the official MultiCropWrapper (a run's
                    teacher.safetensors / student.safetensors, the `teacher` / `student` entries of an
                    official checkpoint.pth, whose DDP `module.` prefix is stripped on reading).
  backbone only     bare ViT names (`cls_token`, `pos_embed`, `patch_embed.proj.weight`, `blocks.0...`,
                    `norm.*`): the plain state dict of the released `dino_deitsmall16_pretrain.pth` and its
                    siblings. Such a file stays bare in every command; `check` builds only the ViT.
  head only         `head.*` alone (Tests/fixtures/official/bn_head.safetensors): `check` builds only the
                    DINOHead.
  The head may be any official DINOHead: 1 to n layers, with BatchNorm (`use_bn_in_head`: the BN layers sit
  at head.mlp.1, head.mlp.4, ... and hold weight, bias, running_mean, running_var and num_batches_tracked)
  or without, and with or without `norm_last_layer` (the names are the same; with it head.last_layer.weight_g
  is frozen at 1, without it weight_g is trained, which is how `check` tells them apart unless told).

Data types. Every tensor is float32 (`F32`) except BatchNorm's `num_batches_tracked`, an int64 counter in
PyTorch: it is `I64` with shape [] in safetensors and a 0-dim torch.int64 tensor in a .pth, both ways.
Other float types in a .pth (float16, bfloat16, float64) are written as F32; other safetensors types are
refused with the tensor's name.

Commands
  to-safetensors IN.pth OUT.safetensors [--key teacher|student]
      An official checkpoint (checkpoint.pth, dino_deitsmall16_pretrain_full_checkpoint.pth: a dict with
      `teacher` and `student`; `module.` is stripped) or a plain state dict (dino_deitsmall16_pretrain.pth:
      backbone only, bare names, kept as they are).
  to-pth IN.safetensors OUT.pth [--key teacher|student] [--module-prefix] [--into CKPT.pth]
      Writes {KEY: state_dict} (KEY default teacher); a backbone-only file without --key is written as a
      plain state dict, the layout of the released backbone files. With --into, replaces KEY inside a copy
      of an existing official checkpoint (optimizer, epoch, args, dino_loss are kept) so a run continues in
      PyTorch; the `module.` prefix then follows the entry being replaced. --module-prefix adds `module.`.
  to-checkpoint RUN_FOLDER OUT.pth [--args-dict]
      A whole official checkpoint.pth, as main_dino.py saves it at the end of an epoch, from the latest
      checkpoint of a `dino train` run folder (RUN/checkpoint, or the checkpoint folder itself). Put it in
      main_dino.py's --output_dir and main_dino.py resumes from it (utils.restart_from_checkpoint). Entries:
        student    the student state dict with the `module.` prefix that DDP adds.
        teacher    the teacher state dict. main_dino.py wraps the teacher in DDP only when the network has
                   batch norms (utils.has_batchnorms: it converts them to SyncBatchNorm, which needs DDP), and
                   it saves teacher.state_dict() of the wrapped module: so a head with BatchNorm gives
                   `module.backbone...` teacher names and a head without gives bare `backbone...` names.
                   This command does the same. (restart_from_checkpoint loads with strict=False: a wrong
                   prefix would load nothing and say so only in its message.)
        optimizer  a torch.optim.AdamW state_dict: `param_groups` as utils.get_params_groups makes them
                   (group 0: the regularised parameters; group 1: biases and 1-D parameters, weight_decay 0;
                   in the order of the student's named_parameters, frozen ones left out: weight_g with
                   norm_last_layer), and `state` {index: {step, exp_avg, exp_avg_sq}} from the run's m.<name>,
                   v.<name> and adam_steps (a parameter with 0 steps has no state, as in PyTorch).
                   lr and weight_decay are the values of the run's last iteration (state.json's log; the
                   config's base values if it has none). main_dino.py overwrites both at its first iteration
                   from its own schedules.
        epoch      the next epoch to run (state.json's epoch is the last finished one: + 1).
        args       an argparse.Namespace with main_dino.py's argument names, filled from state.json's config
                   where they map (ARGS_FROM_CONFIG below), main_dino.py's defaults elsewhere; informational,
                   main_dino.py takes its settings from its command line. With --args-dict a plain dict.
        dino_loss  {'center': [1, out_dim]}, the DINOLoss state dict.
      No fp16_scaler entry: the run is float32; restart_from_checkpoint reports the key as not found.
      What cannot be carried: the data order and random-number states; the image sizes (main_dino.py fixes
      224-px global and 96-px local crops, 3 channels, and builds pos_embed for 224 px), any network that is
      not vit_tiny/vit_small/vit_base (the printed main_dino.py command says when it is not); fractional
      epochs, warm-up and last-layer-freeze lengths (main_dino.py takes whole epochs: rounded up); the
      iteration count per epoch (main_dino.py's schedules follow its own data loader); the student
      temperature, centre momentum and blur that main_dino.py hard-codes, the ablation switches (no centring,
      no momentum teacher) and the supervised baseline. The command prints each one that applies.
      PyTorch 2.6 and later load with weights_only=True by default, which refuses the argparse.Namespace that
      main_dino.py itself stores in `args`: launch main_dino.py with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1, or
      write the file with --args-dict.
  inspect FILE [--key teacher|student]
      Lists names, shapes and dtypes of a .safetensors (or, with torch, a .pth) file, the other entries of an
      official checkpoint, and the network the names describe.
  check FILE [--heads H] [--key teacher|student] [--golden CASE.json] [--dino-repo DIR]
             [--norm-last-layer auto|true|false] [--bn-stats batch|running]
      Builds the official module tree (VisionTransformer, and for a backbone + head file the DINOHead inside a
      MultiCropWrapper; shapes inferred from FILE, the head count given or, for dim 192/384/768, the official
      one) and loads FILE into it with strict=True, so every name, shape and dtype must match the official
      code. By default the tree is this script's own rebuild of vision_transformer.py (same attribute names);
      --dino-repo DIR (a copy of the facebookresearch/dino repository) builds the real
      vision_transformer.VisionTransformer, vision_transformer.DINOHead and utils.MultiCropWrapper instead.
      With --golden (a `vit_forward` case of Tests/golden, or a file in its format) it also runs the images
      through and compares with the expected CLS features, CLS attention and head outputs (the head ones are
      skipped for a backbone-only file). A BatchNorm head runs with batch statistics (train mode, as in DINO
      training) unless --bn-stats running.

A .pth is read with torch.load(weights_only=True), argparse.Namespace allowed, so a checkpoint cannot run
code; --trust-pickle (to-safetensors, to-pth, inspect, check) loads a trusted file holding other objects.
Errors name the file and the tensor; bad input never ends in a traceback.

Requirements: numpy. torch only for the .pth side and `check` (to-safetensors, to-pth, to-checkpoint,
check, inspecting .pth). `safetensors` is NOT needed: the format is written and read here directly, so the
files can be checked without torch too (`inspect`, or `python -c "import safetensors.numpy as s;
s.load_file(...)"`).
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import tempfile

import numpy as np


class ConvertError(Exception):
    """Bad input: the message names the file and, where there is one, the tensor."""


def fail(message):
    raise ConvertError(message)


# ----------------------------------------------------------------------------------------------
# safetensors, read and written here (F32 tensors and I64 counters)

SAFETENSORS_DTYPES = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8")}


def read_safetensors_header(path):
    """Returns (entries [(name, dtype, shape, begin, end)] in data order, metadata, bytes, buffer start)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(f"{path}: cannot read the file ({e.strerror})")
    if len(data) < 8:
        fail(f"{path}: at byte offset 0: the file has {len(data)} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        fail(f"{path}: at byte offset {len(data)}: the {n}-byte header runs past the end of the file")
    try:
        header = json.loads(data[8:8 + n])
    except (ValueError, UnicodeDecodeError):
        fail(f"{path}: at byte offset 8: the header is not valid JSON")
    if not isinstance(header, dict):
        fail(f"{path}: at byte offset 8: the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        fail(f"{path}: __metadata__ is not a JSON object")
    entries = []
    for name, entry in header.items():
        ok = (isinstance(entry, dict) and isinstance(entry.get("dtype"), str)
              and isinstance(entry.get("shape"), list) and isinstance(entry.get("data_offsets"), list)
              and len(entry["data_offsets"]) == 2
              and all(isinstance(x, int) and not isinstance(x, bool) for x in entry["shape"] + entry["data_offsets"]))
        if not ok:
            fail(f"{path}: tensor '{name}': header entry lacks dtype, shape or data_offsets")
        if any(d < 0 for d in entry["shape"]):
            fail(f"{path}: tensor '{name}': negative dimension in shape {entry['shape']}")
        begin, end = entry["data_offsets"]
        entries.append((name, entry["dtype"], entry["shape"], begin, end))
    entries.sort(key=lambda e: (e[3], e[0]))
    return entries, metadata, data, 8 + n


def read_safetensors(path):
    """Returns ({name: array}, metadata) in file order: float32 arrays, int64 for I64 entries."""
    entries, metadata, data, start = read_safetensors_header(path)
    tensors = {}
    for name, dtype, shape, begin, end in entries:
        if dtype not in SAFETENSORS_DTYPES:
            fail(f"{path}: tensor '{name}': dtype {dtype}; only F32 tensors and I64 counters are supported")
        width = SAFETENSORS_DTYPES[dtype].itemsize
        count = int(np.prod(shape, dtype=np.int64))
        if begin < 0 or end - begin != width * count:
            fail(f"{path}: tensor '{name}': data_offsets [{begin}, {end}] do not fit {dtype} shape {shape}")
        if start + end > len(data):
            fail(f"{path}: tensor '{name}': at byte offset {start + end}: data runs past the end of the file")
        array = np.frombuffer(data, dtype=SAFETENSORS_DTYPES[dtype], count=count, offset=start + begin)
        tensors[name] = array.reshape(shape).astype(SAFETENSORS_DTYPES[dtype].newbyteorder("="))
    return tensors, metadata


def write_safetensors(tensors, path, metadata=None):
    """Writes {name: array} atomically (temporary file + rename): integer arrays as I64, the rest F32."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, array in tensors.items():
        array = np.asarray(array)
        kind = "I64" if array.dtype.kind in "iub" else "F32"
        a = np.array(array, dtype=SAFETENSORS_DTYPES[kind], order="C")   # (ascontiguousarray would make [] into [1])
        header[name] = {"dtype": kind, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    atomic_write(path, lambda f: [f.write(struct.pack("<Q", len(text))), f.write(text)] + [f.write(b) for b in blobs])


def atomic_write(path, write):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        fail(f"{path}: the folder {folder} does not exist")
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".convert-")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)                            # mkstemp's 0600 would be private
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# ----------------------------------------------------------------------------------------------
# the .pth side

def need_torch():
    try:
        import torch
    except ImportError:
        fail("this command needs PyTorch for the .pth side: pip install torch")
    torch.set_num_threads(1)
    import warnings
    warnings.filterwarnings("ignore", message=".*weight_norm.*")        # nn.utils.weight_norm, as the official code uses
    return torch


TRUST_PICKLE = False        # --trust-pickle: plain torch.load, which runs whatever code the file names


def torch_load(torch, path):
    """torch.load with weights_only (no arbitrary code) but accepting the argparse.Namespace of `args`."""
    if not os.path.isfile(path):
        fail(f"{path}: no such file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] not in (b"PK", b"\x80\x02"):
        fail(f"{path}: not a PyTorch checkpoint (neither torch.save's zip archive nor a legacy pickle)")
    try:
        if TRUST_PICKLE or not hasattr(torch.serialization, "safe_globals"):
            return torch.load(path, map_location="cpu", weights_only=False)
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:                                               # pickle, zip and format errors alike
        text = str(e).strip()
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if refused:
            fail(f"{path}: the file holds a {refused.group(1)} object, which a weights-only load refuses; "
                 f"if you trust the file, add --trust-pickle")
        fail(f"{path}: not a loadable PyTorch checkpoint ({text.splitlines()[0] if text else type(e).__name__})")


def is_state_dict(x):
    return isinstance(x, dict) and len(x) > 0 and all(hasattr(v, "shape") and hasattr(v, "dtype") for v in x.values())


def state_dict_of(checkpoint, key, path):
    """The teacher/student dict of an official checkpoint, or a plain state dict, without `module.`."""
    if isinstance(checkpoint, dict) and key in checkpoint and is_state_dict(checkpoint[key]):
        sd = checkpoint[key]
    elif is_state_dict(checkpoint):
        sd = checkpoint
    else:
        keys = list(checkpoint.keys()) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        fail(f"{path}: no '{key}' state dict in this checkpoint (top-level entries: {keys})")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


def to_numpy(torch, name, value, path):
    """A .pth tensor as the array written to safetensors: int64 for counters, float32 otherwise."""
    value = value.detach().cpu()
    if value.is_floating_point():
        return value.to(torch.float32).numpy()
    if value.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8) and name.endswith("num_batches_tracked"):
        return value.to(torch.int64).numpy()
    fail(f"{path}: tensor '{name}': dtype {value.dtype} is neither a float parameter nor a BatchNorm counter")


def to_torch(torch, name, array, path):
    """A safetensors array as the tensor PyTorch keeps: a 0-dim int64 for num_batches_tracked."""
    if name.endswith("num_batches_tracked"):
        if array.shape != ():
            fail(f"{path}: tensor '{name}': shape {list(array.shape)}, a BatchNorm counter has shape []")
        if array.dtype.kind != "i":
            fail(f"{path}: tensor '{name}': dtype {'F32' if array.dtype.kind == 'f' else array.dtype}; a BatchNorm "
                 f"counter is I64 (torch.int64)")
        return torch.tensor(int(array.item()), dtype=torch.int64)
    if array.dtype.kind != "f":
        fail(f"{path}: tensor '{name}': an integer ({array.dtype}) tensor that is not a BatchNorm counter")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def load_any(torch, path, key):
    """A state dict of torch tensors from a .safetensors or .pth file (`module.` stripped)."""
    if path.endswith(".safetensors"):
        arrays, _ = read_safetensors(path)
        return {k: to_torch(torch, k, v, path) for k, v in arrays.items()}
    return state_dict_of(torch_load(torch, path), key, path)


# ----------------------------------------------------------------------------------------------
# the network a state dict describes

class _Shape:
    """Stands in for a large tensor where only the shape is needed."""
    def __init__(self, shape):
        self.shape = tuple(shape)


OFFICIAL_VITS = {(192, 12, 3): "vit_tiny", (384, 12, 6): "vit_small", (768, 12, 12): "vit_base"}


def official_head_kinds(nlayers, use_bn):
    """The module kinds of the official DINOHead's mlp Sequential."""
    kinds = ["linear"] + (["bn"] if use_bn else []) + ["gelu"]
    for _ in range(nlayers - 2):
        kinds += ["linear"] + (["bn"] if use_bn else []) + ["gelu"]
    return kinds + ["linear"]


def infer_arch(sd, path):
    """Architecture from names and shapes: {layout, prefix, dim, in_chans, patch, grid, depth, mlp_hidden,
    qkv_bias, head}; head is None for a backbone-only file, else {in_dim, out_dim, nlayers, hidden_dim,
    bottleneck_dim, use_bn, bn_layers, weight_g_ones}. A head-only file (all names head.*) has layout "head"
    and no ViT fields."""
    names = list(sd)
    if names and all(n.startswith("head.") for n in names):
        return {"layout": "head", "prefix": "head.", "head": infer_head(sd, path)}
    if any(n.startswith("backbone.") for n in names):
        prefix = "backbone."
        layout = "wrapper" if any(n.startswith("head.") for n in names) else "backbone"
    elif any(n in ("cls_token", "pos_embed") or n.startswith(("patch_embed.", "blocks.")) for n in names):
        prefix, layout = "", "backbone"
    else:
        fail(f"{path}: no ViT tensors (neither backbone.* nor bare cls_token/blocks.* names; first: "
             f"{names[:3]})")

    def need(name, ndim):
        if name not in sd:
            fail(f"{path}: tensor '{name}' is missing: every official DINO ViT has it")
        shape = tuple(sd[name].shape)
        if len(shape) != ndim:
            fail(f"{path}: tensor '{name}': shape {list(shape)}, expected {ndim} dimensions")
        return shape

    dim, in_chans, patch, patch2 = need(prefix + "patch_embed.proj.weight", 4)
    if patch != patch2:
        fail(f"{path}: tensor '{prefix}patch_embed.proj.weight': patches {patch}x{patch2} are not square")
    one, tokens, width = need(prefix + "pos_embed", 3)
    grid = math.isqrt(max(tokens - 1, 0))
    if one != 1 or width != dim or grid * grid != tokens - 1 or grid == 0:
        fail(f"{path}: tensor '{prefix}pos_embed': shape {[one, tokens, width]}, expected [1, 1 + g*g, {dim}]")
    blocks = set()
    for n in names:
        parts = n[len(prefix):].split(".") if n.startswith(prefix + "blocks.") else []
        if len(parts) > 2:
            if not parts[1].isdigit():
                fail(f"{path}: tensor '{n}': block index '{parts[1]}' is not a number")
            blocks.add(int(parts[1]))
    depth = len(blocks)
    if depth == 0 or blocks != set(range(depth)):
        missing = sorted(set(range(max(blocks, default=-1) + 1)) - blocks)
        fail(f"{path}: tensor '{prefix}blocks.{missing[0] if missing else 0}.norm1.weight' is missing "
             f"(blocks found: {sorted(blocks)})")
    hidden = need(prefix + "blocks.0.mlp.fc1.weight", 2)[0]
    arch = {"layout": layout, "prefix": prefix, "dim": dim, "in_chans": in_chans, "patch": patch, "grid": grid,
            "depth": depth, "mlp_hidden": hidden, "qkv_bias": prefix + "blocks.0.attn.qkv.bias" in sd, "head": None}
    if layout == "wrapper":
        arch["head"] = infer_head(sd, path)
    return arch


def infer_head(sd, path):
    def shape(name):
        return tuple(sd[name].shape) if name in sd else None

    if "head.mlp.weight" in sd:                                       # nlayers = 1: mlp is a single Linear
        w = shape("head.mlp.weight")
        if len(w) != 2:
            fail(f"{path}: tensor 'head.mlp.weight': shape {list(w)}, a Linear weight has 2 dimensions")
        in_dim, nlayers, hidden, bottleneck, use_bn, bn_layers = w[1], 1, None, w[0], False, []
    else:
        indices = set()
        for n in sd:
            parts = n.split(".")
            if n.startswith("head.mlp.") and len(parts) == 4:
                if not parts[2].isdigit():
                    fail(f"{path}: tensor '{n}': layer index '{parts[2]}' is not a number")
                indices.add(int(parts[2]))
        if not indices:
            fail(f"{path}: tensor 'head.mlp.0.weight' is missing: the head has no MLP")
        kinds = []
        for i in range(max(indices) + 1):
            w = shape(f"head.mlp.{i}.weight")
            if i not in indices:
                kinds.append("gelu")
            elif w is not None and len(w) == 2:
                kinds.append("linear")
            elif w is not None and len(w) == 1 or f"head.mlp.{i}.running_mean" in sd:
                kinds.append("bn")
            else:
                fail(f"{path}: tensor 'head.mlp.{i}.weight' is missing or has shape {list(w or [])}: "
                     f"neither a Linear nor a BatchNorm layer")
        nlayers, use_bn = kinds.count("linear"), "bn" in kinds
        expected = official_head_kinds(nlayers, use_bn)
        if kinds != expected:
            bad = next(i for i in range(max(len(kinds), len(expected)))
                       if i >= len(kinds) or i >= len(expected) or kinds[i] != expected[i])
            fail(f"{path}: tensor 'head.mlp.{bad}.weight': the head's layers are {kinds}; the official DINOHead "
                 f"with {nlayers} Linear layers and use_bn={use_bn} has {expected}")
        linears = [i for i, k in enumerate(kinds) if k == "linear"]
        bn_layers = [i for i, k in enumerate(kinds) if k == "bn"]
        in_dim, hidden = shape("head.mlp.0.weight")[1], shape("head.mlp.0.weight")[0]
        bottleneck = shape(f"head.mlp.{linears[-1]}.weight")[0]
    v, g = shape("head.last_layer.weight_v"), shape("head.last_layer.weight_g")
    if v is None or g is None:
        missing = "head.last_layer.weight_v" if v is None else "head.last_layer.weight_g"
        fail(f"{path}: tensor '{missing}' is missing: the official head's last layer is weight-normalised "
             f"(weight_g [out_dim, 1], weight_v [out_dim, bottleneck])")
    if len(v) != 2 or v[1] != bottleneck or g != (v[0], 1):
        fail(f"{path}: tensor 'head.last_layer.weight_v': shape {list(v)} (weight_g {list(g)}), expected "
             f"[out_dim, {bottleneck}] and [out_dim, 1]")
    g = sd["head.last_layer.weight_g"]
    ones = None if isinstance(g, _Shape) else bool(np.all(np.asarray(g.detach().cpu().numpy() if hasattr(g, "detach") else g) == 1))
    return {"in_dim": in_dim, "out_dim": v[0], "nlayers": nlayers, "hidden_dim": hidden, "bottleneck_dim": bottleneck,
            "use_bn": use_bn, "bn_layers": bn_layers, "weight_g_ones": ones}


def describe(arch):
    if arch["layout"] == "head":
        return "head only: " + describe_head(arch["head"])
    text = (f"ViT dim {arch['dim']}, depth {arch['depth']}, patch {arch['patch']}, {arch['in_chans']} input channel{'s' if arch['in_chans'] != 1 else ''}, "
            f"pos_embed for a {arch['grid']}x{arch['grid']} grid ({arch['grid'] * arch['patch']} px), "
            f"MLP {arch['mlp_hidden']}")
    h = arch["head"]
    if h is None:
        return ("backbone only, bare names" if arch["prefix"] == "" else "backbone only, backbone.* names") + f": {text}"
    return f"backbone + head: {text}; head {describe_head(h)}"


def describe_head(h):
    layers = f"{h['nlayers']} layers, hidden {h['hidden_dim']}, " if h["nlayers"] > 1 else "1 layer, "
    bn = f"BatchNorm at {', '.join(f'head.mlp.{i}' for i in h['bn_layers'])}" if h["use_bn"] else "no BatchNorm"
    g = {True: "weight_g all 1 (norm_last_layer)", False: "weight_g trained (no norm_last_layer)",
         None: "weight_g not read"}[h["weight_g_ones"]]
    return f"{layers}bottleneck {h['bottleneck_dim']}, out {h['out_dim']}, {bn}, {g}"


def default_heads(arch, given, path):
    if given:
        if arch["dim"] % given:
            fail(f"{path}: width {arch['dim']} is not divisible by --heads {given}")
        return given
    name = OFFICIAL_VITS.get((arch["dim"], arch["depth"], arch["dim"] // 64))
    if name and arch["dim"] % 64 == 0:
        return arch["dim"] // 64
    fail(f"{path}: give the attention head count with --heads (width {arch['dim']}, depth {arch['depth']} is not "
         f"one of the official vit_tiny/small/base, whose head count would be known)")


# ----------------------------------------------------------------------------------------------
# module trees: this script's rebuild of the official code, or the official code itself

def rebuilt_modules(torch, arch, heads, norm_last_layer=True):
    """The module tree of the official vision_transformer.py / utils.MultiCropWrapper, rebuilt here (same
    attribute names, so the same state-dict names and order, and the same forward), shapes from `arch`."""
    nn, F = torch.nn, torch.nn.functional
    dim, patch, grid, hidden = (arch.get(k) for k in ("dim", "patch", "grid", "mlp_hidden"))

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
            self.qkv, self.proj = nn.Linear(dim, 3 * dim, bias=arch["qkv_bias"]), nn.Linear(dim, dim)

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

        def forward(self, x, return_attention=False):
            y, attn = self.attn(self.norm1(x))
            if return_attention:
                return attn
            x = x + y
            return x + self.mlp(self.norm2(x))

    class PatchEmbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_size = patch
            self.proj = nn.Conv2d(arch["in_chans"], dim, kernel_size=patch, stride=patch)

        def forward(self, x):
            return self.proj(x).flatten(2).transpose(1, 2)

    class VisionTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_dim = dim
            self.patch_embed = PatchEmbed()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, 1 + grid * grid, dim))
            self.blocks = nn.ModuleList([Block() for _ in range(arch["depth"])])
            self.norm = nn.LayerNorm(dim, eps=1e-6)

        def interpolate_pos_encoding(self, npatch, rows, cols):
            if npatch == grid * grid and rows == cols:
                return self.pos_embed
            d = self.pos_embed.shape[-1]
            # The +0.1 of the official code: the scale factors make the output size exactly rows//p x cols//p.
            r, c = rows // patch + 0.1, cols // patch + 0.1
            table = self.pos_embed[:, 1:].reshape(1, grid, grid, d).permute(0, 3, 1, 2)
            table = F.interpolate(table, scale_factor=(r / grid, c / grid), mode="bicubic")
            return torch.cat((self.pos_embed[:, :1], table.permute(0, 2, 3, 1).reshape(1, -1, d)), dim=1)

        def tokens(self, x):
            rows, cols = x.shape[2], x.shape[3]
            x = self.patch_embed(x)
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
            return x + self.interpolate_pos_encoding(x.shape[1] - 1, rows, cols)

        def forward(self, x):
            x = self.tokens(x)
            for block in self.blocks:
                x = block(x)
            return self.norm(x)[:, 0]

        def get_last_selfattention(self, x):
            x = self.tokens(x)
            for block in self.blocks[:-1]:
                x = block(x)
            return self.blocks[-1](x, return_attention=True)

    class DINOHead(nn.Module):
        def __init__(self, h):
            super().__init__()
            if h["nlayers"] == 1:
                self.mlp = nn.Linear(h["in_dim"], h["bottleneck_dim"])
            else:
                mods, width = [], h["in_dim"]
                for _ in range(h["nlayers"] - 1):                     # Linear, [BatchNorm1d], GELU per hidden layer
                    mods.append(nn.Linear(width, h["hidden_dim"]))
                    if h["use_bn"]:
                        mods.append(nn.BatchNorm1d(h["hidden_dim"]))
                    mods.append(nn.GELU())
                    width = h["hidden_dim"]
                mods.append(nn.Linear(width, h["bottleneck_dim"]))
                self.mlp = nn.Sequential(*mods)
            self.last_layer = nn.utils.weight_norm(nn.Linear(h["bottleneck_dim"], h["out_dim"], bias=False))
            self.last_layer.weight_g.data.fill_(1)
            self.last_layer.weight_g.requires_grad = not norm_last_layer

        def forward(self, x):
            return self.last_layer(F.normalize(self.mlp(x), dim=-1, p=2))

    class MultiCropWrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = VisionTransformer(), DINOHead(arch["head"])

        def forward(self, crops):
            crops = crops if isinstance(crops, list) else [crops]
            out, start = [], 0
            while start < len(crops):                                  # runs of equal size share one pass
                end = start + 1
                while end < len(crops) and crops[end].shape[-1] == crops[start].shape[-1]:
                    end += 1
                out.append(self.backbone(torch.cat(crops[start:end])))
                start = end
            return self.head(torch.cat(out))

    if arch["layout"] == "head":
        return DINOHead(arch["head"])
    return MultiCropWrapper() if arch["head"] is not None else VisionTransformer()


def import_official(repo):
    """vision_transformer and utils of a copy of the facebookresearch/dino repository."""
    if not os.path.isfile(os.path.join(repo, "vision_transformer.py")) or not os.path.isfile(os.path.join(repo, "utils.py")):
        fail(f"{repo}: not a copy of the official DINO repository (no vision_transformer.py and utils.py)")
    sys.path.insert(0, os.path.abspath(repo))
    try:
        import utils
        import vision_transformer
    except ImportError as e:
        fail(f"{repo}: the official modules do not import ({e}); they need torch and Pillow")
    finally:
        sys.path.pop(0)
    return vision_transformer, utils


def official_modules(torch, arch, heads, repo, norm_last_layer=True):
    """The real official tree: vision_transformer.VisionTransformer with the inferred shapes, and for a
    backbone + head file a vision_transformer.DINOHead inside a utils.MultiCropWrapper."""
    from functools import partial
    vits, utils = import_official(repo)
    h = arch["head"]
    if arch["layout"] == "head":
        return vits.DINOHead(h["in_dim"], h["out_dim"], use_bn=h["use_bn"], norm_last_layer=norm_last_layer,
                             nlayers=h["nlayers"], hidden_dim=h["hidden_dim"] or 2048, bottleneck_dim=h["bottleneck_dim"])
    ratio = arch["mlp_hidden"] / arch["dim"]
    if int(arch["dim"] * ratio) != arch["mlp_hidden"]:
        fail(f"MLP width {arch['mlp_hidden']} is not int(dim * mlp_ratio) for any mlp_ratio the official Block takes")
    vit = vits.VisionTransformer(
        img_size=[arch["grid"] * arch["patch"]], patch_size=arch["patch"], in_chans=arch["in_chans"],
        embed_dim=arch["dim"], depth=arch["depth"], num_heads=heads, mlp_ratio=ratio, qkv_bias=arch["qkv_bias"],
        norm_layer=partial(torch.nn.LayerNorm, eps=1e-6))
    if h is None:
        return vit
    head = vits.DINOHead(h["in_dim"], h["out_dim"], use_bn=h["use_bn"], norm_last_layer=norm_last_layer,
                         nlayers=h["nlayers"], hidden_dim=h["hidden_dim"] or 2048, bottleneck_dim=h["bottleneck_dim"])
    return utils.MultiCropWrapper(vit, head)


def load_strict(torch, model, sd, path, what):
    """load_state_dict(strict=True), after a check of our own that names the first offending tensor."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    more = lambda items: f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    if missing:
        fail(f"{path}: tensor '{missing[0]}' is missing: the {what} has it{more(missing)}")
    if unexpected:
        fail(f"{path}: tensor '{unexpected[0]}' is not in the {what}{more(unexpected)}")
    for k, e in expected.items():
        if tuple(sd[k].shape) != tuple(e.shape):
            fail(f"{path}: tensor '{k}': shape {list(sd[k].shape)} in the file, the {what} needs {list(e.shape)}")
        if sd[k].is_floating_point() != e.is_floating_point():
            fail(f"{path}: tensor '{k}': dtype {sd[k].dtype} in the file, the {what} holds {e.dtype}")
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        fail(f"{path}: load_state_dict(strict=True) into the {what} failed: {str(e).strip()}")


def build_tree(torch, arch, heads, repo, norm_last_layer):
    if repo:
        model = official_modules(torch, arch, heads, repo, norm_last_layer)
        where = "the official vision_transformer.py" + (" + utils.MultiCropWrapper" if arch["layout"] == "wrapper" else "")
    else:
        model = rebuilt_modules(torch, arch, heads, norm_last_layer)
        where = "this script's rebuild of the official module tree"
    return model, where


def run_network(torch, model, images, bn_stats="batch"):
    """(cls, CLS attention of the last block [B, H, 1+n], head output or None) of a model from build_tree."""
    model.eval()
    backbone = model.backbone if hasattr(model, "backbone") else model
    head = getattr(model, "head", None) if hasattr(model, "backbone") else None
    with torch.no_grad():
        cls = backbone(images)
        attn = backbone.get_last_selfattention(images)[:, :, 0, :]
        out = None
        if head is not None:
            if bn_stats == "batch":
                head.train()                                           # batch statistics, as in DINO training
            out = head(cls)
            model.eval()
    return cls, attn, out


def compare_golden(torch, model, golden, bn_stats="batch"):
    """Compares a vit_forward-style case; returns (worst abs difference, tolerance, lines)."""
    try:
        with open(golden) as f:
            case = json.load(f)
        tol = float(case["tolerance"]["abs"])
        rel = float(case["tolerance"].get("rel", 0.0))
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"{golden}: not a golden case with inputs, expected and tolerance ({type(e).__name__}: {e})")
    worst_excess, worst, lines = 0.0, 0.0, []
    for resolution in ("global", "local"):
        t = case.get("inputs", {}).get("images_" + resolution)
        if t is None:
            continue
        try:
            images = torch.tensor(t["data"], dtype=torch.float32).reshape(t["shape"])
        except (KeyError, RuntimeError, TypeError, ValueError) as e:
            fail(f"{golden}: input 'images_{resolution}' is not a {{shape, data}} tensor ({e})")
        cls, attn, out = run_network(torch, model, images, bn_stats)
        for name, value in (("cls_", cls), ("attn_cls_", attn), ("head_", out)):
            name += resolution
            e = case.get("expected", {}).get(name)
            if e is None:
                continue
            if value is None:
                lines.append(f"  {name:18s} skipped: the file has no head")
                continue
            expected = torch.tensor(e["data"], dtype=torch.float32).reshape(e["shape"])
            if tuple(expected.shape) != tuple(value.shape):
                fail(f"{golden}: expected '{name}' has shape {list(expected.shape)}, the network gives {list(value.shape)}")
            d = (value - expected).abs()
            worst = max(worst, d.max().item())
            worst_excess = max(worst_excess, (d - (tol + rel * expected.abs())).max().item())
            lines.append(f"  {name:18s} max |PyTorch - expected| = {d.max().item():.3e}")
    if not lines:
        fail(f"{golden}: no images_global / images_local inputs with cls_/attn_cls_/head_ expectations")
    return worst, worst_excess <= 0, tol, rel, lines


def compare_golden_head(torch, head, golden):
    """A head-only case (bn_head.json of Tests/fixtures/official): train-mode forward of x, loss sum(output * R),
    gradients and buffers, then the forward of x2; each compared where the case has it."""
    try:
        with open(golden) as f:
            case = json.load(f)
        tolerance = case["tolerance"]
        tol, rel = float(tolerance["abs"]), float(tolerance.get("rel", 0.0))
        overrides = {o["output"]: o for o in tolerance.get("overrides", [])}
        t = lambda e: torch.tensor(e["data"], dtype=torch.float64).reshape(e["shape"])
        x = t(case["inputs"]["x"]).float().requires_grad_(True)
        expected = case["expected"]
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        fail(f"{golden}: not a head case with inputs x, expected and tolerance ({type(e).__name__}: {e})")
    head.train()
    got = {"output": head(x)}
    if "R" in case["inputs"]:
        loss = (got["output"] * t(case["inputs"]["R"]).float()).sum()
        loss.backward()
        got["loss"], got["grad_x"] = loss, x.grad
        got.update({f"grad:head.{n}": p.grad for n, p in head.named_parameters() if p.grad is not None})
    buffers = lambda: {n: b.clone() for n, b in head.named_buffers()}
    got.update({f"after_forward_1:head.{n}": b for n, b in buffers().items()})
    if "x2" in case["inputs"]:
        with torch.no_grad():
            got["output_2"] = head(t(case["inputs"]["x2"]).float())
        got.update({f"after_forward_2:head.{n}": b for n, b in buffers().items()})
    worst, excess, lines = 0.0, 0.0, []
    for name, e in expected.items():
        if name not in got:
            lines.append(f"  {name:44s} not computed here")
            excess = max(excess, 1.0)
            continue
        value, want = got[name].detach().double(), t(e)
        if tuple(value.shape) != tuple(want.shape):
            fail(f"{golden}: expected '{name}' has shape {list(want.shape)}, the head gives {list(value.shape)}")
        o = overrides.get(name, {"abs": tol, "rel": rel})
        d = (value - want).abs()
        worst = max(worst, d.max().item())
        excess = max(excess, (d - (o["abs"] + o["rel"] * want.abs())).max().item())
        lines.append(f"  {name:44s} max |PyTorch - expected| = {d.max().item():.3e}")
    return worst, excess <= 0, tol, rel, lines


# ----------------------------------------------------------------------------------------------
# commands

def to_safetensors(args):
    torch = need_torch()
    sd = state_dict_of(torch_load(torch, args.input), args.key, args.input)
    tensors = {name: to_numpy(torch, name, value, args.input) for name, value in sd.items()}
    try:
        layout = describe(infer_arch(tensors, args.input))
    except ConvertError as e:
        layout = f"not a DINO ViT state dict ({e}); converted as it is"
    write_safetensors(tensors, args.output, {"source": os.path.basename(args.input), "key": args.key})
    counters = sum(1 for a in tensors.values() if a.dtype.kind == "i")
    print(f"wrote {args.output}: {len(tensors)} tensors ({counters} I64 counters), "
          f"{sum(a.size for a in tensors.values())} values")
    print(f"  {layout}")


def to_pth(args):
    torch = need_torch()
    arrays, _ = read_safetensors(args.input)
    sd = {name: to_torch(torch, name, a, args.input) for name, a in arrays.items()}
    arch = infer_arch(sd, args.input)
    key = args.key or "teacher"
    if args.into:
        checkpoint = torch_load(torch, args.into)
        if not isinstance(checkpoint, dict) or not is_state_dict(checkpoint.get(key)):
            fail(f"{args.into}: no '{key}' state dict to replace")
        old = checkpoint[key]
        prefixed = args.module_prefix or all(k.startswith("module.") for k in old)
        sd = {("module." if prefixed else "") + k: v for k, v in sd.items()}
        missing = sorted(set(old) - set(sd))
        unexpected = sorted(set(sd) - set(old))
        if missing:
            fail(f"{args.input}: tensor '{missing[0]}' of {args.into}'s '{key}' is missing here"
                 + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        if unexpected:
            fail(f"{args.input}: tensor '{unexpected[0]}' is not in {args.into}'s '{key}'"
                 + (f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""))
        for k in old:
            if tuple(old[k].shape) != tuple(sd[k].shape):
                fail(f"{args.input}: tensor '{k}': shape {list(sd[k].shape)} here, {list(old[k].shape)} in {args.into}")
            if old[k].is_floating_point() != sd[k].is_floating_point():
                fail(f"{args.input}: tensor '{k}': dtype {sd[k].dtype} here, {old[k].dtype} in {args.into}")
        checkpoint[key] = {k: sd[k] for k in old}                      # the official order
        what = f"'{key}' replaced in a copy of {args.into}" + (" (module. prefix)" if prefixed else "")
    elif args.key is None and arch["head"] is None:
        checkpoint = {("module." if args.module_prefix else "") + k: v for k, v in sd.items()}
        what = "a plain state dict (backbone only, like the released backbone files)"
    else:
        checkpoint = {key: {("module." if args.module_prefix else "") + k: v for k, v in sd.items()}}
        what = f"'{key}'" + (" with the module. prefix" if args.module_prefix else "")
    atomic_write(args.output, lambda f: torch.save(checkpoint, f))
    print(f"wrote {args.output}: {what}, {len(sd)} tensors")
    print(f"  {describe(arch)}")


def inspect(args):
    if args.file.endswith(".safetensors"):
        entries, metadata, data, start = read_safetensors_header(args.file)
        items = [(name, shape, dtype) for name, dtype, shape, _, _ in entries]
        if metadata:
            shown = {k: (v if len(str(v)) <= 80 else str(v)[:77] + "...") for k, v in metadata.items()}
            print(f"metadata: {shown}")
        shapes = {name: _Shape(shape) for name, shape, _ in items}
        g = [e for e in entries if e[0] == "head.last_layer.weight_g" and e[1] == "F32"]
        if g:                                                          # its values tell norm_last_layer
            _, _, shape, begin, end = g[0]
            if end - begin == 4 * int(np.prod(shape)) and start + end <= len(data):
                shapes[g[0][0]] = np.frombuffer(data, dtype="<f4", count=int(np.prod(shape)), offset=start + begin).reshape(shape)
    else:
        torch = need_torch()
        checkpoint = torch_load(torch, args.file)
        if isinstance(checkpoint, dict) and not is_state_dict(checkpoint):
            for k, v in checkpoint.items():
                if is_state_dict(v):
                    prefix = " (module. prefix)" if all(n.startswith("module.") for n in v) else ""
                    print(f"entry {k!r}: state dict, {len(v)} tensors{prefix}")
                elif k == "optimizer" and isinstance(v, dict) and "param_groups" in v:
                    sizes = [len(g.get("params", [])) for g in v["param_groups"]]
                    print(f"entry 'optimizer': {len(v['param_groups'])} param groups of {sizes} parameters, "
                          f"state for {len(v.get('state', {}))}")
                elif isinstance(v, argparse.Namespace):
                    print(f"entry {k!r}: argparse.Namespace with {len(vars(v))} fields")
                else:
                    text = repr(v)
                    print(f"entry {k!r}: {text if len(text) <= 80 else text[:77] + '...'}")
        sd = state_dict_of(checkpoint, args.key, args.file)
        items = [(k, list(v.shape), str(v.dtype).replace("torch.", "")) for k, v in sd.items()]
        shapes = sd
    for name, shape, dtype in items:
        print(f"{name:48s} {str(list(shape)):20s} {dtype}")
    print(f"{len(items)} tensors")
    try:
        print(f"layout: {describe(infer_arch(shapes, args.file))}")
    except ConvertError as e:
        print(f"layout: not a DINO ViT state dict ({e})")


def check(args):
    torch = need_torch()
    sd = load_any(torch, args.file, args.key)
    arch = infer_arch(sd, args.file)
    golden_heads = None
    if args.golden and not args.heads:
        try:
            with open(args.golden) as f:
                golden_heads = json.load(f).get("config", {}).get("num_heads")
        except (OSError, ValueError, AttributeError):
            golden_heads = None
    head_only = arch["layout"] == "head"
    heads = None if head_only else default_heads(arch, args.heads or golden_heads, args.file)
    if arch["prefix"] == "backbone." and arch["head"] is None or head_only:
        strip = len(arch["prefix"])                                    # backbone.* alone: the ViT; head.* alone: the head
        sd = {k[strip:]: v for k, v in sd.items()}
    nll = {"true": True, "false": False}.get(args.norm_last_layer)
    if nll is None:
        nll = arch["head"]["weight_g_ones"] is not False if arch["head"] else True
    model, where = build_tree(torch, arch, heads, args.dino_repo, nll)
    what = {"head": "DINOHead", "backbone": "VisionTransformer", "wrapper": "MultiCropWrapper"}[arch["layout"]]
    load_strict(torch, model, sd, args.file, f"official {what}")
    print(f"{args.file}: {len(sd)} tensors loaded with strict=True into {where}"
          + (" (the head. prefix stripped: the DINOHead alone)" if head_only else ""))
    print(f"  {describe(arch)}" + (f"; {heads} heads" if heads else "")
          + (f"; DINOHead(norm_last_layer={nll})" if arch["head"] else ""))
    print(f"  state-dict order matches the file: {list(model.state_dict().keys()) == list(sd.keys())}")
    if not args.golden:
        return
    if head_only:
        worst, ok, tol, rel, lines = compare_golden_head(torch, model, args.golden)
    else:
        worst, ok, tol, rel, lines = compare_golden(torch, model, args.golden, args.bn_stats)
    for line in lines:
        print(line)
    print(f"  {'PASS' if ok else 'FAIL'} (tolerance abs {tol} + rel {rel}; largest difference {worst:.3e})")
    if not ok:
        sys.exit(1)


# ---- to-checkpoint

def _ceil(x):
    return int(math.ceil(float(x) - 1e-9))


def _official_arch(c):
    return OFFICIAL_VITS.get((c["dim"], c["depth"], c["heads"])) if float(c.get("mlpRatio", 4)) == 4 else None


# main_dino.py's argument ← the run's config (state.json "config"): (config field, conversion) or, for a
# setting no run field maps to, (None, main_dino.py's default). The conversion gets the field's value (the
# whole config for a field of "*"). rank / world_size / gpu are what utils.init_distributed_mode adds.
ARGS_FROM_CONFIG = {
    "arch": ("*", _official_arch),                # None: no official ViT has this width/depth/heads/MLP
    "patch_size": ("patchSize", int),
    "out_dim": ("outDim", int),
    "norm_last_layer": ("normLastLayer", bool),
    "momentum_teacher": ("teacherMomentum", float),
    "use_bn_in_head": ("headBatchNorm", lambda v: bool(v)),
    "warmup_teacher_temp": ("warmupTeacherTemperature", float),
    "teacher_temp": ("teacherTemperature", float),
    "warmup_teacher_temp_epochs": ("warmupTeacherTemperatureEpochs", int),
    "use_fp16": (None, False),                    # the run is float32 (and there is no scaler state)
    "weight_decay": ("weightDecay", float),
    "weight_decay_end": ("weightDecayEnd", float),
    "clip_grad": ("clipGrad", float),
    "batch_size_per_gpu": ("batchSize", int),     # the run's whole batch; divide by the GPU count
    "epochs": ("epochs", _ceil),                  # whole epochs in main_dino.py: rounded up
    "freeze_last_layer": ("freezeLastLayerEpochs", _ceil),
    "lr": ("lr", float),                          # both: base lr for a batch of 256
    "warmup_epochs": ("warmupEpochs", _ceil),
    "min_lr": ("minLR", float),
    "optimizer": (None, "adamw"),
    "drop_path_rate": ("dropPathRate", float),
    "global_crops_scale": ("globalScale", tuple),
    "local_crops_number": ("localCount", int),
    "local_crops_scale": ("localScale", tuple),
    "data_path": ("dataset", str),                # informational: main_dino.py needs an ImageFolder
    "output_dir": (None, "."),                    # replaced by the folder of OUT.pth
    "saveckp_freq": (None, 20),
    "seed": ("seed", int),
    "num_workers": (None, 10),
    "dist_url": (None, "env://"),
    "local_rank": (None, 0),
    "rank": (None, 0),
    "world_size": (None, 1),
    "gpu": (None, 0),
}

# The run's settings that main_dino.py fixes or lacks: (field, main_dino.py's value, what it means).
NOT_CARRIED = [
    ("globalSize", 224, "global crop side (main_dino.py: 224 px)"),
    ("localSize", 96, "local crop side (main_dino.py: 96 px)"),
    ("studentTemperature", 0.1, "student temperature (DINOLoss default)"),
    ("centerMomentum", 0.9, "centre momentum (DINOLoss default)"),
    ("blurSigmaMax", None, "largest blur sigma (main_dino.py: 2.0 in 224-px units)"),
    ("centering", True, "centring (an ablation switch main_dino.py lacks)"),
    ("momentumTeacher", True, "EMA teacher (an ablation switch main_dino.py lacks)"),
]


def official_args(config, output_dir):
    values, notes = {}, []
    for name, (field, convert) in ARGS_FROM_CONFIG.items():
        if field is None:
            values[name] = convert
        elif field == "*":
            values[name] = convert(config)
        elif field in config and config[field] is not None:
            values[name] = convert(config[field])
            if convert is _ceil and float(config[field]) != values[name]:
                notes.append(f"{field} {config[field]:g} is not whole: {name} = {values[name]} (rounded up)")
        else:
            values[name] = False if name == "use_bn_in_head" else None
    values["output_dir"] = output_dir
    return values, notes


def find_checkpoint_folder(run):
    for folder in (run, os.path.join(run, "checkpoint"), os.path.join(run, "checkpoint.old")):
        if os.path.isfile(os.path.join(folder, "state.json")):
            return folder
    fail(f"{run}: no checkpoint found (expected {os.path.join(run, 'checkpoint', 'state.json')})")


def read_run(run):
    """(folder, state dict from state.json, teacher, student, optimizer arrays) of a run's checkpoint."""
    folder = find_checkpoint_folder(run)
    path = os.path.join(folder, "state.json")
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: not readable JSON ({e})")
    if not isinstance(state, dict) or not isinstance(state.get("config"), dict) or not isinstance(state.get("epoch"), int):
        fail(f"{path}: no epoch and config (not a dino train checkpoint)")
    files = {}
    for part in ("teacher", "student", "optimizer"):
        files[part] = read_safetensors(os.path.join(folder, part + ".safetensors"))[0]
    return folder, state, files


def to_checkpoint(args):
    torch = need_torch()
    folder, state, files = read_run(args.run)
    config = state["config"]
    spath, tpath, opath = (os.path.join(folder, p + ".safetensors") for p in ("student", "teacher", "optimizer"))
    if config.get("supervised"):
        fail(f"{folder}/state.json: a supervised run (config supervised = true) is not a DINO run")
    for field in ("dim", "depth", "heads", "outDim"):
        if not isinstance(config.get(field), int):
            fail(f"{folder}/state.json: config field {field} is missing or not a whole number")
    student = {k: to_torch(torch, k, v, spath) for k, v in files["student"].items()}
    teacher = {k: to_torch(torch, k, v, tpath) for k, v in files["teacher"].items()}
    arch = infer_arch(student, spath)
    if arch["layout"] != "wrapper":
        fail(f"{spath}: not a backbone + head state dict ({describe(arch)}): a DINO student has both")
    h = arch["head"]
    for field, have, tensor in (("dim", arch["dim"], "backbone.patch_embed.proj.weight"),
                                ("depth", arch["depth"], "backbone.blocks.*"),
                                ("patchSize", arch["patch"], "backbone.patch_embed.proj.weight"),
                                ("outDim", h["out_dim"], "head.last_layer.weight_v"),
                                ("headHidden", h["hidden_dim"], "head.mlp.0.weight"),
                                ("headBottleneck", h["bottleneck_dim"], "head.last_layer.weight_v"),
                                ("headBatchNorm", h["use_bn"], "head.mlp.1")):
        want = config.get(field)
        if field == "headBatchNorm":
            want = bool(want)
        if want is not None and want != have:
            fail(f"{spath}: tensor '{tensor}' gives {field} {have}, state.json's config says {want}")
    norm_last_layer = bool(config.get("normLastLayer", True))
    heads = default_heads(arch, config["heads"], spath)
    s_model = rebuilt_modules(torch, arch, heads, norm_last_layer)
    t_model = rebuilt_modules(torch, arch, heads, True)                # main_dino.py: the teacher's default head
    load_strict(torch, s_model, student, spath, "official MultiCropWrapper")
    load_strict(torch, t_model, teacher, tpath, "official MultiCropWrapper")

    # The optimizer: the groups of utils.get_params_groups over the student's named_parameters.
    opt = files["optimizer"]
    file_order = [n for n in files["student"] if "m." + n in opt]       # the run's parameter order
    steps = opt.get("adam_steps")
    if steps is None:
        fail(f"{opath}: tensor 'adam_steps' is missing (the per-parameter AdamW step counts)")
    steps = np.asarray(steps).reshape(-1)
    if steps.size != len(file_order):
        fail(f"{opath}: tensor 'adam_steps': {steps.size} counts for {len(file_order)} parameters with moments")
    if np.any(steps < 0) or np.any(steps != np.round(steps)):
        fail(f"{opath}: tensor 'adam_steps': not whole counts >= 0")
    steps_of = dict(zip(file_order, steps.astype(np.int64).tolist()))
    extra = [k for k in opt if k.startswith(("m.", "v.")) and k[2:] not in student]
    if extra:
        fail(f"{opath}: tensor '{extra[0]}' belongs to no tensor of {spath}")
    regularized, not_regularized, notes = [], [], []
    moments = {}
    for name, p in s_model.named_parameters():
        if not p.requires_grad:
            if "m." + name in opt and (np.any(opt["m." + name]) or np.any(opt["v." + name])):
                notes.append(f"{name} is frozen in main_dino.py (norm_last_layer) but has moments here: dropped")
            continue
        for kind in ("m.", "v."):
            if kind + name not in opt:
                fail(f"{opath}: tensor '{kind}{name}' is missing (the AdamW moment of a trained parameter)")
            if tuple(opt[kind + name].shape) != tuple(p.shape):
                fail(f"{opath}: tensor '{kind}{name}': shape {list(opt[kind + name].shape)}, the parameter has {list(p.shape)}")
        moments[p] = (name, steps_of[name])
        (not_regularized if name.endswith(".bias") or p.ndim == 1 else regularized).append(p)
    optimizer = torch.optim.AdamW([{"params": regularized}, {"params": not_regularized, "weight_decay": 0.0}])
    last = state.get("steps") or []
    if last and isinstance(last[-1], dict) and "lr" in last[-1] and "wd" in last[-1]:
        lr, wd = float(last[-1]["lr"]), float(last[-1]["wd"])
    else:
        lr, wd = float(config.get("lr", 0.0005)) * int(config.get("batchSize", 256)) / 256, float(config.get("weightDecay", 0.04))
        notes.append("state.json has no iteration log: lr and weight_decay are the config's base values")
    optimizer.param_groups[0]["lr"] = optimizer.param_groups[1]["lr"] = lr
    optimizer.param_groups[0]["weight_decay"] = wd
    for p, (name, n) in moments.items():
        if n > 0:
            optimizer.state[p] = {"step": torch.tensor(float(n)),
                                  "exp_avg": to_torch(torch, name, opt["m." + name], opath),
                                  "exp_avg_sq": to_torch(torch, name, opt["v." + name], opath)}
        elif np.any(opt["m." + name]) or np.any(opt["v." + name]):
            fail(f"{opath}: tensor 'm.{name}': non-zero moments after 0 steps")
    center = opt.get("dino_loss.center")
    if center is None or tuple(center.shape) != (1, h["out_dim"]):
        fail(f"{opath}: tensor 'dino_loss.center' is missing or not [1, {h['out_dim']}]")

    out_dir = os.path.dirname(os.path.abspath(args.output))
    values, arg_notes = official_args(config, out_dir)
    notes += arg_notes
    if values["arch"] is None:
        notes.append(f"no official arch builds this ViT (dim {arch['dim']}, depth {arch['depth']}, heads {heads}, "
                     f"MLP {arch['mlp_hidden']}): main_dino.py knows only vit_tiny/vit_small/vit_base; args.arch = None")
    if arch["in_chans"] != 3:
        notes.append(f"the ViT takes {arch['in_chans']} input channel(s); main_dino.py feeds 3 (RGB)")
    if arch["grid"] * arch["patch"] != 224:
        notes.append(f"pos_embed is for {arch['grid'] * arch['patch']} px; main_dino.py builds it for 224 px "
                     f"(a {224 // arch['patch']}x{224 // arch['patch']} grid), so the load fails with a size mismatch")
    for field, official, meaning in NOT_CARRIED:
        have = config.get(field)
        differs = have is not None and (official is None or have != official)
        if differs:
            notes.append(f"{meaning}: the run used {field} = {have}")
    bn = h["use_bn"]
    checkpoint = {
        "student": {"module." + k: v for k, v in s_model.state_dict().items()},
        "teacher": {("module." if bn else "") + k: v for k, v in t_model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "epoch": int(state["epoch"]) + 1,
        "args": values if args.args_dict else argparse.Namespace(**values),
        "dino_loss": {"center": to_torch(torch, "dino_loss.center", center, opath)},
    }
    atomic_write(args.output, lambda f: torch.save(checkpoint, f))
    groups = [len(g["params"]) for g in checkpoint["optimizer"]["param_groups"]]
    print(f"wrote {args.output}: an official checkpoint.pth of {folder}")
    print(f"  student: {len(checkpoint['student'])} tensors (module. prefix); teacher: {len(checkpoint['teacher'])} "
          f"tensors ({'module. prefix: the head has BatchNorm, so main_dino.py wraps the teacher in DDP' if bn else 'no prefix: no BatchNorm, main_dino.py does not wrap the teacher'})")
    print(f"  optimizer: AdamW, param groups of {groups} parameters (regularised, not), state for "
          f"{len(checkpoint['optimizer']['state'])}; lr {lr:.6g}, weight_decay {wd:.6g}")
    print(f"  epoch: {checkpoint['epoch']} (the next one to run); dino_loss.center [1, {h['out_dim']}]; "
          f"args: {'dict' if args.args_dict else 'argparse.Namespace'} of {len(values)} fields")
    print(f"  {describe(arch)}")
    flags = []
    for name in ("arch", "patch_size", "out_dim", "norm_last_layer", "use_bn_in_head", "momentum_teacher",
                 "warmup_teacher_temp", "teacher_temp", "warmup_teacher_temp_epochs", "use_fp16", "weight_decay",
                 "weight_decay_end", "clip_grad", "batch_size_per_gpu", "epochs", "freeze_last_layer", "lr",
                 "warmup_epochs", "min_lr", "drop_path_rate", "global_crops_scale", "local_crops_number",
                 "local_crops_scale", "seed"):
        v = values[name]
        if v is None:
            continue
        text = " ".join(f"{x:g}" for x in v) if isinstance(v, tuple) else str(v).lower() if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)
        flags.append(f"--{name} {text}")
    print("  resume on N GPUs (batch_size_per_gpu = the run's batch / N keeps the total):")
    print(f"    torchrun --nproc_per_node=N main_dino.py {' '.join(flags)} --data_path DATA --output_dir {out_dir}")
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", torch.__version__).groups())
    if (major, minor) >= (2, 6) and not args.args_dict:
        print("  PyTorch >= 2.6 loads with weights_only=True, which refuses args' argparse.Namespace: launch with "
              "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (or write the file with --args-dict)")
    for note in notes:
        print(f"  not carried: {note}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    sub = p.add_subparsers(dest="command", required=True)
    keys = ["teacher", "student"]
    a = sub.add_parser("to-safetensors")
    a.add_argument("input"); a.add_argument("output"); a.add_argument("--key", default="teacher", choices=keys)
    b = sub.add_parser("to-pth")
    b.add_argument("input"); b.add_argument("output"); b.add_argument("--key", choices=keys)
    b.add_argument("--module-prefix", action="store_true"); b.add_argument("--into")
    k = sub.add_parser("to-checkpoint")
    k.add_argument("run"); k.add_argument("output"); k.add_argument("--args-dict", action="store_true")
    c = sub.add_parser("inspect")
    c.add_argument("file"); c.add_argument("--key", default="teacher", choices=keys)
    d = sub.add_parser("check")
    d.add_argument("file"); d.add_argument("--heads", type=int)
    d.add_argument("--key", default="teacher", choices=keys); d.add_argument("--golden")
    d.add_argument("--dino-repo"); d.add_argument("--norm-last-layer", default="auto", choices=["auto", "true", "false"])
    d.add_argument("--bn-stats", default="batch", choices=["batch", "running"])
    for sp in (a, b, c, d):
        sp.add_argument("--trust-pickle", action="store_true",
                        help="load .pth files with plain torch.load (runs code the file names: trusted files only)")
    args = p.parse_args()
    global TRUST_PICKLE
    TRUST_PICKLE = getattr(args, "trust_pickle", False)
    command = {"to-safetensors": to_safetensors, "to-pth": to_pth, "to-checkpoint": to_checkpoint,
               "inspect": inspect, "check": check}[args.command]
    try:
        command(args)
    except ConvertError as e:
        sys.exit(f"error: {e}")
    except BrokenPipeError:                                            # output piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as e:
        sys.exit(f"error: {e.filename}: {e.strerror}" if e.filename else f"error: {e}")


if __name__ == "__main__":
    main()
