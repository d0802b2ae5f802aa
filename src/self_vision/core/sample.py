"""A built-in synthetic sample: neuron-like tubes and somata at several sizes (no download needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage


def synthetic_neurons(
    shape: Sequence[int] = (32, 160, 160), *, seed: int = 0, tubes: int = 40, somata: int = 12
) -> np.ndarray:
    """A float32 volume in [0, ~1]: smooth random tubes (neurites) of varied width, blobs (somata), noise floor.

    Structures come in several sizes so that what is seen at a coarse scale recurs at a finer one, the
    property zero-shot learning relies on.
    """
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in shape)
    volume = np.zeros(shape, np.float32)
    for _ in range(tubes):
        # a smooth random walk through the volume, drawn at sub-voxel steps
        point = rng.uniform(0, 1, 3) * shape
        direction = rng.normal(size=3)
        direction[0] *= 0.3  # neurites run mostly in the lateral plane
        width = rng.uniform(0.6, 2.5)
        layer = np.zeros(shape, np.float32)
        for _ in range(int(2 * max(shape))):
            direction = direction / np.linalg.norm(direction) + rng.normal(scale=0.15, size=3)
            direction[0] *= 0.9
            point = point + 0.5 * direction / np.linalg.norm(direction)
            index = np.round(point).astype(int)
            if np.any(index < 0) or np.any(index >= shape):
                break
            layer[tuple(index)] = 1.0
        layer = ndimage.gaussian_filter(layer, sigma=(width * 0.6, width, width))
        peak = layer.max()
        if peak > 0:
            volume += rng.uniform(0.4, 1.0) * layer / peak
    zz, yy, xx = np.indices(shape, dtype=np.float32)
    for _ in range(somata):
        centre = rng.uniform(0, 1, 3) * shape
        radius = rng.uniform(2.0, 7.0)
        dist2 = ((zz - centre[0]) / 0.7) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2
        volume += rng.uniform(0.5, 1.0) * np.exp(-dist2 / (2 * radius**2)).astype(np.float32)
    volume = np.clip(volume, 0, None)
    volume /= max(float(np.percentile(volume, 99.9)), 1e-6)
    volume += 0.02 * rng.random(shape, dtype=np.float32)
    return volume.astype(np.float32)


def synthetic_shapes(shape: Sequence[int] = (16, 128, 128), *, seed: int = 0, count: int = 60) -> np.ndarray:
    """Flat-topped balls and boxes with sharp edges, float32 in [0, 1].

    Edges look alike at every scale, so a model learned from a coarser copy transfers to the finer one:
    the textbook case where zero-shot learning must beat interpolation.
    """
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in shape)
    volume = np.zeros(shape, np.float32)
    zz, yy, xx = np.indices(shape, dtype=np.float32)
    for _ in range(count):
        centre = rng.uniform(0, 1, 3) * shape
        radius = rng.uniform(3, 14)
        if rng.random() < 0.5:
            inside = ((zz - centre[0]) / 0.5) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2 < radius**2
        else:
            inside = (
                (np.abs(zz - centre[0]) < radius / 2)
                & (np.abs(yy - centre[1]) < radius)
                & (np.abs(xx - centre[2]) < radius * rng.uniform(0.3, 1.0))
            )
        volume[inside] = rng.uniform(0.2, 1.0)
    return volume
