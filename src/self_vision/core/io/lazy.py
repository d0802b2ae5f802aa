"""Inputs too large for memory: TIFF/BigTIFF (memory-mapped where possible), Zarr, OME-Zarr and dask arrays.

Everything is opened as a lazy dask array of 2D (YX) or 3D (ZYX) data; only the regions a block or a
training sample asks for are read. A :class:`SourceSpec` (a path and the channel/time point picked) is
what distributed workers get, so each reopens the input itself instead of receiving the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KIND_BAD_INPUT, DataError, UsageError, one_line
from .omezarr import ZarrImage, read_zarr_image, warn_missing_chunks
from .paths import check_input_file
from .tiff import check_codec, check_not_truncated, plan_axes, tifffile_errors

ZARR_SUFFIXES = (".zarr",)
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8")


@dataclass(frozen=True)
class SourceSpec:
    """How to reopen an input from disk: its path and the channel / time point picked from it."""

    path: str
    channel: int | None = None
    timepoint: int | None = None

    def open(self) -> LazyVolume:
        return open_lazy(self.path, channel=self.channel, timepoint=self.timepoint)


@dataclass
class LazyVolume:
    """A lazily read 2D (YX) or 3D (ZYX) volume, its voxel size and where it lies.

    ``translate``: the world position of voxel 0's centre per axis, in ``unit`` (napari's layer ``translate``;
    a TIFF's ImageJ origin or OME plane position, an OME-Zarr's level-0 ``translation``); None at the origin.
    """

    data: Any  # dask.array.Array
    voxel_size: tuple[float, ...] | None
    unit: str | None
    axes: str
    spec: SourceSpec | None = None  # None for in-memory or caller-made arrays
    translate: tuple[float, ...] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.data.shape)

    @property
    def name(self) -> str:
        return self.spec.path if self.spec is not None else "input"

    def read(self, region: tuple[slice, ...]) -> np.ndarray:
        """The voxels of ``region`` as a numpy array (read in this thread; safe inside dask workers)."""
        try:
            return np.asarray(self.data[region].compute(scheduler="synchronous"))
        except (DataError, UsageError, MemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a page or chunk that cannot be decoded: truncated, corrupt, missing
            raise DataError(
                f"{self.name}: cannot read the region {region} ({type(exc).__name__}: {one_line(exc)}); "
                "the file may be truncated or corrupt",
                kind=KIND_BAD_INPUT,
            ) from None


def is_zarr_path(path: str | Path) -> bool:
    """A Zarr store: a folder named ``*.zarr`` or holding Zarr metadata."""
    path = Path(path)
    if path.name.lower().endswith(ZARR_SUFFIXES):
        return True
    return path.is_dir() and any((path / m).exists() for m in ("zarr.json", ".zarray", ".zgroup"))


def as_lazy(
    data: Any,
    voxel_size: tuple[float, ...] | None = None,
    unit: str | None = None,
    translate: tuple[float, ...] | None = None,
) -> LazyVolume:
    """Wrap a numpy, Zarr or dask array (2D or 3D) without reading it (``translate``: see :class:`LazyVolume`)."""
    import dask.array as da

    if data.ndim not in (2, 3):
        raise DataError(f"input: is {data.ndim}D with shape {tuple(data.shape)}; give a 2D (YX) or 3D (ZYX) array")
    array = data if isinstance(data, da.Array) else da.from_array(data, chunks=_chunks_for(data))
    placed = None if translate is None else tuple(float(t) for t in translate)
    return LazyVolume(array, voxel_size, unit, "ZYX"[-data.ndim :], translate=_placed(placed))


def open_lazy(path: str | Path, *, channel: int | None = None, timepoint: int | None = None) -> LazyVolume:
    """Open a TIFF, Zarr or OME-Zarr input lazily; one-line :class:`DataError` / :class:`UsageError` otherwise."""
    path = check_input_file(path, folders=True)  # a FIFO or device would block the open
    if is_zarr_path(path):
        volume = _open_zarr(path, channel, timepoint)
    elif path.suffix.lower() in TIFF_SUFFIXES:
        volume = _open_tiff(path, channel, timepoint)
    else:
        raise DataError(f"{path}: unknown input format; give a .tif/.tiff file or a .zarr / OME-Zarr folder")
    volume.spec = SourceSpec(str(path), channel, timepoint)
    return volume


def _open_tiff(path: Path, channel: int | None, timepoint: int | None) -> LazyVolume:
    import dask.array as da
    import tifffile
    import zarr

    from .metadata import physical_sizes, physical_translate
    from .tiff import voxel_size_for

    try:
        with tifffile_errors() as logged, tifffile.TiffFile(path) as tif:
            if not tif.series:
                raise DataError(f"{path}: contains no images; check that it is an image stack")
            series = tif.series[0]
            check_not_truncated(path, tif, series, logged)  # a cut page chain reads as fewer planes
            check_codec(path, tif)
            axes, shape = series.axes.upper(), tuple(int(n) for n in series.shape)
            sizes = physical_sizes(tif, series)
            offsets = physical_translate(tif, sizes)
            mappable = series.dataoffset is not None
        index, kept_axes = plan_axes(path, axes, shape, channel=channel, timepoint=timepoint)
        if mappable:  # uncompressed and contiguous: the OS pages it in on demand
            raw: Any = tifffile.memmap(path, mode="r")
            raw = raw.reshape(shape)
        else:  # compressed or tiled: tifffile decodes only the pages/tiles asked for
            raw = zarr.open(tifffile.imread(path, aszarr=True), mode="r")
            if tuple(raw.shape) != shape:
                raw = da.from_zarr(raw).reshape(shape)
    except (DataError, UsageError):
        raise
    except (OSError, ValueError, tifffile.TiffFileError) as exc:
        raise DataError(f"{path}: not a readable TIFF file ({exc}); check that it is a complete TIFF image") from None
    array = raw if isinstance(raw, da.Array) else da.from_array(raw, chunks=_chunks_for(raw))
    voxel_size, unit = voxel_size_for(kept_axes, sizes)
    translate = tuple(float(offsets.get(a, 0.0)) for a in kept_axes) if offsets else None
    return LazyVolume(array[index], voxel_size, unit, kept_axes, translate=_placed(translate))


def _open_zarr(path: Path, channel: int | None, timepoint: int | None) -> LazyVolume:
    import dask.array as da

    image = read_zarr_image(path)
    levels, axes, voxel_size, unit = image.levels, image.axes, image.voxel_size, image.unit
    warn_missing_chunks(path, levels[0])
    index, kept_axes = plan_axes(
        path, axes, tuple(int(n) for n in levels[0].shape), channel=channel, timepoint=timepoint
    )
    if voxel_size is not None:
        by_axis = dict(zip(axes, voxel_size, strict=True))
        voxel_size = tuple(float(by_axis[a]) for a in kept_axes)
    translate = None
    if image.translate is not None:
        by_axis = dict(zip(axes, image.translate, strict=True))
        translate = tuple(float(by_axis[a]) for a in kept_axes)
    return LazyVolume(da.from_zarr(levels[0])[index], voxel_size, unit, kept_axes, translate=_placed(translate))


def _placed(translate: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """None for no translate or one at the origin (what :class:`LazyVolume` keeps)."""
    return translate if translate is not None and any(translate) else None


def open_pyramid(path: str | Path) -> tuple[list[Any], str, tuple[float, ...] | None, str | None]:
    """Every resolution level of a Zarr / OME-Zarr image as lazy dask arrays, finest first, with its axes
    (e.g. ``"ZYX"``) and level 0's voxel size and unit — what a multiscale napari layer needs."""
    image = open_zarr_image(path)
    return image.levels, image.axes, image.voxel_size, image.unit


def open_zarr_image(path: str | Path) -> ZarrImage:
    """:func:`~self_vision.core.io.omezarr.read_zarr_image` with every level as a lazy dask array: the levels,
    axes, level 0's voxel size, translate and unit, and the channel axis."""
    import dataclasses

    import dask.array as da

    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; check the path")
    image = read_zarr_image(path)
    warn_missing_chunks(path, image.levels[0])
    return dataclasses.replace(image, levels=[da.from_zarr(level) for level in image.levels])


def _chunks_for(data: Any) -> tuple[int, ...]:
    """Dask chunks for an in-memory or memory-mapped array: whole planes, ~64 MB."""
    plane = math.prod(data.shape[-2:]) * np.dtype(data.dtype).itemsize
    planes = max(1, (64 << 20) // max(plane, 1))
    return (min(planes, data.shape[0]), *data.shape[1:]) if data.ndim == 3 else tuple(data.shape)
