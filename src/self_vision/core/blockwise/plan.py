"""Cutting a large enhancement into independent blocks: chunk-aligned outputs, inputs read with a halo.

Every block writes whole output chunks (so two workers never write the same chunk) and reads its input
region plus ``halo`` low-resolution voxels on each side (clipped at the volume's edge), so the network,
its interpolation base and the back-projection see the same neighbourhood they see on the whole volume.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ... import defaults
from ..errors import KIND_INVALID_VALUE, UsageError
from ..validate import check_int

if TYPE_CHECKING:
    from ..io.lazy import LazyVolume


@dataclass(frozen=True)
class Block:
    """One unit of work: read ``read`` from the input, enhance it, keep ``keep`` of that, write it at ``output``."""

    index: int
    read: tuple[slice, ...]  # input region, halo included
    keep: tuple[slice, ...]  # part of the enhanced read region that belongs to this block
    output: tuple[slice, ...]  # where that part goes in the output


@dataclass(frozen=True)
class BlockPlan:
    """How an input of ``shape`` enhanced by ``factor`` is cut into blocks of whole output ``chunks``."""

    shape: tuple[int, ...]
    factor: tuple[int, ...]
    chunks: tuple[int, ...]  # output chunk shape (each a multiple of its factor)
    block_chunks: tuple[int, ...]  # chunks per block along each axis
    halo: int = defaults.BLOCK_HALO

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(s * f for s, f in zip(self.shape, self.factor, strict=True))

    @property
    def block_shape(self) -> tuple[int, ...]:
        """Input voxels a block covers (halo excluded)."""
        return tuple(c * k // f for c, k, f in zip(self.chunks, self.block_chunks, self.factor, strict=True))

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(math.ceil(s / b) for s, b in zip(self.shape, self.block_shape, strict=True))

    def __len__(self) -> int:
        return math.prod(self.grid)

    def block(self, index: int) -> Block:
        position = _unravel(index, self.grid)
        read, keep, output = [], [], []
        for p, size, b, f in zip(position, self.shape, self.block_shape, self.factor, strict=True):
            start, stop = p * b, min((p + 1) * b, size)
            halo = self.halo if b < size else 0
            lo, hi = max(0, start - halo), min(size, stop + halo)
            read.append(slice(lo, hi))
            keep.append(slice((start - lo) * f, (stop - lo) * f))
            output.append(slice(start * f, stop * f))
        return Block(index, tuple(read), tuple(keep), tuple(output))

    def __iter__(self):
        return (self.block(i) for i in range(len(self)))

    def to_dict(self) -> dict:
        return {
            "shape": list(self.shape),
            "factor": list(self.factor),
            "chunks": list(self.chunks),
            "block_chunks": list(self.block_chunks),
            "halo": self.halo,
        }

    @classmethod
    def from_dict(cls, data: dict) -> BlockPlan:
        return cls(
            tuple(data["shape"]),
            tuple(data["factor"]),
            tuple(data["chunks"]),
            tuple(data["block_chunks"]),
            int(data["halo"]),
        )


def plan_blocks(
    shape: Sequence[int],
    factor: Sequence[int],
    *,
    chunks: Sequence[int] | None = None,
    block_output: int | None = None,
    halo: int = defaults.BLOCK_HALO,
) -> BlockPlan:
    """Choose output chunks (multiples of the factor) and how many of them make one block.

    ``block_output``: the most output voxels of one block (default :data:`defaults.BLOCK_OUTPUT_VOXELS`).
    """
    block_output = block_output or defaults.BLOCK_OUTPUT_VOXELS
    shape = tuple(int(s) for s in shape)
    factor = tuple(int(f) for f in factor)
    out = [s * f for s, f in zip(shape, factor, strict=True)]
    if chunks is None:
        default = [defaults.OUTPUT_CHUNK_AXIAL] * (len(shape) - 2) + [defaults.OUTPUT_CHUNK_LATERAL] * 2
        chunks = [min(c, o) for c, o in zip(default[-len(shape) :], out, strict=True)]
    if len(chunks) != len(shape):
        raise UsageError(f"chunks {tuple(chunks)}: give one size per axis ({len(shape)} axes)")
    fitted = []
    for c, f, o in zip(chunks, factor, out, strict=True):
        if int(c) < 1:
            raise UsageError(f"chunks {tuple(chunks)}: sizes must be positive")
        c = min(int(c), o)
        fitted.append(max(f, c - c % f))  # whole input voxels per chunk
    # grow blocks (in whole chunks) while their output stays under ``block_output``
    per_block = [1] * len(shape)
    while True:
        grown = False
        for axis in sorted(range(len(shape)), key=lambda a: -out[a]):
            trial = list(per_block)
            trial[axis] += 1
            covers = [min(o, c * k) for o, c, k in zip(out, fitted, trial, strict=True)]
            if fitted[axis] * per_block[axis] < out[axis] and math.prod(covers) <= block_output:
                per_block = trial
                grown = True
        if not grown:
            break
    return BlockPlan(shape, factor, tuple(fitted), tuple(per_block), int(halo))


def check_block_settings(
    chunks: Sequence[int] | None,
    block_output: int | None,
    train_voxels: int | None,
    ndim: int | None = None,
    labels: tuple[str, str, str] = ("chunks", "block_output", "train_voxels"),
) -> tuple[int, ...] | None:
    """Refuse bad block-wise settings before any work (``labels``: the face's names); returns the chunks."""
    check_int(block_output, labels[1], "block_output", minimum=1, maximum=2**40, what="number of voxels")
    check_int(train_voxels, labels[2], "train_voxels", minimum=1, maximum=2**40, what="number of voxels")
    if chunks is None:
        return None
    try:
        sizes = tuple(check_int(c, labels[0], "chunks", minimum=1, maximum=2**20) for c in chunks)
    except UsageError:
        raise UsageError(
            f"{labels[0]} {tuple(chunks)}: give one positive whole size per axis, e.g. 32,256,256",
            kind=KIND_INVALID_VALUE,
            option="chunks",
        ) from None
    if not sizes or (ndim is not None and len(sizes) != ndim):
        axes = "one size per axis" if ndim is None else f"{ndim} sizes, one per axis"
        raise UsageError(f"{labels[0]} {tuple(chunks)}: give {axes}", kind=KIND_INVALID_VALUE, option="chunks")
    return sizes  # type: ignore[return-value]


def _unravel(index: int, grid: Sequence[int]) -> tuple[int, ...]:
    if not 0 <= index < math.prod(grid):
        raise IndexError(f"block {index} out of range")
    return tuple(int(i) for i in np.unravel_index(index, tuple(grid)))


def format_region(region: tuple[slice, ...]) -> str:
    return "[" + ", ".join(f"{r.start}:{r.stop}" for r in region) + "]"


def training_region(volume: LazyVolume, factor: Sequence[int], max_voxels: int) -> tuple[slice, ...]:
    """The region the model learns from: the whole input if small, else the most structured of 9 windows.

    A window keeps every slice (up to what fits) and a square lateral field; each candidate is scored by
    the spread (99th − 50th percentile) of a strided read, so training lands on cells, not background.
    """
    shape = volume.shape
    if math.prod(shape) <= max_voxels:
        return tuple(slice(0, s) for s in shape)
    depth = shape[0] if len(shape) == 3 else 1
    if len(shape) == 3 and depth * 64 * 64 > max_voxels:
        depth = max(1, max_voxels // (64 * 64))
    side = int(math.sqrt(max_voxels / depth))
    side = max(side - side % max(factor[-2:]), max(factor[-2:]))
    window = ([depth] if len(shape) == 3 else []) + [min(side, shape[-2]), min(side, shape[-1])]
    best: tuple[float, tuple[slice, ...]] | None = None
    for fy in (0.0, 0.5, 1.0):
        for fx in (0.0, 0.5, 1.0):
            corner = [(shape[0] - window[0]) // 2] if len(shape) == 3 else []
            corner += [round(fy * (shape[-2] - window[-2])), round(fx * (shape[-1] - window[-1]))]
            region = tuple(slice(c, c + w) for c, w in zip(corner, window, strict=True))
            stride = tuple(slice(r.start, r.stop, max(1, (r.stop - r.start) // 64)) for r in region)
            sample = volume.read(stride).astype(np.float32)
            spread = float(np.percentile(sample, 99) - np.percentile(sample, 50))
            if best is None or spread > best[0]:
                best = (spread, region)
    assert best is not None
    return best[1]
