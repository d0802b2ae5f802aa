"""Percentile normalisation in, its exact inverse out: results stay in the input's intensity units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Normalizer:
    """Affine map ``(x - low) / (high - low)`` from percentiles of the input."""

    low: float
    high: float

    @classmethod
    def fit(cls, volume: np.ndarray, percentiles: tuple[float, float] = (0.1, 99.9)) -> Normalizer:
        sample = volume.ravel()
        if sample.size > 4_000_000:  # a strided sample is plenty for percentiles
            sample = sample[:: sample.size // 4_000_000]
        low, high = (float(v) for v in np.percentile(sample, percentiles))
        if high <= low:  # very sparse or near-binary data: fall back to the full range
            low, high = float(volume.min()), float(volume.max())
        if high <= low:
            high = low + 1.0
        return cls(low, high)

    def forward(self, volume: np.ndarray) -> np.ndarray:
        return ((volume.astype(np.float32) - np.float32(self.low)) / np.float32(self.high - self.low)).astype(
            np.float32, copy=False
        )

    def inverse(self, volume: np.ndarray, *, inplace: bool = False) -> np.ndarray:
        """Back to the input's units; ``inplace`` reuses a float32 ``volume`` the caller owns (saves a copy)."""
        if inplace and volume.dtype == np.float32 and volume.flags.writeable:
            volume *= np.float32(self.high - self.low)
            volume += np.float32(self.low)
            return volume
        return (volume * np.float32(self.high - self.low) + np.float32(self.low)).astype(np.float32, copy=False)
