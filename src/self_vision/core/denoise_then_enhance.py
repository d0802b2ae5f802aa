"""Denoise-then-enhance as one run, for noisy undersampled volumes.

SiS denoising first (it learns from the noisy volume itself), then zero-shot enhancement of the denoised
volume: the enhancer's training pairs come from clean-looking data, so it does not learn to sharpen the
noise. Both stages' events pass through unchanged; the result is the enhancement's, in the input's
intensity units (the denoiser returns its output in the units it was given).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import replace

import numpy as np
import torch

from .denoise.options import DenoiseOptions
from .denoise.run import denoise_steps
from .enhance.options import EnhanceOptions
from .enhance.run import EnhanceResult, enhance_steps
from .errors import CancelledError
from .events import CancelToken, Event, StageInfo


def denoise_then_enhance_steps(
    volume: np.ndarray,
    factor: Sequence[int] | str | int,
    *,
    voxel_size: Sequence[float] | None = None,
    enhance_options: EnhanceOptions | None = None,
    denoise_options: DenoiseOptions | None = None,
    device: str | torch.device = "auto",
    cancel: CancelToken | None = None,
    name: str = "input",
) -> Generator[Event, None, EnhanceResult]:
    """SiS-denoise the ZYX ``volume``, then enhance it by ``factor``; returns the :class:`EnhanceResult`.

    The result's ``logs`` hold the denoiser's training log under ``"sis"`` next to the enhancer's, and
    ``train_seconds`` counts both. Its ``model`` is the enhancer alone (applying it later skips denoising).
    """
    denoised = yield from denoise_steps(
        volume, "sis", voxel_size=voxel_size, options=denoise_options, device=device, cancel=cancel, name=name
    )
    if cancel is not None and cancel.cancelled:
        raise CancelledError("cancelled by the user")
    yield StageInfo("enhance", "enhancing the denoised volume")
    result = yield from enhance_steps(
        denoised.data,
        factor,
        voxel_size=voxel_size,
        options=enhance_options,
        device=device,
        cancel=cancel,
        name=f"{name} (denoised)",
    )
    return replace(
        result,
        logs={"sis": denoised.log, **result.logs},
        train_seconds=denoised.train_seconds + result.train_seconds,
    )
