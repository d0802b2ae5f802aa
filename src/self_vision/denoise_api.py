"""The Python API for self-supervised denoising: ``denoise`` (SiS for z-stacks, TiS for time-lapses), and
``save_denoiser`` / ``load_denoiser`` to keep a trained denoiser and apply it to other data without training."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .core.denoise import (
    DenoiseNet,
    DenoiseOptions,
    DenoiseResult,
    apply_denoiser_steps,
    denoise_steps,
    load_denoiser,
    save_denoiser,
)
from .core.events import CancelToken, Event
from .core.pipeline import run_to_end

__all__ = [
    "DenoiseNet",
    "DenoiseOptions",
    "DenoiseResult",
    "denoise",
    "denoise_steps",
    "load_denoiser",
    "save_denoiser",
]


def denoise(
    data: np.ndarray,
    mode: str | None = None,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str = "auto",
    time_budget: float | None = None,
    steps: int | None = None,
    seed: int | None = None,
    gar: float = 1.0,
    fnsm: bool = False,
    progress: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
    options: DenoiseOptions | None = None,
    name: str = "input",
    model: DenoiseNet | str | Path | None = None,
) -> DenoiseResult:
    """Denoise ``data`` learning from the data alone; returns a :class:`DenoiseResult`.

    ``mode="sis"`` (the default when training): a ZYX stack, even slices predict odd ones (z-sampling near Nyquist);
    ``mode="tis"``: a TYX or TZYX time-lapse, even time points predict odd ones. ``gar`` weighs the
    gap-amending regulariser (0: off); ``fnsm`` adds the Fourier noise-suppression first stage.
    Training stops after ``steps`` or ``time_budget`` seconds, whichever comes first (default 30 s).
    ``progress`` receives every event; ``cancel`` stops the run between steps.

    ``model``: a trained denoiser (a :class:`DenoiseNet`, e.g. ``result.model``, or the path of a file written
    by :func:`save_denoiser`) to apply without training; the training arguments are then ignored and
    ``mode`` must match the model's (it defaults to it).
    """
    if model is not None:
        net = model if isinstance(model, DenoiseNet) else load_denoiser(model)
        gen = apply_denoiser_steps(net, data, mode, voxel_size=voxel_size, options=options, device=device, name=name)
        result = run_to_end(gen, progress)
        assert isinstance(result, DenoiseResult)
        return result
    opts = replace(options or DenoiseOptions(), gamma=gar, fnsm=fnsm)
    if seed is not None:
        opts = replace(opts, seed=seed)
    if time_budget is not None or steps is not None:
        opts = replace(opts, time_budget=time_budget, steps=steps)
    gen = denoise_steps(
        data, mode or "sis", voxel_size=voxel_size, options=opts, device=device, cancel=cancel, name=name
    )
    result = run_to_end(gen, progress)
    assert isinstance(result, DenoiseResult)
    return result
