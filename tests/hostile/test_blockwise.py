"""Classes 2, 3 and 5 of issue 12: block-wise runs. ``--resume`` refuses a partial output started for another
input or other settings; a lock held by a live writer refuses a second one, a dead writer's lock is taken over;
a scheduler that never answers is a one-line timeout, not a hang."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time

import numpy as np
import pytest

from helpers import run_cli
from hostile.corpus import FAST, Case, World, assert_untouched, ids, run_case, snapshot
from self_vision.core.blockwise import engine
from self_vision.core.io.writing import write_tiff
from self_vision.core.sample import synthetic_neurons

#: Four blocks of one chunk each on the corpus input (4, 24, 24) x (1, 2, 2).
BLOCKS = ["--chunks", "4,24,24", "--block-voxels", str(4 * 24 * 24)]
#: Four blocks for denoising (factor 1).
DENOISE_BLOCKS = ["--chunks", "4,12,12", "--block-voxels", str(4 * 12 * 12)]
F = ["--factor", "1,2,2", *FAST]


def _start(w: World, *extra: str, command: str = "enhance") -> None:
    """An interrupted block-wise run on ``w.inp`` into ``o.zarr``: one of four blocks done, then Ctrl-C."""
    real, calls = engine.run_block, []

    def run_block(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    engine.run_block = run_block
    try:
        flags = [*F, *BLOCKS] if command == "enhance" else [*FAST, *DENOISE_BLOCKS]
        assert run_cli_quiet(command, w.inp, "-o", "o.zarr", *flags, *extra) == 130
    finally:
        engine.run_block = real
    assert (w.root / "o.zarr.partial").is_dir() and not (w.root / "o.zarr.lock").exists()


def run_cli_quiet(*argv: object) -> int:
    from self_vision.cli import main

    return main([str(a) for a in argv])


def _resume(*extra: str, inp=lambda w: w.inp, command: str = "enhance"):
    flags = F if command == "enhance" else FAST
    return lambda w: [command, inp(w), "-o", "o.zarr", "--resume", *flags, *BLOCKS, *extra]


def _then(*steps):
    def make(w: World) -> None:
        for step in steps:
            step(w)

    return make


def _replace_input(w: World) -> None:
    """Same path, same shape and dtype, other voxels (a re-export)."""
    write_tiff(w.inp, synthetic_neurons((4, 24, 24), seed=9), voxel_size=(2.0, 0.5, 0.5), overwrite=True)


def _damage(name: str, data: bytes):
    return lambda w: (w.root / "o.zarr.partial" / ".self_vision" / name).write_bytes(data)


MISMATCH = "resume"
RESUME = [
    Case("resume-other-input", _resume(inp=lambda w: w.other), 2, MISMATCH, _start),
    Case("resume-input-replaced-in-place", _resume(), 2, "input", _then(_start, _replace_input)),
    Case(
        "resume-other-factor",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", "--resume", "--factor", "1,4,4", *FAST, *BLOCKS],
        2,
        MISMATCH,
        _start,
    ),
    Case(
        "resume-other-chunks",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", "--resume", *F, "--chunks", "4,12,12"],
        2,
        "chunks",
        _start,
    ),
    Case("resume-with-ensemble", _resume("--ensemble"), 2, "ensemble", _start),
    Case(
        "resume-other-block-voxels",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", "--resume", *F, "--chunks", "4,24,24", "--block-voxels", "99999"],
        2,
        "block_output",
        _start,
    ),
    Case("resume-input-touched", _resume(), 2, "modification time", _then(_start, lambda w: os.utime(w.inp, (1, 1)))),
    Case("resume-other-voxel-size", _resume("--voxel-size", "1,1,1"), 2, "voxel size", _start),
    Case("resume-with-a-model", _resume("--model", "model.pt"), 2, MISMATCH, _start),
    Case("resume-enhance-as-denoise", _resume(command="denoise"), 2, "denoise", _start),
    Case("resume-denoise-as-enhance", _resume(), 2, "enhance", lambda w: _start(w, command="denoise")),
    Case("resume-damaged-record", _resume(), 1, "run.json|record", _then(_start, _damage("run.json", b"{ cut"))),
    Case("resume-damaged-model", _resume(), 1, "model", _then(_start, _damage("model.pt", b"PK\x03\x04 cut"))),
    Case("partial-without-resume", lambda w: ["enhance", w.inp, "-o", "o.zarr", *F, *BLOCKS], 2, "--resume", _start),
]


def _lock(pid: int, host: str | None = None, age: float = 0.0, text: str | None = None):
    def make(w: World) -> None:
        lock = w.root / "o.zarr.lock"
        lock.write_text(text if text is not None else json.dumps({"pid": pid, "host": host or socket.gethostname()}))
        if age:
            os.utime(lock, (time.time() - age, time.time() - age))

    return make


LOCKED = [
    Case("lock-live-writer", lambda w: ["enhance", w.inp, "-o", "o.zarr", *F], 2, "another run", _lock(os.getppid())),
    Case(
        "lock-other-host-fresh",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", *F],
        2,
        "another run",
        _lock(1, host="elsewhere.example"),
    ),
    Case(
        "lock-unreadable-fresh",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", *F],
        2,
        "another run",
        _lock(0, text="\x00garbage"),
    ),
    Case(
        "lock-tiff-output-live-writer",
        lambda w: ["enhance", w.inp, "-o", "b.tif", *F, *BLOCKS],
        2,
        "another run",
        lambda w: (w.root / "b.tif.lock").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()})),
    ),
]


@pytest.mark.parametrize("case", RESUME, ids=ids(RESUME))
def test_resume_refuses_another_input_or_other_settings(case, world, capsys):
    run_case(case, world, capsys)


@pytest.mark.parametrize("case", LOCKED, ids=ids(LOCKED))
def test_a_live_writers_lock_refuses_a_second_run(case, world, capsys):
    run_case(case, world, capsys)


def _dead_pid() -> int:
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    "setup",
    [
        lambda w: _lock(_dead_pid())(w),
        _lock(1, host="elsewhere.example", age=3 * 24 * 3600),
        _lock(0, text="garbage", age=3600),
    ],
    ids=["dead-pid", "other-host-days-old", "unreadable-hour-old"],
)
def test_a_stale_lock_is_taken_over_and_the_run_completes(world, capsys, setup):
    setup(world)
    before = snapshot(world.root)
    before.pop("o.zarr.lock")
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.zarr", *F)
    assert code == 0, err
    assert not (world.root / "o.zarr.lock").exists()
    assert_untouched(world.root, before, allow_new=True)


def test_resume_with_the_same_settings_finishes_the_same_output(world, capsys, tmp_path):
    _start(world)
    code, out, err = run_cli(capsys, *_resume()(world))
    assert code == 0 and "resumed" in out, err
    import zarr

    resumed = np.asarray(zarr.open_array(str(world.root / "o.zarr" / "0"), mode="r"))
    shutil.rmtree(world.root / "o.zarr")
    code, _, err = run_cli(capsys, "enhance", world.inp, "-o", "o.zarr", *F, *BLOCKS)
    assert code == 0, err
    np.testing.assert_array_equal(resumed, np.asarray(zarr.open_array(str(world.root / "o.zarr" / "0"), mode="r")))


class _Listener:
    """A TCP server that accepts and then says nothing (``greeting``: bytes it sends first, then silence)."""

    def __init__(self, greeting: bytes = b"") -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.greeting, self.conns = greeting, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.greeting:
                conn.sendall(self.greeting)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("greeting", "words"),
    [(None, "cannot connect"), (b"", "within"), (b"\x00\x01garbage", "not as a dask scheduler")],
    ids=["nothing-listens", "silent-listener", "garbage-then-silence"],
)
def test_a_scheduler_that_does_not_answer_is_a_timeout_not_a_hang(world, capsys, monkeypatch, greeting, words):
    monkeypatch.setattr("self_vision.defaults.SCHEDULER_TIMEOUT", 0.5)
    listener = None if greeting is None else _Listener(greeting)
    port = _closed_port() if listener is None else listener.port
    before = snapshot(world.root)
    start = time.perf_counter()
    try:
        code, _, err = run_cli(
            capsys, "enhance", world.inp, "-o", "o.zarr", "--scheduler", f"tcp://127.0.0.1:{port}", *F
        )
    finally:
        if listener is not None:
            listener.close()
    assert time.perf_counter() - start < 5
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert words in err and "scheduler" in err
    assert_untouched(world.root, before)
