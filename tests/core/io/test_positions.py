"""Where an image lies: the translate written into TIFFs (ImageJ origin, OME plane positions) and read back, and
the OME-Zarr ``translation`` transform, channel axis and units."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from self_vision.core.errors import DataError, UsageError
from self_vision.core.io import writing
from self_vision.core.io.metadata import CalibrationWarning, physical_sizes, physical_translate
from self_vision.core.io.omezarr import read_zarr_image
from self_vision.core.io.writing import write_tiff


def _placement(path: Path) -> tuple[dict, dict]:
    with tifffile.TiffFile(path) as tif:
        sizes = physical_sizes(tif, tif.series[0])
        return sizes, physical_translate(tif, sizes)


def test_imagej_tiff_stores_the_translate_as_imagej_origin_in_pixels(tmp_path: Path):
    path = write_tiff(
        tmp_path / "a.tif", np.zeros((3, 8, 10), np.float32), voxel_size=(2.0, 0.5, 0.25), translate=(1.0, -2.5, 3.3)
    )
    with tifffile.TiffFile(path) as tif:
        ij = tif.imagej_metadata
    # ImageJ's own Calibration origin: calibrated x = (pixel - xorigin) * pixel width
    assert ij["zorigin"] == pytest.approx(-0.5) and ij["yorigin"] == pytest.approx(5.0)
    assert ij["xorigin"] == pytest.approx(-13.2)
    sizes, translate = _placement(path)
    assert translate == pytest.approx({"Z": 1.0, "Y": -2.5, "X": 3.3})
    assert sizes["X"] == (0.25, "µm")


def test_zero_translate_writes_no_origin_and_reads_as_the_origin(tmp_path: Path):
    path = write_tiff(tmp_path / "a.tif", np.zeros((8, 10), np.float32), voxel_size=(0.5, 0.5), translate=(0, 0))
    with tifffile.TiffFile(path) as tif:
        assert not {"xorigin", "yorigin"} & set(tif.imagej_metadata)
    assert _placement(path)[1] == {}


def test_an_uncalibrated_file_keeps_its_translate_in_pixels(tmp_path: Path):
    path = write_tiff(tmp_path / "a.tif", np.zeros((8, 10), np.float32), translate=(2.0, -3.0))
    assert _placement(path)[1] == {"Y": 2.0, "X": -3.0}


def test_bigtiff_outputs_store_the_translate_as_ome_plane_positions(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(writing, "BIGTIFF_BYTES", 16)  # take the >4 GB (OME) path with a small array
    data = np.zeros((2, 3, 8, 10), np.float32)
    path = write_tiff(tmp_path / "a.tif", data, axes="TZYX", voxel_size=(2.0, 0.5, 0.25), translate=(1.0, -2.5, 3.3))
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome and not tif.is_imagej
        planes = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]["Plane"]
    assert len(planes) == 6
    assert sorted({(p["TheZ"], p["PositionZ"]) for p in planes}) == [(0, 1.0), (1, 3.0), (2, 5.0)]
    assert {p["PositionX"] for p in planes} == {3.3} and {p["PositionXUnit"] for p in planes} == {"µm"}
    assert _placement(path)[1] == pytest.approx({"Z": 1.0, "Y": -2.5, "X": 3.3})


def test_ome_positions_in_another_unit_are_converted_to_the_voxel_size_unit(tmp_path: Path):
    path = tmp_path / "nm.ome.tif"
    tifffile.imwrite(
        path,
        np.zeros((2, 6, 6), np.uint8),
        ome=True,
        metadata={
            "axes": "ZYX",
            **{f"PhysicalSize{a}": 0.5 for a in "XYZ"},
            "Plane": {"PositionX": [1500.0] * 2, "PositionXUnit": ["nm"] * 2, "PositionZ": [2.0, 2.5]},
        },
    )
    assert _placement(path)[1] == pytest.approx({"X": 1.5, "Z": 2.0})


def test_an_invalid_origin_is_ignored_with_a_warning(tmp_path: Path):
    path = tmp_path / "nan.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8), imagej=True, metadata={"xorigin": "nan", "yorigin": 2})
    with pytest.warns(CalibrationWarning, match="xorigin .* not a valid position"):
        assert _placement(path)[1] == {"Y": -2.0}


def test_a_translate_that_is_not_finite_or_of_the_wrong_length_is_refused(tmp_path: Path):
    with pytest.raises(UsageError, match="translate"):
        write_tiff(tmp_path / "a.tif", np.zeros((4, 4), np.float32), translate=(0.0, float("nan")))
    with pytest.raises(UsageError, match="2 finite numbers"):
        write_tiff(tmp_path / "a.tif", np.zeros((4, 4), np.float32), translate=(0.0, 1.0, 2.0))
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------------------------ OME-Zarr


def _store(path: Path, shape: tuple[int, ...], axes: list[dict], datasets: list[dict], **image) -> Path:
    group = zarr.open_group(str(path), mode="w")
    for entry in datasets:
        level = int(entry["path"])
        group.create_array(entry["path"], shape=shape[:-2] + tuple(n >> level for n in shape[-2:]), dtype="f4")
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": datasets, **image}]}
    return path


def _space(*names: str, unit: str | None = None) -> list[dict]:
    return [{"name": n, "type": "space", **({"unit": unit} if unit else {})} for n in names]


def test_level_zero_translation_scale_and_unit_are_read(tmp_path: Path):
    datasets = [
        {"path": "0", "coordinateTransformations": [_scale(2, 0.5, 0.5), _shift(10, -4, 7.5)]},
        {"path": "1", "coordinateTransformations": [_scale(2, 1, 1), _shift(10, -3.75, 7.75)]},
    ]
    image = read_zarr_image(_store(tmp_path / "a.zarr", (4, 16, 16), _space(*"zyx", unit="nanometer"), datasets))
    assert image.axes == "ZYX" and image.channel_axis is None
    assert image.voxel_size == (2.0, 0.5, 0.5) and image.translate == (10.0, -4.0, 7.5)
    assert image.unit == "nm"
    assert image.level_scales == ((2.0, 0.5, 0.5), (2.0, 1.0, 1.0))


def test_a_store_without_units_has_none(tmp_path: Path):
    datasets = [{"path": "0", "coordinateTransformations": [_scale(2, 0.5, 0.5)]}]
    image = read_zarr_image(_store(tmp_path / "a.zarr", (4, 8, 8), _space(*"zyx"), datasets))
    assert image.voxel_size == (2.0, 0.5, 0.5) and image.unit is None and image.translate is None


def test_multiscale_wide_transforms_apply_after_the_level_ones(tmp_path: Path):
    datasets = [{"path": "0", "coordinateTransformations": [_scale(1, 1), _shift(1, 2)]}]
    whole = [_scale(0.5, 0.25), _shift(100, 200)]
    store = _store(tmp_path / "a.zarr", (8, 8), _space("y", "x"), datasets, coordinateTransformations=whole)
    image = read_zarr_image(store)
    assert image.voxel_size == (0.5, 0.25) and image.translate == (100.5, 200.5)


def test_the_channel_axis_is_found_by_its_type(tmp_path: Path):
    axes = [{"name": "c", "type": "channel"}, *_space(*"zyx", unit="micrometer")]
    datasets = [{"path": "0", "coordinateTransformations": [_scale(1, 2, 0.5, 0.5)]}]
    image = read_zarr_image(_store(tmp_path / "a.zarr", (2, 4, 8, 8), axes, datasets))
    assert image.axes == "CZYX" and image.channel_axis == 0 and image.unit == "µm"
    named = [{"name": "wavelength", "type": "channel"}, *_space(*"yx")]
    datasets = [{"path": "0", "coordinateTransformations": [_scale(1, 0.5, 0.5)]}]
    image = read_zarr_image(_store(tmp_path / "b.zarr", (3, 8, 8), named, datasets))
    assert image.axes == "CYX" and image.channel_axis == 0


@pytest.mark.parametrize(
    ("translation", "words"),
    [([1.0, 2.0], "one entry per axis"), ([1.0, "NaN", 0.0], "not finite"), ([1.0, "a", 0.0], "not numeric")],
)
def test_a_malformed_translation_is_a_one_line_error(tmp_path: Path, translation, words):
    datasets = [{"path": "0", "coordinateTransformations": [_scale(1, 1, 1), _shift(*translation)]}]
    store = _store(tmp_path / "a.zarr", (2, 4, 4), _space(*"zyx"), datasets)
    with pytest.raises(DataError, match=f"translation .*{words}") as caught:
        read_zarr_image(store)
    assert "\n" not in str(caught.value)


def test_block_wise_outputs_keep_their_placement(tmp_path: Path):
    """core/blockwise/store.py writes level 0 with a scale only and coarser levels with a centring translation."""
    from ome_zarr.writer import write_multiscales_metadata

    group = zarr.open_group(str(tmp_path / "out.ome.zarr"), mode="w")
    group.create_array("0", shape=(4, 16, 16), dtype="f4")
    group.create_array("1", shape=(4, 8, 8), dtype="f4")
    datasets = [
        {"path": "0", "coordinateTransformations": [_scale(1, 0.25, 0.25)]},
        {"path": "1", "coordinateTransformations": [_scale(1, 0.5, 0.5), _shift(0, 0.125, 0.125)]},
    ]
    write_multiscales_metadata(group, datasets, axes=_space(*"zyx", unit="micrometer"), name="enhanced")
    assert "translation" in json.dumps(group.attrs.asdict())
    image = read_zarr_image(tmp_path / "out.ome.zarr")
    assert image.voxel_size == (1.0, 0.25, 0.25) and image.translate is None and image.unit == "µm"
    assert len(image.levels) == 2


def _scale(*values: float) -> dict:
    return {"type": "scale", "scale": [float(v) for v in values]}


def _shift(*values: object) -> dict:
    return {"type": "translation", "translation": list(values)}
