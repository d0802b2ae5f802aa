"""A denoising run: self-supervised, by interleaved pairs: SiS (z-slices) and TiS (time points), with the GAR loss.

Neighbouring slices (SiS) or frames (TiS) show nearly the same structure with independent noise, so a
network fed the even ones and asked for the odd ones can only learn the shared signal. The gap-amending
regulariser corrects for what truly differs between neighbours:

    L = ‖y_o − f(x_e)‖² + γ ‖y_o − f(x_e) − (f̃(x)_o − f̃(x)_e)‖²

where f̃ is a no-gradient pass of the same network over the full (uninterleaved) stack, computed here on
each training patch. A SiS network only ever sees half-stacks (twice the z-step): inference applies it to
the even and odd half-stacks, forwards and z-flipped, and averages what each half says about every slice
(:func:`sis_halves_ensemble`). TiS networks see whole frames / volumes and are applied to each one.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence

import numpy as np
import torch

from ..devices import resolve_device
from ..errors import DataError, UsageError
from ..events import CancelToken, Event, InferProgress, StageInfo
from ..intensity import Normalizer
from .inference import apply_denoiser
from .net import DenoiseConfig, DenoiseNet
from .options import MIN_INTERLEAVED, MIN_LATERAL, MODES, SIS_INFERENCE, DenoiseOptions
from .result import DenoiseResult
from .training import Sampler, train_denoiser


def check_denoise_input(data: np.ndarray, mode: str, name: str = "input") -> str:
    """Validate ``data`` for ``mode``; return the axes (``ZYX``, ``TYX`` or ``TZYX``)."""
    if mode not in MODES:
        raise UsageError(f"unknown denoising mode {mode!r}; choose sis (z-stacks) or tis (time-lapses)")
    if data.size == 0:
        raise DataError(f"{name}: is empty {data.shape}")
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
        raise DataError(f"{name}: has data type {data.dtype}; give integer or real-valued voxels")
    if mode == "sis":
        if data.ndim != 3:
            raise DataError(f"{name}: has {data.ndim} axes {data.shape}; SiS denoises a 3D (ZYX) stack")
        if data.shape[0] < MIN_INTERLEAVED:
            raise DataError(
                f"{name}: has {data.shape[0]} slices; SiS needs at least {MIN_INTERLEAVED} to pair even with odd ones"
            )
        axes = "ZYX"
    else:
        if data.ndim not in (3, 4):
            raise DataError(
                f"{name}: has {data.ndim} axes {data.shape} and no time axis; TiS denoises (T,Y,X) or (T,Z,Y,X)"
            )
        if data.shape[0] < MIN_INTERLEAVED:
            raise DataError(
                f"{name}: has {data.shape[0]} time points; TiS needs at least {MIN_INTERLEAVED} (use sis for a z-stack)"
            )
        axes = "TYX" if data.ndim == 3 else "TZYX"
    if min(data.shape[-2:]) < MIN_LATERAL:
        raise DataError(
            f"{name}: is {data.shape[-2]}x{data.shape[-1]} laterally; give at least {MIN_LATERAL}x{MIN_LATERAL}"
        )
    if np.issubdtype(data.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        if bad:
            raise DataError(f"{name}: has {bad} NaN/Inf voxels; replace them (e.g. with 0) before denoising")
    low, high = data.min(), data.max()
    if low == high:
        raise DataError(f"{name}: is constant (every voxel is {low}); there is nothing to denoise")
    return axes


def denoise_steps(
    data: np.ndarray,
    mode: str = "sis",
    *,
    voxel_size: Sequence[float] | None = None,
    options: DenoiseOptions | None = None,
    device: str | torch.device = "auto",
    cancel: CancelToken | None = None,
    name: str = "input",
) -> Generator[Event, None, DenoiseResult]:
    """Learn to denoise ``data`` from itself (``sis``: ZYX stack; ``tis``: TYX or TZYX) and denoise it.

    ``voxel_size`` covers the spatial axes (Z,Y,X or Y,X; never T) and sets the FNSM's frequency units.
    """
    options = options or DenoiseOptions()
    axes = check_denoise_input(data, mode, name)
    if options.gamma < 0 or not math.isfinite(options.gamma):
        raise UsageError(f"gar {options.gamma}: the regulariser weight must be 0 or positive")
    if options.sis_inference not in SIS_INFERENCE:
        raise UsageError(f"sis_inference {options.sis_inference!r}: choose one of {', '.join(SIS_INFERENCE)}")
    if options.gap not in SIS_INFERENCE:
        raise UsageError(f"gap {options.gap!r}: choose one of {', '.join(SIS_INFERENCE)}")
    spatial = axes.replace("T", "")
    if voxel_size is not None:
        voxel_size = tuple(float(v) for v in voxel_size)
        if len(voxel_size) != len(spatial) or min(voxel_size) <= 0:
            raise UsageError(f"voxel size {voxel_size}: give {len(spatial)} positive numbers ({spatial})")
    dev = resolve_device(device)
    rng = np.random.default_rng(options.seed)
    if options.seed is not None:
        torch.manual_seed(options.seed)
    normalizer = Normalizer.fit(data)
    x = normalizer.forward(data)
    spacing = voxel_size
    if mode == "sis" and voxel_size is not None:  # the network only ever sees half-stacks: twice the z-step
        spacing = (2 * voxel_size[0], *voxel_size[1:])
    config = DenoiseConfig(len(spatial), options.features, options.depth, options.fnsm, spacing, mode)
    model = DenoiseNet(config)
    sampler = Sampler(x, axes, options, rng)
    what = "even slices predict odd ones" if mode == "sis" else "even time points predict odd ones"
    gar = f"GAR γ={options.gamma:g}" if options.gamma else "no GAR"
    yield StageInfo(mode, f"{mode.upper()}: {what} ({gar}{', FNSM' if options.fnsm else ''}), patches {sampler.patch}")
    log = yield from train_denoiser(model, sampler, options, device=dev, stage=mode, cancel=cancel)
    if model.fnsm is not None:
        yield StageInfo(mode, model.fnsm.report())
    yield StageInfo("inference", "denoising the whole input")
    yield InferProgress("inference", 0, 1)
    y = apply_denoiser(
        model, x, axes, device=dev, max_tile_output=options.max_tile_output, sis_inference=options.sis_inference
    )
    yield InferProgress("inference", 1, 1)
    return DenoiseResult(
        data=normalizer.inverse(y, inplace=True),
        mode=mode,
        model=model,
        voxel_size=voxel_size,
        train_seconds=log.seconds,
        log=log,
        normalizer=normalizer,
    )


def apply_denoiser_steps(
    model: DenoiseNet,
    data: np.ndarray,
    mode: str | None = None,
    *,
    voxel_size: Sequence[float] | None = None,
    options: DenoiseOptions | None = None,
    device: str | torch.device = "auto",
    name: str = "input",
) -> Generator[Event, None, DenoiseResult]:
    """Denoise ``data`` with an already trained ``model`` (no training); ``mode`` defaults to the model's own.

    ``voxel_size`` is only carried into the result: a model with FNSM filters at the voxel size it was
    trained with.
    """
    mode = model.config.mode if mode is None else mode
    axes = check_denoise_input(data, mode, name)
    if mode != model.config.mode:
        raise UsageError(
            f"this denoiser was trained for {model.config.mode} and cannot run {mode}; use --mode {model.config.mode}"
        )
    spatial = len(axes.replace("T", ""))
    if spatial != model.config.ndim:
        raise DataError(
            f"{name}: has {spatial}D frames ({axes}) but the denoiser was trained on {model.config.ndim}D ones"
        )
    options = options or DenoiseOptions()
    dev = resolve_device(device)
    normalizer = Normalizer.fit(data)
    yield StageInfo("inference", f"denoising with a saved {mode.upper()} model (no training)")
    yield InferProgress("inference", 0, 1)
    y = apply_denoiser(model, normalizer.forward(data), axes, device=dev, max_tile_output=options.max_tile_output)
    yield InferProgress("inference", 1, 1)
    return DenoiseResult(
        data=normalizer.inverse(y, inplace=True),
        mode=mode,
        model=model,
        voxel_size=None if voxel_size is None else tuple(float(v) for v in voxel_size),
        train_seconds=0.0,
        normalizer=normalizer,
    )
