"""Training patches from the input itself: structure-biased sampling and anisotropy-aware augmentation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage


class PatchSampler:
    """Draw random patches of a fixed shape from one or more source arrays.

    A fraction ``structure_bias`` of the patches is drawn with probability proportional to the mean
    gradient magnitude inside the patch (so patches land on structures, not on empty background); the
    rest uniformly, so that background is still seen.
    """

    def __init__(
        self,
        sources: Sequence[np.ndarray],
        patch_shape: Sequence[int],
        rng: np.random.Generator,
        structure_bias: float = 0.8,
    ) -> None:
        self.patch_shape = tuple(int(p) for p in patch_shape)
        self.sources = [s for s in sources if all(a >= p for a, p in zip(s.shape, self.patch_shape, strict=True))]
        if not self.sources:
            raise ValueError(f"no source array is at least {self.patch_shape} large")
        self.rng = rng
        self.structure_bias = structure_bias
        self._cdfs = [self._structure_cdf(s) for s in self.sources] if structure_bias > 0 else []
        sizes = np.array([np.prod(self._corner_shape(s)) for s in self.sources], dtype=np.float64)
        self._source_p = sizes / sizes.sum()

    def _corner_shape(self, source: np.ndarray) -> tuple[int, ...]:
        return tuple(a - p + 1 for a, p in zip(source.shape, self.patch_shape, strict=True))

    def _structure_cdf(self, source: np.ndarray) -> np.ndarray:
        sigma = [1.0 if p > 1 else 0.0 for p in self.patch_shape]
        grad = ndimage.gaussian_gradient_magnitude(source.astype(np.float32), sigma)
        score = ndimage.uniform_filter(grad, size=self.patch_shape, mode="constant")
        # score at a corner = mean over the patch that starts there
        start = tuple(p // 2 for p in self.patch_shape)
        corner = tuple(slice(s, s + n) for s, n in zip(start, self._corner_shape(source), strict=True))
        weights = np.clip(score[corner], 0, None).astype(np.float64).ravel() + 1e-12
        cdf = np.cumsum(weights)
        return cdf / cdf[-1]

    def sample(self, count: int) -> np.ndarray:
        """``count`` patches stacked along a new first axis, float32."""
        out = np.empty((count, *self.patch_shape), dtype=np.float32)
        for i in range(count):
            k = int(self.rng.choice(len(self.sources), p=self._source_p))
            source = self.sources[k]
            corners = self._corner_shape(source)
            if self._cdfs and self.rng.random() < self.structure_bias:
                flat = int(np.searchsorted(self._cdfs[k], self.rng.random()))
                corner = np.unravel_index(min(flat, int(np.prod(corners)) - 1), corners)
            else:
                corner = tuple(int(self.rng.integers(0, n)) for n in corners)
            region = tuple(slice(c, c + p) for c, p in zip(corner, self.patch_shape, strict=True))
            out[i] = source[region]
        return out


def augment(batch: np.ndarray, rng: np.random.Generator, rotate_lateral: bool) -> np.ndarray:
    """Random flips along every spatial axis and, when allowed, 90° turns in the lateral (last two) axes.

    ``batch`` is ``(N, *S)``. Turns are only done when the lateral patch is square and both lateral axes
    share one factor, so the anisotropy (z vs lateral) is respected.
    """
    out = np.empty_like(batch)
    for i, patch in enumerate(batch):
        for axis in range(patch.ndim):
            if rng.random() < 0.5:
                patch = np.flip(patch, axis)
        if rotate_lateral and patch.ndim >= 2:
            patch = np.rot90(patch, int(rng.integers(0, 4)), axes=(-2, -1))
        out[i] = patch
    return out
