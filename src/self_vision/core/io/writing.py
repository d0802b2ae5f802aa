"""Writing TIFF results atomically: a temporary file in the same folder, renamed into place once complete.

An existing file is never replaced unless asked (``overwrite``); an interrupted write leaves the target as it was.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from ..errors import KIND_OUTPUT_PATH, DataError, UsageError, one_line, output_exists
from .units import MICRON, imagej_unit, normalize_unit, tidy

#: Outputs larger than this are written as BigTIFF with OME metadata (ImageJ TIFF stops at 4 GB).
BIGTIFF_BYTES = 2**32 - 2**25


#: Output file suffixes written as TIFF.
TIFF_OUTPUTS = (".tif", ".tiff")


def check_output_path(path: str | Path, *, overwrite: bool, label: str | None = None) -> Path:
    """Check that ``path`` can be written, before any long computation; return it as a Path.

    Raises :class:`UsageError` if it exists and ``overwrite`` is False (kind ``output exists``), if it is a
    directory or not a regular file, or if its folder does not exist or is not writable (kind ``output path``).
    Leftover temporary files of an earlier, killed write to ``path`` are removed (see :func:`clean_leftovers`).
    """
    path = Path(path).expanduser()
    shown = f"{label} {path}" if label else str(path)

    def bad(what: str) -> UsageError:
        return UsageError(f"{shown}: {what}", kind=KIND_OUTPUT_PATH, option=label)

    if path.is_dir():
        raise bad(f"is a directory; give a file name for the output, e.g. {path / 'out.tif'}")
    if path.exists() and not path.is_file():
        raise bad("is not a regular file (a FIFO, socket or device); choose another output path")
    if path.exists() and not overwrite:
        raise output_exists(shown)
    folder = path.parent
    if not folder.exists():
        raise bad(f"folder {folder} does not exist; create it first or choose another output")
    if not folder.is_dir():
        raise bad(f"{folder} is not a folder; choose another output path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise bad(f"folder {folder} is not writable; choose another output folder")
    clean_leftovers(path)
    return path


def _temp_pattern(path: Path) -> str:
    return f".{path.name}.*.tmp*"


def clean_leftovers(path: str | Path) -> list[Path]:
    """Remove hidden temporary files (``.NAME.<pid>-<hex>.tmp…``) a killed write to ``path`` left behind.

    A temporary file names the process that writes it; one whose process is gone (on this host) is removed.
    Files of the older naming (no pid) are removed once an hour old. Returns what was removed.
    """
    import time

    target = Path(path).expanduser()
    removed = []
    with suppress(OSError):
        for tmp in target.parent.glob(_temp_pattern(target)):
            middle = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
            pid_text = middle.split("-", 1)[0] if "-" in middle else ""
            old = time.time() - tmp.stat().st_mtime > 3600
            stale = not _alive(int(pid_text)) if pid_text.isdigit() else old
            if stale and tmp.is_file():
                with suppress(OSError):
                    tmp.unlink()
                    removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def write_tiff(
    path: str | Path,
    data: Any,
    *,
    voxel_size: Sequence[float] | None = None,
    unit: str | None = MICRON,
    overwrite: bool = False,
    axes: str | None = None,
    record: dict[str, Any] | None = None,
    translate: Sequence[float] | None = None,
) -> Path:
    """Write a YX, ZYX, TYX or TZYX array as an ImageJ TIFF, atomically; return the path written.

    ``axes`` defaults to YX or ZYX by rank. ``voxel_size`` gives one size per *spatial* axis (Z, Y, X) in
    ``unit`` (stored as the XResolution / YResolution tags and the ImageJ ``spacing``). uint8, uint16,
    int16 and float32 are written as they are; other dtypes are converted to float32, as ImageJ supports
    no others. The data go to a temporary file in the same folder that is renamed over ``path`` only once
    complete. ``record`` (:mod:`self_vision.core.provenance`: seed, steps, settings) goes into the ImageJ
    ``Info`` text, or in BigTIFF/OME outputs beyond 4 GB the OME ``Image``'s ``Description``.

    ``translate`` gives, per spatial axis in ``unit``, where the first voxel's centre lies (napari's layer
    ``translate``: voxel ``i`` is at ``i · size + translate``). It is stored as ImageJ's own calibration origin,
    ``xorigin`` / ``yorigin`` / ``zorigin`` in the description, in pixels (``-translate / size``, what ImageJ's
    *Image ▸ Properties* shows as the origin), and in BigTIFF/OME outputs as the OME ``Plane`` elements'
    ``PositionX`` / ``PositionY`` (voxel 0) and ``PositionZ`` (each plane's own z). A zero translate writes nothing.
    """
    from ..provenance import to_text
    from .paths import check_extension

    path = check_output_path(check_extension(path, TIFF_OUTPUTS), overwrite=overwrite)
    lazy = not isinstance(data, np.ndarray) and hasattr(data, "dtype") and hasattr(data, "shape")
    if not lazy:
        data = np.asarray(data)
    axes = axes or {2: "YX", 3: "ZYX"}.get(data.ndim, "")
    if axes not in ("YX", "ZYX", "TYX", "TZYX") or len(axes) != data.ndim:
        raise ValueError(f"write_tiff writes YX, ZYX, TYX or TZYX arrays, got axes {axes!r} for shape {data.shape}")
    spatial = axes.replace("T", "")
    dtype = np.dtype(data.dtype) if np.dtype(data.dtype).char in "BHhf" else np.dtype(np.float32)
    big = math.prod(data.shape) * dtype.itemsize > BIGTIFF_BYTES

    metadata: dict[str, Any] = {"axes": axes}
    resolution = None
    sizes = [1.0] * len(spatial)
    if voxel_size is not None:
        sizes = _check_voxel_size(path, voxel_size, len(spatial))
        resolution = (1.0 / sizes[-1], 1.0 / sizes[-2])
        if "Z" in spatial:
            metadata["spacing"] = sizes[0]
        ij_unit = imagej_unit(unit)
        if ij_unit is not None:
            metadata["unit"] = ij_unit
        if big:  # ImageJ TIFF stops at 4 GB: OME metadata in a BigTIFF instead
            metadata = {"axes": axes, **_ome_physical_sizes(spatial, sizes, unit)}
    if translate is not None:
        offsets = _check_translate(path, translate, spatial)
        if any(offsets) and big:
            metadata.update(_ome_positions(axes, tuple(data.shape), sizes, offsets, unit if voxel_size else None))
        elif any(offsets):  # ImageJ: calibrated x = (pixel - xorigin) * size
            origin = zip(spatial, offsets, sizes, strict=True)
            metadata.update({f"{a.lower()}origin": tidy(-t / s) for a, t, s in origin if t})
    if record is not None:  # ImageJ's Info text; beyond 4 GB the OME Image's Description
        metadata["Description" if big else "Info"] = to_text(record)

    tmp = _create_temp(path)
    try:
        if lazy:  # plane by plane: memory stays at one plane whatever the size
            planes = (np.asarray(data[index], dtype=dtype) for index in np.ndindex(*data.shape[:-2]))
            tifffile.imwrite(
                tmp,
                data=planes,
                shape=tuple(data.shape),
                dtype=dtype,
                imagej=not big,
                ome=big,
                bigtiff=big,
                resolution=resolution,
                metadata=metadata,
            )
        else:
            tifffile.imwrite(
                tmp,
                data.astype(dtype, copy=False),
                imagej=not big,
                ome=big,
                bigtiff=big,
                resolution=resolution,
                metadata=metadata,
            )
        fd = os.open(tmp, os.O_RDONLY)  # make the data durable before the rename makes them visible
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _move_into_place(tmp, path, overwrite=overwrite)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink()
        if isinstance(exc, PermissionError):
            raise UsageError(f"{path}: cannot write ({exc.strerror}); choose another output folder") from None
        if isinstance(exc, OSError) and not isinstance(exc, FileExistsError):
            raise DataError(f"{path}: cannot write ({exc.strerror or one_line(exc)}); check free disk space") from None
        raise
    return path


def _ome_physical_sizes(spatial: str, sizes: Sequence[float], unit: str | None) -> dict[str, Any]:
    """OME-XML ``PhysicalSize*`` entries for the spatial axes."""
    found: dict[str, Any] = {}
    for axis, size in zip(spatial, sizes, strict=True):
        found[f"PhysicalSize{axis}"] = size
        if normalize_unit(unit) is not None:
            found[f"PhysicalSize{axis}Unit"] = normalize_unit(unit)
    return found


def _ome_positions(
    axes: str, shape: tuple[int, ...], sizes: Sequence[float], offsets: Sequence[float], unit: str | None
) -> dict[str, Any]:
    """OME-XML ``Plane`` entries, one per plane (T, Z order): PositionX/Y of voxel 0, PositionZ of the plane."""
    lead = axes[:-2]
    planes = list(np.ndindex(*shape[: len(lead)]))
    where = dict(zip(axes.replace("T", ""), zip(sizes, offsets, strict=True), strict=True))
    plane: dict[str, list[Any]] = {}
    for axis in "XYZ":
        if axis not in where:
            continue
        size, offset = where[axis]
        z = lead.index(axis) if axis in lead else None
        plane[f"Position{axis}"] = [tidy(offset + (index[z] * size if z is not None else 0.0)) for index in planes]
        if normalize_unit(unit) is not None:
            plane[f"Position{axis}Unit"] = [normalize_unit(unit)] * len(planes)
    return {"Plane": plane}


def _check_translate(path: Path, translate: Sequence[float], spatial: str) -> list[float]:
    """One finite number per spatial axis."""
    try:
        offsets = [float(v) for v in translate]
    except (TypeError, ValueError):
        offsets = []
    if len(offsets) != len(spatial) or not all(math.isfinite(v) for v in offsets):
        raise UsageError(
            f"{path}: translate {tuple(translate)!r} is invalid; give {len(spatial)} finite numbers ({spatial})"
        )
    return offsets


def _check_voxel_size(path: Path, voxel_size: Sequence[float], ndim: int) -> list[float]:
    """Validate one positive finite size per axis."""
    try:
        sizes = [float(v) for v in voxel_size]
    except (TypeError, ValueError):
        sizes = []
    if len(sizes) != ndim or not all(math.isfinite(v) and v > 0 for v in sizes):
        axes = "ZYX" if ndim == 3 else "YX"
        raise UsageError(f"{path}: voxel size {tuple(voxel_size)!r} is invalid; give {ndim} positive numbers ({axes})")
    return sizes


def _create_temp(path: Path) -> Path:
    """Create an empty, uniquely named temporary file next to ``path`` (mode 0o666 minus umask)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp.tif")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except PermissionError:
            raise UsageError(f"{path}: folder {path.parent} is not writable; choose another output folder") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot create a file in {path.parent} ({exc.strerror})") from None
        return tmp
    raise UsageError(f"{path}: cannot create a temporary file in {path.parent}")


def _move_into_place(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Rename ``tmp`` to ``path``; without ``overwrite`` never replace a file that appeared meanwhile."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if path exists: no race with another writer
    except FileExistsError:
        raise output_exists(path) from None
    except OSError:  # file system without hard links
        if path.exists():
            raise output_exists(path) from None
        os.replace(tmp, path)
        return
    tmp.unlink()
