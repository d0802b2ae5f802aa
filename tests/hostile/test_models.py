"""Class 7 of issue 12: damaged or crafted model files given to ``--model``. Each is a one-line error before any
network is built (sizes a file sets are bounded), the input and the model file stay untouched, nothing is written."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from hostile.corpus import FAST, Case, World, ids, run_case, tiff, write_bytes

BAD = "model"  # the line says what is wrong with the model file


def _crafted(name: str, change: Callable[[dict], object], source: str = "model") -> Callable[[World], None]:
    """``name``: the corpus model (or ``den``oiser) loaded, edited by ``change`` (its result, when not None,
    replaces the whole payload), and saved back."""

    def make(w: World) -> None:
        payload = torch.load(getattr(w, source), weights_only=True)
        changed = change(payload)
        torch.save(payload if changed is None else changed, w.root / name)

    return make


def _stage(payload: dict) -> dict:
    return payload["stages"][0]


def _weight(payload: dict, key: str = "body.0.weight") -> torch.Tensor:
    return _stage(payload)["state"][key]


def _enhance(name: str, setup: Callable[[World], None], words: str = BAD) -> Case:
    return Case(
        f"enhance-{name}",
        lambda w: ["enhance", w.inp, "-o", "o.tif", "--model", f"{name}.pt", *FAST],
        1,
        words,
        setup,
        f"{name}.pt",
    )


def _denoise(name: str, setup: Callable[[World], None], words: str = "denoiser") -> Case:
    return Case(
        f"denoise-{name}",
        lambda w: ["denoise", w.inp, "-o", "o.tif", "--model", f"{name}.pt", "--quiet", "--device", "cpu"],
        1,
        words,
        setup,
        f"{name}.pt",
    )


def _set_config(**values: object) -> Callable[[dict], None]:
    return lambda p: _stage(p)["config"].update(values)


FILES = {
    "empty": write_bytes("empty.pt", b""),
    "garbage": write_bytes("garbage.pt", b"\x00\x01not a model" * 20),
    "zip-cut": write_bytes("zip-cut.pt", b"PK\x03\x04" + bytes(60)),
    "tiff": tiff("tiff.pt", torch.zeros(4, 8, 8).numpy()),
    "list": _crafted("list.pt", lambda p: [1, 2, 3]),
    "no-format": _crafted("no-format.pt", lambda p: p.pop("format")),
    "format-only": _crafted("format-only.pt", lambda p: {"format": p["format"]}),
}
CRAFTED = {
    "no-stages": lambda p: p.pop("stages"),
    "empty-stages": lambda p: p.update(stages=[]),
    "unknown-key": lambda p: p.update(surprise=1),
    "unknown-config-key": _set_config(surprise=1),
    "features-200000": _set_config(features=200000),
    "negative-features": _set_config(features=-4),
    "factor-contradicts-stages": lambda p: p.update(factor=[1, 4, 4]),
    "wrong-tensor-shape": lambda p: _stage(p)["state"].update({"body.0.weight": torch.zeros(16, 1, 3, 3, 3)}),
    "missing-tensor": lambda p: _stage(p)["state"].pop("body.0.bias"),
    "extra-tensor": lambda p: _stage(p)["state"].update({"spy.weight": torch.zeros(2)}),
    "nan-weights": lambda p: _weight(p).fill_(math.nan),
    "string-for-a-tensor": lambda p: _stage(p)["state"].update({"body.0.bias": "zeros"}),
    "too-many-stages": lambda p: p.update(stages=p["stages"] * 40),
    "huge-kernel": _set_config(shrink_kernel=99),
    "bad-operator": lambda p: p.update(operator="sharpen"),
    "members-not-a-list": lambda p: _stage(p).update(members={"a": 1}),
    "members-wrong-shape": lambda p: _stage(p).update(
        members=[{**_stage(p)["state"], "body.0.weight": torch.zeros(16, 1, 3, 3, 3)}]
    ),
    "members-nan": lambda p: _stage(p).update(
        members=[{k: torch.full_like(v, math.nan) for k, v in _stage(p)["state"].items()}]
    ),
    "members-too-many": lambda p: _stage(p).update(members=[_stage(p)["state"]] * 20),
    "version-99": lambda p: p.update(version=99),
    "version-text": lambda p: p.update(version="1"),
}
ENHANCE = [
    *(_enhance(name, setup) for name, setup in FILES.items()),
    *(_enhance(name, _crafted(f"{name}.pt", change)) for name, change in CRAFTED.items() if name != "version-99"),
    _enhance("version-99", _crafted("version-99.pt", CRAFTED["version-99"]), "newer napari-self-vision"),
    _enhance("a-denoiser", _crafted("a-denoiser.pt", lambda p: None, source="denoiser"), "denoiser"),
    _enhance("missing", lambda w: None, "no such"),
    _enhance("folder", lambda w: (w.root / "folder.pt").mkdir(), "folder"),
]
DENOISE = [
    *(_denoise(name, setup) for name, setup in FILES.items() if name in ("empty", "garbage", "format-only")),
    _denoise("a-model", _crafted("a-model.pt", lambda p: None), "enhancement model"),
    _denoise("den-unknown-key", _crafted("den-unknown-key.pt", lambda p: p.update(surprise=1), "denoiser")),
    _denoise(
        "den-features",
        _crafted("den-features.pt", lambda p: p["config"].update(features=10**6), "denoiser"),
        "features",
    ),
    _denoise(
        "den-nan",
        _crafted("den-nan.pt", lambda p: next(iter(p["state"].values())).fill_(math.nan), "denoiser"),
    ),
]
CASES = ENHANCE + DENOISE


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_damaged_model_files_are_one_line_errors(case, world, capsys):
    run_case(case, world, capsys)
