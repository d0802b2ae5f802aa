"""Peer column for ``benchmarks/quality.py``: CARE isotropic, run in its own environment by ``care_peer.py``.

Only axial-only factors ``(f, 1, 1)`` of 3D volumes are a CARE isotropic task. The z-upsampled input is made here
on the product's pixel-area grid (linear, csbdeep's own interpolation order) so that CARE predicts with factor 1
and its output is scored on the same grid as everything else; the extra axial blur its training planes get is the
one the product uses without optics (``nyquist_axial_blur``: the output's z spacing), so both methods share it.
Build the environment with ``make care-env``.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch

from self_vision.core.degrade import upsample_linear
from self_vision.core.enhance.axial import nyquist_axial_blur

CARE_PYTHON = Path(__file__).resolve().parents[1] / ".venv-care" / "bin" / "python"
CARE_SCRIPT = Path(__file__).resolve().with_name("care_peer.py")
#: Training length: exact steps, so runs repeat (300 steps of 16 patches, about 5 minutes on one core of the
#: benchmark machine; the issue's first CARE measurement trained for 4 minutes).
CARE_STEPS_PER_EPOCH = 50
CARE_EPOCHS = 6
CARE_PATCH = 64


def care_available() -> bool:
    """Whether ``make care-env`` has built the peer's environment."""
    return CARE_PYTHON.exists()


def _gaussian_kernel(sigma_px: float) -> np.ndarray:
    """A (1, K) Gaussian along X (the axis that plays z), normalised; a delta for sigma 0."""
    if sigma_px <= 0.05:
        return np.ones((1, 1), np.float32)
    radius = max(1, int(np.ceil(3 * sigma_px)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma_px) ** 2)
    return (kernel / kernel.sum()).astype(np.float32)[None]


def care_isotropic(
    low: np.ndarray, factor: tuple[int, ...], voxel_low: tuple[float, ...], seed: int, threads: int
) -> tuple[np.ndarray, float] | None:
    """CARE isotropic's restoration of ``low`` (Z, Y, X) by ``factor`` and its training seconds; None when the
    case is not an axial-only 3D one or the environment is missing."""
    if low.ndim != 3 or factor[1:] != (1, 1) or factor[0] < 2 or not care_available():
        return None
    fz = factor[0]
    dy = voxel_low[1]
    blur_um = nyquist_axial_blur(voxel_low[0] / fz)
    upsampled = upsample_linear(torch.from_numpy(np.ascontiguousarray(low))[None, None], (fz, 1, 1))[0, 0].numpy()
    with tempfile.TemporaryDirectory() as tmp:
        case, out = Path(tmp) / "case.npz", Path(tmp) / "out.npz"
        np.savez(
            case,
            low=low,
            upsampled=upsampled,
            factor=fz,
            psf=_gaussian_kernel(blur_um / dy),
            steps_per_epoch=CARE_STEPS_PER_EPOCH,
            epochs=CARE_EPOCHS,
            patch=CARE_PATCH,
            seed=seed,
            threads=threads,
        )
        done = subprocess.run([str(CARE_PYTHON), str(CARE_SCRIPT), str(case), str(out)], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"CARE peer failed:\n{done.stderr[-3000:]}")
        result = np.load(out)
        return result["prediction"], float(result["seconds"])


def match_intensity(prediction: np.ndarray, low: np.ndarray, degraded: np.ndarray) -> np.ndarray:
    """``prediction`` with the scale and offset that make its own degradation (``degraded``) fit the input
    ``low`` in least squares: a correction that uses the input alone, for CARE's per-patch percentile
    normalisation, which leaves sparse bright data a few per cent too bright."""
    a = np.stack([degraded.ravel(), np.ones(degraded.size)], axis=1).astype(np.float64)
    (scale, offset), *_ = np.linalg.lstsq(a, low.ravel().astype(np.float64), rcond=None)
    return (prediction * scale + offset).astype(np.float32)
