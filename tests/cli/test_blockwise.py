"""``self-vision enhance`` block-wise: OME-Zarr in and out, --resume, --workers, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from helpers import one_line_error as error_line
from helpers import run_cli as run
from self_vision.cli.blockwise import wants_blocks
from self_vision.core.blockwise.run import enhance_blockwise_steps
from self_vision.core.blockwise.store import is_complete, partial_path
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.errors import CancelledError
from self_vision.core.events import CancelToken, InferProgress
from self_vision.core.io.lazy import open_lazy

FAST = ["--steps", "4", "--seed", "0", "--device", "cpu", "--quiet"]
SMALL = ["--chunks", "8,48,48"]


def test_zarr_output_is_a_complete_ome_zarr_with_the_new_voxel_size(small_tiff, tmp_path, capsys):
    out = tmp_path / "out.zarr"
    code, stdout, _ = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,2,2", *FAST, *SMALL)
    assert code == 0 and "blocks" in stdout
    assert is_complete(out)
    volume = open_lazy(out)
    assert volume.shape == (8, 96, 96)
    source = open_lazy(small_tiff)
    assert volume.voxel_size == pytest.approx(
        (source.voxel_size[0], source.voxel_size[1] / 2, source.voxel_size[2] / 2)
    )
    assert (out / ".self_vision" / "model.pt").is_file()  # the model that made it travels with it
    assert "exact steps, seed 0: repeats exactly" in stdout  # --steps: the run repeats, and says so
    assert "resolution (decorrelation, no reference)" in stdout  # as the in-memory run reports it
    # 48 px is too narrow to hold out data: the summary says what the gate returned instead, as in memory
    assert "; returned back-projection: gate: nothing could be checked" in stdout


def test_resume_finishes_an_interrupted_run(small_tiff, tmp_path, capsys):
    out = tmp_path / "out.zarr"
    cancel = CancelToken()
    steps = enhance_blockwise_steps(
        open_lazy(small_tiff),
        out,
        (1, 2, 2),
        options=EnhanceOptions(steps=4, seed=0),
        device="cpu",
        cancel=cancel,
        chunks=(8, 48, 48),
        block_output=8 * 48 * 48,
    )
    with pytest.raises(CancelledError):
        for event in steps:
            if isinstance(event, InferProgress):
                cancel.cancel()
    assert partial_path(out).is_dir() and not out.exists()
    code, _, err = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,2,2", *FAST, *SMALL)
    assert code == 2 and "--resume" in error_line(err)
    code, stdout, _ = run(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,2,2", "--resume", *FAST, *SMALL)
    assert code == 0 and "1 resumed" in stdout
    assert is_complete(out) and zarr.open_group(str(out))["0"].shape == (8, 96, 96)


def test_local_cluster_from_the_command_line(small_tiff, tmp_path, capsys):
    one, many = tmp_path / "one.zarr", tmp_path / "many.zarr"
    assert run(capsys, "enhance", small_tiff, "-o", one, "--factor", "1,2,2", *FAST, *SMALL)[0] == 0
    model = one / ".self_vision" / "model.pt"
    code, _, _ = run(capsys, "enhance", small_tiff, "-o", many, "--model", model, "--workers", "2", *FAST, *SMALL)
    assert code == 0
    np.testing.assert_allclose(zarr.open_group(str(many))["0"][:], zarr.open_group(str(one))["0"][:], atol=1e-4)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--uncertainty", "u.tif"], "--uncertainty"),
        (["--chunks", "8,x,48"], "--chunks"),
        (["--scheduler", "tcp://127.0.0.1:1"], "cannot connect"),
    ],
)
def test_block_wise_usage_errors_are_one_line(small_tiff, tmp_path, capsys, extra, message):
    code, _, err = run(capsys, "enhance", small_tiff, "-o", tmp_path / "o.zarr", "--factor", "1,2,2", *FAST, *extra)
    assert code == 2 and message in error_line(err)


def test_small_tiff_to_tiff_stays_in_memory(small_tiff, tmp_path):
    from self_vision.cli.main import build_parser

    args = build_parser().parse_args(["enhance", str(small_tiff), "-o", str(tmp_path / "o.tif"), "--factor", "1,4,4"])
    assert not wants_blocks(args)
    args = build_parser().parse_args(["enhance", str(small_tiff), "-o", str(tmp_path / "o.zarr"), "--factor", "1,4,4"])
    assert wants_blocks(args)


def test_denoise_block_wise_into_ome_zarr_and_resume_refuses_tis(small_tiff, tmp_path, capsys):
    out = tmp_path / "clean.zarr"
    code, stdout, _ = run(capsys, "denoise", small_tiff, "-o", out, *FAST, *SMALL)
    assert code == 0 and "denoised" in stdout
    assert is_complete(out) and open_lazy(out).shape == open_lazy(small_tiff).shape
    code, _, err = run(capsys, "denoise", small_tiff, "-o", tmp_path / "t.zarr", "--mode", "tis", *FAST)
    assert code == 2 and "TiS" in error_line(err)


def test_a_killed_run_leaves_no_complete_looking_output_and_resumes(tmp_path):
    """SIGKILL mid-run (no cleanup at all), then ``--resume``: the same voxels as a run never interrupted."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from self_vision.core.io.writing import write_tiff
    from self_vision.core.sample import synthetic_neurons

    source = write_tiff(tmp_path / "in.tif", synthetic_neurons(shape=(4, 128, 128), seed=1), voxel_size=(2, 1, 1))
    common = ["enhance", str(source), "--factor", "1,2,2", "--steps", "3", "--seed", "0", "--device", "cpu"]
    common += ["--quiet", "--chunks", "4,32,32", "--block-voxels", str(4 * 32 * 32)]
    command = [sys.executable, "-m", "self_vision.cli"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "killed.zarr"
    proc = subprocess.Popen([*command, *common, "-o", str(out)], env=env)
    done = partial_path(out) / ".self_vision" / "done"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if done.is_dir() and len(os.listdir(done)) >= 3:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        pytest.skip("the run finished before it could be killed")
    assert not out.exists() and partial_path(out).is_dir()  # nothing looks complete
    resumed = subprocess.run([*command, *common, "-o", str(out), "--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout and is_complete(out)
    whole = tmp_path / "whole.zarr"
    model = out / ".self_vision" / "model.pt"  # the model the killed run saved before its first block
    again = subprocess.run(
        [*command, *common[:2], "--model", str(model), *common[8:], "-o", str(whole)], env=env, capture_output=True
    )
    assert again.returncode == 0, again.stderr
    np.testing.assert_array_equal(zarr.open_group(str(out))["0"][:], zarr.open_group(str(whole))["0"][:])
