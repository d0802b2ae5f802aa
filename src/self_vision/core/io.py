"""Reading and writing of TIFF volumes (ImageJ and OME-TIFF) with their voxel size.

:func:`read_tiff` returns a :class:`Volume`: a 2D (YX) or 3D (ZYX) array in its original dtype plus the
physical voxel size found in the file (ImageJ description, OME-XML or the TIFF resolution tags).
:func:`write_tiff` writes an ImageJ-compatible TIFF atomically (temporary file in the same folder, then
rename), so an interrupted run never leaves a half-written output. Problems the user can act on raise
:class:`~self_vision.core.errors.UsageError` or :class:`~self_vision.core.errors.DataError` with a
one-line message naming the file.
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from .errors import DataError, UsageError

__all__ = ["Volume", "check_output_path", "normalize_unit", "physical_sizes", "read_tiff", "write_tiff"]

MICRON = "µm"
#: Outputs larger than this are written as BigTIFF with OME metadata (ImageJ TIFF stops at 4 GB).
BIGTIFF_BYTES = 2**32 - 2**25
#: Output file suffixes written as TIFF.
TIFF_OUTPUTS = (".tif", ".tiff")

# Length units we recognise, in micrometres; keys are normalised spellings.
_UNIT_IN_UM: dict[str, float] = {
    "m": 1e6,
    "cm": 1e4,
    "mm": 1e3,
    MICRON: 1.0,
    "nm": 1e-3,
    "pm": 1e-6,
    "Å": 1e-4,
    "in": 25400.0,
}
_UNIT_ALIASES: dict[str, str] = {
    "micron": MICRON,
    "microns": MICRON,
    "micrometer": MICRON,
    "micrometre": MICRON,
    "micrometers": MICRON,
    "micrometres": MICRON,
    "um": MICRON,
    "µm": MICRON,  # U+00B5 MICRO SIGN
    "μm": MICRON,  # U+03BC GREEK SMALL LETTER MU
    "nanometer": "nm",
    "nanometre": "nm",
    "nanometers": "nm",
    "nanometres": "nm",
    "millimeter": "mm",
    "millimetre": "mm",
    "centimeter": "cm",
    "centimetre": "cm",
    "meter": "m",
    "metre": "m",
    "angstrom": "Å",
    "å": "Å",
    "Å": "Å",  # U+212B ANGSTROM SIGN
    "inch": "in",
    "inches": "in",
}
# Spellings that mean "not calibrated".
_NO_UNIT = {"", "pixel", "pixels", "px", "none", "unknown"}

_CHANNEL_AXES = "CS"  # ImageJ/OME channel and TIFF samples (RGB)
_UNKNOWN_AXES = "QI"  # tifffile: unknown / ImageJ image sequence
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


@dataclass
class Volume:
    """An image read from disk: 2D (YX) or 3D (ZYX) data plus its physical voxel size."""

    data: np.ndarray
    """2D (YX) or 3D (ZYX) array in the file's dtype, never converted."""
    voxel_size: tuple[float, ...] | None
    """Size of a voxel along each axis of :attr:`data`, in :attr:`unit`; None when the file has none."""
    unit: str | None
    """Length unit of :attr:`voxel_size`, normalised (``"µm"``, ``"nm"``, ...); None when unknown."""
    axes: str
    """``"YX"`` or ``"ZYX"``."""
    path: Path | None = None
    """The file it was read from, if any."""


def normalize_unit(unit: str | None) -> str | None:
    """Return a canonical spelling of a length unit (``"micron"``, ``"um"``, ``"\\u00B5m"`` -> ``"µm"``).

    None or an uncalibrated spelling (``"pixel"``) gives None; an unknown unit is returned stripped.
    """
    if unit is None:
        return None
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), str(unit)).strip()
    if text.lower() in _NO_UNIT:
        return None
    return _UNIT_ALIASES.get(text, _UNIT_ALIASES.get(text.lower(), text))


# --------------------------------------------------------------------------------------------- reading


def read_tiff(path: str | Path, *, channel: int | None = None, timepoint: int | None = None) -> Volume:
    """Read a 2D or 3D TIFF (plain, ImageJ or OME) and its voxel size.

    ``channel`` and ``timepoint`` pick one plane of a multi-channel or time-lapse file; they are
    required when the file has more than one. Singleton axes are dropped. Raises
    :class:`DataError` for a missing, unreadable or corrupt file and :class:`UsageError` when the
    file's axes need a choice the caller did not make.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a TIFF file; give the path of a .tif file")
    with suppress(OSError):
        if path.stat().st_size == 0:
            raise DataError(f"{path}: is empty (0 bytes); the file was not written completely, re-export it")

    try:
        with _tifffile_errors() as logged, tifffile.TiffFile(path) as tif:
            all_series = tif.series
            _check_not_truncated(path, tif, None, logged)
            if not all_series:
                raise DataError(f"{path}: contains no images; check that it is an image stack")
            series = all_series[0]
            _check_not_truncated(path, tif, series, logged)
            raw_axes = series.axes.upper()
            shape = tuple(int(n) for n in series.shape)
            if math.prod(shape) == 0:
                raise DataError(f"{path}: contains no image data (shape {_fmt_shape(shape)}); check the file")
            sizes = physical_sizes(tif, series)
            # Decide what to select before reading, so a wrong request fails fast.
            plan = _plan_axes(path, raw_axes, shape, channel=channel, timepoint=timepoint)
            try:
                data = series.asarray()
            except MemoryError:
                raise DataError(
                    f"{path}: too large to load ({_fmt_shape(shape)} {series.dtype}); crop it or free memory"
                ) from None
            _check_not_truncated(path, tif, series, logged)
    except (DataError, UsageError):
        raise
    except PermissionError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror}); check the file permissions") from None
    except tifffile.TiffFileError as exc:
        raise DataError(
            f"{path}: not a readable TIFF file ({_one_line(exc)}); check that it is a complete TIFF image"
        ) from None
    except (OSError, ValueError, IndexError, KeyError, TypeError, EOFError) as exc:
        raise DataError(
            f"{path}: cannot read the image data ({_one_line(exc)}); the file may be truncated or "
            "corrupt, or use a compression that needs the 'imagecodecs' package"
        ) from None
    except Exception as exc:  # struct.error, zlib.error, ... from malformed files
        raise DataError(
            f"{path}: cannot read the image data ({type(exc).__name__}: {_one_line(exc)}); the file may be corrupt"
        ) from None

    data = np.asarray(data)
    if data.shape != shape:  # tifffile returned something other than it announced
        raise DataError(
            f"{path}: image data shape {_fmt_shape(data.shape)} does not match the metadata "
            f"({_fmt_shape(shape)}); the file may be corrupt"
        )

    index, axes = plan
    selected = data[index]
    if selected.size < data.size:  # a channel/timepoint was picked: do not keep the rest alive
        selected = selected.copy()
    data = np.ascontiguousarray(selected)

    voxel_size, unit = _voxel_size_for(axes, sizes)
    return Volume(data=data, voxel_size=voxel_size, unit=unit, axes=axes, path=path)


def _plan_axes(
    path: Path, axes: str, shape: tuple[int, ...], *, channel: int | None, timepoint: int | None
) -> tuple[tuple[Any, ...], str]:
    """Work out how to index ``data`` (axes ``axes``) down to YX or ZYX.

    Returns the index tuple and the resulting axes, ``"YX"`` or ``"ZYX"`` (a leading unknown axis
    of a stack becomes Z).
    """
    if len(axes) != len(shape) or "Y" not in axes or "X" not in axes:
        raise DataError(
            f"{path}: unsupported image layout (axes {axes}, shape {_fmt_shape(shape)}); "
            "save it as a 2D (YX) or 3D (ZYX) TIFF"
        )
    # Keep Y and X even when they are 1 pixel long; drop all other singleton axes.
    kept = [(a, n) for a, n in zip(axes, shape, strict=True) if n > 1 or a in "YX"]
    kept_axes = "".join(a for a, _ in kept)
    described = f"axes {kept_axes}, shape {_fmt_shape(tuple(n for _, n in kept))}"

    channel_axes = [a for a, n in kept if a in _CHANNEL_AXES]
    if len(channel_axes) > 1:
        raise UsageError(
            f"{path}: has both channels and colour samples ({described}); "
            "save the channel you want as a single-channel TIFF"
        )
    picks: dict[str, int] = {}
    if channel_axes:
        n = dict(kept)[channel_axes[0]]
        picks[channel_axes[0]] = _pick(path, channel, n, "channel", described)
    elif channel is not None and channel != 0:
        raise UsageError(f"{path}: has only 1 channel, so --channel {channel} does not exist; use 0")
    if "T" in kept_axes:
        picks["T"] = _pick(path, timepoint, dict(kept)["T"], "timepoint", described)
    elif timepoint is not None and timepoint != 0:
        raise UsageError(f"{path}: has only 1 timepoint, so --timepoint {timepoint} does not exist; use 0")

    rest = [a for a, _ in kept if a not in picks]
    others = [a for a in rest if a not in "ZYX"]
    result = "".join(rest)
    if len(others) == 1 and "Z" not in rest and others[0] in _UNKNOWN_AXES and rest[0] == others[0]:
        result = "Z" + result[1:]  # leading unknown axis of a stack: treat as Z
    if result not in ("YX", "ZYX"):
        raise UsageError(
            f"{path}: cannot handle axes {kept_axes} ({described}); only 2D (YX) or 3D (ZYX) images, "
            "optionally with channels (--channel) or time (--timepoint), are supported"
        )

    index: list[Any] = []
    for a, n in zip(axes, shape, strict=True):
        if a in picks:
            index.append(picks[a])
        elif n == 1 and a not in "YX":
            index.append(0)
        else:
            index.append(slice(None))
    return tuple(index), result


def _pick(path: Path, choice: int | None, n: int, what: str, described: str) -> int:
    """Validate a ``--channel``/``--timepoint`` choice among ``n``."""
    if choice is None:
        raise UsageError(f"{path}: has {n} {what}s ({described}); choose one with --{what} N (0 to {n - 1})")
    if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) or not 0 <= choice < n:
        raise UsageError(f"{path}: --{what} {choice} is out of range; the file has {n} {what}s (0 to {n - 1})")
    return int(choice)


def _voxel_size_for(
    axes: str, sizes: dict[str, tuple[float, str | None]]
) -> tuple[tuple[float, ...] | None, str | None]:
    """Voxel size along ``axes`` from per-axis ``(size, unit)``; None unless every axis is known.

    An unknown leading axis used as Z takes the Z size (e.g. ImageJ ``spacing``).
    """
    found = [sizes[a] for a in axes if a in sizes]
    if len(found) != len(axes):
        return None, None
    units = {u for _, u in found}
    if len(units) == 1:
        return tuple(v for v, _ in found), units.pop()
    if all(u in _UNIT_IN_UM for u in units):  # mixed known units: express all in µm
        return tuple(_tidy(v * _UNIT_IN_UM[u]) for v, u in found if u is not None), MICRON
    return None, None


def physical_sizes(tif: tifffile.TiffFile, series: tifffile.TiffPageSeries) -> dict[str, tuple[float, str | None]]:
    """Per-axis (``"X"``, ``"Y"``, ``"Z"``) physical size and unit found in the file's metadata."""
    with suppress(Exception):  # metadata is best effort; never fail a read because of it
        if tif.is_ome and tif.ome_metadata:
            sizes = _ome_sizes(tif.ome_metadata)
            if sizes:
                return sizes
    page = getattr(series, "keyframe", None) or tif.pages.first
    with suppress(Exception):
        ij = tif.imagej_metadata if tif.is_imagej else None
        if ij is not None:
            return _imagej_sizes(ij, page)
    with suppress(Exception):
        return _tag_sizes(page)
    return {}


def _ome_sizes(xml: str) -> dict[str, tuple[float, str | None]]:
    """PhysicalSizeX/Y/Z of the first OME Image (units default to µm as in the OME schema)."""
    ome = tifffile.xml2dict(xml).get("OME", {})
    image = ome.get("Image", {})
    if isinstance(image, list):
        image = image[0] if image else {}
    pixels = image.get("Pixels", {}) if isinstance(image, dict) else {}
    sizes: dict[str, tuple[float, str | None]] = {}
    for ax in "XYZ":
        value = pixels.get(f"PhysicalSize{ax}")
        if value is None:
            continue
        value = abs(float(value))
        if value > 0 and math.isfinite(value):
            sizes[ax] = (value, normalize_unit(pixels.get(f"PhysicalSize{ax}Unit", MICRON)) or MICRON)
    return sizes


def _imagej_sizes(ij: dict[str, Any], page: Any) -> dict[str, tuple[float, str | None]]:
    """Sizes from an ImageJ file: X/Y from the resolution tags, Z from ``spacing``, unit from ``unit``."""
    unit = normalize_unit(ij.get("unit"))
    sizes: dict[str, tuple[float, str | None]] = {}
    for ax, tag in (("X", "XResolution"), ("Y", "YResolution")):
        value = _inverse_rational(page.tags.get(tag))
        if value is not None:
            sizes[ax] = (value, unit)
    spacing = ij.get("spacing")
    if spacing is not None:
        value = abs(float(spacing))
        if value > 0 and math.isfinite(value):
            sizes["Z"] = (_tidy(value), unit)
    if unit is None and all(v == 1.0 for v, _ in sizes.values()):
        return {}  # ImageJ's "uncalibrated": 1 pixel per pixel
    return sizes


def _tag_sizes(page: Any) -> dict[str, tuple[float, str | None]]:
    """X/Y sizes from plain TIFF resolution tags (ignored when they look like screen defaults)."""
    resunit = page.tags.get("ResolutionUnit")
    resunit = int(resunit.value) if resunit is not None else 2  # TIFF default: inch
    unit = {1: None, 2: "in", 3: "cm", 4: "mm", 5: MICRON}.get(resunit)
    sizes: dict[str, tuple[float, str | None]] = {}
    for ax, tag in (("X", "XResolution"), ("Y", "YResolution")):
        value = _inverse_rational(page.tags.get(tag))
        if value is not None:
            sizes[ax] = (value, unit)
    per_unit = {round(1 / v, 6) for v, _ in sizes.values()}  # pixels per unit
    if len(sizes) < 2 or per_unit == {1.0} or (unit == "in" and per_unit <= {72.0, 96.0, 300.0}):
        return {}  # no calibration, or the default dots-per-inch of a non-microscopy program
    if unit in ("in", "cm", "mm"):
        return {ax: (_tidy(v * _UNIT_IN_UM[unit]), MICRON) for ax, (v, _) in sizes.items()}
    return sizes


def _inverse_rational(tag: Any) -> float | None:
    """``1 / resolution`` of an XResolution/YResolution tag, or None if absent or invalid."""
    if tag is None:
        return None
    value = tag.value
    if isinstance(value, tuple) and len(value) == 2:
        num, den = float(value[0]), float(value[1])
    else:
        num, den = float(value), 1.0
    if num <= 0 or den <= 0 or not math.isfinite(num) or not math.isfinite(den):
        return None
    return _tidy(den / num)


def _tidy(value: float) -> float:
    """Round to 12 significant digits, so rational round-off reads back as e.g. 0.65, not 0.6499999..."""
    return float(f"{value:.12g}")


# Fragments of tifffile log messages that mean the file is cut short or its structure is broken.
_CORRUPT_LOG = ("page offset", "offset to page", "offset to first page", "corrupted file", "failed to read")


class _Collect(logging.Handler):
    """Collects tifffile log records of one thread."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def _tifffile_errors() -> Iterator[list[str]]:
    """Capture tifffile's warnings (it logs, rather than raises, on truncated page chains)."""
    handler = _Collect()
    log = logging.getLogger("tifffile")
    log.addHandler(handler)
    try:
        yield handler.messages
    finally:
        log.removeHandler(handler)


def _check_not_truncated(path: Path, tif: tifffile.TiffFile, series: Any, logged: list[str]) -> None:
    """Raise DataError if tifffile reported a broken page chain or data lie beyond the end of file."""
    for message in logged:
        if any(fragment in message for fragment in _CORRUPT_LOG):
            detail = _one_line(re.sub(r"<[^>]*>\s*", "", message))
            raise DataError(f"{path}: the file is truncated or corrupt ({detail}); re-export it")
    if series is None:
        return
    size = tif.filehandle.size
    with suppress(AttributeError, TypeError):
        for page in series.pages:
            if page is None:
                continue
            ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n]
            if ends and max(ends) > size:
                raise DataError(
                    f"{path}: the file is truncated (image data end at byte {max(ends)}, the file has "
                    f"{size} bytes); re-export or copy it again"
                )


def _one_line(exc: BaseException | str) -> str:
    """An exception message on one line, not too long."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _fmt_shape(shape: Sequence[int]) -> str:
    return "x".join(str(int(n)) for n in shape)


# --------------------------------------------------------------------------------------------- writing


def check_output_path(path: str | Path, *, overwrite: bool) -> Path:
    """Check that ``path`` can be written, before any long computation; return it as a Path.

    Raises :class:`UsageError` if it exists and ``overwrite`` is False, if it is a directory, or if
    its folder does not exist or is not writable.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; give a file name for the output, e.g. {path / 'out.tif'}")
    if path.exists() and not overwrite:
        raise UsageError(f"{path}: exists; pass --overwrite to replace it")
    folder = path.parent
    if not folder.exists():
        raise UsageError(f"{path}: folder {folder} does not exist; create it first or choose another output")
    if not folder.is_dir():
        raise UsageError(f"{path}: {folder} is not a folder; choose another output path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{path}: folder {folder} is not writable; choose another output folder")
    return path


def write_tiff(
    path: str | Path,
    data: Any,
    *,
    voxel_size: Sequence[float] | None = None,
    unit: str | None = MICRON,
    overwrite: bool = False,
    axes: str | None = None,
) -> Path:
    """Write a YX, ZYX, TYX or TZYX array as an ImageJ TIFF, atomically; return the path written.

    ``axes`` defaults to YX or ZYX by rank. ``voxel_size`` gives one size per *spatial* axis (Z, Y, X) in
    ``unit`` (stored as the XResolution / YResolution tags and the ImageJ ``spacing``). uint8, uint16,
    int16 and float32 are written as they are; other dtypes are converted to float32, as ImageJ supports
    no others. The data go to a temporary file in the same folder that is renamed over ``path`` only once
    complete.
    """
    path = check_output_path(path, overwrite=overwrite)
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
    if voxel_size is not None:
        sizes = _check_voxel_size(path, voxel_size, len(spatial))
        resolution = (1.0 / sizes[-1], 1.0 / sizes[-2])
        if "Z" in spatial:
            metadata["spacing"] = sizes[0]
        ij_unit = _imagej_unit(unit)
        if ij_unit is not None:
            metadata["unit"] = ij_unit
        if big:  # ImageJ TIFF stops at 4 GB: OME metadata in a BigTIFF instead
            metadata = {"axes": axes, **_ome_physical_sizes(spatial, sizes, unit)}

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
            raise DataError(f"{path}: cannot write ({exc.strerror or _one_line(exc)}); check free disk space") from None
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


def _imagej_unit(unit: str | None) -> str | None:
    """The unit as written in an ImageJ description: ``micron`` for µm, ASCII with \\uXXXX escapes."""
    unit = normalize_unit(unit)
    if unit is None:
        return None
    if unit == MICRON:
        return "micron"  # understood by ImageJ/Fiji, Bio-Formats and tifffile, and plain ASCII
    return "".join(c if c.isascii() and c.isprintable() else f"\\u{ord(c):04X}" for c in unit)


def _create_temp(path: Path) -> Path:
    """Create an empty, uniquely named temporary file next to ``path`` (mode 0o666 minus umask)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp.tif")
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
        raise UsageError(f"{path}: exists; pass --overwrite to replace it") from None
    except OSError:  # file system without hard links
        if path.exists():
            raise UsageError(f"{path}: exists; pass --overwrite to replace it") from None
        os.replace(tmp, path)
        return
    tmp.unlink()
