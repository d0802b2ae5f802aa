"""Orchestration of the raw-frame denoising of a SIM run: training pairs, one or two training stages, inference.

``denoise="plain"`` trains the denoiser without the pattern branch. ``denoise="rdl"`` gives the network the
pattern-modulated (PM) images; their SR estimate comes from (``pm_source``):

* ``"denoised"`` — two stages: the plain denoiser is trained first (``stage1_fraction`` of the budget),
  the Wiener SIM of its output is the SR estimate behind the PM images, and the rDL network starts from the
  plain one's weights (the pattern inputs start at zero weight). This plays the part of the paper's pre-trained
  SR network, which a self-supervised run on one acquisition does not have.
* ``"wiener"`` (default) — one stage: the Wiener SIM of the noisy input (smoothed by ``pm_wiener``, not
  apodised, padded rather than tapered at the edges: see :mod:`.modulated`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..errors import CancelledError, UsageError
from ..events import CancelToken, Event, StageInfo
from .modulated import forward_model, match_mean
from .noise import NoiseModel, estimate_noise
from .rdl import RDLNet, denoise_stack
from .training import Pair, TrainOptions, recorrupted_pairs, train


@dataclass
class DenoisedFrames:
    """What the raw-frame denoising gave: the frames ``(T, O, P, Y, X)``, and how it was trained."""

    frames: np.ndarray
    mode: str  # the resolved training mode: "self", "timelapse" or "supervised"
    losses: list[float] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)  # steps trained per stage ("denoise", "rdl")
    train_seconds: float = 0.0
    noise: NoiseModel | None = None


def _check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise CancelledError("SIM run cancelled")


def training_mode(requested: str, n_time: int, has_target: bool) -> str:
    """Resolve ``"auto"`` and refuse impossible modes with a one-line :class:`UsageError`."""
    mode = requested
    if mode == "auto":
        mode = "supervised" if has_target else ("timelapse" if n_time >= 2 else "self")
    if mode == "supervised" and not has_target:
        raise UsageError("supervised SIM denoising needs a matched high-SNR acquisition (target)")
    if mode == "timelapse" and n_time < 2:
        raise UsageError("time-lapse SIM denoising needs at least 2 time points; use training='self'")
    return mode


def denoise_frames(
    stacks: np.ndarray, high: np.ndarray | None, params, pixel: float, otf, options, cancel: CancelToken | None
) -> Generator[Event, None, DenoisedFrames]:
    """Denoise ``(T, O, P, Y, X)`` (offset removed) per ``options`` (a SimOptions)."""
    from ..devices import resolve_device

    device = resolve_device(options.device)
    mode = training_mode(options.training, stacks.shape[0], high is not None)
    scale = float(np.percentile(stacks, 99.9)) or 1.0
    norm = stacks / scale

    def pm_of(stack: np.ndarray, estimate_from: np.ndarray | None = None) -> np.ndarray:
        source = stack if estimate_from is None else estimate_from
        return match_mean(forward_model(source, params, pixel, otf, options.pm_wiener, options.n_phases), stack)

    yield StageInfo("sim-denoise", f"preparing {mode} training pairs")
    noise = None
    if mode == "self":
        noise = estimate_noise(stacks, pixel, otf)
        scaled = NoiseModel(gain=noise.gain / scale, read_variance=noise.read_variance / scale**2)
        pairs = [
            p
            for t in range(norm.shape[0])
            for p in recorrupted_pairs(
                norm[t],
                scaled,
                None,
                alpha=options.recorruption_alpha,
                draws=options.recorruption_draws,
                seed=options.seed + t,
            )
        ]
        inputs = [p.inp for p in pairs]  # inference averages over the recorrupted draws
        groups = max(1, options.recorruption_draws)
    else:  # pair inputs are the very arrays of `inputs`, so their PM images are looked up by identity
        inputs, groups = [norm[t] for t in range(norm.shape[0])], 1
        if mode == "timelapse":
            order = [(a, b) for t in range(0, len(inputs) - 1, 2) for a, b in ((t, t + 1), (t + 1, t))]
            pairs = [Pair(inp=inputs[a], pm=None, target=inputs[b]) for a, b in order]
        else:
            pairs = [Pair(inp=inputs[t], pm=None, target=high[t] / scale) for t in range(len(inputs))]
    _check_cancel(cancel)
    budget, max_steps = float(options.time_budget_s), int(options.max_steps)  # budget inf: exactly max_steps
    base = TrainOptions(
        time_budget_s=budget,
        max_steps=max_steps,
        patch=options.patch,
        batch=options.batch,
        width=options.width,
        blocks=options.blocks,
        learning_rate=options.learning_rate,
        use_pattern=False,
        fnsm=options.fnsm,
        seed=options.seed,
    )
    losses: list[float] = []
    steps: dict[str, int] = {}
    started = time.perf_counter()
    init: RDLNet | None = None
    pm_inputs: list[np.ndarray | None] = [None] * len(inputs)
    if options.denoise == "rdl":
        if options.pm_source == "denoised":
            first = replace(
                base,
                time_budget_s=budget * options.stage1_fraction,
                max_steps=max(1, int(max_steps * options.stage1_fraction)),
            )
            init, losses = yield from train(pairs, first, device, pixel_um=pixel, cancel=cancel, stage="denoise")
            steps["denoise"] = len(losses)
            yield StageInfo("sim-denoise", "pattern-modulated images from the SIM of the first-stage denoised frames")
            first_out = _apply(init, inputs, pm_inputs, device, cancel)
            estimate_of = {id(a): b for a, b in zip(inputs, first_out, strict=True)}
            base = replace(
                base,
                time_budget_s=budget if math.isinf(budget) else budget - first.time_budget_s,
                max_steps=max(1, max_steps - first.max_steps),
            )
        else:
            estimate_of = {}
        pm_inputs = [pm_of(a, estimate_of.get(id(a))) for a in inputs]
        pm_for = {id(a): pm for a, pm in zip(inputs, pm_inputs, strict=True)}
        pairs = [Pair(inp=p.inp, pm=pm_for[id(p.inp)], target=p.target) for p in pairs]
        base = replace(base, use_pattern=True)
    stage = "rdl" if base.use_pattern else "denoise"
    net, more = yield from train(pairs, base, device, pixel_um=pixel, cancel=cancel, stage=stage, init=init)
    losses += more
    steps[stage] = steps.get(stage, 0) + len(more)
    seconds = time.perf_counter() - started
    yield StageInfo("sim-denoise", "denoising the raw frames")
    outputs = _apply(net, inputs, pm_inputs, device, cancel)
    frames = [np.mean(outputs[i : i + groups], axis=0) for i in range(0, len(outputs), groups)]
    denoised = (np.clip(np.stack(frames), 0.0, None) * scale).astype(np.float32)
    return DenoisedFrames(denoised, mode, losses, steps, seconds, noise)


def _apply(net: RDLNet, inputs, pms, device: torch.device, cancel) -> list[np.ndarray]:
    out = []
    for inp, pm in zip(inputs, pms, strict=True):
        _check_cancel(cancel)
        out.append(denoise_stack(net, inp, pm, device))
    return out
