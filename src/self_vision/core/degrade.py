"""Degradation operators (high -> low resolution), interpolation, back-projection and noise.

All operators use the pixel-area convention: low-resolution voxel ``i`` along an axis with factor ``f``
covers high-resolution voxels ``i*f .. i*f+f-1``; interpolation maps voxel centres accordingly, so the
upsampled volume covers exactly the field of view of its input. Per axis the sample is either the block
mean (``area``, binning) or the value at the block's centre (``point``, a coarser step); see
:mod:`.sampling` for where a point sample sits at even factors.
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


def blur_array(x: np.ndarray, sigma: Sequence[float]) -> np.ndarray:
    """:func:`gaussian_blur` of an array (float32); ``x`` itself when every sigma is 0."""
    if not any(s > 0 for s in sigma):
        return x
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None, None]
    return gaussian_blur(t, list(sigma))[0, 0].numpy()


def _resample_axis_cubic(x: torch.Tensor, dim: int, size: int, antialias: bool) -> torch.Tensor:
    """Resample one axis with cubic convolution (pixel-area aligned) using torch's bicubic on a 2D view."""
    moved = x.movedim(dim, -1)
    shape = moved.shape
    flat = moved.reshape(-1, 1, 1, shape[-1])
    flat = F.interpolate(flat, size=(1, size), mode="bicubic", align_corners=False, antialias=antialias)
    return flat.reshape(*shape[:-1], size).movedim(-1, dim)


#: Cubic-convolution (Keys, a = -0.5) weights of the four fine voxels around a half-way point.
_HALF_WAY = (-1 / 16, 9 / 16, 9 / 16, -1 / 16)


def point_sample(x: torch.Tensor, dim: int, f: int) -> torch.Tensor:
    """The value at each block's centre along ``dim`` (length a multiple of ``f``): the centre voxel for odd
    ``f``; for even ``f`` the cubic-convolution interpolation half-way between the two central voxels."""
    if f == 1:
        return x
    if f % 2:
        return x.narrow(dim, (f - 1) // 2, x.shape[dim] - (f - 1)).unfold(dim, 1, f).squeeze(-1)
    moved = x.movedim(dim, -1)
    shape = moved.shape
    flat = F.pad(moved.reshape(-1, 1, shape[-1]), (2, 2), mode="replicate")
    kernel = torch.tensor(_HALF_WAY, dtype=x.dtype, device=x.device).view(1, 1, 4)
    # taps i*f + f/2 - 2 .. i*f + f/2 + 1 of the unpadded axis = padded f/2 .. f/2 + 3
    flat = F.conv1d(flat[..., f // 2 :], kernel, stride=f)[..., : shape[-1] // f]
    return flat.reshape(*shape[:-1], shape[-1] // f).movedim(-1, dim)


def degrade(
    x: torch.Tensor,
    factor: Sequence[int],
    operator: str = "area",
    psf_sigma: float = 0.5,
    sampling: Sequence[str] | None = None,
) -> torch.Tensor:
    """Make the low-resolution version of ``x`` (``(B, C, *S)``) with the given operator.

    ``area``: per axis the block mean, or the block-centre value where ``sampling`` says ``point``
    (``sampling``: one of "point"/"area" per spatial axis; None = area everywhere).
    ``psf``: Gaussian blur with sigma ``psf_sigma * f`` voxels per axis, then as ``area``.
    ``cubic``: antialiased cubic downsampling (``sampling`` does not apply).
    """
    factor = tuple(int(f) for f in factor)
    x = crop_to_multiple(x, factor)
    if all(f == 1 for f in factor):
        return x
    if operator == "psf":
        x = gaussian_blur(x, [psf_sigma * f if f > 1 else 0.0 for f in factor])
        operator = "area"
    if operator == "area":
        nd = len(factor)
        if sampling is not None and any(s == "point" and f > 1 for s, f in zip(sampling, factor, strict=True)):
            area = tuple(f if s == "area" else 1 for s, f in zip(sampling, factor, strict=True))
            if any(f > 1 for f in area):
                pool = F.avg_pool3d if nd == 3 else F.avg_pool2d
                x = pool(x, kernel_size=area, stride=area)
            for axis, (s, f) in enumerate(zip(sampling, factor, strict=True)):
                if s == "point":
                    x = point_sample(x, x.ndim - nd + axis, f)
            return x
        pool = F.avg_pool3d if nd == 3 else F.avg_pool2d
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
    sampling: Sequence[str] | None = None,
) -> torch.Tensor:
    """Iterative back-projection: ``y += up(x - degrade(y))`` for ``rounds`` rounds (data consistency).

    With ``point`` sampling the residual is taken at the sample positions (block centres) and spread by the
    same linear interpolation, which is 1 at a block's centre and 0 at its neighbours' (at odd factors one
    round makes the result pass through the samples). Works on a copy of ``estimate``, updated in place.
    """
    y = estimate.clone()
    for _ in range(rounds):
        residual = low_res - degrade(y, factor, operator, psf_sigma, sampling)
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
