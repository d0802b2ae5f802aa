"""One hostile case = argv (or a call), the exit code, words of the one stderr line; the runner checks the rest."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile

from helpers import one_line_error, run_cli

#: Tiny, reproducible training for the cases that must get that far.
FAST = ["--steps", "1", "--seed", "0", "--device", "cpu", "--quiet"]
#: Seconds a refused run may take: errors come before any work (the default training alone takes 40 s).
QUICK = 10.0
#: One block for the corpus input (block-wise cases).
BLOCK = ["--chunks", "4,24,24"]


@dataclass(frozen=True)
class Case:
    """A command line on a :class:`World`, and what the user must see."""

    id: str
    argv: Callable[[World], list]
    code: int
    words: str  # words the line must hold (``a|b``: either)
    setup: Callable[[World], None] | None = None
    names: str | None = None  # a file name the line must name (the input or output at fault)


def run_case(case: Case, world: World, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``case``; assert its exit code, one ``self-vision: error:`` line with its words, no traceback, and
    that every file present before is byte-identical afterwards (and nothing new was written), and that the
    refusal came before any work (within :data:`QUICK` seconds)."""
    if case.setup is not None:
        case.setup(world)
        capsys.readouterr()  # what a setup run printed is not the case's output
    before = snapshot(world.root)
    start = time.perf_counter()
    code, _, err = run_cli(capsys, *case.argv(world))
    seconds = time.perf_counter() - start
    line = one_line_error(err)
    assert seconds < QUICK, f"refused only after {seconds:.0f} s of work: {line}"
    assert code == case.code, line
    said = line.lower().replace("_", "-")
    assert any(w.lower().replace("_", "-") in said for w in case.words.split("|")), line
    if case.names is not None:
        assert case.names in line, f"the line does not name {case.names}: {line}"
    assert_untouched(world.root, before)
    return line


def run_ok(case: Case, world: World, capsys: pytest.CaptureFixture[str]) -> str:
    """Run a ``case`` that must work: exit ``case.code``, ``case.words`` on stdout, no traceback, every file that
    existed byte-identical, no temporary files or locks left; returns stdout."""
    if case.setup is not None:
        case.setup(world)
        capsys.readouterr()  # what a setup run printed is not the case's output
    before = snapshot(world.root)
    code, out, err = run_cli(capsys, *case.argv(world))
    assert "Traceback" not in err, err
    assert code == case.code, err
    assert case.words in out, out
    assert_untouched(world.root, before, allow_new=True)
    return out


def ids(cases: list[Case]) -> list[str]:
    names = [c.id for c in cases]
    assert len(set(names)) == len(names), "case ids must be unique"
    return names


@dataclass
class World:
    """The files one case starts from (all inside ``root``, which is also the working folder and ``~``)."""

    root: Path
    inp: Path  # in.tif: the input every case must leave untouched
    other: Path  # other.tif: another input of the same shape
    model: Path  # model.pt: a valid enhancement model (factor 1,2,2)
    denoiser: Path  # den.pt: a valid SiS denoiser
    existing: Path  # existing.tif: an output that exists before the run


def snapshot(root: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every regular file under ``root`` (FIFOs and sockets are not read)."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_untouched(root: Path, before: dict[str, str], allow_new: bool = False) -> None:
    """Every file that existed is byte-identical; no new file (unless ``allow_new``) and no temporary leftovers."""
    after = snapshot(root)
    changed = [p for p, digest in before.items() if after.get(p) != digest]
    assert not changed, f"pre-existing files changed or vanished: {changed}"
    new = sorted(set(after) - set(before))
    leftovers = [p for p in new if ".tmp" in Path(p).name or Path(p).name.endswith(".lock")]
    assert not leftovers, f"temporary files or locks left behind: {leftovers}"
    if not allow_new:
        assert not new, f"a failed run wrote files: {new}"


# ------------------------------------------------------------------------------------------- setups


def symlink(name: str, to: Callable[[World], Path]) -> Callable[[World], None]:
    def make(w: World) -> None:
        os.symlink(to(w), w.root / name)

    return make


def hardlink(name: str, to: Callable[[World], Path]) -> Callable[[World], None]:
    def make(w: World) -> None:
        os.link(to(w), w.root / name)

    return make


def write_bytes(name: str, data: bytes) -> Callable[[World], None]:
    def make(w: World) -> None:
        (w.root / name).write_bytes(data)

    return make


def truncated(name: str = "cut.tif", keep: float = 0.5, compress: bool = False) -> Callable[[World], None]:
    """A 6-plane TIFF cut to ``keep`` of its bytes (a copy interrupted half-way)."""

    def make(w: World) -> None:
        path = w.root / name
        data = (np.random.default_rng(0).random((6, 24, 24)) * 1000).astype(np.uint16)
        tifffile.imwrite(path, data, imagej=not compress, compression="zlib" if compress else None)
        raw = path.read_bytes()
        path.write_bytes(raw[: max(8, int(len(raw) * keep))])

    return make


def tiff(name: str, data: np.ndarray, **kwargs: object) -> Callable[[World], None]:
    """``data`` written with tifffile, grey levels unless ``kwargs`` say otherwise (e.g. ``imagej=True``)."""

    def make(w: World) -> None:
        tifffile.imwrite(w.root / name, data, **{"photometric": "minisblack", **kwargs})

    return make


def ome_zarr(
    name: str, data: np.ndarray, change: Callable[[dict], None] | None = None, chunks: tuple[int, ...] | None = None
) -> Callable[[World], None]:
    """An OME-Zarr 0.5 image of ``data`` (ZYX, scale 2,0.5,0.5, one chunk unless ``chunks``); ``change`` edits
    its ``multiscales[0]`` first."""

    def make(w: World) -> None:
        import zarr

        group = zarr.open_group(str(w.root / name), mode="w")
        group.create_array("0", shape=data.shape, chunks=chunks or data.shape, dtype=data.dtype)[:] = data
        image = {
            "axes": [{"name": a, "type": "space", "unit": "micrometer"} for a in "zyx"],
            "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 0.5, 0.5]}]}],
        }
        if change is not None:
            change(image)
        group.attrs["ome"] = {"version": "0.5", "multiscales": [image]}

    return make


def fifo(name: str) -> Callable[[World], None]:
    def make(w: World) -> None:
        os.mkfifo(w.root / name)

    return make


def both(*setups: Callable[[World], None]) -> Callable[[World], None]:
    def make(w: World) -> None:
        for setup in setups:
            setup(w)

    return make
