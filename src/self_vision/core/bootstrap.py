"""Block-bootstrap intervals for a gain in dB between two results scored against one reference.

Errors of neighbouring voxels are correlated (structures, interpolation), so voxels are not resampled one by
one: the scored region is cut into a grid of blocks, each block's summed squared error is kept per method,
and whole blocks are resampled with replacement. The gain of ``a`` over ``b`` is
``10·log10(SSE_b / SSE_a)`` over the resampled blocks: the PSNR difference on the same region.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..defaults import GATE_BOOTSTRAP, GATE_CONFIDENCE

#: Blocks per axis: one per this many voxels, at most :data:`MAX_BLOCKS_PER_AXIS`.
BLOCK_EDGE = 16
MAX_BLOCKS_PER_AXIS = 8


def block_sse(result: np.ndarray, reference: np.ndarray, border: Sequence[int] | int = 0) -> np.ndarray:
    """Summed squared error of ``result`` against ``reference`` per block of the interior (1D array)."""
    return block_sum((result.astype(np.float64) - reference.astype(np.float64)) ** 2, border)


def block_sum(values: np.ndarray, border: Sequence[int] | int = 0) -> np.ndarray:
    """``values`` summed per block of the interior (the blocks of :func:`block_sse`; 1D array)."""
    borders = [border] * values.ndim if isinstance(border, int) else list(border)
    region = tuple(slice(b, s - b if b else None) for b, s in zip(borders, values.shape, strict=True))
    err = values[region].astype(np.float64)
    for axis in range(err.ndim):
        n = int(np.clip(err.shape[axis] // BLOCK_EDGE, 1, MAX_BLOCKS_PER_AXIS))
        edges = np.linspace(0, err.shape[axis], n + 1).astype(int)
        err = np.add.reduceat(err, edges[:-1], axis=axis)
    return err.ravel()


def gain_interval(
    sse_a: np.ndarray,
    sse_b: np.ndarray,
    confidence: float = GATE_CONFIDENCE,
    resamples: int = GATE_BOOTSTRAP,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(gain, low, high)`` in dB of ``a`` over ``b`` (positive: ``a`` has the smaller error) with a
    two-sided ``confidence`` percentile interval from ``resamples`` block resamples."""
    a = np.asarray(sse_a, dtype=np.float64)
    b = np.asarray(sse_b, dtype=np.float64)
    gain = _db(b.sum(), a.sum())
    if len(a) < 2:
        return gain, float("-inf"), float("inf")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(resamples, len(a)))
    gains = _db(b[idx].sum(axis=1), a[idx].sum(axis=1))
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(gains, (tail, 100 - tail))
    return gain, float(low), float(high)


def _db(num, den):
    return 10 * np.log10(np.maximum(num, 1e-30) / np.maximum(den, 1e-30))
