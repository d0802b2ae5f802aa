"""Inference: whole-volume or tiled with a receptive-field halo, geometric self-ensemble, axial application."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from .devices import autocast
from .model import SelfVisionNet

ArrayFn = Callable[[np.ndarray], np.ndarray]

#: Largest output (voxels) computed in one pass; larger outputs are tiled.
DEFAULT_MAX_TILE_OUTPUT = 2**22  # ~16 MB of output per tile; activations stay ~100 MB


def _pad_mode(shape: Sequence[int], halo: int) -> str:
    return "reflect" if min(shape) > halo else "symmetric" if min(shape) >= halo else "edge"


@torch.no_grad()
def predict(
    model: SelfVisionNet,
    volume: np.ndarray,
    *,
    device: torch.device,
    max_tile_output: int = DEFAULT_MAX_TILE_OUTPUT,
    tile_shape: Sequence[int] | None = None,
    batch_dims: int = 0,
    precision: str = "fp32",
) -> np.ndarray:
    """Apply ``model`` to ``volume`` (normalised float32), in overlapping tiles when the output is large.

    The input is padded by the model's halo (mirror) on every side, so each output voxel sees its full
    receptive field; tiles overlap by that halo and are cropped, so tiled and untiled outputs agree.
    ``batch_dims`` leading axes of ``volume`` are a batch of independent planes (for 2D models on 3D data).
    ``precision`` ("fp32", "bf16", "auto") applies to the network's convolutions; its interpolation base
    always runs in float32.
    """
    factor = model.factor
    nd = len(factor)
    halo = model.config.halo
    spatial = volume.shape[batch_dims:]
    pad = [(0, 0)] * batch_dims + [(halo, halo)] * nd
    padded = np.pad(volume, pad, mode=_pad_mode(spatial, halo))
    out = np.empty(volume.shape[:batch_dims] + tuple(s * f for s, f in zip(spatial, factor, strict=True)), np.float32)
    tiles = tile_shape or _default_tile(spatial, factor, max_tile_output, volume.shape[:batch_dims])
    model = _prepared(model, device)
    for batch_index in np.ndindex(*volume.shape[:batch_dims]) if batch_dims else [()]:
        for core in _tile_regions(spatial, tiles):
            source = tuple(slice(c.start, c.stop + 2 * halo) for c in core)
            x = torch.from_numpy(np.ascontiguousarray(padded[batch_index + source]))
            with autocast(device, precision):
                y = model(_memory_format(x[None, None].to(device))).float()[0, 0]
            keep = tuple(slice(halo * f, (halo + c.stop - c.start) * f) for c, f in zip(core, factor, strict=True))
            target = tuple(slice(c.start * f, c.stop * f) for c, f in zip(core, factor, strict=True))
            out[batch_index + target] = y[keep].cpu().numpy()
    return out


@torch.no_grad()
def predict_planes(
    model: SelfVisionNet,
    volume: np.ndarray,
    *,
    device: torch.device,
    max_tile_output: int = DEFAULT_MAX_TILE_OUTPUT,
    precision: str = "fp32",
) -> np.ndarray:
    """Apply a 2D model to a stack of planes ``(N, H, W)``, several planes per pass."""
    factor = model.factor
    halo = model.config.halo
    n, h, w = volume.shape
    per_plane = (h + 2 * halo) * (w + 2 * halo) * math.prod(factor)
    chunk = max(1, max_tile_output // max(per_plane, 1))
    if per_plane > max_tile_output:  # a single plane is too large: tile it
        return predict(model, volume, device=device, max_tile_output=max_tile_output, batch_dims=1, precision=precision)
    padded = np.pad(volume, [(0, 0), (halo, halo), (halo, halo)], mode=_pad_mode((h, w), halo))
    out = np.empty((n, h * factor[0], w * factor[1]), np.float32)
    model = _prepared(model, device)
    for start in range(0, n, chunk):
        x = torch.from_numpy(np.ascontiguousarray(padded[start : start + chunk]))[:, None].to(device)
        with autocast(device, precision):
            y = model(x).float()[:, 0]
        out[start : start + chunk] = (
            y[:, halo * factor[0] : (halo + h) * factor[0], halo * factor[1] : (halo + w) * factor[1]].cpu().numpy()
        )
    return out


def _prepared(model: SelfVisionNet, device: torch.device) -> SelfVisionNet:
    """The model on ``device`` in eval mode; 3D models in channels-last layout (oneDNN's fast path on CPU)."""
    model = model.to(device).eval()
    if len(model.factor) == 3:
        model = model.to(memory_format=torch.channels_last_3d)
    return model


def _memory_format(x: torch.Tensor) -> torch.Tensor:
    return x.to(memory_format=torch.channels_last_3d) if x.ndim == 5 else x


def _default_tile(
    spatial: Sequence[int], factor: Sequence[int], max_output: int, batch_shape: Sequence[int]
) -> tuple[int, ...]:
    """Largest tile (halving the longest axis) whose output fits ``max_output`` voxels."""
    tile = list(spatial)
    scale = math.prod(factor)
    while math.prod(tile) * scale > max_output and max(tile) > 8:
        axis = int(np.argmax(tile))
        tile[axis] = math.ceil(tile[axis] / 2)
    return tuple(tile)


def _tile_regions(shape: Sequence[int], tile: Sequence[int]) -> Iterator[tuple[slice, ...]]:
    starts = [range(0, s, t) for s, t in zip(shape, tile, strict=True)]
    for corner in itertools.product(*starts):
        yield tuple(slice(c, min(c + t, s)) for c, t, s in zip(corner, tile, shape, strict=True))


def ensemble_transforms(ndim: int, rotate_lateral: bool) -> list[tuple[tuple[int, ...], int]]:
    """The geometric self-ensemble: (axes to flip, lateral quarter turns); 16 for square-lateral 3D."""
    flips = [tuple(a for a, bit in enumerate(bits) if bit) for bits in itertools.product([0, 1], repeat=ndim)]
    turns = range(2) if rotate_lateral else range(1)  # with all flips, turns 0/1 give the whole dihedral group
    return [(f, k) for f in flips for k in turns]


def self_ensemble(fn: ArrayFn, volume: np.ndarray, rotate_lateral: bool) -> np.ndarray:
    """Average ``T^-1(fn(T(volume)))`` over the geometric transforms ``T`` that respect anisotropy."""
    total: np.ndarray | None = None
    transforms = ensemble_transforms(volume.ndim, rotate_lateral)
    for flip_axes, turns in transforms:
        x = np.flip(volume, flip_axes) if flip_axes else volume
        x = np.rot90(x, turns, axes=(-2, -1))
        y = fn(np.ascontiguousarray(x))
        y = np.rot90(y, -turns, axes=(-2, -1))
        y = np.flip(y, flip_axes) if flip_axes else y
        total = y.astype(np.float64) if total is None else total + y
    assert total is not None
    return (total / len(transforms)).astype(np.float32)
