"""Small Fourier helpers shared by the SIM modules (unshifted numpy FFT layout)."""

from __future__ import annotations

import numpy as np


def resize_spectrum(spectrum: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Zero-pad or crop an unshifted 2D spectrum (last two axes) to ``shape`` around k = 0 (no rescaling)."""
    old = spectrum.shape[-2:]
    dtype = np.complex128 if spectrum.dtype == np.complex128 else np.complex64
    out = np.zeros(spectrum.shape[:-2] + tuple(shape), dtype=dtype)
    ny, nx = min(old[0], shape[0]), min(old[1], shape[1])
    ys = np.r_[0 : (ny + 1) // 2, -(ny // 2) : 0] if ny > 1 else np.r_[0:1]
    xs = np.r_[0 : (nx + 1) // 2, -(nx // 2) : 0] if nx > 1 else np.r_[0:1]
    out[..., ys[:, None], xs[None, :]] = spectrum[..., ys[:, None], xs[None, :]]
    return out


def resample(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Band-limited resampling of real images (last two axes) to ``shape``; sample 0 stays at position 0 and the
    mean is kept."""
    old = image.shape[-2:]
    spectrum = np.fft.fft2(image.astype(np.float64), axes=(-2, -1))
    scale = (shape[0] * shape[1]) / (old[0] * old[1])
    return np.fft.ifft2(resize_spectrum(spectrum, shape), axes=(-2, -1)).real * scale


def dtft2(values: np.ndarray, k: tuple[float, float], pixel_um: float) -> complex:
    """``Σ_r values(r)·exp(−2πi k·r)`` at one (possibly non-grid) frequency ``k = (ky, kx)`` cycles/µm.

    ``r`` is the pixel index times ``pixel_um``."""
    ny, nx = values.shape
    ey = np.exp(-2j * np.pi * k[0] * np.arange(ny) * pixel_um)
    ex = np.exp(-2j * np.pi * k[1] * np.arange(nx) * pixel_um)
    return complex(ey @ values @ ex)


def dtft2_grid(values: np.ndarray, ky: np.ndarray, kx: np.ndarray, pixel_um: float) -> np.ndarray:
    """:func:`dtft2` on the outer grid ``ky × kx`` at once (two matrix products)."""
    ny, nx = values.shape
    ey = np.exp(-2j * np.pi * np.outer(ky, np.arange(ny) * pixel_um))
    ex = np.exp(-2j * np.pi * np.outer(np.arange(nx) * pixel_um, kx))
    return ey @ values @ ex


def phase_ramp(shape: tuple[int, int], k: tuple[float, float], pixel_um: float) -> np.ndarray:
    """``exp(2πi k·r)`` on an image grid (multiplying by it shifts the spectrum by +k)."""
    y = np.arange(shape[0])[:, None] * pixel_um
    x = np.arange(shape[1])[None, :] * pixel_um
    return np.exp(2j * np.pi * (k[0] * y + k[1] * x))


def edge_taper(frames: np.ndarray, width: int) -> np.ndarray:
    """Blend the outer ``width`` pixels of each frame (last two axes) smoothly towards its mean (less FFT edge leak)."""
    if width <= 0:
        return frames
    ny, nx = frames.shape[-2:]
    width = min(width, ny // 4, nx // 4)

    def ramp(n: int) -> np.ndarray:
        w = np.ones(n)
        t = 0.5 - 0.5 * np.cos(np.pi * (np.arange(width) + 0.5) / width)
        w[:width], w[n - width :] = t, t[::-1]
        return w

    window = (ramp(ny)[:, None] * ramp(nx)[None, :]).astype(np.float32)
    mean = frames.mean(axis=(-2, -1), keepdims=True)
    return (frames - mean) * window + mean
