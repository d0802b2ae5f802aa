"""TIFF reader and writer: voxel size <-> layer scale, one layer per channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from self_vision._napari.reader import get_reader
from self_vision._napari.writer import write_image
from self_vision.core.errors import UsageError
from self_vision.core.io.tiff import read_tiff


def test_only_tiffs_are_claimed():
    assert get_reader("a.png") is None
    assert get_reader(["a.tif", "b.png"]) is None
    assert get_reader("stack.TIFF") is not None


def test_writer_then_reader_round_trip_keeps_the_voxel_size(tmp_path: Path, small_volume: np.ndarray):
    path = str(tmp_path / "out.tif")
    meta = {"scale": (2.0, 0.5, 0.25), "units": ("micrometer",) * 3, "name": "x"}
    assert write_image(path, small_volume, meta) == [path]
    assert read_tiff(path).voxel_size == (2.0, 0.5, 0.25)
    ((data, layer_meta, kind),) = get_reader(path)(path)
    assert kind == "image"
    np.testing.assert_array_equal(data, small_volume)
    assert layer_meta["scale"] == (2.0, 0.5, 0.25)
    assert layer_meta["units"] == ("micrometer",) * 3
    assert layer_meta["axis_labels"] == ("z", "y", "x")


def test_a_files_run_record_becomes_the_layers_metadata(tmp_path: Path, small_volume: np.ndarray):
    import zarr
    from ome_zarr import writer as ome_writer

    from self_vision.core.io.writing import write_tiff
    from self_vision.core.provenance import RECORD_KEY

    record = {"task": "enhance", "seed": 7, "steps_trained": {"lateral": 5}}
    path = write_tiff(tmp_path / "r.tif", small_volume, voxel_size=(1.0, 0.5, 0.5), record=record)
    ((_, meta, _),) = get_reader(str(path))(str(path))
    assert meta["metadata"][RECORD_KEY] == record
    store = tmp_path / "r.zarr"
    group = zarr.open_group(str(store), mode="w")
    ome_writer.write_image(small_volume, group, axes="zyx", scaler=None)
    group.attrs[RECORD_KEY] = record
    ((_, meta, _),) = get_reader(str(store))(str(store))
    assert meta["metadata"][RECORD_KEY] == record
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, small_volume)
    ((_, meta, _),) = get_reader(str(plain))(str(plain))
    assert "metadata" not in meta  # a file from elsewhere carries none


def test_writer_refuses_what_it_cannot_store(tmp_path: Path):
    with pytest.raises(UsageError, match="4 axes"):
        write_image(str(tmp_path / "a.tif"), np.zeros((2, 2, 4, 4), np.float32), {"scale": (1, 1, 1, 1)})


@pytest.mark.qt
def test_multichannel_file_opens_as_one_layer_per_channel(make_napari_viewer, tmp_path: Path):
    data = np.random.default_rng(0).random((5, 2, 16, 16)).astype(np.float32)  # Z C Y X
    path = tmp_path / "two.tif"
    tifffile.imwrite(
        path, data, imagej=True, resolution=(1 / 0.2, 1 / 0.2), metadata={"axes": "ZCYX", "spacing": 1.5, "unit": "um"}
    )
    viewer = make_napari_viewer()
    added = viewer.open(str(path), plugin="napari-self-vision")
    assert [layer.name for layer in added] == ["two [ch0]", "two [ch1]"]
    for channel, layer in enumerate(added):
        np.testing.assert_allclose(layer.scale, (1.5, 0.2, 0.2))
        np.testing.assert_array_equal(layer.data, data[:, channel])
        assert str(layer.units[0]) == "micrometer"
