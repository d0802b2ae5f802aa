"""Classes 1 and 10 of issue 12: outputs. Existing outputs are never replaced unasked; a write that fails or is
interrupted half-way leaves no partial file and the old output as it was; leftovers of a killed write are
cleaned; an interruption says truthfully what was written; OME-Zarr outputs never land in or around an input."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tifffile

from helpers import run_cli
from hostile.corpus import (
    BLOCK,
    FAST,
    Case,
    assert_untouched,
    ids,
    ome_zarr,
    run_case,
    snapshot,
    write_bytes,
)

F = ["--factor", "1,2,2", *FAST]
OW = "--overwrite"
GOOD = (np.random.default_rng(0).random((4, 24, 24)) * 1000).astype(np.uint16)


def _mkdir(name: str):
    return lambda w: (w.root / name).mkdir(parents=True)


REFUSED = [
    Case(
        "zarr-output-exists",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", *F, *BLOCK],
        2,
        "--overwrite",
        _mkdir("o.zarr"),
    ),
    Case(
        "zarr-output-is-a-file",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", OW, *F, *BLOCK],
        2,
        "is a file",
        write_bytes("o.zarr", b"x"),
    ),
    Case(
        "zarr-partial-is-a-file",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", *F, *BLOCK],
        2,
        "in the way",
        write_bytes("o.zarr.partial", b"x"),
    ),
    Case(
        "zarr-partial-exists-no-resume",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", *F, *BLOCK],
        2,
        "--resume",
        _mkdir("o.zarr.partial"),
    ),
    Case(
        "output-inside-input-zarr",
        lambda w: ["enhance", "g.zarr", "-o", "g.zarr/out.tif", *F],
        2,
        "input",
        ome_zarr("g.zarr", GOOD),
    ),
    Case(
        "zarr-output-inside-input-zarr",
        lambda w: ["enhance", "g.zarr", "-o", "g.zarr/out.zarr", *F],
        2,
        "input",
        ome_zarr("g.zarr", GOOD),
    ),
    Case(
        "zarr-output-is-the-input-zarr",
        lambda w: ["enhance", "g.zarr", "-o", "g.zarr", "--overwrite", *F],
        2,
        "input",
        ome_zarr("g.zarr", GOOD),
    ),
    Case(
        "input-inside-zarr-output",
        lambda w: ["enhance", "box.zarr/in.tif", "-o", "box.zarr", "--overwrite", *F],
        2,
        "input",
        lambda w: (_mkdir("box.zarr")(w), (w.root / "box.zarr" / "in.tif").write_bytes(w.inp.read_bytes())),
    ),
    Case(
        "zarr-output-partial-on-input",
        lambda w: ["enhance", "o.zarr.partial", "-o", "o.zarr", "--overwrite", *F],
        2,
        "input",
        ome_zarr("o.zarr.partial", GOOD),
    ),
    Case(
        "output-is-a-fifo",
        lambda w: ["enhance", w.inp, "-o", "p.tif", "--overwrite", *F],
        2,
        "regular file",
        lambda w: os.mkfifo(w.root / "p.tif"),
    ),
    Case(
        "output-is-a-folder",
        lambda w: ["enhance", w.inp, "-o", "d.tif", "--overwrite", *F],
        2,
        "directory",
        _mkdir("d.tif"),
    ),
    Case(
        "denoise-existing-save-model",
        lambda w: ["denoise", w.inp, "-o", "o.tif", "--save-model", w.denoiser, *FAST],
        2,
        "--overwrite",
    ),
    Case(
        "demo-out-is-a-file",
        lambda w: ["demo", "--out", w.existing, "--time-budget", "0.5", "--device", "cpu"],
        2,
        "existing.tif",
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=ids(REFUSED))
def test_outputs_in_the_way_are_refused(case, world, capsys):
    run_case(case, world, capsys)


def _fail_half_way(error: BaseException):
    """A ``tifffile.imwrite`` that writes half a file, then fails like a full disk or a Ctrl-C."""

    def imwrite(path, data=None, **kwargs):
        Path(path).write_bytes(b"II*\x00" + bytes(4096))
        raise error

    return imwrite


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 1, "disk space"),
        (OSError(errno.EIO, "Input/output error"), 1, "cannot write"),
        (PermissionError(errno.EACCES, "Permission denied"), 2, "cannot write"),
        (KeyboardInterrupt(), 130, "nothing was written"),
    ],
    ids=["disk-full", "io-error", "permission", "ctrl-c"],
)
@pytest.mark.parametrize("overwrite", [False, True], ids=["new", "over-existing"])
def test_a_write_that_fails_half_way_leaves_no_partial_file(world, capsys, monkeypatch, error, code, words, overwrite):
    monkeypatch.setattr("self_vision.core.io.writing.tifffile.imwrite", _fail_half_way(error))
    target = world.existing if overwrite else world.root / "o.tif"
    before = snapshot(world.root)
    got, _, err = run_cli(capsys, "enhance", world.inp, "-o", target, *F, *(["--overwrite"] if overwrite else []))
    assert got == code and "Traceback" not in err
    assert words in err.strip().splitlines()[-1]
    assert len(err.strip().splitlines()) == 1, err
    assert_untouched(world.root, before)  # the old output is byte-identical, no temporary file is left


def test_ctrl_c_while_saving_the_model_names_the_output_already_written(world, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("self_vision.core.enhance.enhancer.save_model", interrupted)
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.tif", "--save-model", "m.pt", *F)
    assert code == 130 and "Traceback" not in err
    assert "already written" in err and "o.tif" in err and "nothing was written" not in err
    assert not (world.root / "m.pt").exists()
    tifffile.imread(world.root / "o.tif")  # complete


def test_a_killed_writes_leftover_is_cleaned_and_a_live_ones_kept(world, capsys):
    dead = _dead_pid()
    stale = world.root / f".o.tif.{dead}-0badc0de.tmp.tif"
    live = world.root / f".o.tif.{os.getppid()}-0000beef.tmp.tif"
    stale.write_bytes(bytes(1000))
    live.write_bytes(bytes(1000))
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.tif", *F)
    assert code == 0, err
    assert not stale.exists() and live.exists()


def test_an_unwritable_output_folder_is_refused_before_training(world, capsys, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if mode & os.W_OK else real(p, mode, **k))
    before = snapshot(world.root)
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.tif", "--factor", "1,2,2", "--quiet")
    assert code == 2 and "not writable" in err and len(err.strip().splitlines()) == 1
    assert_untouched(world.root, before)


def test_overwrite_replaces_an_existing_output_and_nothing_else(world, capsys):
    before = snapshot(world.root)
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", world.existing, "--overwrite", *F)
    assert code == 0, err
    after = snapshot(world.root)
    assert after.pop("existing.tif") != before.pop("existing.tif")
    assert after == before
    assert tifffile.imread(world.existing).shape == (4, 48, 48)


def _dead_pid() -> int:
    """The pid of a process that has exited (reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_full_disk_during_a_block_wise_run_is_one_line_and_resumes(world, capsys, monkeypatch):
    from self_vision.core.blockwise.store import OutputStore

    real = OutputStore.write_block

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(OutputStore, "write_block", full)
    before = snapshot(world.root)
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.zarr", *F)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "o.zarr" in err and "disk space" in err and "resume" in err
    assert_untouched(world.root, before, allow_new=True)  # the partial output stays, no lock is left
    assert not (world.root / "o.zarr").exists() and (world.root / "o.zarr.partial").is_dir()
    monkeypatch.setattr(OutputStore, "write_block", real)  # space freed
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.zarr", "--resume", *F)
    assert code == 0, err


def test_an_output_folder_where_the_lock_cannot_be_made_is_one_line(world, capsys, monkeypatch):
    from self_vision.core.blockwise import guard

    real = os.open

    def denied(path, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(guard.os, "open", denied)
    case = Case("lock-denied", lambda w: ["enhance", w.inp, "-o", "o.zarr", *F], 2, "writable", None, "o.zarr.lock")
    run_case(case, world, capsys)


@pytest.mark.parametrize(
    "error",
    [RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"), OSError(errno.ENOSPC, "full")],
    ids=["torch-runtime-error", "os-error"],
)
def test_a_model_file_that_cannot_be_written_leaves_no_partial_file(world, capsys, monkeypatch, error):
    import torch

    def fail(payload, path, *args, **kwargs):
        Path(path).write_bytes(b"PK\x03\x04 half")
        raise error

    monkeypatch.setattr(torch, "save", fail)
    before = snapshot(world.root)
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.tif", "--save-model", "m.pt", *F)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "m.pt" in err and "disk space" in err
    assert_untouched(world.root, before, allow_new=True)
    assert not (world.root / "m.pt").exists()
