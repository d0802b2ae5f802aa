"""Shared fixtures: one torch thread (small CI machines crawl when oversubscribed) and a tiny test volume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from self_vision.core.io.writing import write_tiff
from self_vision.core.sample import synthetic_neurons

#: Shape (Z, Y, X) of the small test volume: 48 / 4 = 12 low-resolution voxels leave room for a 4x lateral factor.
SMALL_SHAPE = (8, 48, 48)
#: Voxel size (Z, Y, X) in µm written with the small test volume.
SMALL_VOXEL = (2.0, 0.5, 0.5)


@pytest.fixture(scope="session", autouse=True)
def _single_torch_thread():
    """Run torch on one thread: on a 2-core machine its default thread pool makes every test crawl."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def small_volume() -> np.ndarray:
    """A small structured float32 volume (Z, Y, X) = (8, 48, 48): tubes and blobs, not noise."""
    return synthetic_neurons(SMALL_SHAPE, seed=1)


@pytest.fixture
def small_tiff(tmp_path: Path, small_volume: np.ndarray) -> Path:
    """``small_volume`` written as an ImageJ TIFF with voxel size ``SMALL_VOXEL`` (µm)."""
    return write_tiff(tmp_path / "small.tif", small_volume, voxel_size=SMALL_VOXEL)
