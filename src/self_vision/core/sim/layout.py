"""Raw 2D-SIM frame layout: ``(9, Y, X)`` or ``(T, 9, Y, X)`` → ``(T, orientations, phases, Y, X)``.

Frames are orientation-major by default (frame = orientation·phases + phase, as written by most 2D/TIRF-SIM
systems and by the rDL-SIM data); ``order="phase-major"`` reads frame = phase·orientations + orientation.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, UsageError

ORDERS = ("orientation-major", "phase-major")


def arrange(
    raw: np.ndarray, n_orientations: int = 3, n_phases: int = 3, order: str = "orientation-major"
) -> np.ndarray:
    """Return float32 ``(T, n_orientations, n_phases, Y, X)``; raise :class:`DataError` on a wrong layout."""
    if order not in ORDERS:
        raise UsageError(f"unknown frame order {order!r}; use one of {', '.join(ORDERS)}")
    if n_orientations < 1 or n_phases < 3:
        raise UsageError("2D-SIM needs at least 1 orientation and 3 phases per orientation")
    data = np.asarray(raw)
    n = n_orientations * n_phases
    if not np.issubdtype(data.dtype, np.number) or np.iscomplexobj(data):
        raise DataError(f"raw SIM data has dtype {data.dtype}; give real-valued images")
    if data.ndim == 2:
        raise DataError(
            f"raw SIM input is one 2D image {data.shape}; 2D-SIM needs {n} frames "
            f"({n_orientations} orientations × {n_phases} phases) as a ({n}, Y, X) stack"
        )
    if data.ndim not in (3, 4):
        raise DataError(f"raw SIM data has {data.ndim} dimensions {data.shape}; expected ({n}, Y, X) or (T, {n}, Y, X)")
    frames = data.shape[-3]
    if frames != n:
        if data.ndim == 3 and frames > n and frames % n == 0:
            raise DataError(
                f"raw SIM stack has {frames} frames, not {n}: a 3D-SIM/z-stack or a flat time series? 2D-SIM takes "
                f"{n} frames; give a time series as (T, {n}, Y, X)"
            )
        hint = " (a 3D stack? 2D-SIM expects one plane per frame)" if frames > n else ""
        raise DataError(
            f"raw SIM stack has {frames} frames, expected {n} = {n_orientations} orientations × {n_phases} phases"
            f"{hint}; check the frame count or set the orientation/phase numbers"
        )
    if min(data.shape[-2:]) < 32:
        raise DataError(f"raw SIM frames are {data.shape[-2:]} pixels; need at least 32 × 32")
    stack = data.reshape(-1, n, *data.shape[-2:]).astype(np.float32)
    if not np.all(np.isfinite(stack)):
        raise DataError("raw SIM data holds NaN or infinite values; clean the input first")
    if order == "orientation-major":
        out = stack.reshape(stack.shape[0], n_orientations, n_phases, *stack.shape[-2:])
    else:
        out = stack.reshape(stack.shape[0], n_phases, n_orientations, *stack.shape[-2:]).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(out)


def flatten(stack: np.ndarray, order: str = "orientation-major") -> np.ndarray:
    """Inverse of :func:`arrange` for one time point or many: ``(..., O, P, Y, X)`` → ``(..., O·P, Y, X)``."""
    if order == "phase-major":
        stack = np.swapaxes(stack, -4, -3)
    return stack.reshape(*stack.shape[:-4], -1, *stack.shape[-2:])


def estimate_offset(raw: np.ndarray) -> float:
    """Camera offset (counts) as a low percentile of all frames, a little below the dimmest background.

    The 0.5th percentile of the data minus two robust standard deviations of the pixels below the 5th
    percentile: the darkest pixels of a sample image are background plus shot and read noise.
    """
    values = np.asarray(raw, dtype=np.float32).ravel()
    if values.size > 2_000_000:
        values = values[:: values.size // 2_000_000 + 1]
    low = np.percentile(values, [0.5, 5.0])
    dark = values[values <= low[1]]
    spread = 1.4826 * float(np.median(np.abs(dark - np.median(dark)))) if dark.size else 0.0
    return float(max(low[0] - 2.0 * spread, min(values.min(), low[0])))


def subtract_offset(stack: np.ndarray, offset: float) -> np.ndarray:
    """``max(stack − offset, 0)`` as float32."""
    return np.clip(stack.astype(np.float32) - np.float32(offset), 0.0, None)
