"""Tests of TIFF reading and writing (self_vision.core.io)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from self_vision.core.errors import DataError, UsageError
from self_vision.core.io import writing
from self_vision.core.io.tiff import Volume, read_tiff
from self_vision.core.io.units import normalize_unit
from self_vision.core.io.writing import check_output_path, write_tiff


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _one_line_naming(err: pytest.ExceptionInfo, path: Path) -> str:
    message = str(err.value)
    assert "\n" not in message
    assert path.name in message
    return message


# ----------------------------------------------------------------------------------------- round trip


def test_round_trip_3d(tmp_path: Path, rng: np.random.Generator) -> None:
    data = rng.random((6, 20, 24), dtype=np.float32)
    out = write_tiff(tmp_path / "vol.tif", data, voxel_size=(5.0, 0.5, 0.25))
    assert out == tmp_path / "vol.tif"
    vol = read_tiff(out)
    assert isinstance(vol, Volume)
    assert vol.axes == "ZYX"
    assert vol.data.dtype == np.float32
    np.testing.assert_array_equal(vol.data, data)
    assert vol.voxel_size == pytest.approx((5.0, 0.5, 0.25), rel=1e-9)
    assert vol.unit == "µm"
    assert vol.path == out


def test_round_trip_2d(tmp_path: Path, rng: np.random.Generator) -> None:
    data = rng.random((16, 12), dtype=np.float32)
    vol = read_tiff(write_tiff(tmp_path / "img.tif", data, voxel_size=(0.65, 0.13)))
    assert vol.axes == "YX"
    np.testing.assert_array_equal(vol.data, data)
    assert vol.voxel_size == pytest.approx((0.65, 0.13), rel=1e-9)
    assert vol.unit == "µm"


def test_round_trip_anisotropic_xy_and_other_unit(tmp_path: Path) -> None:
    data = np.ones((3, 8, 10), np.float32)
    vol = read_tiff(write_tiff(tmp_path / "nm.tif", data, voxel_size=(300.0, 108.3, 97.5), unit="nm"))
    assert vol.voxel_size == pytest.approx((300.0, 108.3, 97.5), rel=1e-9)
    assert vol.unit == "nm"


def test_write_without_voxel_size_reads_none(tmp_path: Path) -> None:
    vol = read_tiff(write_tiff(tmp_path / "plain.tif", np.zeros((4, 5, 6), np.float32)))
    assert vol.voxel_size is None
    assert vol.unit is None
    assert vol.axes == "ZYX"


def test_written_unit_is_imagej_micron(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / "u.tif", np.zeros((3, 4, 5), np.float32), voxel_size=(1, 1, 1))
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        assert tif.imagej_metadata["unit"] == "micron"
        assert tif.imagej_metadata["spacing"] == pytest.approx(1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
def test_write_converts_unsupported_dtypes_to_float32(tmp_path: Path, dtype: type) -> None:
    data = (np.arange(24).reshape(2, 3, 4) % 2).astype(dtype)
    vol = read_tiff(write_tiff(tmp_path / "c.tif", data))
    assert vol.data.dtype == np.float32
    np.testing.assert_array_equal(vol.data, data.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_write_keeps_imagej_dtypes(tmp_path: Path, dtype: type) -> None:
    data = np.arange(60, dtype=dtype).reshape(3, 4, 5)
    vol = read_tiff(write_tiff(tmp_path / "k.tif", data))
    assert vol.data.dtype == dtype
    np.testing.assert_array_equal(vol.data, data)


# -------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float64])
def test_read_preserves_dtype(tmp_path: Path, dtype: type) -> None:
    data = np.arange(5 * 6 * 7).reshape(5, 6, 7).astype(dtype)
    path = tmp_path / "d.tif"
    tifffile.imwrite(path, data, metadata={"axes": "ZYX"})
    vol = read_tiff(path)
    assert vol.data.dtype == dtype
    assert vol.axes == "ZYX"
    np.testing.assert_array_equal(vol.data, data)


def test_read_ome_voxel_size(tmp_path: Path, rng: np.random.Generator) -> None:
    data = rng.integers(0, 1000, (5, 10, 12), dtype=np.uint16)
    path = tmp_path / "x.ome.tif"
    tifffile.imwrite(
        path,
        data,
        ome=True,
        metadata={
            "axes": "ZYX",
            "PhysicalSizeX": 0.2,
            "PhysicalSizeY": 0.2,
            "PhysicalSizeZ": 1.0,
            "PhysicalSizeXUnit": "µm",
            "PhysicalSizeYUnit": "µm",
            "PhysicalSizeZUnit": "µm",
        },
    )
    vol = read_tiff(path)
    assert vol.axes == "ZYX"
    np.testing.assert_array_equal(vol.data, data)
    assert vol.voxel_size == pytest.approx((1.0, 0.2, 0.2))
    assert vol.unit == "µm"


def test_read_ome_mixed_units_converted_to_micron(tmp_path: Path) -> None:
    path = tmp_path / "mixed.ome.tif"
    tifffile.imwrite(
        path,
        np.zeros((5, 8, 8), np.uint8),
        ome=True,
        metadata={
            "axes": "ZYX",
            "PhysicalSizeX": 100.0,
            "PhysicalSizeXUnit": "nm",
            "PhysicalSizeY": 100.0,
            "PhysicalSizeYUnit": "nm",
            "PhysicalSizeZ": 0.5,
            "PhysicalSizeZUnit": "µm",
        },
    )
    vol = read_tiff(path)
    assert vol.voxel_size == pytest.approx((0.5, 0.1, 0.1))
    assert vol.unit == "µm"


def test_read_ome_without_z_size_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "noz.ome.tif"
    tifffile.imwrite(path, np.zeros((5, 8, 8), np.uint8), ome=True, metadata={"axes": "ZYX", "PhysicalSizeX": 0.2})
    assert read_tiff(path).voxel_size is None


@pytest.mark.parametrize("unit", ["micron", "um", "\\u00B5m", "µm"])
def test_read_imagej_unit_spellings(tmp_path: Path, unit: str) -> None:
    path = tmp_path / "ij.tif"
    # tifffile writes ImageJ descriptions as ASCII, so a raw "µm" goes in as ImageJ's escape
    ij_unit = "\\u00B5m" if unit == "µm" else unit
    tifffile.imwrite(
        path,
        np.zeros((5, 8, 8), np.float32),
        imagej=True,
        resolution=(1 / 0.1, 1 / 0.2),
        metadata={"axes": "ZYX", "spacing": 2.0, "unit": ij_unit},
    )
    vol = read_tiff(path)
    assert vol.voxel_size == pytest.approx((2.0, 0.2, 0.1))
    assert vol.unit == "µm"


def test_normalize_unit() -> None:
    for spelling in ("micron", "microns", "um", "µm", "μm", "\\u00B5m", " Micron "):
        assert normalize_unit(spelling) == "µm"
    assert normalize_unit("nanometer") == "nm"
    assert normalize_unit("pixel") is None
    assert normalize_unit(None) is None
    assert normalize_unit("furlong") == "furlong"


def test_read_plain_tiff_resolution_in_centimetres(tmp_path: Path) -> None:
    path = tmp_path / "cm.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), resolution=(10000, 5000), resolutionunit="CENTIMETER")
    vol = read_tiff(path)
    assert vol.voxel_size == pytest.approx((2.0, 1.0))
    assert vol.unit == "µm"


def test_read_plain_tiff_screen_dpi_is_not_a_voxel_size(tmp_path: Path) -> None:
    path = tmp_path / "dpi.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), resolution=(72, 72), resolutionunit="INCH")
    assert read_tiff(path).voxel_size is None


def test_read_squeezes_singleton_axes(tmp_path: Path) -> None:
    data = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(1, 4, 1, 5, 6)
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, data, imagej=True, metadata={"axes": "TZCYX"})
    vol = read_tiff(path)
    assert vol.axes == "ZYX"
    np.testing.assert_array_equal(vol.data, data[0, :, 0])


def test_read_single_plane_stack_is_2d(tmp_path: Path) -> None:
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, np.ones((1, 5, 6), np.uint8), metadata={"axes": "ZYX"})
    vol = read_tiff(path)
    assert vol.axes == "YX"
    assert vol.data.shape == (5, 6)


def test_leading_unknown_axis_is_z(tmp_path: Path) -> None:
    data = np.arange(5 * 4 * 3, dtype=np.uint8).reshape(5, 4, 3)
    path = tmp_path / "q.tif"
    tifffile.imwrite(path, data, photometric="minisblack")  # tifffile 'shaped' file: axes QYX
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].axes[0] in "QI"
    vol = read_tiff(path)
    assert vol.axes == "ZYX"
    np.testing.assert_array_equal(vol.data, data)


def test_channels_require_a_choice(tmp_path: Path, rng: np.random.Generator) -> None:
    data = rng.integers(0, 60000, (4, 3, 8, 9), dtype=np.uint16)
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(
        path, data, imagej=True, resolution=(2.0, 2.0), metadata={"axes": "ZCYX", "unit": "um", "spacing": 1.5}
    )
    with pytest.raises(UsageError) as err:
        read_tiff(path)
    message = _one_line_naming(err, path)
    assert "3 channels" in message
    assert "ZCYX" in message
    assert "--channel" not in message and "channel (0 to 2)" in message  # neutral words in the core
    assert err.value.kind == "choice needed" and err.value.option == "channel"
    vol = read_tiff(path, channel=1)
    assert vol.axes == "ZYX"
    np.testing.assert_array_equal(vol.data, data[:, 1])
    assert vol.data.flags.c_contiguous
    assert vol.voxel_size == pytest.approx((1.5, 0.5, 0.5))
    assert vol.unit == "µm"
    with pytest.raises(UsageError, match="out of range"):
        read_tiff(path, channel=3)
    with pytest.raises(UsageError, match="out of range"):
        read_tiff(path, channel=-1)


def test_rgb_samples_require_a_channel(tmp_path: Path) -> None:
    data = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, data, photometric="rgb")
    with pytest.raises(UsageError, match="3 channels"):
        read_tiff(path)
    np.testing.assert_array_equal(read_tiff(path, channel=2).data, data[..., 2])


def test_timepoints_require_a_choice(tmp_path: Path) -> None:
    data = np.arange(3 * 4 * 5 * 6, dtype=np.uint16).reshape(3, 4, 5, 6)
    path = tmp_path / "time.tif"
    tifffile.imwrite(path, data, imagej=True, metadata={"axes": "TZYX"})
    with pytest.raises(UsageError) as err:
        read_tiff(path)
    message = _one_line_naming(err, path)
    assert "3 timepoints" in message
    assert err.value.kind == "choice needed" and err.value.option == "timepoint"
    vol = read_tiff(path, timepoint=2)
    assert vol.axes == "ZYX"
    np.testing.assert_array_equal(vol.data, data[2])
    with pytest.raises(UsageError, match="out of range"):
        read_tiff(path, timepoint=3)


def test_channel_zero_accepted_for_single_channel_file(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / "a.tif", np.zeros((3, 4, 5), np.float32))
    assert read_tiff(path, channel=0, timepoint=0).axes == "ZYX"
    with pytest.raises(UsageError, match="only 1 channel"):
        read_tiff(path, channel=1)
    with pytest.raises(UsageError, match="only 1 timepoint"):
        read_tiff(path, timepoint=1)


def test_extra_axis_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "4d.tif"
    tifffile.imwrite(path, np.zeros((2, 3, 4, 5), np.uint8), photometric="minisblack", metadata={"axes": "QZYX"})
    with pytest.raises(UsageError) as err:
        read_tiff(path)
    assert "cannot handle axes QZYX" in _one_line_naming(err, path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothere.tif"
    with pytest.raises(DataError) as err:
        read_tiff(path)
    assert "no such file" in _one_line_naming(err, path)


def test_directory(tmp_path: Path) -> None:
    path = tmp_path / "folder.tif"
    path.mkdir()
    with pytest.raises(DataError) as err:
        read_tiff(path)
    assert "directory" in _one_line_naming(err, path)


@pytest.mark.parametrize("content", [b"hello, this is not an image\nsecond line\n", b""])
def test_not_a_tiff(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "text.tif"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_tiff(path)
    _one_line_naming(err, path)
    assert err.value.__cause__ is None


@pytest.mark.parametrize("keep", [0.5, 0.9, 300, 12])
def test_truncated_tiff(tmp_path: Path, rng: np.random.Generator, keep: float) -> None:
    path = tmp_path / "cut.tif"
    for writer in ({"imagej": True, "metadata": {"axes": "ZYX"}}, {"metadata": {"axes": "ZYX"}}):
        tifffile.imwrite(path, rng.random((6, 40, 50), dtype=np.float32), **writer)
        full = path.read_bytes()
        cut = int(len(full) * keep) if keep < 1 else int(keep)
        path.write_bytes(full[:cut])
        with pytest.raises(DataError) as err:
            read_tiff(path)
        _one_line_naming(err, path)


def test_empty_image(tmp_path: Path) -> None:
    path = tmp_path / "empty.tif"
    with pytest.warns(UserWarning, match="zero-size"):
        tifffile.imwrite(path, np.zeros((0, 6), np.uint8))
    with pytest.raises(DataError) as err:
        read_tiff(path)
    _one_line_naming(err, path)


# -------------------------------------------------------------------------------------------- writing


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "out.tif"
    path.write_bytes(b"precious")
    with pytest.raises(UsageError) as err:
        write_tiff(path, np.zeros((4, 5), np.float32))
    _one_line_naming(err, path)
    assert err.value.kind == "output exists" and err.value.option == "overwrite"  # the CLI adds --overwrite
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]


def test_write_overwrite_replaces(tmp_path: Path) -> None:
    path = tmp_path / "out.tif"
    path.write_bytes(b"old")
    data = np.full((4, 5), 7, np.float32)
    write_tiff(path, data, overwrite=True)
    np.testing.assert_array_equal(read_tiff(path).data, data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]


def test_write_into_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "out.tif"
    with pytest.raises(UsageError) as err:
        write_tiff(path, np.zeros((4, 5), np.float32))
    assert "does not exist" in _one_line_naming(err, path)
    assert not (tmp_path / "no").exists()


def test_write_onto_directory(tmp_path: Path) -> None:
    path = tmp_path / "dir.tif"
    path.mkdir()
    with pytest.raises(UsageError, match="directory"):
        write_tiff(path, np.zeros((4, 5), np.float32), overwrite=True)


def test_write_into_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writing.os, "access", lambda *args, **kwargs: False)
    with pytest.raises(UsageError, match="not writable"):
        write_tiff(tmp_path / "out.tif", np.zeros((4, 5), np.float32))


def test_failed_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        Path(args[0]).write_bytes(b"partial")  # a half-written file
        raise RuntimeError("disk exploded")

    monkeypatch.setattr(writing.tifffile, "imwrite", broken)
    with pytest.raises(RuntimeError, match="disk exploded"):
        write_tiff(tmp_path / "out.tif", np.zeros((4, 5), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.tif"
    path.write_bytes(b"old")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writing.tifffile, "imwrite", broken)
    with pytest.raises(DataError) as err:
        write_tiff(path, np.zeros((4, 5), np.float32), overwrite=True)
    assert "No space left" in _one_line_naming(err, path)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]


def test_written_file_has_normal_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = write_tiff(tmp_path / "perm.tif", np.zeros((4, 5), np.float32))
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("voxel_size", [(1.0, 1.0), (1.0, 0.0, 1.0), (1.0, float("nan"), 1.0), (-1, 1, 1)])
def test_write_rejects_bad_voxel_size(tmp_path: Path, voxel_size: tuple[float, ...]) -> None:
    with pytest.raises(UsageError, match="voxel size"):
        write_tiff(tmp_path / "v.tif", np.zeros((2, 4, 5), np.float32), voxel_size=voxel_size)
    assert list(tmp_path.iterdir()) == []


def test_write_rejects_4d_without_axes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TZYX"):
        write_tiff(tmp_path / "4d.tif", np.zeros((2, 2, 4, 5), np.float32))


def test_time_lapse_round_trip(tmp_path: Path) -> None:
    import tifffile

    data = np.random.default_rng(0).random((3, 2, 8, 9)).astype(np.float32)
    path = write_tiff(tmp_path / "movie.tif", data, voxel_size=(2.0, 0.5, 0.25), axes="TZYX")
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].axes == "TZYX"
        np.testing.assert_array_equal(tif.series[0].asarray(), data)
    one = read_tiff(path, timepoint=1)
    np.testing.assert_array_equal(one.data, data[1])
    assert one.voxel_size == pytest.approx((2.0, 0.5, 0.25), rel=1e-4)


def test_check_output_path(tmp_path: Path) -> None:
    path = tmp_path / "new.tif"
    assert check_output_path(str(path), overwrite=False) == path
    path.write_bytes(b"x")
    with pytest.raises(UsageError, match="exists"):
        check_output_path(path, overwrite=False)
    assert check_output_path(path, overwrite=True) == path
    with pytest.raises(UsageError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "a.tif", overwrite=True)
    with pytest.raises(UsageError, match="not a folder"):
        check_output_path(path / "a.tif", overwrite=True)
