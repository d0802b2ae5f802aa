"""Poisson–Gaussian noise model of raw SIM frames, measured from the frames themselves.

The detection OTF is zero beyond its cutoff k_c, well below the camera Nyquist frequency, so the part of each
frame's spectrum beyond k_c holds only noise. Its local power (divided by the fraction of the spectrum kept)
is the local noise variance; regressed on the local mean it gives ``Var(y) = gain·y + read_variance``
(y: counts above the offset).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .optics import OTF, otf_on_grid


@dataclass(frozen=True)
class NoiseModel:
    """``Var(y) = gain·max(y, 0) + read_variance`` for offset-subtracted counts ``y``."""

    gain: float
    read_variance: float

    def variance(self, signal: np.ndarray) -> np.ndarray:
        return self.gain * np.clip(signal, 0.0, None) + self.read_variance


def estimate_noise(frames: np.ndarray, pixel_um: float, otf: OTF, *, window: int = 15) -> NoiseModel:
    """Fit the noise model on frames ``(..., Y, X)`` (offset removed)."""
    images = np.asarray(frames, dtype=np.float64).reshape(-1, *frames.shape[-2:])
    outside = otf_on_grid(otf, images.shape[-2:], pixel_um) <= 0.0
    fraction = float(outside.mean())
    if fraction < 0.05:  # barely any band beyond the OTF: fall back to the top 30% of frequencies
        ky = np.fft.fftfreq(images.shape[-2])[:, None]
        kx = np.fft.fftfreq(images.shape[-1])[None, :]
        outside = np.hypot(ky, kx) > 0.35
        fraction = float(outside.mean())
    means, variances = [], []
    for image in images:
        noise = np.fft.ifft2(np.fft.fft2(image) * outside).real
        local_var = ndimage.uniform_filter(noise**2, window) / fraction
        local_mean = ndimage.uniform_filter(image, window)
        step = max(1, window // 2)
        means.append(local_mean[::step, ::step].ravel())
        variances.append(local_var[::step, ::step].ravel())
    mean = np.concatenate(means)
    var = np.concatenate(variances)
    edges = np.unique(np.percentile(mean, np.linspace(1, 99, 21)))
    centres, values = [], []
    for lo, hi in itertools.pairwise(edges):
        inside = (mean >= lo) & (mean < hi)
        if inside.sum() > 10:
            centres.append(float(np.median(mean[inside])))
            values.append(float(np.median(var[inside])))
    if len(centres) < 3:
        return NoiseModel(gain=1.0, read_variance=float(np.median(var)))
    gain, read = np.polyfit(centres, values, 1)
    gain = float(max(gain, 1e-6))
    read = float(max(read, 1e-6 * max(values)))
    return NoiseModel(gain=gain, read_variance=read)
