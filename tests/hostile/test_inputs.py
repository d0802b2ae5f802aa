"""Classes 4, 5 and 8 of issue 12, and data the method cannot use: damaged, truncated, empty or non-regular
inputs, odd data types, NaN/Inf, constant images, shapes too small for the factor, channels and axes to choose,
malformed OME-Zarr. Each goes through the in-memory path and the block-wise path (which reads lazily)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers import run_cli
from hostile.corpus import (
    BLOCK,
    FAST,
    Case,
    assert_untouched,
    fifo,
    ids,
    ome_zarr,
    run_case,
    run_ok,
    snapshot,
    tiff,
    truncated,
    write_bytes,
)
from self_vision.core.io.lazy import open_lazy
from self_vision.core.io.omezarr import MissingChunksWarning

F = ["--factor", "1,2,2", *FAST]
GOOD = (np.random.default_rng(0).random((4, 24, 24)) * 1000).astype(np.uint16)


def _paths(name: str, words: str, setup, code: int = 1, blocks: bool = True, denoise: bool = False) -> list[Case]:
    """``enhance NAME`` in memory (and block-wise, and ``denoise NAME``): one line naming the file."""
    cases = [Case(f"{name}-memory", lambda w: ["enhance", name, "-o", "o.tif", *F], code, words, setup, name)]
    if blocks:
        cases.append(Case(f"{name}-blocks", lambda w: ["enhance", name, "-o", "o.zarr", *F], code, words, setup, name))
    if denoise:
        cases.append(Case(f"{name}-denoise", lambda w: ["denoise", name, "-o", "o.tif", *FAST], code, words, setup))
    return cases


DAMAGED = [
    *_paths("empty.tif", "empty", write_bytes("empty.tif", b""), denoise=True),
    *_paths("eight.tif", "truncated|no images", write_bytes("eight.tif", b"II*\x00\x08\x00\x00\x00")),
    *_paths("text.tif", "tiff", write_bytes("text.tif", b"hello, I am not an image\n" * 4)),
    *_paths("png.tif", "tiff", write_bytes("png.tif", b"\x89PNG\r\n\x1a\n" + bytes(64))),
    *_paths("half.tif", "truncated", truncated("half.tif", 0.5), denoise=True),
    *_paths("fifth.tif", "truncated", truncated("fifth.tif", 0.2)),
    *_paths("cutzip.tif", "truncated", truncated("cutzip.tif", 0.6, compress=True)),
    *_paths("missing.tif", "no such file", None, denoise=True),
    *_paths("folder.tif", "folder", lambda w: (w.root / "folder.tif").mkdir()),
    *_paths("pipe.tif", "fifo", fifo("pipe.tif"), denoise=True),
    *_paths("notes.txt", "format|not a readable tiff", write_bytes("notes.txt", b"1,2,3\n")),
    Case("dev-null-input", lambda w: ["enhance", "/dev/null", "-o", "o.tif", *F], 1, "regular file"),
    Case("dev-null-input-blocks", lambda w: ["enhance", "/dev/null", "-o", "o.zarr", *F, *BLOCK], 1, "regular file"),
]

DATA = [
    *_paths("bool.tif", "data type bool", tiff("bool.tif", GOOD > 500), blocks=False),
    *_paths("complex.tif", "data type complex", tiff("complex.tif", GOOD.astype(np.complex64)), blocks=False),
    *_paths("nan.tif", "nan", tiff("nan.tif", np.where(GOOD > 900, np.nan, GOOD).astype(np.float32))),
    *_paths("inf.tif", "nan/inf", tiff("inf.tif", np.where(GOOD > 900, np.inf, GOOD).astype(np.float32))),
    *_paths("constant.tif", "constant", tiff("constant.tif", np.full((4, 24, 24), 7, np.uint16)), denoise=True),
    *_paths("zeros.tif", "constant", tiff("zeros.tif", np.zeros((4, 24, 24), np.float32))),
    *_paths("pixel.tif", "too few|constant", tiff("pixel.tif", np.ones((1, 1, 1), np.uint16), imagej=True)),
    *_paths("tiny.tif", "too few", tiff("tiny.tif", GOOD[:, :3, :3])),
    *_paths("thin.tif", "too few", tiff("thin.tif", GOOD[:, :, :5])),
    Case("huge-factor", lambda w: ["enhance", w.inp, "-o", "o.tif", "--factor", "1,16,16", *FAST], 1, "too few"),
    Case("huge-factor-blocks", lambda w: ["enhance", w.inp, "-o", "o.zarr", "--factor", "16", *FAST], 1, "too few"),
    *_paths(
        "rgb.tif",
        "channel",
        tiff("rgb.tif", np.stack([GOOD[0] % 256] * 3, -1).astype(np.uint8), photometric="rgb"),
        code=2,
    ),
    *_paths(
        "zcyx.tif", "channel", tiff("zcyx.tif", np.stack([GOOD, GOOD], 1), imagej=True, metadata={"axes": "ZCYX"}), 2
    ),
    *_paths("tzyx.tif", "timepoint", tiff("tzyx.tif", np.stack([GOOD] * 2), imagej=True, metadata={"axes": "TZYX"}), 2),
    *_paths("4d.tif", "axes", tiff("4d.tif", np.stack([GOOD] * 2)), code=2),
]
DATA_CHOICES = [
    Case(
        "rgb-channel-out-of-range",
        lambda w: ["enhance", "rgb.tif", "-o", "o.tif", "--channel", "5", *F],
        2,
        "channel",
        tiff("rgb.tif", np.stack([GOOD[0] % 256] * 3, -1).astype(np.uint8), photometric="rgb"),
    ),
    Case(
        "timepoint-out-of-range-blocks",
        lambda w: ["enhance", "t.tif", "-o", "o.zarr", "--timepoint", "9", *F, *BLOCK],
        2,
        "timepoint",
        tiff("t.tif", np.stack([GOOD] * 2), imagej=True, metadata={"axes": "TZYX"}),
    ),
    Case("timepoint-on-a-zstack", lambda w: ["enhance", w.inp, "-o", "o.tif", "--timepoint", "1", *F], 2, "time"),
]


def _scale(*values: object):
    def change(image: dict) -> None:
        image["datasets"][0]["coordinateTransformations"] = [{"type": "scale", "scale": list(values)}]

    return change


def _shift(*values: object):
    def change(image: dict) -> None:
        image["datasets"][0]["coordinateTransformations"].append({"type": "translation", "translation": list(values)})

    return change


def _dataset(**values: object):
    return lambda image: image["datasets"][0].update(**values)


def _zarr(name: str, words: str, change=None, setup=None) -> list[Case]:
    return _paths(name, words, setup or ome_zarr(name, GOOD, change), blocks=False)


ZARR = [
    *_zarr("empty.zarr", "zarr", setup=lambda w: (w.root / "empty.zarr").mkdir()),
    *_zarr("junk.zarr", "zarr", setup=lambda w: _junk_zarr(w)),
    *_zarr("nodata.zarr", "datasets", lambda image: image.update(datasets=[])),
    *_zarr("notype.zarr", "without a type", _dataset(coordinateTransformations=[{"scale": [1, 1, 1]}])),
    *_zarr("short.zarr", "one entry per axis", _scale(1, 1)),
    *_zarr("zero.zarr", "0, negative", _scale(0, 1, 1)),
    *_zarr("neg.zarr", "0, negative", _scale(-1, 1, 1)),
    *_zarr("nanscale.zarr", "not finite", _scale("NaN", 1, 1)),
    *_zarr("nanshift.zarr", "translation", _shift("NaN", 0, 0)),
    *_zarr("shortshift.zarr", "one entry per axis", _shift(1, 2)),
    *_zarr("dotdot.zarr", "leaves the store", _dataset(path="../in.tif")),
    *_zarr("gone.zarr", "missing array", _dataset(path="1")),
    *_zarr("badchunk.zarr", "truncated or corrupt", setup=lambda w: _bad_chunk(w)),
]


def _junk_zarr(w) -> None:
    (w.root / "junk.zarr").mkdir()
    (w.root / "junk.zarr" / "zarr.json").write_text("{ not json")


def _bad_chunk(w) -> None:
    ome_zarr("badchunk.zarr", GOOD)(w)
    chunk = next(p for p in (w.root / "badchunk.zarr" / "0").rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(b"\x00garbage" * 8)


WORKS = [
    Case(
        "non-ascii-names",
        lambda w: ["enhance", "Ünïcødé 名前.tif", "-o", "résultat ✓.tif", *F],
        0,
        "résultat ✓.tif",
        lambda w: (w.root / "Ünïcødé 名前.tif").write_bytes(w.inp.read_bytes()),
    ),
    Case(
        "big-endian", lambda w: ["enhance", "be.tif", "-o", "o.tif", *F], 0, "o.tif", tiff("be.tif", GOOD.astype(">u2"))
    ),
    Case(
        "float16", lambda w: ["enhance", "h.tif", "-o", "o.tif", *F], 0, "o.tif", tiff("h.tif", GOOD.astype(np.float16))
    ),
    Case("int64", lambda w: ["enhance", "l.tif", "-o", "o.tif", *F], 0, "o.tif", tiff("l.tif", GOOD.astype(np.int64))),
    Case(
        "big-endian-blocks",
        lambda w: ["enhance", "be.tif", "-o", "o.zarr", *F, *BLOCK],
        0,
        "o.zarr",
        tiff("be.tif", GOOD.astype(">f4")),
    ),
    Case("ome-zarr-input", lambda w: ["enhance", "g.zarr", "-o", "o.tif", *F], 0, "o.tif", ome_zarr("g.zarr", GOOD)),
    Case(
        "rgb-with-channel",
        lambda w: ["enhance", "rgb.tif", "-o", "o.tif", "--channel", "1", *F],
        0,
        "o.tif",
        tiff("rgb.tif", np.stack([GOOD[0] % 256] * 3, -1).astype(np.uint8), photometric="rgb"),
    ),
]


@pytest.mark.parametrize("case", DAMAGED, ids=ids(DAMAGED))
def test_damaged_inputs_are_one_line_errors(case, world, capsys):
    run_case(case, world, capsys)


@pytest.mark.parametrize("case", DATA + DATA_CHOICES, ids=ids(DATA + DATA_CHOICES))
def test_unusable_data_is_refused_before_training(case, world, capsys):
    run_case(case, world, capsys)


@pytest.mark.parametrize("case", ZARR, ids=ids(ZARR))
def test_malformed_ome_zarr_is_one_line_error(case, world, capsys):
    run_case(case, world, capsys)


@pytest.mark.parametrize("case", WORKS, ids=ids(WORKS))
def test_odd_but_valid_inputs_work_and_stay_untouched(case, world, capsys):
    run_ok(case, world, capsys)
    argv = [str(a) for a in case.argv(world)]
    output = world.root / argv[argv.index("-o") + 1]
    volume = open_lazy(output)
    data = volume.read((slice(None),) * len(volume.shape))
    assert data.shape[-2:] == (48, 48) and np.isfinite(data).all() and data.std() > 0


@pytest.mark.parametrize("output", ["o.tif", "o.zarr"], ids=["memory", "blocks"])
def test_an_unreadable_input_is_one_line(world, capsys, monkeypatch, output):
    """Permission denied on open (simulated: the tests may run as root, whom chmod does not stop)."""
    import tifffile

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tifffile.TiffFile, "__init__", denied)
    case = Case(f"unreadable-{output}", lambda w: ["enhance", w.inp, "-o", output, *F], 1, "permission", None, "in.tif")
    run_case(case, world, capsys)


def test_a_zarr_store_with_missing_chunks_works_with_a_one_line_warning(world, capsys):
    """Zarr reads a missing chunk as the fill value (how it stores empty regions, and what an interrupted copy
    leaves): the run goes on, and says so on one line."""
    ome_zarr("cut.zarr", GOOD, chunks=(2, 12, 12))(world)
    next(p for p in (world.root / "cut.zarr" / "0").rglob("*") if p.is_file() and p.name != "zarr.json").unlink()
    before = snapshot(world.root)
    with warnings.catch_warnings():
        warnings.simplefilter("always", MissingChunksWarning)  # whatever -W the test run was given
        code, out, err = run_cli(capsys, "enhance", "cut.zarr", "-o", "o.tif", *F)
    assert code == 0 and "o.tif" in out and len(err.strip().splitlines()) == 1, err
    assert err.startswith("self-vision: warning: ") and "cut.zarr" in err
    assert "1 of 8 chunks are not stored and read as the fill value 0" in err
    assert_untouched(world.root, before, allow_new=True)


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (tiff("c.tif", GOOD, imagej=True, metadata={"axes": "ZYX", "spacing": float("nan")}), "spacing nan"),
        (tiff("c.tif", GOOD, imagej=True, metadata={"axes": "ZYX", "spacing": -2.0}), "spacing -2.0"),
        (
            tiff("c.tif", GOOD, imagej=True, metadata={"axes": "ZYX", "spacing": 2.0}, resolution=((0, 1), (0, 1))),
            "XResolution (0, 1), ImageJ YResolution (0, 1) are",
        ),
        (tiff("c.tif", GOOD, ome=True, metadata={"axes": "ZYX", "PhysicalSizeX": 0.0}), "PhysicalSizeX"),
    ],
    ids=["imagej-spacing-nan", "imagej-spacing-negative", "imagej-resolution-zero", "ome-size-zero"],
)
def test_invalid_calibration_is_dropped_with_one_warning_line(world, capsys, setup, words):
    setup(world)
    before = snapshot(world.root)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, out, err = run_cli(capsys, "enhance", "c.tif", "-o", "o.tif", *F)
    assert code == 0 and "o.tif" in out, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("self-vision: warning: c.tif") and words in lines[0], err
    assert "voxel" not in out  # no voxel size in the summary: the calibration was not used
    assert_untouched(world.root, before, allow_new=True)
