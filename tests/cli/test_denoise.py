"""``self-vision denoise``: SiS and TiS round trips through TIFF files, and one-line errors with exit codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from helpers import one_line_error
from helpers import run_cli as run
from self_vision.core.io.tiff import read_tiff
from self_vision.core.io.writing import write_tiff

RNG = np.random.default_rng(0)
FAST = ["--steps", "3", "--seed", "0", "--device", "cpu", "--quiet"]


@pytest.fixture
def time_lapse(tmp_path: Path) -> Path:
    """A (T, Y, X) ImageJ hyperstack with 6 time points and 0.5 µm pixels."""
    data = np.random.default_rng(0).random((6, 24, 24)).astype(np.float32)
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(2.0, 2.0), metadata={"axes": "TYX", "unit": "micron"})
    return path


def test_sis_round_trip_keeps_shape_and_voxel_size(small_tiff, tmp_path, capsys):
    out = tmp_path / "den.tif"
    code, stdout, stderr = run(capsys, "denoise", small_tiff, "-o", out, "--mode", "sis", "--gar", "0.5", *FAST)
    assert code == 0, stderr
    result = read_tiff(out)
    assert result.data.shape == (8, 48, 48) and result.data.dtype == np.float32
    assert result.voxel_size == pytest.approx((2.0, 0.5, 0.5))
    assert stdout.startswith("self-vision: small.tif (8, 48, 48) ZYX -> ") and "via SIS (GAR γ=0.5)" in stdout
    assert {p.name for p in tmp_path.iterdir()} == {"small.tif", "den.tif"}


def test_tis_round_trip_keeps_the_time_axis(time_lapse, tmp_path, capsys):
    out = tmp_path / "den.tif"
    code, stdout, stderr = run(capsys, "denoise", time_lapse, "-o", out, "--mode", "tis", "--fnsm", *FAST)
    assert code == 0, stderr
    with tifffile.TiffFile(out) as tif:
        assert tif.series[0].axes == "TYX"
        assert tif.series[0].shape == (6, 24, 24)
    assert "via TIS" in stdout and "FNSM cutoff" in stdout and "1/µm" in stdout


def test_progress_goes_to_stderr(small_tiff, tmp_path, capsys):
    code, _, stderr = run(capsys, "denoise", small_tiff, "-o", tmp_path / "o.tif", "--steps", "2", "--device", "cpu")
    assert code == 0 and "SIS: even slices predict odd ones" in stderr


def test_tis_on_a_z_stack_is_a_data_error(small_tiff, tmp_path, capsys):
    code, _, err = run(capsys, "denoise", small_tiff, "-o", tmp_path / "o.tif", "--mode", "tis", *FAST)
    assert code == 1
    assert "TiS needs a time axis" in one_line_error(err)


def test_sis_on_too_few_slices_is_a_data_error(tmp_path, capsys):
    thin = write_tiff(tmp_path / "thin.tif", RNG.random((3, 16, 16)).astype(np.float32))
    code, _, err = run(capsys, "denoise", thin, "-o", tmp_path / "o.tif", *FAST)
    assert code == 1
    assert "SiS needs at least 4" in one_line_error(err)


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        (["--gar", "-1"], "--gar -1.0"),
        (["--steps", "0"], "--steps 0"),
        (["--mode", "tis", "--timepoint", "0"], "omit --timepoint"),
    ],
)
def test_bad_options_are_usage_errors(small_tiff, tmp_path, capsys, extra, text):
    code, _, err = run(capsys, "denoise", small_tiff, "-o", tmp_path / "o.tif", "--device", "cpu", *extra)
    assert code == 2
    assert text in one_line_error(err)


def test_existing_output_needs_overwrite(small_tiff, tmp_path, capsys):
    out = tmp_path / "o.tif"
    out.write_bytes(b"x")
    code, _, err = run(capsys, "denoise", small_tiff, "-o", out, *FAST)
    assert code == 2 and "--overwrite" in one_line_error(err)
    code, _, _ = run(capsys, "denoise", small_tiff, "-o", out, *FAST, "--overwrite")
    assert code == 0 and read_tiff(out).data.shape == (8, 48, 48)


def test_missing_file_is_a_data_error(tmp_path, capsys):
    code, _, err = run(capsys, "denoise", tmp_path / "nope.tif", "-o", tmp_path / "o.tif", "--mode", "tis", *FAST)
    assert code == 1 and "no such file" in one_line_error(err)


def test_save_model_then_apply_it_without_training(small_tiff, tmp_path, capsys):
    first, model = tmp_path / "a.tif", tmp_path / "den.pt"
    code, stdout, stderr = run(capsys, "denoise", small_tiff, "-o", first, "--save-model", model, *FAST)
    assert code == 0, stderr
    assert f"model saved to {model}" in stdout and model.is_file()
    second = tmp_path / "b.tif"
    code, stdout, stderr = run(capsys, "denoise", small_tiff, "-o", second, "--model", model, "--quiet")
    assert code == 0, stderr
    assert "via SIS (saved model" in stdout and "trained 0.0 s" in stdout
    np.testing.assert_allclose(read_tiff(second).data, read_tiff(first).data, atol=1e-5)


def test_tis_model_sets_the_mode(time_lapse, tmp_path, capsys):
    model = tmp_path / "den.pt"
    code, _, stderr = run(
        capsys, "denoise", time_lapse, "-o", tmp_path / "a.tif", "--mode", "tis", "--save-model", model, *FAST
    )
    assert code == 0, stderr
    code, stdout, stderr = run(capsys, "denoise", time_lapse, "-o", tmp_path / "b.tif", "--model", model, "--quiet")
    assert code == 0, stderr
    assert "via TIS" in stdout
    code, _, err = run(capsys, "denoise", time_lapse, "-o", tmp_path / "c.tif", "--model", model, "--mode", "sis")
    assert code == 2 and "trained for tis; use --mode tis" in one_line_error(err)


@pytest.mark.parametrize(
    ("extra", "code", "text"),
    [
        (["--model", "MISSING"], 1, "no such denoiser file"),
        (["--model", "JUNK"], 1, "not a napari-self-vision denoiser"),
        (["--model", "JUNK", "--steps", "3"], 2, "without training"),
        (["--save-model", "NOWHERE"], 2, "does not exist"),
        (["--save-model", "EXISTING"], 2, "--overwrite"),
        (["--save-model", "FOLDER"], 2, "is a folder"),
    ],
)
def test_model_options_are_one_line_errors(small_tiff, tmp_path, capsys, extra, code, text):
    (tmp_path / "junk.pt").write_text("junk")
    (tmp_path / "existing.pt").write_text("old")
    (tmp_path / "folder").mkdir()
    paths = {
        "MISSING": tmp_path / "missing.pt",
        "JUNK": tmp_path / "junk.pt",
        "NOWHERE": tmp_path / "no" / "den.pt",
        "EXISTING": tmp_path / "existing.pt",
        "FOLDER": tmp_path / "folder",
    }
    argv = [paths.get(a, a) for a in extra]
    if "--model" not in extra:
        argv += ["--steps", "1"]
    got, _, err = run(capsys, "denoise", small_tiff, "-o", tmp_path / "out.tif", *argv, "--quiet")
    assert got == code and text in one_line_error(err)
    assert not (tmp_path / "out.tif").exists()
    assert (tmp_path / "existing.pt").read_text() == "old"


def test_sis_inference_full_is_the_old_full_stack_pass(small_tiff, tmp_path, capsys):
    halves, full = tmp_path / "h.tif", tmp_path / "f.tif"
    assert run(capsys, "denoise", small_tiff, "-o", halves, *FAST)[0] == 0
    code, _, stderr = run(capsys, "denoise", small_tiff, "-o", full, "--sis-inference", "full", *FAST)
    assert code == 0, stderr
    a, b = read_tiff(halves).data, read_tiff(full).data
    assert a.shape == b.shape and not np.allclose(a, b)
