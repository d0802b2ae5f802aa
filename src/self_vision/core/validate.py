"""Checks of user input that give one-line, actionable errors before any work starts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import DataError, UsageError

#: Largest factor per axis; beyond it zero-shot learning has nothing to learn from.
MAX_FACTOR = 16
#: Smallest low-resolution training patch per upsampled axis (the 5-voxel first conv needs context).
MIN_LOW_RES = 4


def parse_factor(text: str | Sequence[int] | int, ndim: int | None = None) -> tuple[int, ...]:
    """Parse ``"4,4,4"``, ``"1,4,4"``, ``4`` or a sequence into per-axis integer factors."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.replace("x", ",").split(",") if p.strip()]
    elif isinstance(text, int | np.integer | float):
        parts = [text]
    else:
        parts = list(text)
    values: list[int] = []
    for part in parts:
        try:
            number = float(part)
        except (TypeError, ValueError):
            raise UsageError(f"factor {text!r}: {part!r} is not a number; write e.g. --factor 1,4,4") from None
        if not number.is_integer():
            raise UsageError(f"factor {text!r}: {part} is not a whole number; factors are integers like 2 or 4")
        if number < 1:
            raise UsageError(f"factor {text!r}: {int(number)} is below 1; each factor must be 1 or more")
        if number > MAX_FACTOR:
            raise UsageError(f"factor {text!r}: {int(number)} is too large; the most per axis is {MAX_FACTOR}")
        values.append(int(number))
    if not values or len(values) > 3:
        raise UsageError(f"factor {text!r}: give one number or one per axis (Z,Y,X or Y,X)")
    if ndim is not None:
        values = _fit_factor_to_ndim(values, ndim, text)
    if all(v == 1 for v in values):
        raise UsageError(f"factor {text!r}: all factors are 1, so there is nothing to enhance")
    return tuple(values)


def _fit_factor_to_ndim(values: list[int], ndim: int, text: object) -> list[int]:
    if len(values) == 1:
        return values * ndim if ndim == 2 else [1, values[0], values[0]]  # one number: lateral factor
    if len(values) == ndim:
        return values
    if ndim == 2 and len(values) == 3 and values[0] == 1:
        return values[1:]
    raise UsageError(f"factor {text!r} has {len(values)} entries but the image has {ndim} axes")


def check_volume(volume: np.ndarray, name: str = "input") -> None:
    """Reject data the method cannot use: wrong rank, empty, complex, NaN/Inf, constant."""
    if volume.ndim not in (2, 3):
        raise DataError(f"{name}: has {volume.ndim} axes {volume.shape}; give a 2D (YX) or 3D (ZYX) image")
    if volume.size == 0:
        raise DataError(f"{name}: is empty {volume.shape}")
    if not (np.issubdtype(volume.dtype, np.integer) or np.issubdtype(volume.dtype, np.floating)):
        raise DataError(f"{name}: has data type {volume.dtype}; give integer or real-valued voxels")
    if np.issubdtype(volume.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(volume)))
        if bad:
            raise DataError(f"{name}: has {bad} NaN/Inf voxels; replace them (e.g. with 0) before enhancing")
    low, high = volume.min(), volume.max()
    if low == high:
        raise DataError(f"{name}: is constant (every voxel is {low}); there is no structure to learn from")


def check_size(
    shape: Sequence[int], factor: Sequence[int], name: str = "input", min_low_res: int = MIN_LOW_RES
) -> None:
    """Each upsampled lateral axis must leave a training patch of ``min_low_res`` after one more downsampling."""
    lateral = list(zip(shape, factor, strict=True))[-2:]
    for axis_name, (size, f) in zip("YX", lateral, strict=True):
        if f > 1 and size < f * min_low_res:
            raise DataError(
                f"{name}: axis {axis_name} has {size} voxels, too few to learn a {f}x factor "
                f"(needs at least {f * min_low_res}); use a smaller factor or a larger image"
            )
