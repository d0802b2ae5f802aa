"""Learning the axial factor from lateral planes (the CARE-isotropic idea), with a self-calibrated axial blur.

Lateral planes are sharper and far more numerous than axial profiles, so they can teach the axial
up-sampling. But structures seen along z are usually longer than seen laterally (elongated axial PSF,
thick sections), so sharp lateral planes would teach the network to invent lateral-looking detail in z.
:func:`estimate_axial_blur` finds the extra Gaussian blur (in µm) that, applied along one lateral axis and
followed by the same axial sampling, makes lateral planes as correlated from one sample to the next as
the input's z-slices are; :func:`axial_training_planes` then builds the training planes with that blur.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..degrade import degrade, gaussian_blur, resample_axis


def _neighbour_correlation(stack: np.ndarray, axis: int) -> float:
    """Mean normalised cross-correlation of consecutive slices along ``axis`` (after removing each slice's mean)."""
    a = np.moveaxis(stack, axis, 0).astype(np.float64)
    a = a.reshape(a.shape[0], -1)
    a = a - a.mean(axis=1, keepdims=True)
    num = (a[:-1] * a[1:]).sum(axis=1)
    den = np.sqrt((a[:-1] ** 2).sum(axis=1) * (a[1:] ** 2).sum(axis=1)) + 1e-12
    return float(np.mean(num / den))


def _simulate_axial(planes: np.ndarray, sigma_px: float, size_out: int, fz: int, sampling: str = "area") -> np.ndarray:
    """Blur axis 1 of a plane stack by ``sigma_px``, resample it to ``size_out`` and degrade it by ``fz``
    the way z is sampled (``point`` or ``area``)."""
    t = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[:, None]
    if sigma_px > 0:
        t = gaussian_blur(t, [sigma_px, 0.0])
    out = resample_axis(t[:, 0].numpy(), 1, size_out) if size_out != planes.shape[1] else t[:, 0].numpy()
    return degrade(torch.from_numpy(out)[:, None], (fz, 1), sampling=(sampling, "area"))[:, 0].numpy()


def estimate_axial_blur(
    volume: np.ndarray, voxel_size: Sequence[float], fz: int, max_planes: int = 8, sampling: str = "area"
) -> tuple[float, float, float]:
    """Extra axial blur (Gaussian sigma, µm) that makes degraded lateral planes look like the input's z-axis.

    ``volume`` is the (normalised) input ``(Z, Y, X)`` with ``voxel_size`` (dz, dy, dx); the axial factor
    ``fz`` means the output's z spacing is ``dz / fz``; ``sampling`` is how z was sampled. Returns
    ``(sigma_um, target_corr, reached_corr)``.
    """
    dz, dy, _ = (float(v) for v in voxel_size)
    target = _neighbour_correlation(volume, 0)
    step = max(1, volume.shape[0] // max_planes)
    planes = volume[::step][:max_planes]
    size_out = max(fz, round(planes.shape[1] * dy / (dz / fz)))
    best = (0.0, abs(_neighbour_correlation(_simulate_axial(planes, 0.0, size_out, fz, sampling), 1) - target), 0.0)
    best = (0.0, best[1], target - best[1])
    for sigma_um in np.linspace(0.0, 2.0 * dz, 17)[1:]:
        reached = _neighbour_correlation(_simulate_axial(planes, sigma_um / dy, size_out, fz, sampling), 1)
        if abs(reached - target) < best[1]:
            best = (float(sigma_um), abs(reached - target), reached)
    return best[0], target, best[2]


def axial_training_planes(
    source: np.ndarray, fz: int, lateral_spacing: Sequence[float] | None, z_out: float | None, blur_um: float = 0.0
) -> list[np.ndarray]:
    """Two stacks of lateral planes, each with one lateral axis playing z: blurred by ``blur_um`` along it and
    resampled to the output's axial spacing ``z_out`` (when the voxel size is known)."""
    stacks = []
    for axis in (1, 2):
        planes = source if axis == 1 else np.ascontiguousarray(source.transpose(0, 2, 1))
        if lateral_spacing is not None and z_out is not None:
            spacing = float(lateral_spacing[axis - 1])
            if blur_um > 0:
                t = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[:, None]
                planes = gaussian_blur(t, [blur_um / spacing, 0.0])[:, 0].numpy()
            size = round(planes.shape[1] * spacing / z_out)
            if planes.shape[1] > size >= fz * 4:
                planes = resample_axis(planes, 1, size)
        stacks.append(planes)
    return stacks
