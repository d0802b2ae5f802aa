"""Reading a Zarr store's arrays and OME-Zarr ``multiscales`` metadata, validated.

Malformed metadata (no datasets, a dataset path that leaves the store, a coordinate transform without a type,
a scale or translation of the wrong length, a scale that is 0, negative or not finite, a translation that is not
finite, axes that do not match the array) is a one-line :class:`DataError` of kind ``bad metadata``: it is never
used, nor copied into an output's metadata. A store whose axes carry no unit has none (not micrometres).

The checks are ours rather than ``ome_zarr.reader``'s: that reader hands the transforms back as they are stored
(turning them into a layer's scale and translate is left to its caller) and fails on malformed metadata with
exceptions that do not name the problem in a line the user can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KIND_BAD_INPUT, KIND_BAD_METADATA, DataError
from .metadata import CalibrationWarning
from .units import normalize_unit


class MissingChunksWarning(CalibrationWarning):
    """Some chunks of a Zarr array are not stored: Zarr reads them as the fill value. That is how Zarr stores
    empty regions, but also what an interrupted copy leaves, so the user is told (one line), not stopped."""


def warn_missing_chunks(path: Path, array: Any) -> int:
    """Warn when ``array`` (a local Zarr array) stores fewer chunks than it has; returns how many are missing."""
    import warnings

    try:
        missing = int(array.nchunks) - int(array.nchunks_initialized)
    except Exception:  # a store that cannot list its keys: nothing to say
        return 0
    if missing > 0:
        warnings.warn(
            f"{path}: {missing} of {array.nchunks} chunks are not stored and read as the fill value "
            f"{array.fill_value}; if the store was copied or written by an interrupted run, copy it again",
            MissingChunksWarning,
            stacklevel=2,
        )
    return max(missing, 0)


def _bad(path: Path, what: str) -> DataError:
    return DataError(f"{path}: malformed OME-Zarr metadata ({what}); fix or rewrite the store", kind=KIND_BAD_METADATA)


def multiscales(attrs: dict) -> list:
    """OME-Zarr 0.4 keeps ``multiscales`` at the top of the attributes, 0.5 under ``ome``."""
    ome = attrs.get("ome")
    found = (ome.get("multiscales") if isinstance(ome, dict) else None) or attrs.get("multiscales") or []
    return found if isinstance(found, list) else [found]


def _dataset_path(path: Path, entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"].strip():
        raise _bad(path, f"a dataset without a path: {entry!r}"[:120])
    name = entry["path"].strip()
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or ".." in parts:
        raise _bad(path, f"dataset path {name!r} leaves the store")
    return name


def _numbers(path: Path, kind: str, values: Any, ndim: int, positive: bool) -> tuple[float, ...]:
    """One finite number per axis (``positive``: and > 0) of a ``scale`` or ``translation`` entry."""
    if not isinstance(values, list) or len(values) != ndim:
        raise _bad(path, f"{kind} {values!r} does not have one entry per axis ({ndim})"[:120])
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise _bad(path, f"{kind} {values!r} is not numeric"[:120]) from None
    if not all(math.isfinite(v) and (v > 0 or not positive) for v in numbers):
        what = "has a value that is 0, negative or not finite" if positive else "has a value that is not finite"
        raise _bad(path, f"{kind} {values!r} {what}"[:120])
    return numbers


def _transforms(path: Path, entry: dict, ndim: int) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    """The ``scale`` and ``translation`` of one ``coordinateTransformations`` list (None where absent)."""
    transforms = entry.get("coordinateTransformations", [])
    if not isinstance(transforms, list):
        raise _bad(path, "coordinateTransformations is not a list")
    scale = translation = None
    for transform in transforms:
        if not isinstance(transform, dict) or "type" not in transform:
            raise _bad(path, f"a coordinate transformation without a type: {transform!r}"[:120])
        if transform["type"] == "scale":
            scale = _numbers(path, "scale", transform.get("scale"), ndim, positive=True)
        elif transform["type"] == "translation":
            translation = _numbers(path, "translation", transform.get("translation"), ndim, positive=False)
    return scale, translation


@dataclass(frozen=True)
class ZarrImage:
    """A Zarr / OME-Zarr image: its arrays (finest first), axes, and where level 0 lies in the world.

    ``voxel_size`` and ``translate`` are level 0's, per axis of ``axes``: its ``scale`` and ``translation``
    transforms composed with the multiscale-wide ones (world = index · voxel_size + translate, napari's
    ``scale`` and ``translate``); None when the store gives none. ``unit`` is the spatial axes' common unit,
    None when they have none. ``channel_axis`` is the index of the axis of type ``channel`` (or named ``c``).
    """

    levels: list[Any]
    axes: str
    voxel_size: tuple[float, ...] | None
    translate: tuple[float, ...] | None
    unit: str | None
    channel_axis: int | None = None
    level_scales: tuple[tuple[float, ...] | None, ...] = ()


def read_zarr_image(path: Path) -> ZarrImage:
    """A Zarr array (YX or ZYX) or an OME-Zarr image with its validated placement (see :class:`ZarrImage`)."""
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as exc:  # zarr raises several kinds for a folder that is not a store
        raise DataError(
            f"{path}: not a readable Zarr store ({type(exc).__name__}: {exc})", kind=KIND_BAD_INPUT
        ) from None
    if isinstance(node, zarr.Array):
        if node.ndim not in (2, 3):
            raise DataError(
                f"{path}: a plain Zarr array of {node.ndim} dimensions; give ZYX or YX, or OME-Zarr",
                kind=KIND_BAD_INPUT,
            )
        return ZarrImage([node], "ZYX"[-node.ndim :], None, None, None)
    try:
        attrs = node.attrs.asdict()
    except Exception as exc:
        raise _bad(path, f"unreadable attributes: {type(exc).__name__}") from None
    found = multiscales(attrs)
    if not found:
        raise DataError(
            f"{path}: a Zarr group without OME-Zarr 'multiscales' metadata; give the array's path", kind=KIND_BAD_INPUT
        )
    image = found[0]
    if not isinstance(image, dict):
        raise _bad(path, "multiscales[0] is not an object")
    datasets = image.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise _bad(path, "no datasets")
    levels = []
    for entry in datasets:
        name = _dataset_path(path, entry)
        try:
            level = node[name]
        except KeyError:
            raise DataError(
                f"{path}: its OME-Zarr metadata names a missing array ({name!r}); the store is incomplete",
                kind=KIND_BAD_METADATA,
            ) from None
        if not isinstance(level, zarr.Array):
            raise _bad(path, f"dataset {name!r} is not an array")
        if levels and level.ndim != levels[0].ndim:
            raise _bad(path, f"dataset {name!r} has {level.ndim} axes, the first has {levels[0].ndim}")
        levels.append(level)
    ndim = levels[0].ndim
    axes_meta = image.get("axes") or [{"name": n} for n in "tczyx"[-ndim:]]
    if not isinstance(axes_meta, list) or len(axes_meta) != ndim:
        raise _bad(path, f"{len(axes_meta) if isinstance(axes_meta, list) else 'no'} axes for {ndim}D arrays")
    names = [str(a.get("name", "") if isinstance(a, dict) else a) for a in axes_meta]
    if not all(names) or len(set(n.lower() for n in names)) != ndim:
        raise _bad(path, f"axis names {names!r} are empty or repeated"[:120])
    kinds = [str(a.get("type", "")).lower() if isinstance(a, dict) else "" for a in axes_meta]
    channels = [i for i, (n, k) in enumerate(zip(names, kinds, strict=True)) if k == "channel" or (not k and n == "c")]
    axes = "".join("C" if i in channels else n[0].upper() for i, n in enumerate(names))
    units = {normalize_unit(a.get("unit")) for a in axes_meta if isinstance(a, dict) and a.get("type") == "space"}
    unit = units.pop() if len(units) == 1 else None
    scales = [_transforms(path, entry, ndim) for entry in datasets]
    voxel_size, translate = scales[0]
    whole_scale, whole_translate = _transforms(path, image, ndim)  # multiscale-wide, applied after each level's
    if whole_scale is not None:
        voxel_size = tuple(a * b for a, b in zip(voxel_size or (1.0,) * ndim, whole_scale, strict=True))
        translate = tuple(a * b for a, b in zip(translate or (0.0,) * ndim, whole_scale, strict=True))
    if whole_translate is not None:
        translate = tuple(a + b for a, b in zip(translate or (0.0,) * ndim, whole_translate, strict=True))
    if translate is not None and not any(translate):
        translate = None
    return ZarrImage(
        levels,
        axes,
        voxel_size,
        translate,
        unit if voxel_size is not None else None,
        channels[0] if len(channels) == 1 else None,
        tuple(s for s, _ in scales),
    )
