"""Noise in the training pairs: the low-resolution side of a pair should be as noisy as the data the stage is
applied to.

A training pair's low side is made from the input by the degradation (:func:`..degrade.degrade`). Binning
averages noise away (a x4 block mean keeps half its standard deviation); a point sample keeps it; the axial
path's lateral planes are also resampled and blurred, which smooths it. A network trained on cleaner inputs
than it is applied to takes the input's noise for detail and amplifies it. So each stage measures the noise
of the data it will be applied to and of its training inputs, and adds Gaussian noise to the training inputs
to make up the difference (:func:`matching_noise`).

The noise is measured with scikit-image's wavelet estimator (``estimate_sigma``: the median absolute finest-
scale diagonal wavelet coefficient, Donoho & Johnstone 1994). It reads structure as noise on fine-grained data,
more so on the degraded side (its structure is finer per voxel), so the added noise errs low: a clean input
gets none. Poisson noise is matched by its average level, not its dependence on intensity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from skimage.restoration import estimate_sigma

from ..degrade import degrade

#: Training inputs within this share of the target noise count as equally noisy (the estimator's own spread on
#: a point-sampled copy of white noise is a few per cent; without it a matched input would get 0.3 sigma more).
TOLERANCE = 0.1
#: Largest crop (voxels per axis) the noise is measured on: enough samples for a stable median, cheap.
MEASURE_CROP = (32, 128, 128)


@dataclass(frozen=True)
class NoiseMatch:
    """Noise (standard deviation, normalised intensity) of the data a stage is applied to, of its training
    inputs as degraded, and the Gaussian noise added to the training inputs to make them equal."""

    applied_to: float
    training_inputs: float
    added: float

    def summary(self) -> str:
        if self.added <= 0:
            return f"noise {self.applied_to:.3f}; training inputs already as noisy ({self.training_inputs:.3f})"
        return (
            f"noise {self.applied_to:.3f}; training inputs {self.training_inputs:.3f}, +{self.added:.3f} added to match"
        )


def noise_sigma(data: np.ndarray) -> float:
    """The Gaussian-equivalent noise level of ``data`` (a central crop of at most :data:`MEASURE_CROP`)."""
    crop = tuple(
        slice(max(0, (n - c) // 2), max(0, (n - c) // 2) + c)
        for n, c in zip(data.shape, MEASURE_CROP[-data.ndim :], strict=True)
    )
    return float(estimate_sigma(np.asarray(data[crop], dtype=np.float64)))


def matching_noise(
    applied_to: Sequence[np.ndarray],
    training: Sequence[np.ndarray],
    factor: Sequence[int],
    sampling: Sequence[str],
    operator: str = "area",
    psf_sigma: float = 0.5,
) -> NoiseMatch:
    """How much Gaussian noise the training inputs need to be as noisy as the data the stage is applied to.

    ``applied_to``: the arrays the stage will enhance; ``training``: the high-resolution sources its pairs are
    cut from (each degraded by ``factor`` the way the run samples, ``sampling``); the largest of each is measured.
    """
    target = noise_sigma(max(applied_to, key=lambda a: a.size))
    source = max(training, key=lambda a: a.size)
    per_axis = (1,) * (source.ndim - len(factor)) + tuple(factor)  # a plane stack's first axis is not degraded
    if any(n < 2 * f for n, f in zip(source.shape, per_axis, strict=True)):
        return NoiseMatch(target, target, 0.0)  # too small to degrade: nothing to measure, nothing added
    crop = tuple(
        slice(0, min(n, c * f)) for n, c, f in zip(source.shape, MEASURE_CROP[-source.ndim :], per_axis, strict=True)
    )
    t = torch.from_numpy(np.ascontiguousarray(source[crop], dtype=np.float32))
    planes = source.ndim > len(factor)  # a stack of planes (N, H, W) with a 2D factor
    t = t[:, None] if planes else t[None, None]
    low = degrade(t, factor, operator, psf_sigma, sampling).numpy()
    trained = noise_sigma(low[:, 0] if planes else low[0, 0])
    added = 0.0 if trained >= (1 - TOLERANCE) * target else float(np.sqrt(target**2 - trained**2))
    return NoiseMatch(target, trained, added)
