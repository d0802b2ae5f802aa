"""Planning a run: which path learns which factor, in which steps, from which patch size."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import DataError, UsageError
from ..model import ModelConfig
from ..validate import MIN_LOW_RES
from .options import PATHS, EnhanceOptions


def plan_path(shape: Sequence[int], factor: Sequence[int], path: str) -> str:
    """Resolve ``auto`` and check that the chosen path can learn from this shape."""
    if path not in PATHS:
        raise UsageError(f"unknown path {path!r}; choose one of {', '.join(PATHS)}")
    if len(shape) == 2 or factor[0] == 1:
        return "3d"
    if path == "auto":
        return "lateral-axial"
    if path == "3d" and shape[0] < factor[0] * MIN_LOW_RES:
        raise DataError(
            f"input has {shape[0]} slices, too few to learn a {factor[0]}x axial factor from z itself "
            f"(needs {factor[0] * MIN_LOW_RES}); use the lateral-axial path"
        )
    return path


def volume_patch(shape: Sequence[int], factor: Sequence[int]) -> tuple[int, ...]:
    """High-resolution training patch for a volume-kind stage."""
    nd = len(factor)
    lateral_lr = 16 if nd == 3 else 24
    patch = []
    for axis, (size, f) in enumerate(zip(shape, factor, strict=True)):
        lr = (min(8, size // f) if f > 1 else min(8, size)) if nd == 3 and axis == 0 else min(lateral_lr, size // f)
        patch.append(max(1, lr) * f)
    return tuple(patch)


def step_target_blur(total: Sequence[int], sampling: Sequence[str], psf: float) -> tuple[float, ...]:
    """Extra Gaussian blur (sigma, input voxels) per axis of a volume stage's training patches.

    On a step (point-sampled) axis with total factor ``F`` the input's PSF is ``psf`` output voxels wide, i.e.
    ``psf / F`` of its own voxels, while the result must carry ``psf`` of *its* voxels. Pairs cut from the raw
    input would teach the network to make detail ``F`` times sharper than the optics allow (and to read
    aliasing as detail); blurring the patches by ``psf * sqrt(1 - 1/F^2)`` makes their blur, in their own
    voxels, the result's. A binned axis needs none (its box average is the low-pass).
    """
    c = float(psf)
    return tuple(
        c * math.sqrt(1.0 - 1.0 / f**2) if s == "point" and f > 1 and c > 0 else 0.0
        for f, s in zip(total, sampling, strict=True)
    )


def model_config(factor: tuple[int, ...], options: EnhanceOptions) -> ModelConfig:
    return ModelConfig(
        factor, features=options.features, mapping=options.mapping, residual=options.residual, fnsm=options.fnsm
    )


def gradual_steps(factor: Sequence[int]) -> list[tuple[int, ...]]:
    """Split per-axis factors into steps of prime factors: (1, 4, 4) -> [(1, 2, 2), (1, 2, 2)].

    Zero-shot pairs for a large factor come from a much coarser copy of the input, where small structures
    vanish; small steps keep the pairs' scale close to the scale the model is applied at.
    """
    remaining = [int(f) for f in factor]
    steps = []
    while any(r > 1 for r in remaining):
        step = tuple(_smallest_prime_factor(r) for r in remaining)
        steps.append(step)
        remaining = [r // s for r, s in zip(remaining, step, strict=True)]
    return steps


def _smallest_prime_factor(n: int) -> int:
    if n == 1:
        return 1
    return next(p for p in range(2, n + 1) if n % p == 0)
