"""``self-vision sim``: raw 2D-SIM frames to a Wiener SIM / rDL-SIM image, and one-line errors for misuse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import tifffile

from helpers import one_line_error
from helpers import run_cli as run
from self_vision.core.io.tiff import read_tiff
from self_vision.core.io.writing import write_tiff
from self_vision.core.provenance import read_record
from self_vision.core.sim.simulate import simulate_sim

N = 64  # camera pixels per side
PIXEL_UM = 0.0626
DENOISE_FAST = ["--denoise", "rdl", "--steps", "2", "--seed", "0", "--device", "cpu"]


@pytest.fixture(scope="module")
def raw_frames() -> np.ndarray:
    return simulate_sim(N, 200.0, seed=3).raw.astype(np.float32)


@pytest.fixture
def raw_tif(tmp_path: Path, raw_frames: np.ndarray) -> Path:
    return write_tiff(tmp_path / "raw.tif", raw_frames, voxel_size=(PIXEL_UM, PIXEL_UM), axes="TYX")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_wiener_sim_writes_a_2x_image_with_half_the_pixel(raw_tif, tmp_path, capsys):
    out, wide = tmp_path / "sr.tif", tmp_path / "wf.tif"
    before = digest(raw_tif)
    code, stdout, stderr = run(capsys, "sim", raw_tif, "-o", out, "--widefield", wide, "--quiet")
    assert code == 0, stderr
    assert "Traceback" not in stderr
    result = read_tiff(out)
    assert result.data.shape == (2 * N, 2 * N)
    assert result.voxel_size[-1] == pytest.approx(PIXEL_UM / 2, rel=1e-3)
    assert np.isfinite(result.data).all()
    assert read_tiff(wide).data.shape == (2 * N, 2 * N)
    assert "Wiener SIM" in stdout
    assert digest(raw_tif) == before  # the input is never modified
    record = read_record(out)
    assert record is not None and record["task"] == "sim"
    assert record["repeats_exactly"] is True and record["steps_trained"] == {}
    assert "repeats exactly" in stdout


def test_rdl_run_writes_denoised_frames_and_says_it_repeats_exactly(raw_tif, tmp_path, capsys):
    out, denoised, wiener = tmp_path / "rdl.tif", tmp_path / "den.tif", tmp_path / "wiener.tif"
    argv = ["sim", raw_tif, "-o", out, "--denoised", denoised, "--sim-wiener", wiener, "--quiet", *DENOISE_FAST]
    code, stdout, stderr = run(capsys, *argv)
    assert code == 0, stderr
    assert "rDL-SIM" in stdout
    assert "exact steps" in stdout
    frames = tifffile.imread(denoised)
    assert frames.shape == (9, N, N)
    assert not np.allclose(tifffile.imread(out), tifffile.imread(wiener))  # the denoised frames changed the SR
    record = read_record(out)
    assert record["exact_steps"] is True
    assert record["steps_trained"] == {"rdl": 2}  # one stage: the rDL net, pattern images from the Wiener SIM
    assert record["repeats_exactly"] is True and record["training_mode"] == "self"
    assert len(record["pattern"]) == 3 and record["pixel_size_um"] == pytest.approx(PIXEL_UM / 2, rel=1e-3)
    assert read_record(denoised)["steps_trained"] == record["steps_trained"]
    assert record["settings"]["denoise"] == "rdl"


def misuse_cases(raw: Path, tmp: Path) -> dict[str, tuple[list[object], str]]:
    """Misuse -> (argv after ``sim``, a word the one error line must contain)."""
    out = tmp / "o.tif"
    return {
        "steps without denoising": ([raw, "-o", out, "--steps", "5"], "--denoise"),
        "supervised without target": ([raw, "-o", out, "--denoise", "rdl", "--training", "supervised"], "--target"),
        "NaN wavelength": ([raw, "-o", out, "--wavelength", "nan"], "--wavelength"),
        "NA out of range": ([raw, "-o", out, "--na", "3"], "--na"),
        "two angles": ([raw, "-o", out, "--angles", "1,2"], "--angles"),
        "words as angles": ([raw, "-o", out, "--angles", "a,b,c"], "--angles"),
        "output is the input": ([raw, "-o", raw], "input"),
        "unknown extension": ([raw, "-o", tmp / "o.png"], ".png"),
        "missing input": ([tmp / "none.tif", "-o", out], "none.tif"),
        "negative time budget": ([raw, "-o", out, "--denoise", "rdl", "--time-budget", "-1"], "--time-budget"),
    }


CASES = list(misuse_cases(Path("r"), Path("t")))


@pytest.mark.parametrize("case", CASES)
def test_misuse_is_one_line_and_touches_nothing(case, raw_tif, tmp_path, capsys):
    argv, word = misuse_cases(raw_tif, tmp_path)[case]
    before = digest(raw_tif)
    code, _, stderr = run(capsys, "sim", *argv)
    assert code != 0
    assert word in one_line_error(stderr)
    assert digest(raw_tif) == before
    assert not (tmp_path / "o.tif").exists()


def test_wrong_frame_count_is_one_line(raw_frames, tmp_path, capsys):
    seven = write_tiff(tmp_path / "seven.tif", raw_frames[:7], voxel_size=(PIXEL_UM, PIXEL_UM), axes="TYX")
    code, _, stderr = run(capsys, "sim", seven, "-o", tmp_path / "o.tif")
    assert code != 0
    assert "7" in one_line_error(stderr)


def test_missing_pixel_size_asks_for_it(raw_frames, tmp_path, capsys):
    bare = tmp_path / "bare.tif"
    tifffile.imwrite(bare, raw_frames)
    code, _, stderr = run(capsys, "sim", bare, "-o", tmp_path / "o.tif")
    assert code != 0
    assert "--pixel-size" in one_line_error(stderr)


def test_existing_output_is_kept_without_overwrite(raw_tif, tmp_path, capsys):
    out = tmp_path / "o.tif"
    out.write_bytes(b"keep me")
    code, _, stderr = run(capsys, "sim", raw_tif, "-o", out)
    assert code != 0
    assert "overwrite" in one_line_error(stderr)
    assert out.read_bytes() == b"keep me"


def test_target_of_another_shape_is_refused(raw_frames, raw_tif, tmp_path, capsys):
    small = write_tiff(tmp_path / "t.tif", raw_frames[:, :32, :32], voxel_size=(PIXEL_UM, PIXEL_UM), axes="TYX")
    code, _, stderr = run(capsys, "sim", raw_tif, "-o", tmp_path / "o.tif", "--target", small, *DENOISE_FAST)
    assert code != 0
    assert "shape" in one_line_error(stderr)


def test_help_shows_the_defaults_of_sim_options(capsys):
    from self_vision.core.sim.options import SimOptions

    with pytest.raises(SystemExit):
        run(capsys, "sim", "--help")
    text = " ".join(capsys.readouterr().out.split())
    defaults = SimOptions()
    assert f"(default {1000 * defaults.excitation_wavelength_um:g})" in text
    assert f"(default {defaults.na_detection:g})" in text
    assert f"(default {defaults.time_budget_s:g})" in text


def test_time_budget_run_says_it_does_not_repeat_exactly(raw_tif, tmp_path, capsys):
    out = tmp_path / "budget.tif"
    argv = ["sim", raw_tif, "-o", out, "--denoise", "plain", "--time-budget", "0.01", "--steps", "2", "--quiet"]
    code, stdout, stderr = run(capsys, *argv, "--device", "cpu")
    assert code == 0, stderr
    assert "time budget" in stdout and "repeats exactly" not in stdout
    record = read_record(out)
    assert record["exact_steps"] is False and record["repeats_exactly"] is False
    assert record["settings"]["time_budget_s"] == pytest.approx(0.01)
    assert 1 <= record["steps_trained"]["denoise"] <= 2


def test_exact_steps_runs_repeat_bit_for_bit(raw_tif, tmp_path, capsys):
    argv = ["sim", raw_tif, "--denoise", "plain", "--steps", "2", "--seed", "1", "--device", "cpu", "--quiet"]
    first, second = tmp_path / "a.tif", tmp_path / "b.tif"
    assert run(capsys, *argv, "-o", first)[0] == 0
    assert run(capsys, *argv, "-o", second)[0] == 0
    assert np.array_equal(tifffile.imread(first), tifffile.imread(second))


def test_bad_data_is_one_line(raw_frames, raw_tif, tmp_path, capsys):
    """A widefield stack (no pattern), a 3D stack of 18 frames and an image given as the OTF are refused."""
    flat = np.repeat(raw_frames.mean(axis=0, keepdims=True), 9, axis=0)
    flat += np.random.default_rng(0).normal(0, 2, flat.shape).astype(np.float32)
    widefield = write_tiff(tmp_path / "wf.tif", flat, voxel_size=(PIXEL_UM, PIXEL_UM), axes="TYX")
    stack = write_tiff(tmp_path / "z.tif", np.concatenate([raw_frames] * 2), voxel_size=(PIXEL_UM,) * 2, axes="TYX")
    cases = {
        "no illumination pattern": [widefield, "-o", tmp_path / "o.tif"],
        "18 frames": [stack, "-o", tmp_path / "o.tif"],
        "radial": [raw_tif, "-o", tmp_path / "o.tif", "--otf", stack],
    }
    for word, argv in cases.items():
        code, _, stderr = run(capsys, "sim", *argv, "--quiet")  # no stage lines: only the error
        assert code == 1 and word in one_line_error(stderr), (word, stderr)
    assert not (tmp_path / "o.tif").exists()
