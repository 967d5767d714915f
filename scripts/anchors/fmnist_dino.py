#!/usr/bin/env python3
"""DINO on Fashion-MNIST on a 2-core CPU: the accuracy anchor for the Swift DINO lessons.

Our own code (torch + numpy only). Model and loss are adapted from
torch_dino_step.py (own pre-norm ViT, DINO head, DINO loss) and brought to the
official defaults (main_dino.py of facebookresearch/dino):
  * ViT: pre-norm blocks, qkv bias, LN eps 1e-6, exact GELU, Linear trunc-normal(0.02) init,
    cls/pos trunc-normal(0.02), patch conv keeps the framework default, bicubic pos-embed resize
    for local crops, feature = CLS after the final LN. Drop path: off (short runs, tiny models).
  * head: Linear-[BN]-GELU-Linear-[BN]-GELU-Linear -> L2 normalise -> weight-normalised last layer with
    the gain fixed to 1 (rows of V/||V||, V with the default Linear init). BN only with --bn-head
    (official use_bn_in_head); the short anchor runs need it.
  * loss: CE(teacher softmax((z_t - c)/tau_t), student log-softmax(z_s/0.1)) over all
    (teacher global g, student crop v != g) pairs / (2V - 2); centre EMA 0.9 of the raw teacher
    outputs, updated after the loss.
  * AdamW; per-parameter-tensor grad clip 3.0; last layer frozen for the first few % of the run;
    lr linear warm-up then cosine to 1e-6; wd cosine 0.04 -> 0.4 (weights only); EMA momentum
    cosine m0 -> 1; tau_t linear 0.04 -> --teacher-temp over the first 30 % of the run (script default
    0.07 = the paper recipe, which collapses in short runs; the anchor runs pass --teacher-temp 0.04).
  * The run is bounded by a wall-clock BUDGET of training time: every schedule is indexed by
    progress p = (training seconds so far) / budget, so the cosine schedules complete exactly at
    the budget whatever the throughput. Evaluation time is not counted in the budget.
  * Multi-crop augmentation is done with batched tensor ops (affine_grid + grid_sample crops,
    per-sample brightness/contrast, grouped-conv Gaussian blur, solarize), timed separately.
Evaluation: weighted k-NN as in the official eval_knn.py (teacher backbone CLS after the final LN,
L2-normalised, cosine similarity, top-k, votes exp(sim/0.07), argmax), 60k train -> 10k test,
k in (10, 20, 200). Eval images: the plain 28x28 image, normalised with the dataset mean/std.

Usage:
  python3 fmnist_dino.py baselines --out results/baselines.json
  python3 fmnist_dino.py bench --config tiny-p7 --steps 30
  python3 fmnist_dino.py train --config tiny-p7 --budget-min 10 --lr 1e-3 --teacher-temp 0.04 --ema 0.996 \
      --bn-head --eval-every-min 5 --eval-student --out results/tiny-p7_10min.jsonl
"""
import argparse, copy, gzip, json, math, os, resource, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"

CONFIGS = {
    # 28 px global -> 4x4 = 16 tokens; 14 px local -> 2x2 = 4 tokens
    "tiny-p7": dict(dim=64, depth=4, heads=4, patch=7, local_img=14, head_hidden=256, bottleneck=64),
    # 28 px global -> 7x7 = 49 tokens; 16 px local -> 4x4 = 16 tokens
    "tiny-p4": dict(dim=64, depth=4, heads=4, patch=4, local_img=16, head_hidden=256, bottleneck=64),
    # wider and deeper, patch 7
    "small-p7": dict(dim=128, depth=6, heads=4, patch=7, local_img=14, head_hidden=512, bottleneck=128),
    "small-p4": dict(dim=128, depth=6, heads=4, patch=4, local_img=16, head_hidden=512, bottleneck=128),
}


# ============================================================================ data
def load_idx(path):
    with gzip.open(path, "rb") as f:
        buf = f.read()
    ndim = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def load_fmnist():
    f = lambda n: os.path.join(DATA, n)
    xtr = torch.from_numpy(load_idx(f("train-images-idx3-ubyte.gz"))).float().div_(255).unsqueeze(1)
    ytr = torch.from_numpy(load_idx(f("train-labels-idx1-ubyte.gz"))).long()
    xte = torch.from_numpy(load_idx(f("t10k-images-idx3-ubyte.gz"))).float().div_(255).unsqueeze(1)
    yte = torch.from_numpy(load_idx(f("t10k-labels-idx1-ubyte.gz"))).long()
    mean, std = xtr.mean().item(), xtr.std().item()   # 0.2860, 0.3530
    return xtr, ytr, xte, yte, mean, std


# ============================================================================ augmentation (batched)
class MultiCrop:
    """DINO multi-crop for 1x28x28 images in [0, 1], on a whole batch at once.

    Crop: RandomResizedCrop (area ~ U(scale), log-uniform aspect [3/4, 4/3], crop clamped to the image,
    centre uniform inside the image) + horizontal flip p 0.5, both folded into one affine grid,
    bilinear grid_sample. ColorJitter p 0.8 (brightness and contrast 0.4, random order per sample;
    saturation/hue/grayscale are no-ops for one channel). Gaussian blur sigma ~ U(0.1, blur_max)
    output pixels (global 1: p 1.0, global 2: p 0.1, locals: p 0.5). Solarize (x >= 0.5 -> 1 - x)
    p 0.2 on global 2. Normalise with the dataset mean/std.
    """

    def __init__(self, mean, std, n_local, local_img, global_scale=(0.4, 1.0), local_scale=(0.05, 0.4),
                 blur_max=1.0):
        self.mean, self.std = mean, std
        self.n_local, self.local_img = n_local, local_img
        self.gs, self.ls = global_scale, local_scale
        self.blur_max = blur_max
        self.radius = max(1, int(math.ceil(3 * blur_max)))

    def crop(self, x, size, scale):
        B = x.shape[0]
        area = torch.empty(B).uniform_(*scale)
        logr = torch.empty(B).uniform_(math.log(3 / 4), math.log(4 / 3))
        r = logr.exp()
        w = (area * r).sqrt().clamp(max=1.0)       # crop width as a fraction of the image width
        h = (area / r).sqrt().clamp(max=1.0)
        cx = (torch.rand(B) * 2 - 1) * (1 - w)     # crop centre in normalised coords [-1, 1]
        cy = (torch.rand(B) * 2 - 1) * (1 - h)
        flip = torch.where(torch.rand(B) < 0.5, -1.0, 1.0)
        theta = torch.zeros(B, 2, 3)
        theta[:, 0, 0] = w * flip
        theta[:, 0, 2] = cx
        theta[:, 1, 1] = h
        theta[:, 1, 2] = cy
        grid = F.affine_grid(theta, [B, 1, size, size], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    @staticmethod
    def jitter(x, p=0.8, b=0.4, c=0.4):
        B = x.shape[0]
        on = (torch.rand(B) < p).float()
        fb = 1 + on * torch.empty(B).uniform_(-b, b)
        fc = 1 + on * torch.empty(B).uniform_(-c, c)
        fb, fc = fb.view(B, 1, 1, 1), fc.view(B, 1, 1, 1)

        def bright(t):
            return (t * fb).clamp_(0, 1)

        def contrast(t):
            m = t.mean(dim=(1, 2, 3), keepdim=True)
            return (fc * t + (1 - fc) * m).clamp_(0, 1)

        order = (torch.rand(B) < 0.5).view(B, 1, 1, 1)
        return torch.where(order, contrast(bright(x)), bright(contrast(x)))

    def blur(self, x, p):
        B, _, H, W = x.shape
        on = torch.rand(B) < p
        if not bool(on.any()):
            return x
        sigma = torch.empty(B).uniform_(0.1, self.blur_max)
        r = self.radius
        t = torch.arange(-r, r + 1, dtype=torch.float32)
        k = torch.exp(-0.5 * (t.view(1, -1) / sigma.view(-1, 1)) ** 2)
        k = k / k.sum(dim=1, keepdim=True)
        delta = torch.zeros(2 * r + 1)
        delta[r] = 1.0
        k = torch.where(on.view(-1, 1), k, delta.view(1, -1))             # (B, 2r+1)
        y = x.reshape(1, B, H, W)
        y = F.pad(y, (r, r, r, r), mode="reflect")
        y = F.conv2d(y, k.view(B, 1, 1, -1), groups=B)                      # horizontal
        y = F.conv2d(y, k.view(B, 1, -1, 1), groups=B)                      # vertical
        return y.reshape(B, 1, H, W)

    @staticmethod
    def solarize(x, p):
        on = (torch.rand(x.shape[0]) < p).view(-1, 1, 1, 1)
        return torch.where(on & (x >= 0.5), 1 - x, x)

    def __call__(self, x):
        crops = []
        g1 = self.blur(self.jitter(self.crop(x, 28, self.gs)), 1.0)
        g2 = self.solarize(self.blur(self.jitter(self.crop(x, 28, self.gs)), 0.1), 0.2)
        crops += [g1, g2]
        for _ in range(self.n_local):
            crops.append(self.blur(self.jitter(self.crop(x, self.local_img, self.ls)), 0.5))
        return [(c - self.mean) / self.std for c in crops]


# ============================================================================ model
def trunc_normal_(t, std=0.02):
    nn.init.trunc_normal_(t, std=std, a=-2.0, b=2.0)   # official bounds: +-2 absolute


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.p == 0.0 or not self.training:
            return x
        keep = 1 - self.p
        mask = x.new_empty(x.shape[0], *([1] * (x.ndim - 1))).bernoulli_(keep)
        return x * mask / keep


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0, drop_path=0.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)
        self.dp = DropPath(drop_path)

    def forward(self, x):
        B, T, D = x.shape
        h = self.heads
        q, k, v = self.qkv(self.norm1(x)).reshape(B, T, 3, h, D // h).permute(2, 0, 3, 1, 4)
        att = ((q @ k.transpose(-2, -1)) * (D // h) ** -0.5).softmax(dim=-1)   # explicit: faster than
        y = (att @ v).transpose(1, 2).reshape(B, T, D)                          # SDPA here (~15-25 %)
        x = x + self.dp(self.proj(y))
        x = x + self.dp(self.fc2(F.gelu(self.fc1(self.norm2(x)))))
        return x


class ViT(nn.Module):
    def __init__(self, img, patch, dim, depth, heads, mlp_ratio=4.0, drop_path=0.0, in_ch=1):
        super().__init__()
        self.grid = img // patch
        self.patch_embed = nn.Conv2d(in_ch, dim, patch, patch)   # framework default init (as official)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, 1 + self.grid * self.grid, dim))
        dpr = [drop_path * i / max(1, depth - 1) for i in range(depth)]
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, dpr[i]) for i in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        trunc_normal_(self.cls)
        trunc_normal_(self.pos)
        for m in self.blocks.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def pos_for(self, g):
        if g == self.grid:
            return self.pos
        cls_pos, pp = self.pos[:, :1], self.pos[:, 1:]
        D = pp.shape[-1]
        pp = pp.reshape(1, self.grid, self.grid, D).permute(0, 3, 1, 2)
        pp = F.interpolate(pp, size=(g, g), mode="bicubic", align_corners=False)
        return torch.cat([cls_pos, pp.permute(0, 2, 3, 1).reshape(1, g * g, D)], dim=1)

    def forward(self, x):
        x = self.patch_embed(x)
        g = x.shape[-1]
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_for(g)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)[:, 0]


class DinoHead(nn.Module):
    def __init__(self, in_dim, hidden, bottleneck, out_dim, head_init="trunc", use_bn=False):
        super().__init__()
        bn = (lambda: nn.BatchNorm1d(hidden)) if use_bn else (lambda: nn.Identity())
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), bn(), nn.GELU(), nn.Linear(hidden, hidden), bn(),
                                 nn.GELU(), nn.Linear(hidden, bottleneck))
        if head_init == "trunc":    # official: trunc-normal 0.02, bias 0 (sized for D 384, hidden 2048)
            for m in self.mlp:
                if isinstance(m, nn.Linear):
                    trunc_normal_(m.weight)
                    nn.init.zeros_(m.bias)
        # head_init == "default": keep PyTorch's Linear init (Kaiming-uniform a=sqrt(5), std 1/sqrt(3 fan_in))
        # weight_v of the weight-normalised layer: default Linear init; gain g = 1, frozen
        self.last_layer = nn.Linear(bottleneck, out_dim, bias=False)

    def forward(self, x):
        x = F.normalize(self.mlp(x), dim=-1, eps=1e-12)
        return F.linear(x, F.normalize(self.last_layer.weight, dim=1))


class Dino(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, crops):
        feats, i = [], 0
        while i < len(crops):                       # runs of equal resolution -> one backbone pass
            j = i
            while j < len(crops) and crops[j].shape[-1] == crops[i].shape[-1]:
                j += 1
            feats.append(self.backbone(torch.cat(crops[i:j])))
            i = j
        return self.head(torch.cat(feats))          # crop-major (V*B, K)


def build(cfg, out_dim, drop_path=0.0, head_init="trunc", use_bn=False):
    bb = ViT(28, cfg["patch"], cfg["dim"], cfg["depth"], cfg["heads"], drop_path=drop_path)
    return Dino(bb, DinoHead(cfg["dim"], cfg["head_hidden"], cfg["bottleneck"], out_dim, head_init, use_bn))


def dino_loss(s_out, t_out, center, V, tau_s, tau_t):
    """Returns loss (mean CE over the 2V-2 pairs), teacher entropy h(Pt), and (loss - h) = KL(Pt||Ps)."""
    B = t_out.shape[0] // 2
    K = s_out.shape[1]
    s_logp = F.log_softmax(s_out / tau_s, dim=-1).view(V, B, K)
    t_logp = F.log_softmax((t_out - center) / tau_t, dim=-1).detach().view(2, B, K)
    t_p = t_logp.exp()
    M = torch.einsum("gbk,vbk->gv", t_p, s_logp) / B     # M[g, v] = mean_b sum_k Pt log Ps
    mask = torch.ones(2, V)
    mask[0, 0] = 0
    mask[1, 1] = 0
    loss = -(M * mask).sum() / (2 * V - 2)
    with torch.no_grad():
        ent = -(t_p * t_logp).sum(-1).mean()
    return loss, ent


# ============================================================================ evaluation
@torch.no_grad()
def extract(backbone, X, mean, std, bs=1000):
    was = backbone.training
    backbone.eval()
    out = torch.cat([backbone((X[i:i + bs] - mean) / std) for i in range(0, X.shape[0], bs)])
    backbone.train(was)
    return F.normalize(out, dim=1)


@torch.no_grad()
def knn(train_f, train_y, test_f, test_y, ks=(10, 20, 200), T=0.07, n_cls=10, chunk=500):
    """Weighted k-NN of the official eval_knn.py; returns {k: top-1 %}."""
    correct = {k: 0 for k in ks}
    kmax = max(ks)
    for i in range(0, test_f.shape[0], chunk):
        sim = test_f[i:i + chunk] @ train_f.T
        d, idx = sim.topk(kmax, dim=1, largest=True, sorted=True)
        cand = train_y[idx]
        w = (d / T).exp()
        y = test_y[i:i + chunk]
        for k in ks:
            votes = torch.zeros(sim.shape[0], n_cls).scatter_add_(1, cand[:, :k], w[:, :k])
            correct[k] += (votes.argmax(1) == y).sum().item()
    return {k: round(100.0 * correct[k] / test_f.shape[0], 2) for k in ks}


def knn_eval(backbone, data):
    xtr, ytr, xte, yte, mean, std = data
    t0 = time.perf_counter()
    ftr = extract(backbone, xtr, mean, std)
    fte = extract(backbone, xte, mean, std)
    acc = knn(ftr, ytr, fte, yte)
    return acc, time.perf_counter() - t0


def rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)


# ============================================================================ commands
def cmd_baselines(args, data):
    xtr, ytr, xte, yte, mean, std = data
    res = []
    t0 = time.perf_counter()
    for name, tr, te in [("raw pixels, [0,1], L2-normalised", xtr, xte),
                         ("raw pixels, (x-mean)/std, L2-normalised", (xtr - mean) / std, (xte - mean) / std)]:
        acc = knn(F.normalize(tr.flatten(1), dim=1), ytr, F.normalize(te.flatten(1), dim=1), yte)
        res.append(dict(features=name, dim=784, knn=acc, eval_s=round(time.perf_counter() - t0, 1)))
        print(json.dumps(res[-1]), flush=True)
        t0 = time.perf_counter()
    for cname in args.configs:
        torch.manual_seed(args.seed)
        m = build(CONFIGS[cname], args.out_dim)
        acc, dt = knn_eval(m.backbone, data)
        res.append(dict(features=f"random-init ViT {cname} (CLS after final LN)", dim=CONFIGS[cname]["dim"],
                        knn=acc, eval_s=round(dt, 1)))
        print(json.dumps(res[-1]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


def cosine(p, start, end):
    return end + 0.5 * (start - end) * (1 + math.cos(math.pi * min(1.0, p)))


def cmd_train(args, data, bench_steps=0):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr, xte, yte, mean, std = data
    cfg = CONFIGS[args.config]
    B, V = args.batch, 2 + args.n_local
    student = build(cfg, args.out_dim, args.drop_path, args.head_init, args.bn_head)
    teacher = build(cfg, args.out_dim, 0.0, args.head_init, args.bn_head)   # BN: both use batch statistics
    teacher.load_state_dict(student.state_dict())     # separate copy, same initial weights
    for p in teacher.parameters():
        p.requires_grad_(False)
    s_params = list(student.parameters())
    t_params = list(teacher.parameters())
    names = [n for n, _ in student.named_parameters()]
    last_w = student.head.last_layer.weight
    reg = [p for n, p in student.named_parameters() if p.ndim > 1 and not n.endswith(".bias")]
    noreg = [p for n, p in student.named_parameters() if not (p.ndim > 1 and not n.endswith(".bias"))]
    opt = torch.optim.AdamW([{"params": reg}, {"params": noreg, "weight_decay": 0.0}], lr=0.0)
    aug = MultiCrop(mean, std, args.n_local, cfg["local_img"], tuple(args.global_scale), tuple(args.local_scale),
                    args.blur_max)
    center = torch.zeros(1, args.out_dim)
    n_params = sum(p.numel() for p in s_params)
    budget = args.budget_min * 60.0
    warm, frz, tw = args.warmup_frac, args.freeze_frac, args.temp_warmup_frac

    meta = dict(kind="meta", config=args.config, cfg=cfg, batch=B, n_local=args.n_local, out_dim=args.out_dim,
                lr=args.lr, min_lr=args.min_lr, warmup_frac=warm, wd=[0.04, 0.4], ema_m0=args.ema, clip=args.clip,
                freeze_frac=frz, tau_s=0.1, tau_t=[0.04, args.teacher_temp], temp_warmup_frac=tw, center_m=0.9,
                global_scale=args.global_scale, local_scale=args.local_scale, blur_max=args.blur_max,
                drop_path=args.drop_path, head_init=args.head_init, bn_head=args.bn_head, budget_min=args.budget_min, threads=torch.get_num_threads(),
                params_student=n_params, seed=args.seed, torch=torch.__version__)
    log = open(args.out, "w") if args.out else None

    def emit(rec):
        print(json.dumps(rec), flush=True)
        if log:
            log.write(json.dumps(rec) + "\n")
            log.flush()

    emit(meta)
    N = xtr.shape[0]
    perm, pos, epoch = torch.randperm(N), 0, 0
    t_train = t_aug = 0.0
    step = 0
    hist = []                       # (loss, entropy) of the last steps
    evals_every = args.eval_every_min * 60.0 if args.eval_every_min > 0 else float("inf")
    next_eval = evals_every
    eval_total = 0.0
    t_wall0 = time.perf_counter()

    def do_eval(tag):
        nonlocal eval_total
        acc, dt = knn_eval(teacher.backbone, data)
        eval_total += dt
        l = np.mean([h[0] for h in hist[-50:]]) if hist else float("nan")
        e = np.mean([h[1] for h in hist[-50:]]) if hist else float("nan")
        emit(dict(kind="eval", tag=tag, step=step, epochs=round(step * B / N, 3), train_min=round(t_train / 60, 2),
                  knn_teacher=acc, loss=round(float(l), 4), entropy=round(float(e), 4), kl=round(float(l - e), 4),
                  eval_s=round(dt, 1)))
        return acc

    while True:
        p = t_train / budget if not bench_steps else step / max(1, bench_steps)
        if (bench_steps and step >= bench_steps) or (not bench_steps and t_train >= budget):
            break
        t0 = time.perf_counter()
        lr = args.lr * p / warm if p < warm else cosine((p - warm) / (1 - warm), args.lr, args.min_lr)
        wd = cosine(p, 0.04, 0.4)
        m = 1 - (1 - args.ema) * (1 + math.cos(math.pi * min(1.0, p))) / 2
        tau_t = 0.04 + (args.teacher_temp - 0.04) * min(1.0, p / tw) if tw > 0 else args.teacher_temp
        opt.param_groups[0]["lr"] = lr
        opt.param_groups[1]["lr"] = lr
        opt.param_groups[0]["weight_decay"] = wd
        if pos + B > N:             # drop_last; reshuffle every epoch
            perm, pos, epoch = torch.randperm(N), 0, epoch + 1
        x = xtr[perm[pos:pos + B]]
        pos += B
        crops = aug(x)
        t1 = time.perf_counter()
        with torch.no_grad():
            t_out = teacher(crops[:2])
        s_out = student(crops)
        loss, ent = dino_loss(s_out, t_out, center, V, 0.1, tau_t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip > 0:           # per-parameter-tensor clipping (official clip_gradients)
            grads = [q.grad for q in s_params if q.grad is not None]
            norms = torch._foreach_norm(grads)
            for g, n in zip(grads, norms):
                c = args.clip / (n + 1e-6)
                if c < 1:
                    g.mul_(c)
        if p < frz:
            last_w.grad = None
        opt.step()
        with torch.no_grad():
            torch._foreach_mul_(t_params, m)
            torch._foreach_add_(t_params, s_params, alpha=1 - m)
            center = center * 0.9 + t_out.mean(dim=0, keepdim=True) * 0.1
        lv = loss.item()
        if not math.isfinite(lv):
            emit(dict(kind="error", msg="loss not finite", step=step))
            break
        t2 = time.perf_counter()
        t_train += t2 - t0
        t_aug += t1 - t0
        step += 1
        hist.append((lv, ent.item()))
        if step % args.log_every == 0:
            l = np.mean([h[0] for h in hist[-args.log_every:]])
            e = np.mean([h[1] for h in hist[-args.log_every:]])
            emit(dict(kind="train", step=step, epochs=round(step * B / N, 3), train_min=round(t_train / 60, 2),
                      lr=round(lr, 7), wd=round(wd, 4), ema=round(m, 5), tau_t=round(tau_t, 4),
                      loss=round(float(l), 4), entropy=round(float(e), 4), kl=round(float(l - e), 4),
                      img_s=round(step * B / t_train, 1), aug_share=round(t_aug / t_train, 3)))
        if not bench_steps and t_train >= next_eval and t_train < budget:
            do_eval(f"{t_train / 60:.1f}min")
            next_eval += evals_every
    rss_train = rss_mb()
    final = dict(kind="final", config=args.config, budget_min=args.budget_min, lr=args.lr, steps=step,
                 epochs=round(step * B / N, 3), train_s=round(t_train, 1), img_s=round(step * B / t_train, 1),
                 aug_share=round(t_aug / t_train, 3), ln_K=round(math.log(args.out_dim), 4),
                 peak_rss_mb_train=rss_train)
    if bench_steps:
        final["loss"] = round(float(np.mean([h[0] for h in hist[-10:]])), 4)
        emit(final)
        return
    acc = do_eval("final")
    final["knn_teacher"] = acc
    l = float(np.mean([h[0] for h in hist[-50:]]))
    e = float(np.mean([h[1] for h in hist[-50:]]))
    final.update(loss=round(l, 4), entropy=round(e, 4), kl=round(l - e, 4))
    if args.eval_student:
        sacc, _ = knn_eval(student.backbone, data)
        final["knn_student"] = sacc
    final["eval_s_total"] = round(eval_total, 1)
    final["wall_s"] = round(time.perf_counter() - t_wall0, 1)
    final["peak_rss_mb"] = rss_mb()
    emit(final)
    if args.save:
        torch.save(dict(teacher=teacher.state_dict(), student=student.state_dict(), center=center, meta=meta),
                   args.save)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["baselines", "train", "bench"])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="tiny-p7")
    ap.add_argument("--configs", nargs="+", default=["tiny-p7", "tiny-p4", "small-p7"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--n-local", type=int, default=6)
    ap.add_argument("--out-dim", type=int, default=2048)
    ap.add_argument("--lr", type=float, default=1e-3, help="peak lr (spec: 5e-4 * batch / 256 = 2.5e-4 at 128)")
    ap.add_argument("--min-lr", type=float, default=1e-6)
    ap.add_argument("--warmup-frac", type=float, default=0.10)
    ap.add_argument("--freeze-frac", type=float, default=0.05)
    ap.add_argument("--temp-warmup-frac", type=float, default=0.30)
    ap.add_argument("--teacher-temp", type=float, default=0.07)
    ap.add_argument("--ema", type=float, default=0.99)
    ap.add_argument("--clip", type=float, default=3.0)
    ap.add_argument("--drop-path", type=float, default=0.0)
    ap.add_argument("--head-init", choices=["trunc", "default"], default="trunc")
    ap.add_argument("--bn-head", action="store_true", help="BatchNorm after the hidden head Linears (official use_bn_in_head)")
    ap.add_argument("--global-scale", type=float, nargs=2, default=[0.4, 1.0])
    ap.add_argument("--local-scale", type=float, nargs=2, default=[0.05, 0.4])
    ap.add_argument("--blur-max", type=float, default=1.0)
    ap.add_argument("--budget-min", type=float, default=10.0)
    ap.add_argument("--eval-every-min", type=float, default=0.0)
    ap.add_argument("--eval-student", action="store_true")
    ap.add_argument("--steps", type=int, default=30, help="bench: number of steps")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--out", default=None)
    ap.add_argument("--save", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_fmnist()
    if args.cmd == "baselines":
        cmd_baselines(args, data)
    elif args.cmd == "bench":
        args.log_every = min(args.log_every, 10)
        cmd_train(args, data, bench_steps=args.steps)
    else:
        cmd_train(args, data)


if __name__ == "__main__":
    main()
