"""Training the rDL denoiser from the data itself (or from a matched high-SNR acquisition).

Training pairs ``(input, PM images, target)`` of whole acquisitions ``(O, P, Y, X)``:

* ``timelapse`` — neighbouring time points: even predicts odd and odd predicts even, as in TiS. The noise of
  neighbours is independent, the structure nearly the same.
* ``self`` — one acquisition, Poisson–Gaussian recorruption (Pang et al., CVPR 2021, "Recorrupted-to-
  Recorrupted"): with z ~ N(0, Var(y)) from the noise model measured on the frames, the input is ``y + α·z``
  and the target ``y − z/α``; their noises are uncorrelated, so the L2 loss against the target has the same
  minimiser as against the clean frames. The PM images are computed from the *recorrupted* input, so no
  copy of the target's noise reaches the network through the pattern branch. At inference the prediction is
  averaged over the recorrupted draws. (Frame pairing is not possible here: each frame has its own phase.)
* ``supervised`` — the user's matched low-SNR (input) and high-SNR (target) acquisitions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from ..errors import CancelledError
from ..events import CancelToken, Event, StageInfo, TrainProgress
from .noise import NoiseModel
from .rdl import RDLNet


@dataclass
class Pair:
    """One training example: normalised ``(O, P, Y, X)`` arrays (``pm`` None when no pattern branch)."""

    inp: np.ndarray
    pm: np.ndarray | None
    target: np.ndarray


@dataclass(frozen=True)
class TrainOptions:
    """Network and optimiser settings; training stops at ``time_budget_s`` or ``max_steps``, whichever is first
    (``time_budget_s = inf``: exactly ``max_steps`` steps, a learning-rate schedule by steps alone)."""

    time_budget_s: float = 40.0
    max_steps: int = 5000
    patch: int = 64
    batch: int = 8
    width: int = 32
    blocks: int = 3
    learning_rate: float = 1e-3
    use_pattern: bool = True
    fnsm: bool = False
    seed: int = 0


def recorrupted_pairs(
    y: np.ndarray,
    noise: NoiseModel,
    pm_of: Callable[[np.ndarray], np.ndarray] | None,
    *,
    alpha: float = 0.5,
    draws: int = 4,
    seed: int = 0,
) -> list[Pair]:
    """``draws`` recorrupted copies of one acquisition ``y`` (offset removed, not yet normalised)."""
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(noise.variance(ndimage.gaussian_filter(y, (0, 0, 1.0, 1.0)))).astype(np.float32)
    pairs = []
    for _ in range(draws):
        z = rng.standard_normal(y.shape).astype(np.float32) * sigma
        noisier = y + alpha * z
        pairs.append(Pair(inp=noisier, pm=None if pm_of is None else pm_of(noisier), target=y - z / alpha))
    return pairs


def timelapse_pairs(stacks: np.ndarray, pm_of: Callable[[np.ndarray], np.ndarray] | None) -> list[Pair]:
    """Pairs (t, t+1) and (t+1, t) for even t of ``(T, O, P, Y, X)``."""
    pairs = []
    for t in range(0, stacks.shape[0] - 1, 2):
        for a, b in ((t, t + 1), (t + 1, t)):
            pairs.append(Pair(inp=stacks[a], pm=None if pm_of is None else pm_of(stacks[a]), target=stacks[b]))
    return pairs


def supervised_pairs(low: np.ndarray, high: np.ndarray, pm_of: Callable[[np.ndarray], np.ndarray] | None) -> list[Pair]:
    """Pairs (low[t], high[t]) of matched ``(T, O, P, Y, X)`` acquisitions."""
    return [Pair(inp=lo, pm=None if pm_of is None else pm_of(lo), target=hi) for lo, hi in zip(low, high, strict=True)]


@torch.no_grad()
def warm_start(net: RDLNet, source: RDLNet) -> None:
    """Copy every matching weight of ``source`` into ``net``; the fusion layer's extra (pattern) input channels
    start at zero, so the warm-started rDL net first computes exactly what ``source`` computed."""
    own = net.state_dict()
    for name, value in source.state_dict().items():
        if name not in own:
            continue
        if own[name].shape == value.shape:
            own[name].copy_(value)
        elif name == "fuse.0.weight" and own[name].shape[1] > value.shape[1]:
            own[name].zero_()
            own[name][:, : value.shape[1]].copy_(value)
    net.load_state_dict(own)


def _crop(a: np.ndarray, where: tuple) -> np.ndarray:
    d, y0, x0, size, k, flip = where
    c = np.rot90(a[d, :, y0 : y0 + size, x0 : x0 + size], k, axes=(-2, -1))
    return c[..., ::-1] if flip else c


def _batch(pairs: list[Pair], options: TrainOptions, rng: np.random.Generator, device: torch.device):
    shape = pairs[0].inp.shape
    size = min(options.patch, shape[-2], shape[-1])
    inp, pm, tgt = [], [], []
    for _ in range(options.batch):
        pair = pairs[rng.integers(len(pairs))]
        d = rng.integers(shape[0])
        y0 = rng.integers(shape[-2] - size + 1)
        x0 = rng.integers(shape[-1] - size + 1)
        k, flip = int(rng.integers(4)), bool(rng.integers(2))

        where = (d, y0, x0, size, k, flip)
        inp.append(_crop(pair.inp, where))
        tgt.append(_crop(pair.target, where))
        if pair.pm is not None:
            pm.append(_crop(pair.pm, where))

    def tensor(parts: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(np.stack(parts), dtype=np.float32)).to(device)

    return tensor(inp), (tensor(pm) if pm else None), tensor(tgt)


def train(
    pairs: list[Pair],
    options: TrainOptions,
    device: torch.device,
    *,
    pixel_um: float | None = None,
    cancel: CancelToken | None = None,
    stage: str = "rdl",
    init: RDLNet | None = None,
) -> Generator[Event, None, tuple[RDLNet, list[float]]]:
    """Train an :class:`RDLNet` on ``pairs`` with an L2 loss; yields events, returns (net, losses).

    ``init``: a trained network (e.g. the plain denoiser) whose weights start this one (:func:`warm_start`).
    """
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    n_phases = pairs[0].inp.shape[1]
    net = RDLNet(
        n_phases, options.width, options.blocks, use_pattern=options.use_pattern, fnsm=options.fnsm, pixel_um=pixel_um
    ).to(device)
    if init is not None:
        warm_start(net, init)
    optimiser = torch.optim.Adam(net.parameters(), lr=options.learning_rate)
    limit = (
        f"exactly {options.max_steps} steps"
        if math.isinf(options.time_budget_s)
        else f"budget {options.time_budget_s:g} s"
    )
    yield StageInfo(
        stage,
        f"training the {'rDL' if options.use_pattern else 'plain'} denoiser on {len(pairs)} "
        f"acquisition pair(s), {limit}",
    )
    losses: list[float] = []
    start = time.perf_counter()
    step = 0
    while step < options.max_steps:
        if cancel is not None and cancel.cancelled:
            raise CancelledError("SIM denoising cancelled")
        elapsed = time.perf_counter() - start
        if step > 0 and elapsed >= options.time_budget_s:
            break
        fraction = max(step / options.max_steps, elapsed / max(options.time_budget_s, 1e-9))
        lr = options.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0))))
        for group in optimiser.param_groups:
            group["lr"] = lr
        net.train()
        inp, pm, target = _batch(pairs, options, rng, device)
        loss = torch.mean((net(inp, pm) - target) ** 2)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        step += 1
        losses.append(float(loss.detach()))
        elapsed = time.perf_counter() - start
        per_step = elapsed / step
        total = int(min(options.max_steps, max(step, options.time_budget_s / max(per_step, 1e-9))))
        yield TrainProgress(
            stage=stage,
            step=step,
            total=total,
            loss=losses[-1],
            learning_rate=lr,
            elapsed=elapsed,
            eta=max(0.0, (total - step) * per_step),
        )
    return net, losses
