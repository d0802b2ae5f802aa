"""Voxel size and placement of an upsampled result under the pixel-area convention."""

from __future__ import annotations

from collections.abc import Sequence


def output_voxel_size(voxel_size: Sequence[float], factor: Sequence[int]) -> tuple[float, ...]:
    """Each axis's voxel size divided by its factor."""
    return tuple(float(v) / f for v, f in zip(voxel_size, factor, strict=True))


def output_translate(
    voxel_size: Sequence[float], factor: Sequence[int], translate: Sequence[float] | None = None
) -> tuple[float, ...]:
    """Where the first output voxel's centre lies, so the output covers exactly the input's field of view.

    Input voxel 0 (centre at ``translate``) spans ``translate ± s/2``; its first sub-voxel's centre is at
    ``translate - s/2 + s/(2f) = translate - s·(f-1)/(2f)``.
    """
    base = translate if translate is not None else [0.0] * len(factor)
    return tuple(float(t) - float(s) * (f - 1) / (2 * f) for t, s, f in zip(base, voxel_size, factor, strict=True))
