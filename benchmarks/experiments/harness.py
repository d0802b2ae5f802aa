"""Experiment harness: configurable re-implementation of the Self-Vision training/inference for A/B tests.

Nothing in src/ is modified; pieces are imported or copied here with switches.
Scoring is identical to benchmarks/quality.py (whole-volume PSNR, border 2*f, reference percentile scale).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tifffile
import torch
import torch.nn.functional as F
from torch import nn

from self_vision.core.degrade import back_project, cubic_upsample, degrade, gaussian_blur, resample_axis
from self_vision.core.intensity import Normalizer
from self_vision.core.model import pixel_shuffle_nd
from self_vision.core.patches import PatchSampler, augment
from self_vision.core.quality import back_projection_baseline, crop_reference, degrade_array, score

torch.set_num_threads(int(os.environ.get("SV_THREADS", "1")))
torch.set_flush_denormal(True)
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cortex_2p_signal.tif"
VOXEL = (5.0, 2.0, 2.0)
CACHE = Path("/tmp/sv_exp_cache")
CACHE.mkdir(exist_ok=True)
RESULTS = Path(__file__).resolve().parent / "results.jsonl"


@dataclass
class Cfg:
    name: str = "default"
    factor: tuple = (1, 4, 4)
    budget: float = 40.0  # training seconds
    steps: int | None = None
    seed: int = 0
    # model
    dims: int = 3  # 3: 3D net; 2: 2D net on planes (lateral: z-planes; axial: always 2D)
    features: int = 16
    shrink: int = 6
    mapping: int = 3
    groups: int = 2
    pad_mode: str = "zeros"  # conv padding in training: zeros | replicate | reflect
    base: str = "linear"  # residual base: linear | cubic | none
    # training
    lr: float = 2e-3
    min_lr_frac: float = 0.01
    batch: int = 4
    loss: str = "l1"
    patch_lr: tuple | None = None  # LR patch size (z, y, x) for 3D lateral, (a, b) for 2D
    crop: int = 0  # LR voxels cropped from each side (of axes with patch > 2*crop+2) before the loss
    structure_bias: float = 0.8
    operator: str = "area"  # training degradation
    psf_sigma: float = 0.5
    hr_blur: float = 0.0  # axial: Gaussian sigma (in HR voxels = z_out units) applied to the HR target along the axis
    resample: bool = True  # axial: resample lateral planes to z_out spacing
    gradual: bool = False  # lateral: train a x2 net, apply twice
    ensemble: bool = False
    bp_rounds: int = 10
    z_eff: float | None = None  # axial: resample lateral planes to this spacing (µm) instead of z_out
    notes: str = ""


class Net(nn.Module):
    def __init__(self, cfg: Cfg, factor: tuple[int, ...]):
        super().__init__()
        conv = nn.Conv3d if len(factor) == 3 else nn.Conv2d
        p = cfg.pad_mode
        c = cfg
        layers = [conv(1, c.features, 5, padding=2, padding_mode=p), nn.PReLU(c.features)]
        layers += [conv(c.features, c.shrink, 3, padding=1, padding_mode=p), nn.PReLU(c.shrink)]
        for _ in range(c.mapping):
            layers += [conv(c.shrink, c.shrink, 3, padding=1, groups=c.groups, padding_mode=p), nn.PReLU(c.shrink)]
        layers += [conv(c.shrink, c.features, 1), nn.PReLU(c.features)]
        self.body = nn.Sequential(*layers)
        self.to_sub = conv(c.features, math.prod(factor), 3, padding=1, padding_mode=p)
        nn.init.normal_(self.to_sub.weight, std=1e-3)
        nn.init.zeros_(self.to_sub.bias)
        self.factor = factor
        self.halo = 2 + 1 + c.mapping + 1 + 1

    def forward(self, x):
        return pixel_shuffle_nd(self.to_sub(self.body(x)), self.factor)


def base_up(x: torch.Tensor, factor, kind: str) -> torch.Tensor:
    """Residual base for a (B,1,*S) tensor."""
    if kind == "none":
        shape = [s * f for s, f in zip(x.shape[2:], factor, strict=False)]
        return torch.zeros(*x.shape[:2], *shape)
    if kind == "linear":
        mode = "trilinear" if x.ndim == 5 else "bilinear"
        return F.interpolate(x, scale_factor=tuple(float(f) for f in factor), mode=mode, align_corners=False)
    if kind == "cubic":
        nd = len(factor)
        y = x
        for axis, f in enumerate(factor):
            if f == 1:
                continue
            dim = y.ndim - nd + axis
            m = cubic_matrix(y.shape[dim], f)
            y = torch.movedim(torch.movedim(y, dim, -1) @ m.T, -1, dim)
        return y.contiguous()
    raise ValueError(kind)


_MATS = {}


def cubic_matrix(n: int, f: int) -> torch.Tensor:
    """The (n*f, n) matrix of scipy's cubic-spline zoom (reflect, grid_mode) along one axis."""
    if (n, f) not in _MATS:
        eye = np.eye(n, dtype=np.float32)
        cols = [cubic_upsample(eye[i][None, :].repeat(4, 0), (1, f))[0] for i in range(n)]
        _MATS[(n, f)] = torch.from_numpy(np.stack(cols, 1).astype(np.float32))
    return _MATS[(n, f)]


def load_case(factor):
    ref = tifffile.imread(DATA).astype(np.float32)
    ref = crop_reference(ref, factor)
    low = degrade_array(ref, factor, "area")
    return ref, low


def scores(result, ref, factor):
    return score(result, ref, border=[2 * f for f in factor]).psnr


def baselines(factor):
    key = CACHE / f"base_{'x'.join(map(str, factor))}.json"
    if key.exists():
        return json.loads(key.read_text())
    ref, low = load_case(factor)
    out = {
        "cubic": scores(cubic_upsample(low, factor), ref, factor),
        "bp": scores(back_projection_baseline(low, factor, "area", 10), ref, factor),
    }
    key.write_text(json.dumps(out))
    return out


def lr_at(cfg: Cfg, fraction: float) -> float:
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * fraction)))


def make_pairs(high: np.ndarray, factor, cfg: Cfg, axis_blur: float = 0.0):
    """high: (B, *S) numpy -> (low (B,1,*s), target (B,1,*S)) tensors."""
    t = torch.from_numpy(np.ascontiguousarray(high))[:, None]
    if axis_blur > 0:
        t = gaussian_blur(t, [axis_blur if f > 1 else 0.0 for f in factor])
    low = degrade(t, factor, cfg.operator, cfg.psf_sigma)
    return low, t


def train(net: Net, sampler: PatchSampler, cfg: Cfg, factor, rng, rotate: bool, axis_blur: float = 0.0, log=None):
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    net.train()
    start = time.perf_counter()
    step = 0
    losses, base_losses = [], []
    nd = len(factor)
    while True:
        el = time.perf_counter() - start
        frac = step / cfg.steps if cfg.steps else el / cfg.budget
        if frac >= 1:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, frac)
        high = sampler.sample(cfg.batch)
        high = augment(high.reshape(len(high), *high.shape[-nd:]), rng, rotate)
        low, target = make_pairs(high, factor, cfg, axis_blur)
        base = base_up(low, factor, cfg.base)
        pred = net(low) + base
        if cfg.crop:
            sl = [slice(None), slice(None)]
            for s, f in zip(low.shape[2:], factor, strict=False):
                c = cfg.crop if s > 2 * cfg.crop + 2 else 0
                sl.append(slice(c * f, (s - c) * f))
            pred, target_c, base_c = pred[tuple(sl)], target[tuple(sl)], base[tuple(sl)]
        else:
            target_c, base_c = target, base
        loss = F.l1_loss(pred, target_c) if cfg.loss == "l1" else F.mse_loss(pred, target_c)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        losses.append(float(F.mse_loss(pred.detach(), target_c)))
        base_losses.append(float(F.mse_loss(base_c, target_c)))
    net.eval()
    secs = time.perf_counter() - start
    k = max(1, len(losses) // 10)
    info = {
        "steps": step,
        "train_s": round(secs, 1),
        "mse_first": float(np.mean(losses[:k])),
        "mse_last": float(np.mean(losses[-k:])),
        "mse_base_last": float(np.mean(base_losses[-k:])),
    }
    return info


@torch.no_grad()
def apply_volume(net: Net, x: np.ndarray, factor, base: str) -> np.ndarray:
    """Whole array (2D or 3D matching the net), reflect/edge padded by the halo."""
    h = net.halo
    mode = "reflect" if min(x.shape) > h else "edge"
    pad = np.pad(x, [(h, h)] * x.ndim, mode=mode)
    d = net(torch.from_numpy(pad)[None, None])[0, 0].numpy()
    d = d[tuple(slice(h * f, (h + s) * f) for s, f in zip(x.shape, factor, strict=False))]
    b = base_up(torch.from_numpy(np.ascontiguousarray(x))[None, None], factor, base)[0, 0].numpy()
    return d + b


@torch.no_grad()
def apply_planes(net: Net, planes: np.ndarray, factor, base: str, chunk: int = 64) -> np.ndarray:
    """2D net over a stack (N, H, W)."""
    h = net.halo
    n, H, W = planes.shape
    mode = "reflect" if min(H, W) > h else "edge"
    pad = np.pad(planes, [(0, 0), (h, h), (h, h)], mode=mode)
    out = np.empty((n, H * factor[0], W * factor[1]), np.float32)
    for s in range(0, n, chunk):
        x = torch.from_numpy(np.ascontiguousarray(pad[s : s + chunk]))[:, None]
        d = net(x)[:, 0, h * factor[0] : (h + H) * factor[0], h * factor[1] : (h + W) * factor[1]]
        b = base_up(torch.from_numpy(np.ascontiguousarray(planes[s : s + chunk]))[:, None], factor, base)[:, 0]
        out[s : s + chunk] = (d + b).numpy()
    return out


def ensemble_planes(fn, planes, flips=((), (1,), (2,), (1, 2))):
    acc = None
    for f in flips:
        p = np.flip(planes, f) if f else planes
        y = fn(np.ascontiguousarray(p))
        y = np.flip(y, f) if f else y
        acc = y.astype(np.float64) if acc is None else acc + y
    return (acc / len(flips)).astype(np.float32)


def bp(est, low, factor, rounds):
    with torch.no_grad():
        return back_project(
            torch.from_numpy(est)[None, None], torch.from_numpy(low)[None, None], factor, "area", rounds
        )[0, 0].numpy()


def run_lateral(cfg: Cfg, x: np.ndarray, rng):
    """x: normalized LR volume (Z, Y, X); factor (1, f, f). Returns (output, info)."""
    f = cfg.factor[1]
    steps_f = [2, 2] if cfg.gradual and f == 4 else [f]
    tf = steps_f[0]
    if cfg.dims == 3:
        factor = (1, tf, tf)
        plr = cfg.patch_lr or (8, 16, 16)
        patch = tuple(p * ff for p, ff in zip(plr, factor, strict=False))
        sampler = PatchSampler([x], patch, rng, cfg.structure_bias)
    else:
        factor = (tf, tf)
        plr = cfg.patch_lr or (24, 24)
        patch = (1, plr[0] * tf, plr[1] * tf)
        sampler = PatchSampler([x], patch, rng, cfg.structure_bias)
    net = Net(cfg, factor)
    info = train(net, sampler, cfg, factor, rng, rotate=True)
    y = x
    for _ in steps_f:
        if cfg.dims == 3:
            y = apply_volume(net, y, factor, cfg.base)
        else:

            def fn(p):
                return apply_planes(net, p, factor, cfg.base)

            y = ensemble_planes(fn, y) if cfg.ensemble else fn(y)
    return y, info


def axial_sources(x: np.ndarray, fz: int, z_out: float, lateral: float, resample: bool):
    out = []
    for axis in (1, 2):
        planes = x if axis == 1 else np.ascontiguousarray(x.transpose(0, 2, 1))
        if resample:
            size = round(planes.shape[1] * lateral / z_out)
            planes = resample_axis(planes, 1, size)
        out.append(planes)
    return out


def run_axial(cfg: Cfg, x: np.ndarray, rng):
    fz = cfg.factor[0]
    z_out = VOXEL[0]  # reference z spacing = output spacing
    sources = axial_sources(x, fz, cfg.z_eff or z_out, VOXEL[1], cfg.resample)
    if cfg.notes == "oracle":  # supervised upper bound: true XZ / YZ planes of the reference
        r = ORACLE_REF[0]
        sources = [np.ascontiguousarray(r.transpose(1, 0, 2)), np.ascontiguousarray(r.transpose(2, 0, 1))]
    plr = cfg.patch_lr or (16, 48)
    factor = (fz, 1)
    patch = (1, plr[0] * fz, plr[1])
    sampler = PatchSampler(sources, patch, rng, cfg.structure_bias)
    net = Net(cfg, factor)
    info = train(net, sampler, cfg, factor, rng, rotate=False, axis_blur=cfg.hr_blur)

    def fn(p):
        return apply_planes(net, p, factor, cfg.base)

    along = (lambda p: ensemble_planes(fn, p)) if cfg.ensemble else fn
    zx = along(np.ascontiguousarray(x.transpose(1, 0, 2))).transpose(1, 0, 2)
    zy = along(np.ascontiguousarray(x.transpose(2, 0, 1))).transpose(1, 2, 0)
    return (0.5 * (zx + zy)).astype(np.float32), info


ORACLE_REF: list = []


def run(cfg: Cfg, save: bool = True) -> dict:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    factor = tuple(cfg.factor)
    ref, low = load_case(factor)
    norm = Normalizer.fit(low)
    x = norm.forward(low)
    ORACLE_REF[:] = [norm.forward(ref)]
    t0 = time.perf_counter()
    if factor[0] == 1:
        y, info = run_lateral(cfg, x, rng)
    else:
        y, info = run_axial(cfg, x, rng)
    info["total_s"] = round(time.perf_counter() - t0, 1)
    net_psnr = scores(norm.inverse(y), ref, factor)
    ybp = bp(y, x, factor, cfg.bp_rounds)
    bp_psnr = scores(norm.inverse(ybp), ref, factor)
    b = baselines(factor)
    row = {
        **asdict(cfg),
        **info,
        "net": round(net_psnr, 3),
        "net_bp": round(bp_psnr, 3),
        "d_cubic": round(net_psnr - b["cubic"], 3),
        "d_bp": round(net_psnr - b["bp"], 3),
        "netbp_d_cubic": round(bp_psnr - b["cubic"], 3),
        "cubic": round(b["cubic"], 3),
        "bp": round(b["bp"], 3),
    }
    print(
        f"{cfg.name:40s} {'x'.join(map(str, factor))}: net {net_psnr:.2f} ({net_psnr - b['cubic']:+.2f} vs cubic, "
        f"{net_psnr - b['bp']:+.2f} vs BP) net+BP {bp_psnr:.2f} ({bp_psnr - b['cubic']:+.2f}) | steps {info['steps']} "
        f"train {info['train_s']}s mse {info['mse_first']:.2e}->{info['mse_last']:.2e} base {info['mse_base_last']:.2e}",
        flush=True,
    )
    if save:
        with RESULTS.open("a") as fh:
            fh.write(json.dumps(row, default=list) + "\n")
    return row


def from_argv(argv):
    """name key=value ... -> Cfg (values parsed as python literals)."""
    import ast

    kw = {}
    for a in argv[1:]:
        k, v = a.split("=", 1)
        try:
            kw[k] = ast.literal_eval(v)
        except Exception:
            kw[k] = v
    return Cfg(name=argv[0], **kw)


if __name__ == "__main__":
    # usage: harness.py NAME key=val ... [-- NAME key=val ...]
    groups, cur = [], []
    for a in sys.argv[1:]:
        if a == "--":
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    groups.append(cur)
    for g in groups:
        run(from_argv(g))
