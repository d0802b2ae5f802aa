"""The other commands and options on bad input: evaluate, denoise's modes, uncertainty maps, saved models applied
block-wise. Same checks as everywhere: one line, exit code, files untouched, refused before any work."""

from __future__ import annotations

import numpy as np
import pytest

from hostile.corpus import FAST, Case, fifo, ids, run_case, tiff, truncated

GOOD = (np.random.default_rng(0).random((4, 24, 24)) * 1000).astype(np.uint16)
F = ["--factor", "1,2,2", *FAST]


def _evaluate(name: str, words: str, setup, code: int = 1) -> Case:
    return Case(f"evaluate-{name}", lambda w: ["evaluate", name, *F], code, words, setup, name)


CASES = [
    _evaluate("missing.tif", "no such file", None),
    _evaluate("pipe.tif", "fifo", fifo("pipe.tif")),
    _evaluate("cut.tif", "truncated", truncated("cut.tif")),
    _evaluate("flat.tif", "constant", tiff("flat.tif", np.zeros((4, 24, 24), np.uint16))),
    _evaluate("small.tif", "too few", tiff("small.tif", GOOD[:, :6, :6])),
    Case("evaluate-factor-too-big", lambda w: ["evaluate", w.inp, "--factor", "1,8,8", *FAST], 1, "too few"),
    Case(
        "uncertainty-exists",
        lambda w: ["enhance", w.inp, "-o", "o.tif", "--uncertainty", w.existing, *F],
        2,
        "--overwrite",
    ),
    Case(
        "uncertainty-missing-folder",
        lambda w: ["enhance", w.inp, "-o", "o.tif", "--uncertainty", "no/u.tif", *F],
        2,
        "does not exist",
    ),
    Case(
        "uncertainty-block-wise",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", "--uncertainty", "u.tif", *F],
        2,
        "block-wise",
    ),
    Case("save-model-block-wise", lambda w: ["enhance", w.inp, "-o", "o.zarr", "--save-model", "m.pt", *F], 2, "model"),
    Case(
        "model-factor-differs",
        lambda w: ["enhance", w.inp, "-o", "o.tif", "--model", w.model, "--factor", "1,4,4", *FAST],
        2,
        "factor",
    ),
    Case(
        "model-factor-differs-block-wise",
        lambda w: ["enhance", w.inp, "-o", "o.zarr", "--model", w.model, "--factor", "1,4,4", *FAST],
        2,
        "factor",
    ),
    Case(
        "model-3d-on-2d-input",
        lambda w: ["enhance", "flat2d.tif", "-o", "o.tif", "--model", w.model, *FAST],
        1,
        "2",
        tiff("flat2d.tif", GOOD[0]),
    ),
    Case(
        "model-3d-on-2d-input-block-wise",
        lambda w: ["enhance", "flat2d.tif", "-o", "o.zarr", "--model", w.model, *FAST],
        1,
        "2",
        tiff("flat2d.tif", GOOD[0]),
    ),
    Case("denoise-tis-on-a-zstack", lambda w: ["denoise", w.inp, "-o", "o.tif", "--mode", "tis", *FAST], 1, "time"),
    Case(
        "denoise-tis-block-wise",
        lambda w: ["denoise", w.inp, "-o", "o.zarr", "--mode", "tis", *FAST],
        2,
        "tis",
    ),
    Case(
        "denoise-sis-on-2d",
        lambda w: ["denoise", "flat2d.tif", "-o", "o.tif", *FAST],
        1,
        "flat2d.tif",
        tiff("flat2d.tif", GOOD[0]),
    ),
    Case(
        "denoise-sis-one-slice-pair",
        lambda w: ["denoise", "two.tif", "-o", "o.tif", *FAST],
        1,
        "two.tif",
        tiff("two.tif", GOOD[:2]),
    ),
    Case(
        "denoise-model-mode-differs",
        lambda w: ["denoise", w.inp, "-o", "o.tif", "--model", w.denoiser, "--mode", "tis"],
        2,
        "sis",
    ),
    Case(
        "denoise-model-with-steps",
        lambda w: ["denoise", w.inp, "-o", "o.tif", "--model", w.denoiser, "--steps", "3"],
        2,
        "--steps",
    ),
    Case(
        "denoise-folder-input",
        lambda w: ["denoise", "sub", "-o", "o.tif", *FAST],
        1,
        "folder|tiff|zarr",
        lambda w: (w.root / "sub").mkdir(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_other_commands_refuse_bad_input_in_one_line(case, world, capsys):
    run_case(case, world, capsys)
