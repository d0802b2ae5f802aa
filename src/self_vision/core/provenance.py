"""What made an output: software version, seed, steps trained per stage and every setting, as one JSON record.

Written into the output's metadata (ImageJ TIFF ``Info``, see :func:`self_vision.core.io.writing.write_tiff`) so
that a result can be reproduced: the same input, settings and seed with ``steps`` fixed to the recorded step
counts train the same network on the CPU. A time budget trains as many steps as the machine manages in that
time, so two budgeted runs can differ; the record says which mode was used.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

#: Key under which the record sits in a layer's metadata and the TIFF ``Info`` text starts with.
RECORD_KEY = "self_vision_run"


def _plain(value: Any) -> Any:
    """A JSON-safe copy: tuples to lists, non-finite floats to strings, unknown objects to their repr."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def installed_version() -> str:
    """The installed distribution's version, from its metadata (setuptools-scm sets it from the git tag at
    install time); "unknown" for a source tree that was never installed. The package's ``__version__``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("napari-self-vision")
    except PackageNotFoundError:
        return "unknown"


def member_label(label: str, k: int) -> str:
    """The training log's key of network ``k`` (0-based) of a stage: the stage's own label for the first, then
    "label #2", "label #3", ... (the record's ``steps_trained`` keys)."""
    return label if k == 0 else f"{label} #{k + 1}"


def steps_by_stage(steps_trained: dict[str, int]) -> dict[str, list[int]]:
    """``steps_trained`` grouped by stage: each stage's label with its networks' step counts (the inverse of
    :func:`member_label`)."""
    stages: dict[str, list[int]] = {}
    for key, steps in steps_trained.items():
        stages.setdefault(key.split(" #")[0], []).append(int(steps))
    return stages


def run_record(task: str, options: Any, *, steps: dict[str, int], seconds: float, **extra: Any) -> dict[str, Any]:
    """The record of one run: ``task``, its options dataclass, the steps trained per stage and anything else.

    ``exact_steps`` is True when ``options.steps`` fixed the step count (reproducible run to run); otherwise the
    count came from a time budget and depends on the machine's load.
    """
    settings = dataclasses.asdict(options) if dataclasses.is_dataclass(options) else {}
    record: dict[str, Any] = {
        "software": f"napari-self-vision {installed_version()}",
        "task": task,
        "seed": settings.get("seed"),
        "exact_steps": settings.get("steps") is not None,
        "steps_trained": dict(steps),
        "train_seconds": round(float(seconds), 3),
        "settings": settings,
    }
    record.update(extra)
    return _plain(record)


def enhance_record(result: Any, options: Any) -> dict[str, Any]:
    """The record of an :class:`~self_vision.core.enhance.run.EnhanceResult` made with ``options``."""
    steps = {stage: int(log.steps) for stage, log in getattr(result, "logs", {}).items()}
    check = getattr(result, "self_check", None)
    return run_record(
        "enhance",
        options,
        steps=steps,
        seconds=getattr(result, "train_seconds", 0.0),
        factor=list(result.factor),
        returned=result.returned,
        gate=None if getattr(result, "gate", None) is None else result.gate.summary(),
        self_check_gain_db=None if check is None or not check.gains else round(float(check.gain), 3),
        resolution=None if getattr(result, "resolution", None) is None else result.resolution.as_dict(),
    )


def denoise_record(result: Any, options: Any) -> dict[str, Any]:
    """The record of a :class:`~self_vision.core.denoise.result.DenoiseResult` made with ``options``."""
    return run_record(
        "denoise", options, steps={result.mode: int(result.log.steps)}, seconds=result.train_seconds, mode=result.mode
    )


def sim_record(result: Any, options: Any, *, seconds: float | None = None) -> dict[str, Any]:
    """The record of a :class:`~self_vision.core.sim.run.SimResult` made with ``options``.

    A SIM run repeats exactly when it trains nothing (Wiener SIM only) or trains with an infinite time budget
    (exactly ``max_steps`` steps); ``seconds`` (default: the result's training time) is the time trained.
    """
    steps = dict(getattr(result, "steps_trained", {}) or {})
    if not steps and result.losses:
        steps = {"denoise": len(result.losses)}
    exact = bool(steps) and math.isinf(float(options.time_budget_s))
    pattern = [
        {"angle_rad": round(p.angle % (2 * math.pi), 5), "k0_per_um": round(p.magnitude, 5),
         "phases_rad": [round(v % (2 * math.pi), 4) for v in p.phases], "modulation": round(float(p.modulation), 4),
         "source": p.source, "reliable": bool(p.reliable)}
        for p in result.params
    ]  # fmt: skip
    return run_record(
        "sim",
        options,
        steps=steps,
        seconds=getattr(result, "train_seconds", 0.0) if seconds is None else seconds,
        exact_steps=exact,
        repeats_exactly=exact or options.denoise == "none",
        training_mode=getattr(result, "training_mode", None),
        pixel_size_um=result.pixel_size_um,
        raw_pixel_size_um=result.raw_pixel_size_um,
        offset=round(float(result.offset), 3),
        otf=result.otf_source,
        pattern=pattern,
        warnings=list(result.warnings),
    )


def to_text(record: dict[str, Any]) -> str:
    """The record as the one-line JSON text stored in a file (``{RECORD_KEY}: {...}``)."""
    return f"{RECORD_KEY}: {json.dumps(record, sort_keys=True)}"


def from_text(text: str | None) -> dict[str, Any] | None:
    """The record stored by :func:`to_text`, or None when ``text`` holds none."""
    if not text or not text.startswith(f"{RECORD_KEY}: "):
        return None
    try:
        found = json.loads(text[len(RECORD_KEY) + 2 :])
    except json.JSONDecodeError:
        return None
    return found if isinstance(found, dict) else None


def read_record(path: Any) -> dict[str, Any] | None:
    """The record an output written by this package carries (an ImageJ TIFF's ``Info``, an OME-TIFF Image's
    ``Description``, an OME-Zarr group's ``self_vision_run`` attribute), or None."""
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        import zarr

        try:
            return zarr_record(zarr.open_group(str(path), mode="r"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return tiff_record(tif)


def tiff_record(tif: Any) -> dict[str, Any] | None:
    """The record in an open ``tifffile.TiffFile`` (ImageJ ``Info`` or the OME Image's ``Description``), or None."""
    import tifffile

    info = None
    if tif.is_imagej:
        info = (tif.imagej_metadata or {}).get("Info")
    elif tif.is_ome:
        image = tifffile.xml2dict(tif.ome_metadata or "").get("OME", {}).get("Image", {})
        first = image[0] if isinstance(image, list) and image else image
        info = first.get("Description") if isinstance(first, dict) else None
    return from_text(info if isinstance(info, str) else None)


def zarr_record(group: Any) -> dict[str, Any] | None:
    """The record in an open Zarr group's attributes (block-wise outputs), or None."""
    found = group.attrs.get(RECORD_KEY)
    return dict(found) if isinstance(found, dict) else None
