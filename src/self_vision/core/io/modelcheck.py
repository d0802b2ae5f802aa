"""The one validation of a model file's payload, before any network is built from it.

A payload (what :func:`.modelfile.read_payload` returns, or what a dask worker receives) may only hold the
keys this product writes; every size it sets is bounded by :mod:`self_vision.defaults` (so a file cannot make
the product allocate a huge network); its stages must multiply to its factor; and every tensor must have the
shape (and a finite value) the network built from its config has. Any problem is a one-line
:class:`DataError` of kind ``bad model file``.
"""

from __future__ import annotations

import math
from typing import Any

from ... import defaults
from ..errors import KIND_BAD_MODEL, DataError

_ENHANCER_KEYS = {
    "format",
    "version",
    "factor",
    "operator",
    "psf_sigma",
    "back_projection",
    "detail_weights",
    "sampling",
    "stages",
}
_ENHANCER_REQUIRED = {"format", "factor", "operator", "psf_sigma", "back_projection", "stages"}
_STAGE_KEYS = {"kind", "config", "state", "members"}
_STAGE_REQUIRED = {"kind", "config", "state"}
_CONFIG_KEYS = {"factor", "features", "shrink", "mapping", "groups", "shrink_kernel", "residual", "fnsm", "extra"}
_DENOISER_KEYS = {"format", "config", "state"}
_DENOISER_CONFIG_KEYS = {"ndim", "features", "depth", "fnsm", "spacing", "mode"}
_RESIDUALS = ("cubic", "linear", "none")
#: The newest enhancement-model format this version reads (what ``Enhancer.to_dict`` writes for a model whose
#: stages average several networks; 1, the format before that, for one network per stage).
MODEL_VERSION = 2


def _bad(where: str, what: str) -> DataError:
    return DataError(
        f"{where}: {what}; the model file is damaged or was not written by napari-self-vision", kind=KIND_BAD_MODEL
    )


def _keys(where: str, data: Any, allowed: set[str], required: set[str], what: str) -> dict:
    if not isinstance(data, dict):
        raise _bad(where, f"its {what} is a {type(data).__name__}, not a mapping")
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise _bad(where, f"unknown {what} key(s) {', '.join(unknown[:5])}")
    missing = sorted(required - set(data))
    if missing:
        raise _bad(where, f"its {what} lacks {', '.join(missing)}")
    return data


def _int(where: str, value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(where, f"{name} {value!r} is not a whole number from {low} to {high}")
    return value


def _real(where: str, value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (low <= float(value) <= high):
        raise _bad(where, f"{name} {value!r} is not a number from {low:g} to {high:g}")
    return float(value)


def _factor(where: str, value: Any, name: str, lengths: tuple[int, ...]) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or len(value) not in lengths:
        raise _bad(where, f"{name} {value!r} has not {' or '.join(map(str, lengths))} entries")
    return tuple(_int(where, f, name, 1, defaults.MAX_FACTOR) for f in value)


def _check_state(where: str, state: Any, net: Any) -> None:
    """Keys, shapes and finiteness of ``state`` against the module ``net`` (built on the meta device)."""
    import torch

    if not isinstance(state, dict):
        raise _bad(where, "its weights are not a mapping of tensors")
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    if set(state) != set(expected):
        extra = sorted(set(map(str, state)) - set(expected))
        lacking = sorted(set(expected) - set(map(str, state)))
        raise _bad(where, f"weights do not match the config (unexpected {extra[:3]}, missing {lacking[:3]})")
    for key, shape in expected.items():
        tensor = state[key]
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise _bad(where, f"weight {key} is not a real-valued tensor")
        if tuple(tensor.shape) != shape:
            raise _bad(where, f"weight {key} has shape {tuple(tensor.shape)}, the config needs {shape}")
        if not bool(torch.isfinite(tensor).all()):
            raise _bad(where, f"weight {key} holds NaN or infinite values")


def check_enhancer_payload(data: Any, where: str = "model") -> dict:
    """Validate an enhancement model's payload (see module doc); returns it unchanged."""
    import torch

    from ..degrade import OPERATORS
    from ..model import ModelConfig, SelfVisionNet

    _keys(where, data, _ENHANCER_KEYS, _ENHANCER_REQUIRED, "model")
    version = data.get("version", 1)
    if isinstance(version, int) and not isinstance(version, bool) and version > MODEL_VERSION:
        raise DataError(
            f"{where}: was written by a newer napari-self-vision (model format {version}, this one reads "
            f"{MODEL_VERSION}); upgrade napari-self-vision to use it",
            kind=KIND_BAD_MODEL,
        )
    _int(where, version, "version", 1, MODEL_VERSION)
    factor = _factor(where, data["factor"], "factor", (2, 3))
    if data["operator"] not in OPERATORS:
        raise _bad(where, f"operator {data['operator']!r} is not one of {', '.join(OPERATORS)}")
    _real(where, data["psf_sigma"], "psf_sigma", 0.0, 100.0)
    _int(where, data["back_projection"], "back_projection", 0, defaults.MAX_BACK_PROJECTION)
    weights = data.get("detail_weights", {})
    if not isinstance(weights, dict) or len(weights) > 3:
        raise _bad(where, "detail_weights is not a small mapping")
    for label, weight in weights.items():
        if label not in ("lateral", "volume", "axial"):
            raise _bad(where, f"detail weight of unknown stage group {label!r}")
        _real(where, weight, f"detail weight {label}", 0.0, 1.0)
    sampling = data.get("sampling")
    if sampling is not None and (
        not isinstance(sampling, list | tuple)
        or len(sampling) != len(factor)
        or any(v not in ("point", "area") for v in sampling)
    ):
        raise _bad(where, f"sampling {sampling!r} is not one of point/area per axis"[:120])
    stages = data["stages"]
    if not isinstance(stages, list) or not 1 <= len(stages) <= defaults.MAX_MODEL_STAGES:
        raise _bad(where, f"it needs 1 to {defaults.MAX_MODEL_STAGES} stages")
    combined = [1] * len(factor)
    for i, entry in enumerate(stages):
        at = f"{where} stage {i}"
        _keys(at, entry, _STAGE_KEYS, _STAGE_REQUIRED, "stage")
        config = _keys(at, entry["config"], _CONFIG_KEYS, {"factor"}, "config")
        kind = entry["kind"]
        if kind == "volume":
            step = _factor(at, config["factor"], "factor", (len(factor),))
            combined = [c * s for c, s in zip(combined, step, strict=True)]
        elif kind == "axial" and len(factor) == 3:
            step = _factor(at, config["factor"], "factor", (2,))
            if step[1] != 1:
                raise _bad(at, f"an axial stage's factor must be (Z, 1), not {step}")
            combined[0] *= step[0]
        else:
            raise _bad(at, f"unknown stage kind {kind!r} for a {len(factor)}D model")
        _int(at, config.get("features", 16), "features", 1, defaults.MAX_MODEL_FEATURES)
        _int(at, config.get("shrink", 6), "shrink", 1, defaults.MAX_MODEL_SHRINK)
        _int(at, config.get("mapping", 3), "mapping", 0, defaults.MAX_MODEL_MAPPING)
        groups = _int(at, config.get("groups", 2), "groups", 1, defaults.MAX_MODEL_GROUPS)
        if config.get("shrink", 6) % groups:
            raise _bad(at, "shrink is not divisible by groups")
        kernel = _int(at, config.get("shrink_kernel", 3), "shrink_kernel", 1, defaults.MAX_MODEL_KERNEL)
        if kernel % 2 == 0:
            raise _bad(at, f"shrink_kernel {kernel} is even")
        if config.get("residual", "cubic") not in _RESIDUALS:
            raise _bad(at, f"residual {config.get('residual')!r} is not one of {', '.join(_RESIDUALS)}")
        if not isinstance(config.get("fnsm", False), bool):
            raise _bad(at, "fnsm is not true/false")
        if config.get("extra", {}) not in ({}, None):
            raise _bad(at, "extra settings are not supported")
        built = {**config, "factor": tuple(config["factor"]), "extra": {}}
        with torch.device("meta"):
            net = SelfVisionNet(ModelConfig(**built))
        _check_state(at, entry["state"], net)
        others = entry.get("members", [])
        if not isinstance(others, list) or len(others) > defaults.MAX_MEMBERS - 1:
            raise _bad(at, f"members is not a list of at most {defaults.MAX_MEMBERS - 1} networks")
        for k, state in enumerate(others, start=2):
            _check_state(f"{at} network {k}", state, net)
    if tuple(combined) != factor:
        raise _bad(where, f"its factor {factor} contradicts its stages, which multiply to {tuple(combined)}")
    if math.prod(factor) == 1:
        raise _bad(where, "its factor is 1 along every axis")
    return data


def check_denoiser_payload(data: Any, where: str = "denoiser") -> dict:
    """Validate a denoiser's payload (see module doc); returns it unchanged."""
    import torch

    from ..denoise.net import DenoiseConfig, DenoiseNet

    _keys(where, data, _DENOISER_KEYS, _DENOISER_KEYS, "denoiser")
    config = _keys(where, data["config"], _DENOISER_CONFIG_KEYS, {"ndim"}, "config")
    _int(where, config["ndim"], "ndim", 2, 3)
    _int(where, config.get("features", 16), "features", 1, defaults.MAX_DENOISER_FEATURES)
    _int(where, config.get("depth", 4), "depth", 2, defaults.MAX_DENOISER_DEPTH)
    if not isinstance(config.get("fnsm", False), bool):
        raise _bad(where, "fnsm is not true/false")
    if config.get("mode", "sis") not in ("sis", "tis"):
        raise _bad(where, f"mode {config.get('mode')!r} is not sis or tis")
    spacing = config.get("spacing")
    if spacing is not None:
        if not isinstance(spacing, list | tuple) or len(spacing) != config["ndim"]:
            raise _bad(where, f"spacing {spacing!r} does not have {config['ndim']} entries")
        for v in spacing:
            _real(where, v, "spacing", 1e-12, defaults.MAX_VOXEL_SIZE)
            if float(v) <= 0:
                raise _bad(where, f"spacing {spacing!r} is not positive")
    raw = {**config, "spacing": None if spacing is None else tuple(float(v) for v in spacing)}
    with torch.device("meta"):
        net = DenoiseNet(DenoiseConfig(**raw))
    _check_state(where, data["state"], net)
    return data
