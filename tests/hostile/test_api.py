"""Class 9 of issue 12 through the Python API: the same checks as the command line, before any training, as one
:class:`SelfVisionError` with a one-line message (no KeyError/TypeError/AttributeError from deep inside)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import self_vision
from hostile.corpus import QUICK, World, assert_untouched, snapshot
from self_vision.core.errors import DataError, SelfVisionError, UsageError
from self_vision.core.events import run_to_end
from self_vision.core.sample import synthetic_neurons

V = synthetic_neurons((4, 24, 24), seed=1)
FAST = {"steps": 1, "seed": 0, "device": "cpu"}


def _enhance(data=V, factor=(1, 2, 2), **kwargs) -> Callable[[World], object]:
    return lambda w: self_vision.enhance(data, factor, **{**FAST, **kwargs})


def _blockwise(output: str = "o.zarr", **settings) -> Callable[[World], object]:
    """A block-wise run of the corpus input through the one dispatcher, with ``settings`` for its blocks."""

    def call(w: World) -> object:
        from self_vision.core.enhance.options import EnhanceOptions
        from self_vision.core.io.lazy import open_lazy

        target = self_vision.Blockwise(open_lazy(w.inp), w.root / output, **settings)
        request = self_vision.RunRequest("enhance", factor=(1, 2, 2), options=EnhanceOptions(steps=1), device="cpu")
        request.blockwise = target
        return run_to_end(self_vision.run(request))

    return call


CASES: dict[str, tuple[Callable[[World], object], type[SelfVisionError], str]] = {
    "enhance-list-input": (_enhance(V.tolist()), UsageError, "numpy array"),
    "enhance-none-input": (_enhance(None), UsageError, "numpy array"),
    "enhance-string-input": (_enhance("in.tif"), UsageError, "numpy array"),
    "enhance-4d-input": (_enhance(V[None]), DataError, "axes"),
    "enhance-1d-input": (_enhance(V[0, 0]), DataError, "axes"),
    "enhance-factor-none": (_enhance(factor=None), UsageError, "factor"),
    "enhance-factor-zero": (_enhance(factor=0), UsageError, "factor"),
    "enhance-factor-float": (_enhance(factor=2.5), UsageError, "factor"),
    "enhance-factor-nan": (_enhance(factor=float("nan")), UsageError, "factor"),
    "enhance-factor-bool": (_enhance(factor=True), UsageError, "factor"),
    "enhance-time-budget-negative": (
        lambda w: self_vision.enhance(V, 2, time_budget=-5, device="cpu"),
        UsageError,
        "time_budget",
    ),
    "enhance-time-budget-nan": (
        lambda w: self_vision.enhance(V, 2, time_budget=float("nan")),
        UsageError,
        "time_budget",
    ),
    "enhance-steps-zero": (_enhance(steps=0), UsageError, "steps"),
    "enhance-seed-negative": (_enhance(seed=-1), UsageError, "seed"),
    "enhance-voxel-size-short": (_enhance(voxel_size=(1.0, 1.0)), UsageError, "voxel_size"),
    "enhance-voxel-size-nan": (_enhance(voxel_size=(float("nan"), 1, 1)), UsageError, "voxel_size"),
    "enhance-voxel-size-string": (_enhance(voxel_size="2,1,1"), UsageError, "voxel_size"),
    "enhance-nan-data": (_enhance(np.where(V > 0.5, np.nan, V)), DataError, "nan"),
    "enhance-constant-data": (_enhance(np.ones_like(V)), DataError, "constant"),
    "enhance-complex-data": (_enhance(V.astype(np.complex64)), DataError, "data type"),
    "enhance-too-small": (_enhance(V[:, :5, :5]), DataError, "too few"),
    "enhance-device-nonsense": (_enhance(device="gpu9"), UsageError, "device"),
    "denoise-list-input": (lambda w: self_vision.denoise(V.tolist(), "sis", **FAST), UsageError, "numpy array"),
    "denoise-bad-mode": (lambda w: self_vision.denoise(V, "xyz", **FAST), UsageError, "mode"),
    "denoise-gar-nan": (lambda w: self_vision.denoise(V, "sis", gar=float("nan"), **FAST), UsageError, "gar"),
    "evaluate-list-input": (lambda w: self_vision.evaluate(V.tolist(), 2, device="cpu"), UsageError, "numpy array"),
    "evaluate-constant": (lambda w: self_vision.evaluate(np.ones_like(V), 2, device="cpu"), DataError, "constant"),
    "save-model-none": (lambda w: self_vision.save_model(None, w.root / "m2.pt"), UsageError, "model"),
    "save-model-onto-folder": (
        lambda w: self_vision.save_model(self_vision.load_model(w.model), w.root),
        UsageError,
        "folder",
    ),
    "load-model-int": (lambda w: self_vision.load_model(123), UsageError, "file name"),
    "load-model-none": (lambda w: self_vision.load_model(None), UsageError, "file name"),
    "load-model-missing": (lambda w: self_vision.load_model(w.root / "nope.pt"), DataError, "no such"),
    "load-model-a-tiff": (lambda w: self_vision.load_model(w.inp), DataError, "not a napari-self-vision"),
    "load-model-a-denoiser": (lambda w: self_vision.load_model(w.denoiser), DataError, "denoise"),
    "load-denoiser-a-model": (lambda w: self_vision.load_denoiser(w.model), DataError, "enhance"),
    "blockwise-train-voxels-zero": (_blockwise(train_voxels=0), UsageError, "train_voxels"),
    "blockwise-chunks-negative": (_blockwise(chunks=(-1, 24, 24)), UsageError, "chunks"),
    "blockwise-chunks-short": (_blockwise(chunks=(24, 24)), UsageError, "chunks"),
    "blockwise-block-output-zero": (_blockwise(block_output=0), UsageError, "block_output"),
    "blockwise-output-on-input": (_blockwise(output="in.tif"), UsageError, "input"),
    "enhance-model-wrong-rank": (
        lambda w: self_vision.enhance(V[0], None, model=self_vision.load_model(w.model), device="cpu"),
        SelfVisionError,
        "2",
    ),
}


#: Cases whose fix lies in a module this corpus' owner does not own (see the reason).
NEEDS: dict[str, str] = {}  # case -> why it is a strict xfail (a fix outside this corpus's files); none left


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(reason=NEEDS[n], strict=True)) if n in NEEDS else n for n in CASES],
)
def test_api_refuses_bad_input_with_one_line_before_any_work(name, world):
    call, error, words = CASES[name]
    before = snapshot(world.root)
    start = time.perf_counter()
    with pytest.raises(error) as raised:
        call(world)
    message = str(raised.value)
    assert time.perf_counter() - start < QUICK, f"refused only after work: {message}"
    assert "\n" not in message and len(message) < 400, message
    assert words.lower() in message.lower(), message
    assert_untouched(world.root, before)


def test_load_model_expands_the_home_folder_like_save_model(world):
    shutil.copy(world.model, Path(world.root / "home-model.pt"))
    model = self_vision.load_model("~/home-model.pt")  # $HOME is the world's folder
    saved = self_vision.save_model(model, "~/again.pt")
    assert saved == world.root / "again.pt" and self_vision.load_model("~/again.pt").factor == model.factor
