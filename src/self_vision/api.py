"""The Python API: enhance, evaluate, save_model, load_model (the CLI and the napari widget call these)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .core.degrade import cubic_upsample
from .core.errors import DataError
from .core.events import CancelToken, Event
from .core.pipeline import (
    EnhanceOptions,
    Enhancer,
    EnhanceResult,
    apply_model_steps,
    enhance_steps,
    load_model,
    run_to_end,
    save_model,
)
from .core.quality import back_projection_baseline, crop_reference, degrade_array, score
from .core.validate import MIN_LOW_RES, check_volume, parse_factor

__all__ = [
    "CancelToken",
    "EnhanceOptions",
    "EnhanceResult",
    "Enhancer",
    "Evaluation",
    "enhance",
    "enhance_steps",
    "evaluate",
    "load_model",
    "save_model",
]


def enhance(
    volume: np.ndarray,
    factor: Sequence[int] | str | int,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str = "auto",
    time_budget: float | None = None,
    steps: int | None = None,
    seed: int | None = None,
    progress: Callable[[Event], None] | None = None,
    model: Enhancer | None = None,
    cancel: CancelToken | None = None,
    options: EnhanceOptions | None = None,
    name: str = "input",
    uncertainty: bool = False,
) -> EnhanceResult:
    """Enhance ``volume`` (2D YX or 3D ZYX) by per-axis ``factor``, learning from the volume alone.

    With ``model`` (from :func:`load_model` or an earlier result's ``.model``) nothing is trained.
    ``progress`` receives every event (training steps, stages); ``cancel`` stops the run between steps.
    Training stops after ``steps`` or ``time_budget`` seconds, whichever comes first (default 40 s).
    ``uncertainty`` (or ``options.uncertainty``) also sets ``result.uncertainty``: a per-voxel estimate of
    the error, in the input's units (see :mod:`self_vision.core.uncertainty`).
    """
    if model is not None:
        gen = apply_model_steps(
            model, volume, voxel_size=voxel_size, device=device, ensemble=bool(options and options.ensemble), name=name
        )
    else:
        opts = replace(
            options or EnhanceOptions(), seed=seed if seed is not None else (options or EnhanceOptions()).seed
        )
        if time_budget is not None or steps is not None:
            opts = replace(opts, time_budget=time_budget, steps=steps)
        gen = enhance_steps(
            volume, factor, voxel_size=voxel_size, options=opts, device=device, cancel=cancel, name=name
        )
    if uncertainty or (options is not None and options.uncertainty):
        from .core.uncertainty import with_uncertainty_steps

        gen = with_uncertainty_steps(
            gen, volume, model.factor if model is not None else factor, device=device, options=options, name=name
        )
    result = run_to_end(gen, progress)
    assert isinstance(result, EnhanceResult)
    return result


@dataclass(frozen=True)
class Evaluation:
    """Scores of the enhanced volume and of the baselines against a reference."""

    factor: tuple[int, ...]
    operator: str
    scores: dict[str, dict[str, float]]  # method -> {"psnr": ..., "ssim": ...}
    train_seconds: float
    path: str

    def gain_over_cubic(self) -> float:
        return self.scores["enhanced"]["psnr"] - self.scores["cubic"]["psnr"]


def evaluate(
    reference: np.ndarray,
    factor: Sequence[int] | str | int,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str = "auto",
    options: EnhanceOptions | None = None,
    progress: Callable[[Event], None] | None = None,
    name: str = "reference",
) -> Evaluation:
    """Degrade ``reference`` with the training operator, enhance it, and score it beside cubic and back-projection."""
    check_volume(reference, name)
    factor = parse_factor(factor, reference.ndim)
    for axis, (size, f) in zip("ZYX"[-reference.ndim :], zip(reference.shape, factor, strict=True), strict=True):
        if f > 1 and size < f * MIN_LOW_RES:
            raise DataError(
                f"{name}: axis {axis} has {size} voxels, too few to evaluate a {f}x factor "
                f"(needs {f * MIN_LOW_RES}); use a smaller factor or a larger reference"
            )
    options = options or EnhanceOptions()
    reference = crop_reference(reference.astype(np.float32), factor)
    low = degrade_array(reference, factor, options.operator, options.psf_sigma)
    low_voxel = None if voxel_size is None else tuple(v * f for v, f in zip(voxel_size, factor, strict=True))
    result = run_to_end(enhance_steps(low, factor, voxel_size=low_voxel, options=options, device=device), progress)
    assert isinstance(result, EnhanceResult)
    border = [min(2 * f, s // 4) for f, s in zip(factor, reference.shape, strict=True)]
    candidates = {
        "enhanced": result.data,
        "cubic": cubic_upsample(low, factor),
        "back-projection": back_projection_baseline(low, factor, options.operator, 10, options.psf_sigma),
    }
    scores = {}
    for name, data in candidates.items():
        s = score(data, reference, border=border)
        scores[name] = {"psnr": s.psnr, "ssim": s.ssim}
    return Evaluation(factor, options.operator, scores, result.train_seconds, result.path)
