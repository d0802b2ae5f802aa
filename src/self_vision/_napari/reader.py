"""napari reader for TIFF files (voxel size from ImageJ/OME metadata as ``scale``, the ImageJ origin or OME plane
position as ``translate``, one layer per channel) and for Zarr / OME-Zarr folders (lazy, multiscale when they hold
a pyramid, level 0's ``scale`` and ``translation`` as the layer's, one layer per channel). A file this package
wrote carries its run record (seed, steps, settings), which becomes the layer's ``metadata["self_vision_run"]``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

LayerData = tuple[Any, dict[str, Any], str]
SUFFIXES = (".tif", ".tiff")
ZARR_SUFFIXES = (".zarr",)
_SPATIAL = "ZYX"


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """:func:`read_tiffs` for ``.tif``/``.tiff`` paths, :func:`read_zarrs` for ``.zarr`` folders, else None."""
    paths = [path] if isinstance(path, str) else list(path)
    if paths and all(str(p).lower().rstrip("/").endswith(ZARR_SUFFIXES) for p in paths):
        return read_zarrs
    if not paths or not all(str(p).lower().endswith(SUFFIXES) for p in paths):
        return None
    return read_tiffs


def read_zarrs(path: str | list[str]) -> list[LayerData]:
    """A lazily loaded layer per Zarr / OME-Zarr image (one per channel when it has a channel axis): multiscale
    when it has a pyramid, level 0's voxel size as scale and its ``translation`` as translate, units only when
    the store names them."""
    from ..core.io.lazy import open_zarr_image
    from ..core.provenance import read_record

    layers = []
    for p in [path] if isinstance(path, str) else list(path):
        image = open_zarr_image(p)
        name = Path(str(p).rstrip("/")).name.split(".")[0]
        meta: dict[str, Any] = {"name": name, "multiscale": len(image.levels) > 1}
        data: Any = image.levels if len(image.levels) > 1 else image.levels[0]
        keep = [i for i in range(len(image.axes)) if i != image.channel_axis]
        axes = "".join(image.axes[i] for i in keep)
        if image.voxel_size is not None:
            meta["scale"] = tuple(image.voxel_size[i] if image.axes[i] in _SPATIAL else 1.0 for i in keep)
        if image.translate is not None:
            meta["translate"] = tuple(image.translate[i] if image.axes[i] in _SPATIAL else 0.0 for i in keep)
        if image.unit is not None:
            meta["units"] = tuple(_pint_unit(image.unit) if a in _SPATIAL else "pixel" for a in axes)
        meta["axis_labels"] = tuple(a.lower() for a in axes)
        _add_record(meta, read_record(p))
        if image.channel_axis is not None:
            meta["channel_axis"] = image.channel_axis
            meta["name"] = [f"{name} [ch{i}]" for i in range(int(image.levels[0].shape[image.channel_axis]))]
        layers.append((data, meta, "image"))
    return layers


def read_tiffs(path: str | list[str]) -> list[LayerData]:
    """Layer data for every file in ``path``."""
    paths = [path] if isinstance(path, str) else list(path)
    return [layer for p in paths for layer in read_tiff_layers(p)]


def read_tiff_layers(path: str | Path) -> list[LayerData]:
    """One image layer (or one per channel) with scale, units and axis labels from the file's metadata."""
    import tifffile

    from ..core.errors import DataError
    from ..core.io.metadata import physical_sizes, physical_translate
    from ..core.provenance import tiff_record

    path = Path(path)
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            axes = series.axes.upper()
            data = series.asarray()
            sizes = physical_sizes(tif, series)
            offsets = physical_translate(tif, sizes)
            record = tiff_record(tif)
    except (OSError, ValueError, IndexError, tifffile.TiffFileError) as exc:
        raise DataError(f"{path}: not a readable TIFF file ({exc}); check that it is a complete TIFF image") from None
    data = np.asarray(data)
    # drop singleton axes except Y and X; a leading unknown axis of a stack is Z
    keep = [i for i, (a, n) in enumerate(zip(axes, data.shape, strict=True)) if n > 1 or a in "YX"]
    data = data.reshape([data.shape[i] for i in keep])
    axes = "".join(axes[i] for i in keep)
    if "Z" not in axes and axes[:1] in ("Q", "I") and axes.endswith("YX") and len(axes) == 3:
        axes = "Z" + axes[1:]
    rgb = axes.endswith("S") and data.shape[-1] in (3, 4)
    meta: dict[str, Any] = {"name": path.stem}
    spatial = axes[:-1] if rgb else axes
    channel = next((i for i, a in enumerate(spatial) if a in "CS"), None)
    layer_axes = spatial.replace("C", "").replace("S", "") if channel is not None else spatial
    unit = next((u for _, u in sizes.values() if u), None)
    meta["scale"] = tuple(sizes[a][0] if a in sizes and a in _SPATIAL else 1.0 for a in layer_axes)
    meta["units"] = tuple((_pint_unit(unit) if a in sizes and a in _SPATIAL else "pixel") for a in layer_axes)
    if offsets:
        meta["translate"] = tuple(offsets.get(a, 0.0) if a in _SPATIAL else 0.0 for a in layer_axes)
    meta["axis_labels"] = tuple(a.lower() for a in layer_axes)
    if rgb:
        meta["rgb"] = True
    _add_record(meta, record)
    if channel is not None:
        n = data.shape[channel]
        meta["channel_axis"] = channel
        meta["name"] = [f"{path.stem} [ch{i}]" for i in range(n)]
    return [(data, meta, "image")]


def _add_record(meta: dict[str, Any], record: dict[str, Any] | None) -> None:
    """Put the run record a file written by this package carries (core.provenance) into the layer's metadata."""
    if record is not None:
        from ..core.provenance import RECORD_KEY

        meta["metadata"] = {RECORD_KEY: record}


def _pint_unit(unit: str | None) -> str:
    """A unit string napari (pint) understands; ``pixel`` when unknown."""
    if unit is None:
        return "pixel"
    return {"µm": "micrometer", "Å": "angstrom", "in": "inch"}.get(unit, unit)
