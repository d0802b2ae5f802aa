"""Checks of user input that give one-line, actionable errors before any work starts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..defaults import (
    MAX_FACTOR,
    MAX_NOISE_PHOTONS,
    MAX_NOISE_SIGMA,
    MAX_SEED,
    MAX_STEPS,
    MAX_TIME_BUDGET,
    MAX_VOXEL_SIZE,
)
from .errors import KIND_INVALID_VALUE, DataError, UsageError, invalid

#: Smallest low-resolution training patch per upsampled axis (the 5-voxel first conv needs context).
MIN_LOW_RES = 4


def _bad_factor(message: str) -> UsageError:
    return UsageError(message, kind=KIND_INVALID_VALUE, option="factor")


def parse_factor(text: str | Sequence[int] | int, ndim: int | None = None) -> tuple[int, ...]:
    """Parse ``"4,4,4"``, ``"1,4,4"``, ``4`` or a sequence into per-axis integer factors."""
    if text is None or isinstance(text, bool):
        raise _bad_factor(f"factor {text!r}: give one number or one per axis (Z,Y,X or Y,X), e.g. 1,4,4")
    if isinstance(text, str):
        parts = [p.strip() for p in text.replace("x", ",").split(",") if p.strip()]
    elif isinstance(text, int | np.integer | float):
        parts = [text]
    else:
        try:
            parts = list(text)
        except TypeError:
            raise _bad_factor(f"factor {text!r}: give one number or one per axis (Z,Y,X or Y,X)") from None
    values: list[int] = []
    for part in parts:
        try:
            number = float(part)
        except (TypeError, ValueError):
            raise _bad_factor(f"factor {text!r}: {part!r} is not a number; write e.g. 1,4,4") from None
        if not math.isfinite(number) or not number.is_integer():
            raise _bad_factor(f"factor {text!r}: {part} is not a whole number; factors are integers like 2 or 4")
        if number < 1:
            raise _bad_factor(f"factor {text!r}: {int(number)} is below 1; each factor must be 1 or more")
        if number > MAX_FACTOR:
            raise _bad_factor(f"factor {text!r}: {int(number)} is too large; the most per axis is {MAX_FACTOR}")
        values.append(int(number))
    if not values or len(values) > 3:
        raise _bad_factor(f"factor {text!r}: give one number or one per axis (Z,Y,X or Y,X)")
    if ndim is not None:
        values = _fit_factor_to_ndim(values, ndim, text)
    if all(v == 1 for v in values):
        raise _bad_factor(f"factor {text!r}: all factors are 1, so there is nothing to enhance")
    return tuple(values)


def _fit_factor_to_ndim(values: list[int], ndim: int, text: object) -> list[int]:
    if len(values) == 1:
        return values * ndim if ndim == 2 else [1, values[0], values[0]]  # one number: lateral factor
    if len(values) == ndim:
        return values
    if ndim == 2 and len(values) == 3 and values[0] == 1:
        return values[1:]
    raise _bad_factor(f"factor {text!r} has {len(values)} entries but the image has {ndim} axes")


def check_volume(volume: np.ndarray, name: str = "input") -> None:
    """Reject data the method cannot use: not an array, wrong rank, empty, complex, NaN/Inf, constant."""
    if not isinstance(volume, np.ndarray):
        check_array(volume, name)
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


# ------------------------------------------------------------------------------------- numbers and settings
# Each check takes ``label``: the face's name for the setting (the API passes ``time_budget``, the CLI
# ``--time-budget``), so the message reads in the caller's terms; ``option`` on the error is the API name.


def _number(label: str, value: object, option: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise invalid(label, value, "give a number", option)
    number = float(value)
    if not math.isfinite(number):
        raise invalid(label, value, "give a finite number", option)
    return number


def check_time_budget(value: object, label: str = "time_budget") -> float | None:
    """None, or a finite number of seconds in (0, MAX_TIME_BUDGET]."""
    if value is None:
        return None
    seconds = _number(label, value, "time_budget")
    if seconds <= 0:
        raise invalid(label, value, "give a positive number of seconds", "time_budget")
    if seconds > MAX_TIME_BUDGET:
        raise invalid(label, value, f"give at most {MAX_TIME_BUDGET:g} seconds", "time_budget")
    return seconds


def check_int(
    value: object, label: str, option: str, *, minimum: int = 0, maximum: int | None = None, what: str = "number"
) -> int | None:
    """None, or a whole number in [minimum, maximum]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise invalid(label, value, f"give a whole {what}", option)
    number = int(value)
    if number < minimum:
        lowest = "a positive" if minimum == 1 else ("a non-negative" if minimum == 0 else f"at least {minimum} as")
        raise invalid(label, value, f"give {lowest} {what}", option)
    if maximum is not None and number > maximum:
        raise invalid(label, value, f"give at most {maximum}", option)
    return number


def check_steps(value: object, label: str = "steps") -> int | None:
    return check_int(value, label, "steps", minimum=1, maximum=MAX_STEPS, what="number of steps")


def check_seed(value: object, label: str = "seed") -> int | None:
    return check_int(value, label, "seed", minimum=0, maximum=MAX_SEED, what="number (0 or more)")


def check_noise(value: object, label: str = "noise") -> tuple[float | None, float] | None:
    """None, or (photons at full scale or None, read-noise sigma): finite, not negative, bounded."""
    if value is None:
        return None
    try:
        photons, sigma = value  # type: ignore[misc]
    except (TypeError, ValueError):
        raise invalid(label, value, "give PHOTONS,SIGMA, e.g. 100,0.01", "noise") from None
    p = 0.0 if photons is None else _number(label, photons, "noise")
    s = _number(label, sigma, "noise")
    if p < 0 or s < 0:
        raise invalid(label, value, "photons and sigma must not be negative", "noise")
    if p > MAX_NOISE_PHOTONS or s > MAX_NOISE_SIGMA:
        raise invalid(
            label, value, f"give at most {MAX_NOISE_PHOTONS:g} photons and sigma {MAX_NOISE_SIGMA:g}", "noise"
        )
    return (p or None, s)


def check_voxel_size(value: object, ndim: int | None, label: str = "voxel_size") -> tuple[float, ...] | None:
    """None, or one finite positive size per axis (``ndim`` of them when given)."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        raise invalid(label, value, "give one positive number per axis, e.g. (2, 0.5, 0.5)", "voxel_size")
    sizes = tuple(_number(label, v, "voxel_size") for v in value)  # type: ignore[union-attr]
    if ndim is not None and len(sizes) != ndim:
        axes = "Z,Y,X" if ndim == 3 else "Y,X"
        raise invalid(label, value, f"give {ndim} positive numbers ({axes}), one per axis of the image", "voxel_size")
    if not sizes or not all(0 < v <= MAX_VOXEL_SIZE for v in sizes):
        raise invalid(label, value, "give positive numbers", "voxel_size")
    return sizes


def check_array(data: object, name: str = "input", ndims: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """A numpy array of real numbers with one of ``ndims`` axes (a list, None or a string is refused)."""
    if not isinstance(data, np.ndarray):
        raise UsageError(
            f"{name}: give a numpy array (e.g. numpy.asarray(...)), not a {type(data).__name__}",
            kind=KIND_INVALID_VALUE,
            option="data",
        )
    if data.ndim not in ndims:
        shown = " or ".join(f"{n}D" for n in ndims)
        raise DataError(f"{name}: has {data.ndim} axes {data.shape}; give a {shown} array", kind=KIND_INVALID_VALUE)
    return data


def check_request(request: object) -> None:
    """What :func:`self_vision.api.run` checks before any work, for every face alike: the data is an array of a
    rank the task takes, and the voxel size and the training numbers (steps, time budget, seed) are valid."""
    task = getattr(request, "task", None)
    if task not in ("enhance", "denoise", "denoise+enhance"):
        return
    name = getattr(request, "name", "input")
    data = check_array(getattr(request, "data", None), name, (2, 3, 4) if task == "denoise" else (2, 3))
    spatial = None if task == "denoise" else data.ndim  # a time-lapse's voxel size covers its spatial axes
    check_voxel_size(getattr(request, "voxel_size", None), spatial)
    for options in (getattr(request, "options", None), getattr(request, "denoise_options", None)):
        if options is not None:
            check_steps(getattr(options, "steps", None))
            check_time_budget(getattr(options, "time_budget", None))
            check_seed(getattr(options, "seed", None))
