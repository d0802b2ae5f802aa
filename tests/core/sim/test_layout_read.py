"""Raw-frame layout, offsets, MRC/TIFF reading and the OTF file checks."""

from __future__ import annotations

import mrcfile
import numpy as np
import pytest
import tifffile

from self_vision.core.errors import DataError
from self_vision.core.sim import layout
from self_vision.core.sim.optics import expected_k0, read_otf, theoretical_otf
from self_vision.core.sim.read import read_raw_sim


def test_orientation_and_phase_major_orders():
    frames = np.arange(9)[:, None, None] * np.ones((9, 32, 32))
    om = layout.arrange(frames)
    pm = layout.arrange(frames, order="phase-major")
    assert om.shape == (1, 3, 3, 32, 32)
    assert om[0, 1, 2, 0, 0] == 5  # orientation 1, phase 2 = frame 1·3 + 2
    assert pm[0, 1, 2, 0, 0] == 7  # phase 2, orientation 1 = frame 2·3 + 1
    np.testing.assert_array_equal(layout.flatten(pm, "phase-major"), frames[None])


@pytest.mark.parametrize("n_frames", [8, 10])
def test_wrong_frame_count_is_a_one_line_data_error(n_frames):
    with pytest.raises(DataError, match=f"{n_frames} frames, expected 9") as err:
        layout.arrange(np.ones((n_frames, 32, 32)))
    assert "\n" not in str(err.value)


def test_3d_stack_and_single_image_are_refused():
    with pytest.raises(DataError, match="3D"):
        layout.arrange(np.ones((45, 32, 32)))  # 3D-SIM: 15 frames × 3 planes
    with pytest.raises(DataError, match="3D"):
        layout.arrange(np.ones((4, 15, 32, 32)))
    with pytest.raises(DataError, match="one 2D image"):
        layout.arrange(np.ones((32, 32)))


def test_offset_estimate_is_near_the_camera_offset(sim200):
    offset = layout.estimate_offset(sim200.raw)
    background = sim200.offset + 0.05 * sim200.photons
    assert sim200.offset - 10 < offset <= background + 1


def test_mrc_and_tiff_reading_with_pixel_size(tmp_path, sim200):
    raw = sim200.raw.astype(np.uint16)
    with mrcfile.new(tmp_path / "raw.mrc") as mrc:
        mrc.set_data(raw)
        mrc.voxel_size = (0.0626, 0.0626, 0.1)  # µm, as the rDL-SIM files store it
    got = read_raw_sim(tmp_path / "raw.mrc")
    assert got.data.shape == (9, 96, 96) and abs(got.pixel_size_um - 0.0626) < 1e-6
    tifffile.imwrite(
        tmp_path / "raw.tif",
        raw,
        imagej=True,
        resolution=(1 / 0.0626, 1 / 0.0626),
        metadata={"unit": "um", "axes": "ZYX"},
    )
    got = read_raw_sim(tmp_path / "raw.tif")
    assert got.data.shape == (9, 96, 96) and abs(got.pixel_size_um - 0.0626) < 1e-4
    tifffile.imwrite(tmp_path / "plain.tif", raw)
    assert read_raw_sim(tmp_path / "plain.tif").pixel_size_um is None


def test_radial_otf_file_and_wrong_kinds(tmp_path):
    ideal = theoretical_otf(1.3, 0.525)
    profile = ideal(np.arange(257) * 0.0312).astype(np.complex64)[None, :]
    with mrcfile.new(tmp_path / "otf.mrc") as mrc:
        mrc.set_data(profile)
        mrc.voxel_size = (0.0312, 0.0312, 0.05)
    otf = read_otf(tmp_path / "otf.mrc")
    assert 0 < 2 * 1.3 / 0.525 - otf.cutoff < 0.2  # the cutoff is where the OTF falls below 0.5 %
    with mrcfile.new(tmp_path / "image.mrc") as mrc:
        mrc.set_data(np.ones((9, 64, 64), dtype=np.uint16))
    with pytest.raises(DataError, match="not a radial profile"):
        read_otf(tmp_path / "image.mrc")
    with mrcfile.new(tmp_path / "flat.mrc") as mrc:
        mrc.set_data(np.ones((1, 64), dtype=np.float32))
        mrc.voxel_size = (0.0312, 0.0312, 0.05)
    with pytest.raises(DataError, match="not a radial OTF"):
        read_otf(tmp_path / "flat.mrc")


def test_expected_k0_of_the_shared_system():
    assert abs(1 / expected_k0(0.488, 1.35) - 0.1807) < 1e-3
