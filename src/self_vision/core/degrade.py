"""Degradation operators (high -> low resolution), interpolation, back-projection and noise.

All operators use the pixel-area convention: low-resolution voxel ``i`` along an axis with factor ``f``
covers high-resolution voxels ``i*f .. i*f+f-1``; interpolation maps voxel centres accordingly, so the
upsampled volume covers exactly the field of view of its input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

OPERATORS = ("area", "psf", "cubic")


def crop_to_multiple(x: torch.Tensor, factor: Sequence[int]) -> torch.Tensor:
    """Crop the trailing spatial axes of ``x`` to multiples of ``factor`` (from the far end)."""
    nd = len(factor)
    slices = [slice(None)] * (x.ndim - nd)
    slices += [slice(0, (s // f) * f) for s, f in zip(x.shape[-nd:], factor, strict=True)]
    return x[tuple(slices)]


def gaussian_blur(x: torch.Tensor, sigma: Sequence[float]) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, C, *S)`` with one sigma (in voxels) per spatial axis; edges replicate."""
    nd = len(sigma)
    for axis, s in enumerate(sigma):
        if s <= 0:
            continue
        radius = max(1, math.ceil(3 * s))
        t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
        kernel = torch.exp(-0.5 * (t / s) ** 2)
        kernel = kernel / kernel.sum()
        dim = x.ndim - nd + axis
        moved = x.movedim(dim, -1)
        shape = moved.shape
        flat = moved.reshape(-1, 1, shape[-1])
        flat = F.conv1d(F.pad(flat, (radius, radius), mode="replicate"), kernel.view(1, 1, -1))
        x = flat.reshape(shape).movedim(-1, dim)
    return x


def _resample_axis_cubic(x: torch.Tensor, dim: int, size: int, antialias: bool) -> torch.Tensor:
    """Resample one axis with cubic convolution (pixel-area aligned) using torch's bicubic on a 2D view."""
    moved = x.movedim(dim, -1)
    shape = moved.shape
    flat = moved.reshape(-1, 1, 1, shape[-1])
    flat = F.interpolate(flat, size=(1, size), mode="bicubic", align_corners=False, antialias=antialias)
    return flat.reshape(*shape[:-1], size).movedim(-1, dim)


def degrade(x: torch.Tensor, factor: Sequence[int], operator: str = "area", psf_sigma: float = 0.5) -> torch.Tensor:
    """Make the low-resolution version of ``x`` (``(B, C, *S)``) with the given operator.

    ``area``: mean over each factor block (a detector integrating over its pixel).
    ``psf``: Gaussian blur with sigma ``psf_sigma * f`` voxels per axis, then the block mean.
    ``cubic``: antialiased cubic downsampling.
    """
    factor = tuple(int(f) for f in factor)
    x = crop_to_multiple(x, factor)
    if all(f == 1 for f in factor):
        return x
    if operator == "psf":
        x = gaussian_blur(x, [psf_sigma * f if f > 1 else 0.0 for f in factor])
        operator = "area"
    if operator == "area":
        pool = F.avg_pool3d if len(factor) == 3 else F.avg_pool2d
        return pool(x, kernel_size=factor, stride=factor)
    if operator == "cubic":
        nd = len(factor)
        for axis, f in enumerate(factor):
            if f > 1:
                dim = x.ndim - nd + axis
                x = _resample_axis_cubic(x, dim, x.shape[dim] // f, antialias=True)
        return x
    raise ValueError(f"unknown degradation operator {operator!r}; choose one of {', '.join(OPERATORS)}")


def upsample_linear(x: torch.Tensor, factor: Sequence[int]) -> torch.Tensor:
    """Tri/bilinear interpolation of ``(B, C, *S)`` by integer factors, pixel-area aligned."""
    mode = "trilinear" if len(factor) == 3 else "bilinear"
    return F.interpolate(x, scale_factor=tuple(float(f) for f in factor), mode=mode, align_corners=False)


def cubic_upsample(volume: np.ndarray, factor: Sequence[int]) -> np.ndarray:
    """Cubic-spline interpolation of a 2D/3D array (scipy, order 3, pixel-area aligned), float32."""
    from scipy import ndimage

    factor = tuple(int(f) for f in factor)
    out_shape = tuple(s * f for s, f in zip(volume.shape, factor, strict=True))
    out = ndimage.zoom(
        volume.astype(np.float32, copy=False), factor, order=3, mode="reflect", grid_mode=True, output=np.float32
    )
    if out.shape != out_shape:  # zoom rounds; never happens with integer factors, but be exact
        out = out[tuple(slice(0, s) for s in out_shape)]
    return out


def back_project(
    estimate: torch.Tensor,
    low_res: torch.Tensor,
    factor: Sequence[int],
    operator: str = "area",
    rounds: int = 10,
    psf_sigma: float = 0.5,
) -> torch.Tensor:
    """Iterative back-projection: ``y += up(x - degrade(y))`` for ``rounds`` rounds (data consistency).

    Works on a copy of ``estimate``, updated in place (one full-size temporary per round, not two).
    """
    y = estimate.clone()
    for _ in range(rounds):
        residual = low_res - degrade(y, factor, operator, psf_sigma)
        y += upsample_linear(residual, factor)
    return y


def add_poisson_gaussian(
    x: np.ndarray, photons: float | None, read_sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Poisson-Gaussian noise on a volume scaled to [0, 1]: ``photons`` at intensity 1, then Gaussian read noise."""
    y = x.astype(np.float64)
    if photons is not None and photons > 0:
        y = rng.poisson(np.clip(y, 0, None) * photons) / photons
    if read_sigma > 0:
        y = y + rng.normal(0.0, read_sigma, size=y.shape)
    return y.astype(np.float32)


def resample_axis(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Resample one axis of an array to ``size`` voxels (antialiased cubic when shrinking), float32."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return _resample_axis_cubic(t, axis % x.ndim, size, antialias=size < x.shape[axis]).numpy()
