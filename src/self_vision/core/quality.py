"""Quality measurement: PSNR/SSIM (scikit-image) against a reference, and the classical baselines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from skimage import filters, metrics

from .degrade import back_project, crop_to_multiple, cubic_upsample, degrade


@dataclass(frozen=True)
class Scores:
    psnr: float
    ssim: float


def crop_reference(reference: np.ndarray, factor: Sequence[int]) -> np.ndarray:
    """The reference cropped to a multiple of the factor (what its degraded version covers)."""
    return crop_to_multiple(torch.from_numpy(np.ascontiguousarray(reference)), factor).numpy()


def degrade_array(
    volume: np.ndarray,
    factor: Sequence[int],
    operator: str = "area",
    psf_sigma: float = 0.5,
    sampling: Sequence[str] | None = None,
) -> np.ndarray:
    """Low-resolution version of a float array (numpy in, numpy out); ``sampling`` per axis, None = area."""
    t = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None]
    return degrade(t, factor, operator, psf_sigma, sampling)[0, 0].numpy()


def back_projection_baseline(
    low_res: np.ndarray,
    factor: Sequence[int],
    operator: str = "area",
    rounds: int = 10,
    psf_sigma: float = 0.5,
    sampling: Sequence[str] | None = None,
) -> np.ndarray:
    """Classical iterative back-projection: cubic start, then ``rounds`` rounds of ``y += up(x - down(y))``."""
    start = torch.from_numpy(cubic_upsample(low_res, factor))[None, None]
    x = torch.from_numpy(np.ascontiguousarray(low_res, dtype=np.float32))[None, None]
    with torch.no_grad():
        return back_project(start, x, factor, operator, rounds, psf_sigma, sampling)[0, 0].numpy()


def _scale(reference: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(reference, (0.1, 99.9))
    return float(low), float(max(high, low + 1e-12))


def foreground_mask(reference: np.ndarray) -> np.ndarray:
    """Voxels above Otsu's threshold of the (slightly smoothed) reference."""
    smooth = filters.gaussian(reference.astype(np.float32), sigma=1.0, preserve_range=True)
    return smooth > filters.threshold_otsu(smooth)


def score(
    result: np.ndarray,
    reference: np.ndarray,
    *,
    border: Sequence[int] | int = 0,
    mask: np.ndarray | None = None,
) -> Scores:
    """PSNR and SSIM of ``result`` vs ``reference`` after mapping the reference's 0.1-99.9 percentiles to 0-1.

    ``border`` voxels are cropped on each side first; with ``mask``, PSNR is over the masked voxels and SSIM
    is the mean of the SSIM map over them.
    """
    if result.shape != reference.shape:
        raise ValueError(f"shapes differ: result {result.shape} vs reference {reference.shape}")
    borders = [border] * reference.ndim if isinstance(border, int) else list(border)
    region = tuple(slice(b, s - b if b else None) for b, s in zip(borders, reference.shape, strict=True))
    low, high = _scale(reference)
    ref = ((reference[region] - low) / (high - low)).astype(np.float64)
    res = ((result[region] - low) / (high - low)).astype(np.float64)
    ssim_value, ssim_map = _ssim(ref, res)
    if mask is None:
        return Scores(float(metrics.peak_signal_noise_ratio(ref, res, data_range=1.0)), float(ssim_value))
    m = mask[region]
    mse = float(np.mean((ref[m] - res[m]) ** 2))
    return Scores(float(10 * np.log10(1.0 / max(mse, 1e-20))), float(ssim_map[m].mean()))


def _ssim(ref: np.ndarray, res: np.ndarray) -> tuple[float, np.ndarray]:
    """SSIM and its map; a stack too thin for a 3D window (< 3 slices) is scored plane by plane."""
    if ref.ndim == 3 and ref.shape[0] < 3:
        planes = [_ssim(r, s) for r, s in zip(ref, res, strict=True)]
        return float(np.mean([v for v, _ in planes])), np.stack([m for _, m in planes])
    win = min(7, *(s if s % 2 else s - 1 for s in ref.shape))
    value, ssim_map = metrics.structural_similarity(ref, res, data_range=1.0, win_size=win, full=True)
    return float(value), ssim_map
