"""How a low-resolution sample relates to the high-resolution grid, per axis: ``point`` or ``area``.

* ``area`` (binning): low-resolution voxel ``i`` along an axis with factor ``f`` is the mean of
  high-resolution voxels ``i*f .. i*f+f-1`` (a camera pixel integrating over its area). Averaging ``f``
  voxels also divides the variance of independent noise by ``f``.
* ``point`` (a coarser step: a z-step, or a scan step): sample ``i`` is the PSF-blurred object at *one*
  position; the optics and the noise are those of the fine grid.

Where a point sample sits: at the centre of its block, so that the pixel-area geometry
(:mod:`..geometry`, ``output_translate``) is exact for both models. With an odd factor the centre is the
fine voxel ``i*f + (f-1)/2`` and the sample is that voxel. With an even factor the centre lies half-way
between fine voxels ``i*f + f/2 - 1`` and ``i*f + f/2``; the sample there is the cubic-convolution (Keys,
a = -0.5) interpolation of the four nearest fine voxels, weights (-1, 9, 9, -1)/16 (edges replicate). That
is a mild low-pass (gain 0.88 at the coarse grid's Nyquist frequency for f = 2, against 0.71 for the block
mean and 1 for an exact point sample), the price of an exact geometry without a half-voxel shift.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..defaults import SAMPLING
from .errors import UsageError

SAMPLINGS = ("point", "area")
#: Plain words for the dock and the summaries.
WORDS = {"point": "step (each sample is one optical section)", "area": "pixel binning"}


def parse_sampling(value: str | Sequence[str] | None, ndim: int) -> tuple[str, ...]:
    """One sampling model per spatial axis of ``ndim``-D data (ZYX or YX).

    Accepts ``None`` (the default, :data:`~self_vision.defaults.SAMPLING`), ``"point"`` or ``"area"`` (every
    axis), ``"z=point,xy=area"`` (either part may be left out: it keeps its default; ``y=``/``x=`` set one
    lateral axis), ``"point,area,area"`` (one per axis) or a sequence of those words. 2D data has only y/x.
    """
    default = {"z": "point", "y": "area", "x": "area"}
    if value is not None and not isinstance(value, str):
        value = ",".join(value)
    text = (SAMPLING if value is None else value).replace(" ", "").lower()
    names = ("z", "y", "x")[-ndim:] if ndim in (2, 3) else None
    if names is None:
        raise UsageError(f"sampling is defined for 2D and 3D data, not {ndim}D")
    parts = [p for p in text.split(",") if p]
    if parts and all(p in SAMPLINGS for p in parts):
        if len(parts) == 1:
            return (parts[0],) * ndim
        if len(parts) == ndim:
            return tuple(parts)
        raise UsageError(f"sampling {value!r}: give one word for every axis ({ndim}) or one for all")
    chosen = {**default, **_pairs(SAMPLING)}
    try:
        chosen.update(_pairs(text))
    except ValueError:
        raise UsageError(
            f"sampling {value!r}: write e.g. z=point,xy=area (each of z, y, x, xy: point or area)"
        ) from None
    return tuple(chosen[n] for n in names)


def _pairs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (p for p in text.split(",") if p):
        axes, _, word = part.partition("=")
        if word not in SAMPLINGS or not axes or any(a not in "zyx" for a in axes.replace("xy", "yx")):
            raise ValueError(part)
        for axis in axes:
            out[axis] = word
    return out


def sub_sampling(sampling: Sequence[str] | None, factor: Sequence[int]) -> tuple[str, ...] | None:
    """``sampling`` for a model whose factor has as many axes (the same tuple), or None for all-area."""
    if sampling is None:
        return None
    if len(sampling) != len(factor):
        raise ValueError(f"sampling {tuple(sampling)} does not match factor {tuple(factor)}")
    return tuple(sampling)


def is_area(sampling: Sequence[str] | None, factor: Sequence[int]) -> bool:
    """Every axis with a factor above 1 is area-sampled (the block mean everywhere)."""
    return sampling is None or all(s == "area" for s, f in zip(sampling, factor, strict=True) if f > 1)


def area_voxels(sampling: Sequence[str] | None, factor: Sequence[int]) -> int:
    """How many fine voxels one low-resolution sample averages (1 when every upsampled axis is a point step)."""
    out = 1
    for i, f in enumerate(factor):
        if sampling is None or sampling[i] == "area":
            out *= int(f)
    return out


def describe(sampling: Sequence[str]) -> str:
    """``z: point, y/x: area`` (or ``y/x: area`` for 2D)."""
    names = ("z", "y", "x")[-len(sampling) :]
    pairs = dict(zip(names, sampling, strict=True))
    if pairs.get("y") == pairs.get("x"):
        lateral = f"y/x: {pairs['y']}"
        return lateral if "z" not in pairs else f"z: {pairs['z']}, {lateral}"
    return ", ".join(f"{n}: {s}" for n, s in pairs.items())
