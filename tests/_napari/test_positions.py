"""Positions survive save and open (issue 14): the TIFF writer keeps a layer's scale and translate, the OME-Zarr
reader honours ``translation``, splits channels and invents no unit, and a bright spot keeps its world coordinate
through open → enhance → save → open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from napari.layers import Image

import self_vision
from self_vision._napari.layers import result_kwargs
from self_vision._napari.reader import get_reader
from self_vision._napari.writer import write_image
from self_vision.core.io.writing import write_tiff
from self_vision.core.sample import synthetic_neurons

SCALE = (2.0, 0.5, 0.5)
TRANSLATE = (3.0, -1.25, 10.0)
SPOT = (4, 17, 23)  # Z, Y, X index of the bright spot in the input
FACTOR = (1, 2, 2)


def _open(path: Path) -> list[Image]:
    reader = get_reader(str(path))
    assert reader is not None
    return [Image(data, **meta) for data, meta, _ in reader(str(path))]


def _with_spot(shape: tuple[int, ...] = (8, 40, 40)) -> np.ndarray:
    """Dim structure plus one bright Gaussian spot (σ 1 voxel) centred on :data:`SPOT`."""
    grid = np.indices(shape, dtype=np.float32)
    spot = np.exp(-sum((g - c) ** 2 for g, c in zip(grid, SPOT, strict=True)) / 2.0)
    return (0.2 * synthetic_neurons(shape, seed=5) + spot).astype(np.float32)


def _spot_world(layer: Image) -> np.ndarray:
    """World coordinate of the spot: the background-free centroid of a window around the brightest voxel."""
    data = np.asarray(layer.data, dtype=np.float64)
    peak = np.unravel_index(int(np.argmax(data)), data.shape)
    radius = [max(1, round(2.5 * float(SCALE[i]) / float(layer.scale[i]))) for i in range(3)]
    window = tuple(slice(max(0, p - r), p + r + 1) for p, r in zip(peak, radius, strict=True))
    values = data[window] - np.median(data)
    values = np.clip(values, 0, None)
    grid = np.indices(values.shape, dtype=np.float64)
    centre = [float((g * values).sum() / values.sum()) + w.start for g, w in zip(grid, window, strict=True)]
    return np.asarray(layer.data_to_world(centre), dtype=np.float64)


def _enhance_and_save(layer: Image, out: Path) -> Image:
    """Enhance ``layer`` with a tiny exact run, add the result as a layer over it, save it with the plugin's writer
    (given what napari gives a writer: the layer's data and its ``as_layer_data_tuple`` metadata)."""
    result = self_vision.enhance(
        np.asarray(layer.data), FACTOR, voxel_size=tuple(layer.scale), options=self_vision.EnhanceOptions(steps=2)
    )
    enhanced = Image(result.data, name="enhanced", **result_kwargs(layer, FACTOR))
    data, meta, _ = enhanced.as_layer_data_tuple()
    assert write_image(str(out), data, meta) == [str(out)]
    return enhanced


def test_writer_keeps_scale_and_translate(tmp_path: Path, small_volume: np.ndarray):
    path = tmp_path / "placed.tif"
    meta = {"scale": SCALE, "translate": TRANSLATE, "units": ("micrometer",) * 3}
    write_image(str(path), small_volume, meta)
    ((data, opened, _),) = get_reader(str(path))(str(path))
    np.testing.assert_array_equal(data, small_volume)
    assert opened["scale"] == SCALE
    assert opened["translate"] == pytest.approx(TRANSLATE)
    plain = tmp_path / "plain.tif"
    write_image(str(plain), small_volume, {"scale": SCALE, "translate": (0.0, 0.0, 0.0)})
    assert "translate" not in get_reader(str(plain))(str(plain))[0][1]  # the origin: napari's default


def test_a_bright_spot_keeps_its_world_coordinate_through_open_enhance_save_open(tmp_path: Path):
    source = write_tiff(tmp_path / "spot.tif", _with_spot(), voxel_size=SCALE, translate=TRANSLATE)
    (layer,) = _open(source)
    np.testing.assert_allclose(layer.scale, SCALE)
    np.testing.assert_allclose(layer.translate, TRANSLATE)
    before = _spot_world(layer)
    assert np.all(np.abs(before - (np.asarray(SPOT) * SCALE + TRANSLATE)) <= 0.1 * np.asarray(SCALE))

    enhanced = _enhance_and_save(layer, tmp_path / "enhanced.tif")
    assert np.any(np.asarray(enhanced.translate) != 0)  # a result is shifted: the writer must keep that
    (reopened,) = _open(tmp_path / "enhanced.tif")
    np.testing.assert_allclose(reopened.scale, enhanced.scale)
    np.testing.assert_allclose(reopened.translate, enhanced.translate, atol=1e-9)
    after = _spot_world(reopened)
    np.testing.assert_allclose(after, _spot_world(enhanced), atol=1e-9)
    half_output_voxel = np.asarray(reopened.scale) / 2
    assert np.all(np.abs(after - before) <= half_output_voxel), (before, after, half_output_voxel)


def _ome_zarr(path: Path, data: np.ndarray, axes: list[dict], transforms: list[list[dict]]) -> Path:
    group = zarr.open_group(str(path), mode="w")
    datasets = []
    for level, level_transforms in enumerate(transforms):
        step = 2**level
        array = data[..., ::step, ::step]
        group.create_array(str(level), shape=array.shape, dtype=array.dtype)[:] = array
        datasets.append({"path": str(level), "coordinateTransformations": level_transforms})
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": datasets}]}
    return path


def _space(unit: str | None) -> list[dict]:
    return [{"name": a, "type": "space", **({"unit": unit} if unit else {})} for a in "zyx"]


def test_ome_zarr_translation_is_the_layer_translate_and_survives_enhance_save_open(tmp_path: Path):
    transforms = [[{"type": "scale", "scale": list(SCALE)}, {"type": "translation", "translation": list(TRANSLATE)}]]
    store = _ome_zarr(tmp_path / "spot.ome.zarr", _with_spot(), _space("micrometer"), transforms)
    (layer,) = _open(store)
    np.testing.assert_allclose(layer.translate, TRANSLATE)
    assert [str(u) for u in layer.units] == ["micrometer"] * 3
    expected = np.asarray(SPOT) * SCALE + TRANSLATE  # the spot's position by the store's own metadata
    assert np.all(np.abs(_spot_world(layer) - expected) <= 0.1 * np.asarray(SCALE))

    layer = Image(np.asarray(layer.data), **{k: getattr(layer, k) for k in ("scale", "translate", "units")})
    _enhance_and_save(layer, tmp_path / "enhanced.tif")
    (reopened,) = _open(tmp_path / "enhanced.tif")
    assert np.all(np.abs(_spot_world(reopened) - expected) <= np.asarray(reopened.scale) / 2)


def test_a_store_without_units_is_not_labelled_micrometer(tmp_path: Path):
    transforms = [[{"type": "scale", "scale": list(SCALE)}]]
    store = _ome_zarr(tmp_path / "bare.ome.zarr", np.zeros((2, 8, 8), np.float32), _space(None), transforms)
    ((_, meta, _),) = get_reader(str(store))(str(store))
    assert "units" not in meta and meta["scale"] == SCALE and "translate" not in meta
    (layer,) = _open(store)
    assert [str(u) for u in layer.units] == ["pixel"] * 3


def _two_channels(tmp_path: Path) -> tuple[Path, np.ndarray]:
    data = np.random.default_rng(0).random((2, 4, 16, 16)).astype(np.float32)  # C Z Y X
    axes = [{"name": "c", "type": "channel"}, *_space(None)]
    transforms = [
        [{"type": "scale", "scale": [1.0, *SCALE]}, {"type": "translation", "translation": [0.0, *TRANSLATE]}],
        [{"type": "scale", "scale": [1.0, 2.0, 1.0, 1.0]}, {"type": "translation", "translation": [0, 3, -1, 10.25]}],
    ]
    return _ome_zarr(tmp_path / "two.ome.zarr", data, axes, transforms), data


def test_a_channel_axis_is_split_like_tiff_channels(tmp_path: Path):
    store, _ = _two_channels(tmp_path)
    ((levels, meta, kind),) = get_reader(str(store))(str(store))
    assert kind == "image" and meta["multiscale"] and len(levels) == 2
    assert meta["channel_axis"] == 0 and meta["name"] == ["two [ch0]", "two [ch1]"]
    assert meta["scale"] == SCALE and meta["translate"] == TRANSLATE and meta["axis_labels"] == ("z", "y", "x")


def test_a_two_channel_ome_zarr_opens_as_one_layer_per_channel(make_napari_viewer, tmp_path: Path):
    store, data = _two_channels(tmp_path)
    viewer = make_napari_viewer()
    added = viewer.open(str(store), plugin="napari-self-vision")
    assert [layer.name for layer in added] == ["two [ch0]", "two [ch1]"]
    for channel, layer in enumerate(added):
        assert layer.ndim == 3 and layer.multiscale
        np.testing.assert_allclose(layer.scale, SCALE)
        np.testing.assert_allclose(layer.translate, TRANSLATE)
        np.testing.assert_array_equal(np.asarray(layer.data[0]), data[channel])
        assert [str(u) for u in layer.units] == ["pixel"] * 3
