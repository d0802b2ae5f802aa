"""Synthetic 2D-SIM data with known truth: filaments on a grid 4× finer than the camera, a known pattern,
an ideal NA 1.35 / 488 nm OTF, Poisson shot noise and Gaussian read noise on a camera offset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .fourier import resample, resize_spectrum
from .optics import OTF, expected_k0, otf_on_grid, theoretical_otf
from .pattern import PatternParams

FINE = 4  # fine grid / camera grid


@dataclass
class SimulatedSIM:
    """Raw frames ``(9, N, N)`` in counts (with offset), the truth on the 2× grid and everything that made them."""

    raw: np.ndarray
    truth_2x: np.ndarray
    params: list[PatternParams]
    pixel_size_um: float
    otf: OTF
    offset: float
    photons: float


def filaments(shape: tuple[int, int], n: int, rng: np.random.Generator, *, pixel_um: float) -> np.ndarray:
    """Thin smooth curved lines (≈ 25 nm wide) with a little brightness variation, max ≈ 1."""
    image = np.zeros(shape, dtype=np.float64)
    step = 0.5  # fine pixels per point
    length = int(2.5 * max(shape) / step)
    for _ in range(n):
        pos = rng.uniform(0, 1, 2) * np.array(shape)
        angle = rng.uniform(0, 2 * np.pi)
        curvature = rng.normal(0, 0.004)
        bright = rng.uniform(0.5, 1.0)
        turns = np.cumsum(rng.normal(0, 0.01, length)) + curvature * np.arange(length)
        ys = pos[0] + np.cumsum(step * np.sin(angle + turns))
        xs = pos[1] + np.cumsum(step * np.cos(angle + turns))
        inside = (ys >= 0) & (ys < shape[0] - 1) & (xs >= 0) & (xs < shape[1] - 1)
        np.add.at(image, (ys[inside].astype(int), xs[inside].astype(int)), bright)
    width = 0.025 / pixel_um / 2.355
    image = ndimage.gaussian_filter(image, max(width, 0.5))
    return image / max(image.max(), 1e-12)


def default_params(k0: float, *, angles=(1.48, 2.527, 3.574), modulation=0.8, seed=0) -> list[PatternParams]:
    """Three orientations with equally spaced phases (random offsets) and one |k0|."""
    rng = np.random.default_rng(seed)
    out = []
    for angle in angles:
        start = rng.uniform(0, 2 * np.pi)
        phases = tuple(float((start + 2 * np.pi * p / 3) % (2 * np.pi)) for p in range(3))
        out.append(PatternParams(k0=(k0 * np.sin(angle), k0 * np.cos(angle)), phases=phases, modulation=modulation))
    return out


def simulate_sim(
    n: int = 128,
    photons: float = 200.0,
    *,
    pixel_um: float = 0.0626,
    na: float = 1.35,
    wavelength_um: float = 0.488,
    n_filaments: int | None = None,
    modulation: float = 0.8,
    background: float = 0.05,
    read_noise: float = 1.5,
    offset: float = 100.0,
    seed: int = 0,
    params: list[PatternParams] | None = None,
    noise: bool = True,
) -> SimulatedSIM:
    """Simulate one 2D-SIM acquisition of ``n × n`` camera pixels; ``photons`` is the peak expected count.

    Each frame is ``OTF ⊛ (object × (1 + m·cos(2π k0·r + φ)))`` computed on the fine grid and Fourier-sampled
    to the camera grid; ``background`` (fraction of the peak) is added before the noise.
    """
    rng = np.random.default_rng(seed)
    fine_px = pixel_um / FINE
    shape = (n * FINE, n * FINE)
    obj = filaments(shape, n_filaments or max(8, n // 6), rng, pixel_um=fine_px)
    k0 = expected_k0(wavelength_um, na)
    params = params or default_params(k0, modulation=modulation, seed=seed + 1)
    otf = theoretical_otf(na, wavelength_um)
    otf_fine = otf_on_grid(otf, shape, fine_px)
    y = np.arange(shape[0])[:, None] * fine_px
    x = np.arange(shape[1])[None, :] * fine_px
    frames = []
    for p in params:
        for phase in p.phases:
            pattern = 1.0 + p.modulation * np.cos(2 * np.pi * (p.k0[0] * y + p.k0[1] * x) + phase)
            spectrum = np.fft.fft2(obj * pattern) * otf_fine
            frames.append(np.fft.ifft2(resize_spectrum(spectrum, (n, n))).real / FINE**2)
    clean = np.clip(np.stack(frames), 0.0, None)
    scale = photons / clean.max()
    expected = clean * scale + background * photons
    if noise:
        counts = rng.poisson(expected).astype(np.float64) + rng.normal(0.0, read_noise, expected.shape)
    else:
        counts = expected
    truth = resample(obj, (2 * n, 2 * n)) * scale
    return SimulatedSIM(
        raw=(counts + offset).astype(np.float32),
        truth_2x=truth.astype(np.float32),
        params=params,
        pixel_size_um=pixel_um,
        otf=otf,
        offset=offset,
        photons=photons,
    )
