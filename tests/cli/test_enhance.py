"""The ``self-vision`` command line: enhance / evaluate / demo end to end, and one-line errors for bad input.

Runs are in-process through :func:`self_vision.cli.main` (tiny data, a few training steps, CPU), plus a few
real subprocesses to prove that nothing but the one-line message reaches stderr.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from helpers import one_line_error
from helpers import run_cli as run
from self_vision.cli.main import main
from self_vision.core.io.tiff import read_tiff
from self_vision.core.io.writing import write_tiff
from self_vision.core.sample import synthetic_neurons

FAST = ["--steps", "5", "--seed", "0", "--device", "cpu"]
SHAPE = (8, 48, 48)  # the conftest small_volume
UP = (8, 192, 192)  # SHAPE enhanced by 1,4,4


def listing(folder: Path) -> set[str]:
    """Every entry under ``folder`` (hidden temporary files included)."""
    return {p.name for p in folder.iterdir()}


# --------------------------------------------------------------------------------------------- enhance


def test_enhance_writes_the_enhanced_volume_and_a_summary(small_tiff, small_volume, tmp_path, capsys):
    out = tmp_path / "out.tif"
    code, stdout, stderr = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,4,4", *FAST)
    assert code == 0
    assert "Traceback" not in stderr
    assert "training" in stderr  # the progress bar goes to stderr, not stdout

    result = read_tiff(out)
    assert result.data.shape == UP
    assert result.data.dtype == np.float32
    assert result.voxel_size == pytest.approx((2.0, 0.5 / 4, 0.5 / 4))
    assert result.unit == "µm"
    assert np.isfinite(result.data).all()
    # back-projection keeps the result consistent with the input: its 4x4 block means give the input back
    blocks = result.data.reshape(8, 48, 4, 48, 4).mean(axis=(2, 4))
    assert np.abs(blocks - small_volume).max() < 0.01 * np.ptp(small_volume)

    lines = stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("self-vision: small.tif (8, 48, 48) -> ")
    assert f"{out} (8, 192, 192) voxel 2x0.125x0.125 via " in lines[0]
    # the no-reference resolution line: input -> result per axis, in the file's unit, and the consistency
    assert lines[1].startswith("self-vision: resolution (decorrelation, no reference): z ")
    assert lines[1].split(": ", 2)[2].count("->") == 3 and " µm; " in lines[1] and "% RMS" in lines[1]

    assert listing(tmp_path) == {"small.tif", "out.tif"}  # no temporary files left behind


def test_enhance_quiet_prints_no_progress(small_tiff, tmp_path, capsys):
    code, stdout, stderr = run(
        capsys, "enhance", small_tiff, "-o", tmp_path / "q.tif", "--factor", "4", *FAST, "--quiet"
    )
    assert code == 0
    assert stderr == ""
    assert read_tiff(tmp_path / "q.tif").data.shape == UP  # a single number is the lateral factor of a volume
    assert len(stdout.splitlines()) == 2  # the summary and the resolution line; no progress


def test_enhance_refuses_to_overwrite_then_overwrites_when_asked(small_tiff, tmp_path, capsys):
    out = tmp_path / "out.tif"
    out.write_bytes(b"precious, not to be lost")
    code, stdout, stderr = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,4,4", *FAST)
    assert code == 2
    message = one_line_error(stderr)
    assert "out.tif" in message
    assert "--overwrite" in message
    assert "training" not in stderr  # refused before any work
    assert stdout == ""
    assert out.read_bytes() == b"precious, not to be lost"
    assert listing(tmp_path) == {"small.tif", "out.tif"}

    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,4,4", *FAST, "--overwrite")
    assert code == 0
    assert "Traceback" not in stderr
    assert read_tiff(out).data.shape == UP


def test_enhance_refuses_to_overwrite_a_saved_model(small_tiff, tmp_path, capsys):
    out, model = tmp_path / "out.tif", tmp_path / "model.pt"
    model.write_bytes(b"an older model")
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,4,4", *FAST, "--save-model", model)
    assert code == 2
    assert "model.pt" in one_line_error(stderr)
    assert model.read_bytes() == b"an older model"
    assert not out.exists()  # checked before training, so nothing was written


def test_saved_model_applies_without_training(small_tiff, tmp_path, capsys, monkeypatch):
    first, model = tmp_path / "first.tif", tmp_path / "model.pt"
    code, _, _ = run(capsys, "enhance", small_tiff, "-o", first, "--factor", "1,4,4", *FAST, "--save-model", model)
    assert code == 0
    assert model.is_file()
    assert model.stat().st_size > 0

    def no_training(*args, **kwargs):
        raise AssertionError("--model must not train")

    monkeypatch.setattr("self_vision.core.enhance.training.train_model", no_training)
    second = tmp_path / "second.tif"
    code, stdout, stderr = run(capsys, "enhance", small_tiff, "-o", second, "--factor", "1,4,4", "--model", model)
    assert code == 0, stderr
    assert "trained 0.0 s" in stdout
    applied = read_tiff(second)
    assert applied.data.shape == UP
    assert applied.voxel_size == pytest.approx((2.0, 0.125, 0.125))
    # the same model on the same input gives the same result: the weights survived the round trip
    np.testing.assert_allclose(applied.data, read_tiff(first).data, atol=1e-5)

    # and it applies to an input of another size
    other = write_tiff(tmp_path / "other.tif", synthetic_neurons((6, 32, 40), seed=3), voxel_size=(1.0, 0.4, 0.4))
    code, _, stderr = run(capsys, "enhance", other, "-o", tmp_path / "o.tif", "--factor", "1,4,4", "--model", model)
    assert code == 0, stderr
    assert read_tiff(tmp_path / "o.tif").data.shape == (6, 128, 160)


def test_enhance_picks_a_channel_and_a_timepoint(small_volume, tmp_path, capsys):
    # positive controls for the "choose one" errors below: the same files work once a choice is made
    channels = tmp_path / "channels.tif"
    tifffile.imwrite(channels, np.stack([small_volume, 2 * small_volume], 1), imagej=True, metadata={"axes": "ZCYX"})
    movie = tmp_path / "movie.tif"
    tifffile.imwrite(movie, np.stack([small_volume, small_volume[::-1]]), imagej=True, metadata={"axes": "TZYX"})
    for source, choice in ((channels, "--channel"), (movie, "--timepoint")):
        out = tmp_path / f"out-{source.name}"
        code, _, stderr = run(capsys, "enhance", source, "-o", out, "--factor", "1,4,4", *FAST, "--quiet", choice, 1)
        assert code == 0, stderr
        assert read_tiff(out).data.shape == UP


def test_enhance_a_2d_image_with_a_3d_factor(small_volume, tmp_path, capsys):
    image = write_tiff(tmp_path / "plane.tif", small_volume[3], voxel_size=(0.5, 0.5))
    out = tmp_path / "plane4.tif"
    code, _, stderr = run(capsys, "enhance", image, "-o", out, "--factor", "1,4,4", *FAST, "--quiet")
    assert code == 0, stderr
    result = read_tiff(out)
    assert result.data.shape == (192, 192)
    assert result.voxel_size == pytest.approx((0.125, 0.125))


def test_keyboard_interrupt_exits_130_and_writes_nothing(small_tiff, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("self_vision.api.enhance", interrupted)
    out = tmp_path / "out.tif"
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,4,4", *FAST)
    assert code == 130
    assert stderr == "self-vision: interrupted; nothing was written\n"
    assert listing(tmp_path) == {"small.tif"}


# --------------------------------------------------------------------------------------------- evaluate


def _reject_nan(name: str) -> float:
    raise AssertionError(f"JSON contains {name}")


def test_evaluate_json(small_tiff, capsys):
    code, stdout, stderr = run(capsys, "evaluate", small_tiff, "--factor", "1,2,2", *FAST, "--json")
    assert code == 0
    assert stderr == ""  # --json also silences the progress bar
    assert len(stdout.splitlines()) == 1
    report = json.loads(stdout, parse_constant=_reject_nan)  # strict JSON: no NaN/Infinity
    assert report["factor"] == [1, 2, 2]
    assert isinstance(report["path"], str)
    assert report["path"]
    assert report["train_seconds"] >= 0
    assert set(report["scores"]) == {"enhanced", "cubic", "back-projection"}
    for scores in report["scores"].values():
        assert set(scores) == {"psnr", "ssim"}
        assert 10 < scores["psnr"] < 80
        assert 0 < scores["ssim"] <= 1


def test_evaluate_table(small_tiff, capsys):
    code, stdout, _ = run(capsys, "evaluate", small_tiff, "--factor", "1,2,2", *FAST, "--quiet")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].split() == ["method", "PSNR", "(dB)", "SSIM", "vs", "cubic"]
    assert [line.split()[0] for line in lines[1:4]] == ["enhanced", "cubic", "back-projection"]
    assert lines[2].split()[-1] == "+0.00"  # cubic against itself
    assert lines[4].startswith("path: ")


def test_evaluate_refuses_a_reference_too_thin_for_the_axial_factor(small_tiff, capsys):
    code, stdout, stderr = run(capsys, "evaluate", small_tiff, "--factor", "4,1,1", *FAST, "--json")
    assert code == 1
    assert "small.tif" in one_line_error(stderr)
    assert stdout == ""


# --------------------------------------------------------------------------------------------- demo


def test_demo_writes_the_result_and_a_figure(tmp_path, capsys):
    out = tmp_path / "new" / "demo"  # created, parents included
    code, stdout, stderr = run(capsys, "demo", "--out", out, "--time-budget", 1, "--device", "cpu")
    assert code == 0
    assert "Traceback" not in stderr
    assert {"enhanced.tif", "demo.png", "input.tif", "reference.tif"} <= listing(out)
    assert (out / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    low, enhanced, reference = (read_tiff(out / f"{name}.tif") for name in ("input", "enhanced", "reference"))
    assert enhanced.data.shape == reference.data.shape
    assert enhanced.data.shape == (low.data.shape[0], 4 * low.data.shape[1], 4 * low.data.shape[2])
    assert enhanced.voxel_size == pytest.approx(reference.voxel_size)
    for method in ("cubic", "back-projection", "enhanced"):
        assert any(line.startswith(f"demo: {method} ") and "PSNR" in line for line in stdout.splitlines())
    assert str(out / "enhanced.tif") in stdout


def test_demo_out_is_an_existing_file(tmp_path, capsys):
    clash = tmp_path / "clash"
    clash.write_text("a file, not a folder")
    code, _, stderr = run(capsys, "demo", "--out", clash, "--time-budget", 1, "--device", "cpu")
    assert code == 2
    assert "clash" in one_line_error(stderr)


def test_demo_refuses_a_zero_time_budget(tmp_path, capsys):
    code, _, stderr = run(capsys, "demo", "--out", tmp_path / "d", "--time-budget", 0, "--device", "cpu")
    assert code == 2
    assert "--time-budget" in one_line_error(stderr)


def test_demo_refuses_an_unknown_device(tmp_path, capsys):
    code, _, stderr = run(capsys, "demo", "--out", tmp_path / "d", "--time-budget", 1, "--device", "tpu")
    assert code == 2
    assert "'tpu'" in one_line_error(stderr)


def test_demo_checks_the_device_before_any_work(tmp_path, capsys):
    out = tmp_path / "d"
    code, stdout, _ = run(capsys, "demo", "--out", out, "--time-budget", 1, "--device", "tpu")
    assert code == 2
    assert stdout == ""
    assert not out.exists()


# --------------------------------------------------------------------------------------------- bad input


def _make_input(kind: str, folder: Path, volume: np.ndarray) -> Path:
    """Write (or not) a bad input file of the given kind; return its path."""
    if kind == "valid":
        return write_tiff(folder / "valid.tif", volume, voxel_size=(2.0, 0.5, 0.5))
    if kind == "missing":
        return folder / "missing.tif"
    if kind == "text":
        path = folder / "notes.tif"
        path.write_text("these are notes, not an image\n" * 20)
        return path
    if kind == "truncated":
        whole = write_tiff(folder / "whole.tif", volume, voxel_size=(2.0, 0.5, 0.5))
        path = folder / "cut.tif"
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        whole.unlink()
        return path
    if kind == "channels":
        path = folder / "channels.tif"
        tifffile.imwrite(path, np.stack([volume, volume], 1), imagej=True, metadata={"axes": "ZCYX"})
        return path
    if kind == "movie":
        path = folder / "movie.tif"
        tifffile.imwrite(path, np.stack([volume, volume]), imagej=True, metadata={"axes": "TZYX"})
        return path
    if kind == "tiny":
        return write_tiff(folder / "tiny.tif", volume[:4, :8, :8])
    if kind == "nan":
        holes = volume.copy()
        holes[2, 10:12, 20] = np.nan
        return write_tiff(folder / "holes.tif", holes)
    if kind == "constant":
        return write_tiff(folder / "flat.tif", np.full(SHAPE, 7, np.uint16))
    raise ValueError(kind)


# (kind, exit code, words the message must contain)
BAD_INPUTS = [
    ("missing", 1, "no such file"),
    ("text", 1, "not a readable TIFF"),
    ("truncated", 1, "truncated"),
    ("channels", 2, "--channel"),
    ("movie", 2, "--timepoint"),
    ("tiny", 1, "too few"),
    ("nan", 1, "2 NaN/Inf voxels"),
    ("constant", 1, "constant"),
]


@pytest.mark.parametrize("command", ["enhance", "evaluate"])
@pytest.mark.parametrize(("kind", "exit_code", "words"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gives_one_line_and_writes_nothing(command, kind, exit_code, words, small_volume, tmp_path, capsys):
    source = _make_input(kind, tmp_path, small_volume)
    before = listing(tmp_path)
    if command == "enhance":
        argv = ["enhance", source, "-o", tmp_path / "out.tif", "--factor", "1,4,4", *FAST]
    else:
        argv = ["evaluate", source, "--factor", "1,4,4", *FAST, "--json"]
    code, stdout, stderr = run(capsys, *argv)
    assert code == exit_code
    assert words in one_line_error(stderr)
    assert stdout == ""
    assert listing(tmp_path) == before


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("enhance", "missing"),
        ("enhance", "text"),
        ("enhance", "truncated"),
        ("enhance", "channels"),
        ("enhance", "movie"),
        ("evaluate", "truncated"),
        ("evaluate", "movie"),
        ("enhance", "tiny"),
        ("enhance", "nan"),
        ("enhance", "constant"),
        ("evaluate", "nan"),
    ],
)
def test_bad_input_message_names_the_file(command, kind, small_volume, tmp_path, capsys):
    source = _make_input(kind, tmp_path, small_volume)
    if command == "enhance":
        argv = ["enhance", source, "-o", tmp_path / "out.tif", "--factor", "1,4,4", *FAST]
    else:
        argv = ["evaluate", source, "--factor", "1,4,4", *FAST]
    code, _, stderr = run(capsys, *argv)
    assert code != 0
    assert source.name in one_line_error(stderr)


needs_fewer_than_8_gpus = pytest.mark.skipif(torch.cuda.device_count() > 7, reason="cuda:7 exists here")

# (extra arguments, words the message must contain); all are usage errors: exit 2
BAD_USAGE = [
    pytest.param(["--factor", "0"], "0 is below 1", id="factor-0"),
    pytest.param(["--factor", "-2"], "-2 is below 1", id="factor-minus-2"),
    pytest.param(["--factor=-2"], "-2 is below 1", id="factor=-2"),
    pytest.param(["--factor", "1.5"], "not a whole number", id="factor-1.5"),
    pytest.param(["--factor", "99"], "too large", id="factor-99"),
    pytest.param(["--factor", "a,b"], "'a' is not a number", id="factor-a,b"),
    pytest.param(["--factor", "1,1,1"], "nothing to enhance", id="factor-ones"),
    pytest.param(["--factor", "4,4"], "2 entries but the image has 3 axes", id="factor-rank"),
    pytest.param(["--factor", "1,4,4", "--device", "cuda:7"], "'cuda:7' is not available", id="cuda:7",
                 marks=needs_fewer_than_8_gpus),
    pytest.param(["--factor", "1,4,4", "--device", "tpu"], "unknown device 'tpu'", id="tpu"),
    pytest.param(["--factor", "1,4,4", "--steps", "0"], "--steps 0", id="steps-0"),
    pytest.param(["--factor", "1,4,4", "--steps", "-3"], "--steps -3", id="steps-negative"),
    pytest.param(["--factor", "1,4,4", "--time-budget", "0"], "--time-budget", id="time-budget-0"),
    pytest.param(["--factor", "1,4,4", "--members", "0"], "--members 0", id="members-0"),
    pytest.param(["--factor", "1,4,4", "--members", "99"], "at most 16", id="members-99"),
    pytest.param(["--factor", "4,1,1", "--axial-members", "0"], "--axial-members 0", id="axial-members-0"),
    pytest.param(["--factor", "1,4,4", "--voxel-size", "a,b,c"], "--voxel-size", id="voxel-size-text"),
    pytest.param(["--factor", "1,4,4", "--voxel-size", "1,2"], "give 3 positive numbers", id="voxel-size-rank"),
    pytest.param(["--factor", "1,4,4", "--channel", "1"], "only 1 channel", id="channel-absent"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "words"), BAD_USAGE)
def test_enhance_usage_errors(extra, words, small_tiff, tmp_path, capsys):
    argv = ["enhance", small_tiff, "-o", tmp_path / "out.tif"]
    if "--steps" not in extra and "--time-budget" not in extra:
        argv += ["--steps", "5"]
    code, stdout, stderr = run(capsys, *argv, *extra)
    assert code == 2
    assert words in one_line_error(stderr)
    assert stdout == ""
    assert listing(tmp_path) == {"small.tif"}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        pytest.param(["--factor", "0"], "0 is below 1", id="factor-0"),
        pytest.param(["--factor", "a,b"], "'a' is not a number", id="factor-a,b"),
        pytest.param(["--factor", "1,2,2", "--device", "cuda:7"], "'cuda:7' is not available", id="cuda:7",
                     marks=needs_fewer_than_8_gpus),
        pytest.param(["--factor", "1,2,2", "--device", "tpu"], "unknown device 'tpu'", id="tpu"),
        pytest.param(["--factor", "1,2,2", "--steps", "0"], "--steps 0", id="steps-0"),
    ],
)  # fmt: skip
def test_evaluate_usage_errors(extra, words, small_tiff, capsys):
    argv = ["evaluate", small_tiff, *extra]
    if "--steps" not in extra:
        argv += ["--steps", "5"]
    code, stdout, stderr = run(capsys, *argv)
    assert code == 2
    assert words in one_line_error(stderr)
    assert stdout == ""


@pytest.mark.parametrize("option", ["-o", "--save-model"])
def test_output_folder_must_exist(option, small_tiff, tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "result.tif"
    argv = ["enhance", small_tiff, "--factor", "1,4,4", *FAST]
    argv += [option, target] if option == "-o" else ["-o", tmp_path / "out.tif", option, target]
    code, _, stderr = run(capsys, *argv)
    assert code == 2
    message = one_line_error(stderr)
    assert "no-such-folder" in message
    assert "does not exist" in message
    assert listing(tmp_path) == {"small.tif"}


def test_output_that_is_a_folder(small_tiff, tmp_path, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", folder, "--factor", "1,4,4", *FAST)
    assert code == 2
    assert "is a directory" in one_line_error(stderr)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("model_bytes", "words"),
    [(None, "no such model file"), (b"not a model", "not a napari-self-vision model")],
    ids=["missing", "garbage"],
)
def test_bad_model_file(model_bytes, words, small_tiff, tmp_path, capsys):
    model = tmp_path / "model.pt"
    if model_bytes is not None:
        model.write_bytes(model_bytes)
    out = tmp_path / "out.tif"
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,4,4", "--model", model)
    assert code == 1
    message = one_line_error(stderr)
    assert "model.pt" in message
    assert words in message
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["enhance", "{input}", "--factor", "1,4,4"], "required: -o/--output"),
        (["enhance", "-o", "{out}", "--factor", "1,4,4"], "required: input"),
        (["enhance", "{input}", "-o", "{out}", "--factor", "1,4,4", "--steps", "five"], "invalid int value"),
        (["enhance", "{input}", "-o", "{out}", "--factor", "4", "--steps", "5", "--time-budget", "1"], "not allowed"),
        (["enhance", "{input}", "-o", "{out}", "--factor", "4", "--path", "2d"], "invalid choice: '2d'"),
        (["enhance", "{input}", "-o", "{out}", "--factor", "4", "--bogus"], "unrecognized arguments: --bogus"),
        (["evaluate", "{input}"], "required: --factor"),
        (["sharpen", "{input}"], "invalid choice: 'sharpen'"),
        ([], "required: command"),
    ],
    ids=["no-output", "no-input", "steps-text", "steps-and-budget", "bad-path", "unknown-option",
         "evaluate-no-factor", "unknown-command", "no-command"],
)  # fmt: skip
def test_argparse_mistakes_exit_2(argv, words, small_tiff, tmp_path, capsys):
    argv = [a.format(input=small_tiff, out=tmp_path / "out.tif") for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    stdout, stderr = capsys.readouterr()
    assert stdout == ""
    assert "Traceback" not in stderr
    line = one_line_error(stderr)  # no usage block: one line that points at --help
    assert words in line
    assert "--help" in line
    assert listing(tmp_path) == {"small.tif"}


# --------------------------------------------------------------------------------------------- real processes


def _subprocess(argv: list[object], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


ENTRY_POINT = Path(sys.executable).with_name("self-vision")


@pytest.mark.skipif(not ENTRY_POINT.is_file(), reason="the self-vision script is not installed next to python")
def test_installed_command_runs_without_traceback(small_tiff, tmp_path):
    out = tmp_path / "out.tif"
    done = _subprocess([ENTRY_POINT, "enhance", small_tiff, "-o", out, "--factor", "1,4,4", *FAST], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Warning" not in done.stderr
    assert done.stdout.startswith("self-vision: small.tif (8, 48, 48) -> ")
    assert read_tiff(out).data.shape == UP


@pytest.mark.parametrize(
    ("kind", "extra", "exit_code", "words"),
    [
        ("truncated", [], 1, "cut.tif: the file is truncated"),
        ("channels", [], 2, "channels.tif: has 2 channels"),
        ("nan", [], 1, "NaN/Inf voxels"),
        ("valid", ["--device", "tpu"], 2, "unknown device 'tpu'"),
    ],
    ids=["truncated", "channels", "nan", "tpu"],
)
def test_module_errors_are_one_line_on_stderr(kind, extra, exit_code, words, small_volume, tmp_path):
    source = _make_input(kind, tmp_path, small_volume)
    argv = [sys.executable, "-m", "self_vision.cli", "enhance", source, "-o", tmp_path / "out.tif"]
    done = _subprocess([*argv, "--factor", "1,4,4", *FAST, *extra], tmp_path)
    assert done.returncode == exit_code
    assert done.stdout == ""
    assert words in one_line_error(done.stderr)
    assert not (tmp_path / "out.tif").exists()


def test_module_argparse_error_has_no_traceback(tmp_path):
    done = _subprocess([sys.executable, "-m", "self_vision.cli", "evaluate", "x.tif"], tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "the following arguments are required: --factor" in one_line_error(done.stderr)


def test_enhance_needs_a_factor_or_a_model(small_tiff, tmp_path, capsys):
    code, stdout, stderr = run(capsys, "enhance", small_tiff, "-o", tmp_path / "out.tif", *FAST)
    assert code == 2
    assert stdout == ""
    assert "--factor" in one_line_error(stderr)
    assert not (tmp_path / "out.tif").exists()


def test_model_factor_must_match_a_given_factor(small_tiff, tmp_path, capsys):
    model = tmp_path / "m.pt"
    assert (
        run(capsys, "enhance", small_tiff, "-o", tmp_path / "a.tif", "--factor", "1,2,2", "--save-model", model, *FAST)[
            0
        ]
        == 0
    )
    code, _, stderr = run(
        capsys, "enhance", small_tiff, "-o", tmp_path / "b.tif", "--model", model, "--factor", "1,4,4"
    )
    assert code == 2
    assert "differs from the model's factor" in one_line_error(stderr)


def test_summary_reports_finite_timings(small_tiff, tmp_path, capsys):
    code, stdout, _ = run(capsys, "enhance", small_tiff, "-o", tmp_path / "o.tif", "--factor", "1,2,2", *FAST)
    assert code == 0
    trained = float(re.search(r"trained ([0-9.]+) s", stdout).group(1))
    total = float(re.search(r"total ([0-9.]+) s", stdout).group(1))
    assert math.isfinite(trained)
    assert 0 <= trained <= total + 0.1


def test_strict_fails_when_the_self_check_finds_no_gain(tmp_path, capsys):
    noise = np.random.default_rng(0).random((8, 64, 128)).astype(np.float32)
    source = write_tiff(tmp_path / "noise.tif", noise, voxel_size=(2.0, 0.5, 0.5))
    argv = [
        "enhance",
        source,
        "-o",
        tmp_path / "out.tif",
        "--factor",
        "1,2,2",
        "--steps",
        "60",
        "--seed",
        "0",
        "--quiet",
        "--strict",
    ]
    code, stdout, stderr = run(capsys, *argv)
    assert code == 3
    assert (tmp_path / "out.tif").exists()  # the result is still written
    assert "self-check" in stdout
    assert "does NOT beat cubic and back-projection" in stderr


def test_noise_option(small_tiff, tmp_path, capsys):
    ok = run(capsys, "enhance", small_tiff, "-o", tmp_path / "a.tif", "--factor", "1,2,2", "--noise", "100,0.01", *FAST)
    assert ok[0] == 0
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", tmp_path / "b.tif", "--factor", "1,2,2",
                          "--noise", "lots", *FAST)  # fmt: skip
    assert code == 2
    assert "--noise" in one_line_error(stderr)


def test_enhance_writes_an_uncertainty_volume(small_tiff, tmp_path, capsys):
    out, unc = tmp_path / "out.tif", tmp_path / "unc.tif"
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,2,2", *FAST, "--uncertainty", unc)
    assert code == 0, stderr
    result, u = read_tiff(out), read_tiff(unc)
    assert u.data.shape == result.data.shape == (8, 96, 96)
    assert u.voxel_size == pytest.approx(result.voxel_size)
    assert u.voxel_size == pytest.approx((2.0, 0.25, 0.25))
    assert np.isfinite(u.data).all() and u.data.min() >= 0 and u.data.max() > 0
    # refused before any work: an existing uncertainty file without --overwrite, or the output's own path
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", tmp_path / "b.tif", "--factor", "1,2,2", *FAST,
                          "--uncertainty", unc)  # fmt: skip
    assert code == 2 and "unc.tif" in one_line_error(stderr) and "training" not in stderr
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", tmp_path / "c.tif", "--factor", "1,2,2", *FAST,
                          "--uncertainty", tmp_path / "c.tif")  # fmt: skip
    assert code == 2 and "--uncertainty" in one_line_error(stderr)
    assert listing(tmp_path) == {"small.tif", "out.tif", "unc.tif"}


# --------------------------------------------------------------------------------------- sampling, gate


def test_sampling_point_keeps_the_input_planes_and_area_their_block_means(small_tiff, small_volume, tmp_path, capsys):
    """z=point (a z-step): the output's block-centre planes are the input; area: the block means are."""
    point, area = tmp_path / "point.tif", tmp_path / "area.tif"
    code, stdout, stderr = run(capsys, "enhance", small_tiff, "-o", point, "--factor", "3,1,1",
                               "--sampling", "z=point,xy=area", *FAST, "--quiet")  # fmt: skip
    assert code == 0, stderr
    assert "returned " in stdout  # the gate's verdict is in the summary
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", area, "--factor", "3,1,1", "--sampling", "area",
                          "--keep-network", *FAST, "--quiet")  # fmt: skip
    assert code == 0, stderr
    p, a = read_tiff(point).data, read_tiff(area).data
    assert p.shape == a.shape == (24, 48, 48)
    tol = 0.01 * np.ptp(small_volume)
    assert np.abs(p[1::3] - small_volume).max() < tol
    assert np.abs(a.reshape(8, 3, 48, 48).mean(axis=1) - small_volume).max() < tol
    assert np.abs(a[1::3] - small_volume).max() > tol  # binning is not a step: the two models differ


def test_gate_returns_the_classical_result_on_noise_unless_keep_network(tmp_path, capsys):
    noise = np.random.default_rng(0).random((8, 64, 128)).astype(np.float32)
    source = write_tiff(tmp_path / "noise.tif", noise, voxel_size=(2.0, 0.5, 0.5))
    # one step: the network is still its initialisation (cubic plus a little noise), so it cannot beat the best
    # classical method with confidence
    base = ["enhance", source, "--factor", "1,2,2", "--steps", "1", "--seed", "0", "--device", "cpu", "--quiet"]
    code, gated, _ = run(capsys, *base, "-o", tmp_path / "gated.tif")
    assert code == 0
    returned = gated.split("; returned ")[1].split(":")[0]
    assert returned in ("cubic", "back-projection"), gated
    assert "held-out gain lateral" in gated and "[95% " in gated
    code, kept, _ = run(capsys, *base, "-o", tmp_path / "kept.tif", "--keep-network")
    assert code == 0
    assert "; returned network: " in kept and "--keep-network" in kept
    g, k = read_tiff(tmp_path / "gated.tif").data, read_tiff(tmp_path / "kept.tif").data
    assert np.abs(g - k).max() > 1e-3  # the network's detail is in one and not in the other
    if returned == "cubic":
        from self_vision.core.degrade import cubic_upsample

        assert np.abs(g - cubic_upsample(noise, (1, 2, 2))).max() < 1e-3


def test_an_axial_stage_too_thin_for_z_is_gated_on_held_out_lateral_planes(small_tiff, tmp_path, capsys):
    """An 8-slice stack cannot check a x4 axial stage in z; the held-out lateral planes (its trained scale)
    may reject it but not confirm it, so it is never kept unverified by default; --keep-network overrides."""
    argv = ["enhance", small_tiff, "--factor", "4,1,1", *FAST, "--quiet"]
    code, gated, _ = run(capsys, *argv, "-o", tmp_path / "a.tif")
    assert code == 0
    assert "gate: axial unconfirmed" in gated or "gate: axial rejected" in gated
    assert "; returned network" not in gated
    assert "unverified" not in gated and "on held-out lateral planes axial " in gated
    code, kept, _ = run(capsys, *argv, "-o", tmp_path / "b.tif", "--keep-network")
    assert code == 0
    assert "; returned network" in kept


@pytest.mark.parametrize("extra", [["--sampling", "z=step"], ["--sampling", "point,area"], ["--sampling", "q=area"]])
def test_bad_sampling_and_gate_options_are_one_line_usage_errors(extra, small_tiff, tmp_path, capsys):
    code, _, stderr = run(capsys, "enhance", small_tiff, "-o", tmp_path / "o.tif", "--factor", "1,2,2", *extra, *FAST)
    assert code == 2
    assert extra[0] in one_line_error(stderr)
    assert not (tmp_path / "o.tif").exists()


def test_evaluate_reports_the_sampling_and_what_the_gate_returned(small_tiff, capsys):
    code, stdout, _ = run(capsys, "evaluate", small_tiff, "--factor", "1,2,2", "--sampling", "point", *FAST, "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["sampling"] == ["point", "point", "point"]
    assert report["returned"] and report["gate"].startswith("gate: ")
    code, stdout, _ = run(capsys, "evaluate", small_tiff, "--factor", "1,2,2", *FAST, "--quiet")
    assert code == 0
    assert stdout.splitlines()[-1].startswith("enhanced = ")


def test_exact_steps_without_a_seed_repeat_bit_for_bit(small_tiff, tmp_path, capsys):
    """The CLI uses the product's default seed when none is given (it passed None, i.e. unseeded, before)."""
    import tifffile

    argv = ["enhance", small_tiff, "--factor", "1,2,2", "--steps", "3", "--quiet"]
    code, first, _ = run(capsys, *argv, "-o", tmp_path / "a.tif")
    assert code == 0 and "seed 0" in first
    code, _, _ = run(capsys, *argv, "-o", tmp_path / "b.tif")
    assert code == 0
    assert np.array_equal(tifffile.imread(tmp_path / "a.tif"), tifffile.imread(tmp_path / "b.tif"))


def test_members_trains_several_networks_and_says_so(small_tiff, tmp_path, capsys):
    argv = ["enhance", small_tiff, "-o", tmp_path / "o.tif", "--factor", "1,2,2", "--members", "2", *FAST]
    code, stdout, stderr = run(capsys, *argv)
    assert code == 0
    assert "volume 1x2x2 (2 networks)" in stdout
    assert "(10 steps, exact steps" in stdout  # 5 steps for each network
    assert "(network 2 of 2)" in stderr


def test_the_axial_stage_averages_four_networks_by_default_and_axial_members_sets_it(small_tiff, tmp_path, capsys):
    argv = ["enhance", small_tiff, "--factor", "2,1,1", *FAST]
    code, stdout, _ = run(capsys, *argv, "-o", tmp_path / "a.tif")
    assert code == 0 and "axial 2x1 (4 networks)" in stdout
    code, stdout, _ = run(capsys, *argv, "-o", tmp_path / "b.tif", "--axial-members", "2")
    assert code == 0 and "axial 2x1 (2 networks)" in stdout
