"""Reading a Zarr store's arrays and OME-Zarr ``multiscales`` metadata, validated.

Malformed metadata (no datasets, a dataset path that leaves the store, a coordinate transform without a type,
a scale of the wrong length or one that is 0, negative or not finite, axes that do not match the array) is a
one-line :class:`DataError` of kind ``bad metadata``: it is never used, nor copied into an output's metadata.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import KIND_BAD_INPUT, KIND_BAD_METADATA, DataError
from .metadata import CalibrationWarning
from .units import MICRON, normalize_unit


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


def _scale(path: Path, entry: dict, ndim: int) -> tuple[float, ...] | None:
    transforms = entry.get("coordinateTransformations", [])
    if not isinstance(transforms, list):
        raise _bad(path, "coordinateTransformations is not a list")
    scale = None
    for transform in transforms:
        if not isinstance(transform, dict) or "type" not in transform:
            raise _bad(path, f"a coordinate transformation without a type: {transform!r}"[:120])
        if transform["type"] != "scale":
            continue
        values = transform.get("scale")
        if not isinstance(values, list) or len(values) != ndim:
            raise _bad(path, f"scale {values!r} does not have one entry per axis ({ndim})"[:120])
        try:
            numbers = tuple(float(v) for v in values)
        except (TypeError, ValueError):
            raise _bad(path, f"scale {values!r} is not numeric"[:120]) from None
        if not all(math.isfinite(v) and v > 0 for v in numbers):
            raise _bad(path, f"scale {values!r} has a value that is 0, negative or not finite"[:120])
        scale = numbers
    return scale


def zarr_levels(path: Path) -> tuple[list[Any], str, tuple[float, ...] | None, str | None]:
    """The Zarr arrays of an image (one for a plain array), its axes, level 0's voxel size and unit."""
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
        return [node], "ZYX"[-node.ndim :], None, None
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
    axes = "".join(n[0].upper() for n in names)
    units = {normalize_unit(a.get("unit")) for a in axes_meta if isinstance(a, dict) and a.get("type") == "space"}
    unit = units.pop() if len(units) == 1 else None
    voxel_size = _scale(path, datasets[0], ndim)
    for entry in datasets[1:]:
        _scale(path, entry, ndim)
    return levels, axes, voxel_size, (unit or MICRON) if voxel_size is not None else None
