"""Lazy inputs: TIFF (memory-mapped or decoded by region), Zarr, OME-Zarr and in-memory arrays."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr

from self_vision.core.errors import DataError, UsageError
from self_vision.core.io.lazy import SourceSpec, as_lazy, is_zarr_path, open_lazy
from self_vision.core.io.writing import write_tiff


@pytest.fixture
def stack() -> np.ndarray:
    return (np.random.default_rng(0).random((6, 40, 50)) * 4000).astype(np.uint16)


def test_uncompressed_tiff_is_memory_mapped_and_keeps_its_voxel_size(tmp_path, stack):
    path = write_tiff(tmp_path / "a.tif", stack, voxel_size=(2.0, 0.5, 0.5))
    volume = open_lazy(path)
    assert volume.shape == stack.shape and volume.axes == "ZYX"
    assert volume.voxel_size == (2.0, 0.5, 0.5) and volume.unit == "µm"
    region = (slice(1, 3), slice(5, 25), slice(10, 40))
    np.testing.assert_array_equal(volume.read(region), stack[region])
    assert volume.spec == SourceSpec(str(path))


def test_compressed_tiled_tiff_is_read_by_region(tmp_path, stack):
    path = tmp_path / "c.tif"
    tifffile.imwrite(path, stack, compression="zlib", tile=(16, 16))
    volume = open_lazy(path)
    region = (slice(0, 6), slice(17, 33), slice(3, 49))
    np.testing.assert_array_equal(volume.read(region), stack[region])


def test_multichannel_tiff_needs_and_honours_a_channel(tmp_path, stack):
    path = tmp_path / "czyx.tif"
    both = np.stack([stack, stack // 2], axis=1)  # ZCYX
    tifffile.imwrite(path, both, imagej=True, metadata={"axes": "ZCYX"})
    with pytest.raises(UsageError, match="channel"):
        open_lazy(path)
    volume = open_lazy(path, channel=1)
    np.testing.assert_array_equal(volume.read((slice(None),) * 3), stack // 2)


def test_zarr_array_and_ome_zarr_group(tmp_path, stack):
    plain = tmp_path / "plain.zarr"
    zarr.create_array(str(plain), shape=stack.shape, chunks=(2, 20, 25), dtype=stack.dtype)[:] = stack
    volume = open_lazy(plain)
    assert is_zarr_path(plain) and volume.voxel_size is None
    np.testing.assert_array_equal(volume.read((slice(2, 4), slice(None), slice(0, 7))), stack[2:4, :, :7])

    from ome_zarr.writer import write_image

    ome = tmp_path / "img.ome.zarr"
    group = zarr.open_group(str(ome), mode="w")
    write_image(
        stack,
        group,
        axes="zyx",
        scale_factors=[],
        scale={"z": 3.0, "y": 0.2, "x": 0.2},
    )
    volume = open_lazy(ome)
    assert volume.voxel_size == (3.0, 0.2, 0.2)
    np.testing.assert_array_equal(volume.read((slice(None),) * 3), stack)


def test_unusable_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        open_lazy(tmp_path / "missing.tif")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="unknown input format"):
        open_lazy(tmp_path / "notes.txt")
    zarr.open_group(str(tmp_path / "empty.zarr"), mode="w")
    with pytest.raises(DataError, match="multiscales"):
        open_lazy(tmp_path / "empty.zarr")
    (tmp_path / "broken.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(DataError, match="not a readable TIFF"):
        open_lazy(tmp_path / "broken.tif")


def test_in_memory_arrays_are_wrapped_without_copying_semantics(stack):
    volume = as_lazy(stack, (1.0, 1.0, 1.0))
    assert volume.spec is None and volume.name == "input"
    np.testing.assert_array_equal(volume.read((slice(0, 1), slice(0, 2), slice(0, 3))), stack[:1, :2, :3])
    with pytest.raises(DataError, match="2D"):
        as_lazy(np.zeros((2, 2, 2, 2)))
