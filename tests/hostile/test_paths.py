"""Class 1 and 9 of issue 12: outputs on inputs or on each other (any spelling), wrong output extensions."""

from __future__ import annotations

import pytest

from hostile.corpus import BLOCK, FAST, Case, hardlink, ids, run_case, symlink

F = ["--factor", "1,2,2", *FAST]
OW = "--overwrite"
COLLIDE = "input"  # the message names the input it would overwrite
SAME = "same path"


def _e(extra):
    return lambda w: ["enhance", w.inp, *extra(w), *F]


def _d(extra):
    return lambda w: ["denoise", w.inp, *extra(w), *FAST]


COLLISIONS = [
    Case("enhance-o-input", _e(lambda w: ["-o", w.inp]), 2, COLLIDE),
    Case("enhance-o-input-overwrite", _e(lambda w: ["-o", w.inp, OW]), 2, COLLIDE),
    Case("enhance-o-input-relative", _e(lambda w: ["-o", "in.tif", OW]), 2, COLLIDE),
    Case("enhance-o-input-dotted", _e(lambda w: ["-o", "./sub/../in.tif", OW]), 2, COLLIDE),
    Case("enhance-o-input-tilde", _e(lambda w: ["-o", "~/in.tif", OW]), 2, COLLIDE),
    Case(
        "enhance-o-input-symlink",
        _e(lambda w: ["-o", "link.tif", OW]),
        2,
        COLLIDE,
        symlink("link.tif", lambda w: w.inp),
    ),
    Case(
        "enhance-o-input-hardlink",
        _e(lambda w: ["-o", "hard.tif", OW]),
        2,
        COLLIDE,
        hardlink("hard.tif", lambda w: w.inp),
    ),
    Case(
        "enhance-input-via-symlink-o-real",
        lambda w: ["enhance", "link.tif", "-o", w.inp, OW, *F],
        2,
        COLLIDE,
        symlink("link.tif", lambda w: w.inp),
    ),
    Case("enhance-save-model-input", _e(lambda w: ["-o", "o.tif", "--save-model", w.inp]), 2, COLLIDE),
    Case("enhance-save-model-input-overwrite", _e(lambda w: ["-o", "o.tif", "--save-model", w.inp, OW]), 2, COLLIDE),
    Case("enhance-save-model-input-tilde", _e(lambda w: ["-o", "o.tif", "--save-model", "~/in.tif", OW]), 2, COLLIDE),
    Case("enhance-save-model-eq-o", _e(lambda w: ["-o", "o.tif", "--save-model", "o.tif"]), 2, SAME),
    Case("enhance-save-model-eq-o-overwrite", _e(lambda w: ["-o", "o.tif", "--save-model", "o.tif", OW]), 2, SAME),
    Case(
        "enhance-save-model-eq-existing-o-overwrite",
        _e(lambda w: ["-o", w.existing, "--save-model", w.existing, OW]),
        2,
        SAME,
    ),
    Case("enhance-save-model-tilde-eq-o", _e(lambda w: ["-o", "o.tif", "--save-model", "~/o.tif", OW]), 2, SAME),
    Case(
        "enhance-save-model-symlink-to-o",
        _e(lambda w: ["-o", w.existing, "--save-model", "m.pt", OW]),
        2,
        SAME,
        symlink("m.pt", lambda w: w.existing),
    ),
    Case(
        "enhance-uncertainty-eq-save-model",
        _e(lambda w: ["-o", "o.tif", "--uncertainty", "u.tif", "--save-model", "u.tif"]),
        2,
        SAME,
    ),
    Case(
        "enhance-uncertainty-eq-save-model-overwrite",
        _e(lambda w: ["-o", "o.tif", "--uncertainty", "u.tif", "--save-model", "u.tif", OW]),
        2,
        SAME,
    ),
    Case("enhance-uncertainty-eq-o", _e(lambda w: ["-o", "o.tif", "--uncertainty", "o.tif", OW]), 2, SAME),
    Case("enhance-uncertainty-eq-o-relative", _e(lambda w: ["-o", "o.tif", "--uncertainty", "./o.tif"]), 2, SAME),
    Case("enhance-uncertainty-input", _e(lambda w: ["-o", "o.tif", "--uncertainty", w.inp, OW]), 2, COLLIDE),
    Case(
        "enhance-o-eq-model", lambda w: ["enhance", w.inp, "-o", "model.pt", "--model", w.model, OW, *FAST], 2, "model"
    ),
    Case(
        "enhance-save-model-eq-model",
        lambda w: ["enhance", w.inp, "-o", "o.tif", "--model", w.model, "--save-model", w.model, OW, *FAST],
        2,
        "model",
    ),
    Case("enhance-blockwise-o-input", _e(lambda w: ["-o", w.inp, OW, *BLOCK]), 2, COLLIDE),
    Case(
        "enhance-blockwise-o-input-symlink",
        _e(lambda w: ["-o", "link.tif", OW, *BLOCK]),
        2,
        COLLIDE,
        symlink("link.tif", lambda w: w.inp),
    ),
    Case("enhance-o-the-input-folder", _e(lambda w: ["-o", w.root, OW]), 2, COLLIDE),
    Case("denoise-o-input", _d(lambda w: ["-o", w.inp]), 2, COLLIDE),
    Case("denoise-o-input-overwrite", _d(lambda w: ["-o", w.inp, OW]), 2, COLLIDE),
    Case("denoise-o-input-tilde", _d(lambda w: ["-o", "~/in.tif", OW]), 2, COLLIDE),
    Case(
        "denoise-o-input-symlink",
        _d(lambda w: ["-o", "link.tif", OW]),
        2,
        COLLIDE,
        symlink("link.tif", lambda w: w.inp),
    ),
    Case("denoise-save-model-eq-o", _d(lambda w: ["-o", "o.tif", "--save-model", "o.tif"]), 2, SAME),
    Case("denoise-save-model-eq-o-overwrite", _d(lambda w: ["-o", "o.tif", "--save-model", "o.tif", OW]), 2, SAME),
    Case("denoise-save-model-input-overwrite", _d(lambda w: ["-o", "o.tif", "--save-model", w.inp, OW]), 2, COLLIDE),
    Case("denoise-o-eq-model", lambda w: ["denoise", w.inp, "-o", w.denoiser, "--model", w.denoiser, OW], 2, "model"),
    Case("denoise-blockwise-o-input", _d(lambda w: ["-o", w.inp, OW, *BLOCK]), 2, COLLIDE),
    Case("enhance-existing-o-no-overwrite", _e(lambda w: ["-o", w.existing]), 2, "--overwrite"),
    Case(
        "enhance-existing-save-model-no-overwrite",
        _e(lambda w: ["-o", "o.tif", "--save-model", w.model]),
        2,
        "--overwrite",
    ),
    Case("denoise-existing-o-no-overwrite", _d(lambda w: ["-o", w.existing]), 2, "--overwrite"),
]

EXTENSIONS = [
    Case(f"enhance-o-{name}", _e(lambda w, n=name: ["-o", n]), 2, "format")
    for name in ("out.png", "out.h5", "out", "out.jpg", "out.tif.bak")
] + [
    Case("enhance-uncertainty-png", _e(lambda w: ["-o", "o.tif", "--uncertainty", "u.png"]), 2, "format"),
    Case("denoise-o-png", _d(lambda w: ["-o", "out.png"]), 2, "format"),
    Case("denoise-o-no-extension", _d(lambda w: ["-o", "out"]), 2, "format"),
    Case("enhance-o-missing-folder", _e(lambda w: ["-o", "nowhere/o.tif"]), 2, "does not exist"),
    Case(
        "enhance-save-model-missing-folder",
        _e(lambda w: ["-o", "o.tif", "--save-model", "nowhere/m.pt"]),
        2,
        "does not exist",
    ),
    Case(
        "enhance-save-model-folder",
        _e(lambda w: ["-o", "o.tif", "--save-model", "sub"]),
        2,
        "folder",
        lambda w: (w.root / "sub").mkdir(),
    ),
]


@pytest.mark.parametrize("case", COLLISIONS, ids=ids(COLLISIONS))
def test_path_collisions_are_refused_and_touch_nothing(case, world, capsys):
    run_case(case, world, capsys)


@pytest.mark.parametrize("case", EXTENSIONS, ids=ids(EXTENSIONS))
def test_wrong_output_paths_are_refused_before_any_work(case, world, capsys):
    run_case(case, world, capsys)
