"""Noise: its measurement (a Poisson-Gaussian curve), the self-check's top-up of its degraded held-out data
(:func:`top_up`), and optional noise-matched training pairs (:func:`matching_noise`).

A training pair's low side is made from the input by the degradation (:func:`..degrade.degrade`). Binning
averages noise away (a x4 block mean keeps half its standard deviation); a point sample keeps it; the axial
path's lateral planes are also resampled and blurred, which smooths it. A network trained on cleaner inputs
than it is applied to takes the input's noise for detail and amplifies it. So each stage measures the noise
of the data it will be applied to and of its training inputs, and adds Gaussian noise to the training inputs
to make up the difference (:func:`matching_noise`).

Microscope noise is Poisson-Gaussian: its variance grows with intensity (``a + b·I``). The noise is measured
as that curve (:func:`noise_curve`): finest-scale diagonal differences of each plane (a 2x2 Haar wavelet
detail; white noise passes with its own variance), grouped by local intensity, a robust (median absolute
deviation) variance per group, a line fitted through them (in the spirit of Foi et al. 2008, "Practical
Poissonian-Gaussian noise modeling"). A single median over the image (scikit-image's ``estimate_sigma``)
reads only the dim background and misses most of the Poisson noise of the foreground. Fine structure in a
bright group reads as noise, more so on the degraded side (finer per voxel), so the added noise errs low: a
clean input gets none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..degrade import degrade

#: Training inputs within this share of the target noise count as equally noisy (the estimator's own spread on
#: a point-sampled copy of white noise is a few per cent; without it a matched input would get 0.3 sigma more).
TOLERANCE = 0.1
#: Largest crop (voxels per axis) the noise is measured on: enough samples for a stable median, cheap.
MEASURE_CROP = (32, 128, 128)


@dataclass(frozen=True)
class NoiseCurve:
    """Noise variance as a function of intensity, ``offset + slope · I`` (normalised units; both >= 0)."""

    offset: float
    slope: float

    def variance(self, intensity: np.ndarray) -> np.ndarray:
        return self.offset + self.slope * np.clip(intensity, 0.0, None)

    def binned(self, count: int) -> NoiseCurve:
        """The curve of a block mean of ``count`` samples (Poisson sums stay Poisson: variance / count)."""
        return NoiseCurve(self.offset / count, self.slope / count)

    def level(self, data: np.ndarray) -> float:
        """The RMS noise of ``data`` under this curve (its mean variance, square-rooted)."""
        return float(np.sqrt(max(0.0, float(np.mean(self.variance(_crop(data)))))))


@dataclass(frozen=True)
class NoiseMatch:
    """Noise (RMS standard deviation, normalised intensity) of the data a stage is applied to, of its training
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


#: Intensity groups the noise curve is fitted over, and the fewest samples a group needs.
CURVE_GROUPS = 16
MIN_GROUP = 64


def _crop(data: np.ndarray) -> np.ndarray:
    crop = tuple(
        slice(max(0, (n - c) // 2), max(0, (n - c) // 2) + c)
        for n, c in zip(data.shape, MEASURE_CROP[-data.ndim :], strict=True)
    )
    return np.asarray(data[crop], dtype=np.float64)


def noise_curve(data: np.ndarray) -> NoiseCurve:
    """The Poisson-Gaussian noise curve of ``data`` (2D, or a stack of planes / a 3D volume: measured in its
    planes), on a central crop of at most :data:`MEASURE_CROP`."""
    x = _crop(data)
    if x.shape[-1] < 2 or x.shape[-2] < 2:
        return NoiseCurve(0.0, 0.0)
    a, b, c, d = x[..., :-1, :-1], x[..., :-1, 1:], x[..., 1:, :-1], x[..., 1:, 1:]
    detail = ((a - b - c + d) / 2).ravel()  # white noise of variance v gives variance v
    mean = ((a + b + c + d) / 4).ravel()
    groups = min(CURVE_GROUPS, detail.size // MIN_GROUP)
    if groups < 2:
        mad = float(np.median(np.abs(detail))) / 0.6745
        return NoiseCurve(mad**2, 0.0)
    order = np.argsort(mean)
    levels, variances, weights = [], [], []
    for part in np.array_split(order, groups):
        levels.append(float(np.mean(mean[part])))
        variances.append((float(np.median(np.abs(detail[part]))) / 0.6745) ** 2)
        weights.append(part.size)
    slope, offset = np.polyfit(levels, variances, 1, w=np.sqrt(weights))
    if slope < 0:  # no growth with intensity: a constant level
        slope, offset = 0.0, float(np.average(variances, weights=weights))
    return NoiseCurve(max(0.0, float(offset)), float(slope))


def noise_sigma(data: np.ndarray) -> float:
    """The RMS noise of ``data`` (see :func:`noise_curve`)."""
    return noise_curve(data).level(data)


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


def top_up(low: np.ndarray, target: NoiseCurve | None, seed: int = 0) -> np.ndarray:
    """``low`` with Gaussian noise added, voxel by voxel, up to the ``target`` curve's variance at its intensity
    (``low`` itself when its own curve is already within :data:`TOLERANCE` of it everywhere).

    The self-check degrades held-out data the way the run's training pairs are made; blur and resampling
    smooth the noise away, so without this the classical methods and the network would be scored on inputs
    cleaner than the real one, and back-projection, which puts the input's noise back, would look better than
    it is. (``target`` is chosen by the caller: see ``check._expected_noise``.) A fixed seed keeps the check
    reproducible.
    """
    if target is None or (target.offset <= 0 and target.slope <= 0):
        return low
    wanted, have = target.variance(low), noise_curve(low).variance(low)
    missing = np.where(have < wanted * (1 - TOLERANCE) ** 2, wanted - have, 0.0)
    if not np.any(missing > 0):
        return low
    added = np.random.default_rng(seed).standard_normal(low.shape) * np.sqrt(np.clip(missing, 0.0, None))
    return (low + added).astype(low.dtype, copy=False)
