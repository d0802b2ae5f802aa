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
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from ..errors import (
    KIND_BAD_INPUT,
    KIND_CHOICE_NEEDED,
    KIND_INVALID_VALUE,
    KIND_MISSING_PACKAGE,
    DataError,
    UsageError,
    one_line,
)
from .metadata import physical_sizes
from .units import MICRON, UNIT_IN_UM, tidy

__all__ = ["Volume", "read_tiff", "read_time_lapse"]


_CHANNEL_AXES = "CS"  # ImageJ/OME channel and TIFF samples (RGB)
_UNKNOWN_AXES = "QI"  # tifffile: unknown / ImageJ image sequence


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


# --------------------------------------------------------------------------------------------- reading


def read_tiff(path: str | Path, *, channel: int | None = None, timepoint: int | None = None) -> Volume:
    """Read a 2D or 3D TIFF (plain, ImageJ or OME) and its voxel size.

    ``channel`` and ``timepoint`` pick one plane of a multi-channel or time-lapse file; they are
    required when the file has more than one. Singleton axes are dropped. Raises
    :class:`DataError` for a missing, unreadable or corrupt file and :class:`UsageError` when the
    file's axes need a choice the caller did not make.
    """
    from .paths import check_input_file

    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file; check the path", kind=KIND_BAD_INPUT)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a TIFF file; give the path of a .tif file", kind=KIND_BAD_INPUT)
    check_input_file(path)  # a FIFO or device would block the open
    with suppress(OSError):
        if path.stat().st_size == 0:
            raise DataError(f"{path}: is empty (0 bytes); the file was not written completely, re-export it")

    try:
        with tifffile_errors() as logged, tifffile.TiffFile(path) as tif:
            all_series = tif.series
            check_not_truncated(path, tif, None, logged)
            if not all_series:
                raise DataError(f"{path}: contains no images; check that it is an image stack")
            series = all_series[0]
            check_not_truncated(path, tif, series, logged)
            check_codec(path, tif)
            raw_axes = series.axes.upper()
            shape = tuple(int(n) for n in series.shape)
            if math.prod(shape) == 0:
                raise DataError(f"{path}: contains no image data (shape {_fmt_shape(shape)}); check the file")
            sizes = physical_sizes(tif, series)
            # Decide what to select before reading, so a wrong request fails fast.
            plan = plan_axes(path, raw_axes, shape, channel=channel, timepoint=timepoint)
            try:
                data = series.asarray()
            except MemoryError:
                raise DataError(
                    f"{path}: too large to load ({_fmt_shape(shape)} {series.dtype}); crop it or free memory"
                ) from None
            check_not_truncated(path, tif, series, logged)
    except (DataError, UsageError):
        raise
    except PermissionError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror}); check the file permissions") from None
    except tifffile.TiffFileError as exc:
        raise DataError(
            f"{path}: not a readable TIFF file ({one_line(exc)}); check that it is a complete TIFF image"
        ) from None
    except (OSError, ValueError, IndexError, KeyError, TypeError, EOFError) as exc:
        raise DataError(
            f"{path}: cannot read the image data ({one_line(exc)}); the file may be truncated or "
            "corrupt, or use a compression that needs the 'imagecodecs' package"
        ) from None
    except Exception as exc:  # struct.error, zlib.error, ... from malformed files
        raise DataError(
            f"{path}: cannot read the image data ({type(exc).__name__}: {one_line(exc)}); the file may be corrupt"
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

    voxel_size, unit = voxel_size_for(axes, sizes)
    return Volume(data=data, voxel_size=voxel_size, unit=unit, axes=axes, path=path)


def plan_axes(
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
        raise UsageError(
            f"{path}: has only 1 channel, so channel {channel} does not exist; use 0",
            kind=KIND_INVALID_VALUE,
            option="channel",
        )
    if "T" in kept_axes:
        picks["T"] = _pick(path, timepoint, dict(kept)["T"], "timepoint", described)
    elif timepoint is not None and timepoint != 0:
        raise UsageError(
            f"{path}: has only 1 timepoint, so timepoint {timepoint} does not exist; use 0",
            kind=KIND_INVALID_VALUE,
            option="timepoint",
        )

    rest = [a for a, _ in kept if a not in picks]
    others = [a for a in rest if a not in "ZYX"]
    result = "".join(rest)
    if len(others) == 1 and "Z" not in rest and others[0] in _UNKNOWN_AXES and rest[0] == others[0]:
        result = "Z" + result[1:]  # leading unknown axis of a stack: treat as Z
    if result not in ("YX", "ZYX"):
        raise UsageError(
            f"{path}: cannot handle axes {kept_axes} ({described}); only 2D (YX) or 3D (ZYX) images, "
            "optionally with channels or time points (pick one of each), are supported"
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
        raise UsageError(
            f"{path}: has {n} {what}s ({described})",
            kind=KIND_CHOICE_NEEDED,
            option=what,
            hint=f"choose one {what} (0 to {n - 1})",
        )
    if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) or not 0 <= choice < n:
        raise UsageError(
            f"{path}: {what} {choice} is out of range; the file has {n} {what}s (0 to {n - 1})",
            kind=KIND_INVALID_VALUE,
            option=what,
        )
    return int(choice)


def voxel_size_for(
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
    if all(u in UNIT_IN_UM for u in units):  # mixed known units: express all in µm
        return tuple(tidy(v * UNIT_IN_UM[u]) for v, u in found if u is not None), MICRON
    return None, None


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
def tifffile_errors() -> Iterator[list[str]]:
    """Capture tifffile's warnings (it logs, rather than raises, on truncated page chains)."""
    handler = _Collect()
    log = logging.getLogger("tifffile")
    log.addHandler(handler)
    try:
        yield handler.messages
    finally:
        log.removeHandler(handler)


def check_not_truncated(path: Path, tif: tifffile.TiffFile, series: Any, logged: list[str]) -> None:
    """Raise DataError if tifffile reported a broken page chain or data lie beyond the end of file."""
    for message in logged:
        if any(fragment in message for fragment in _CORRUPT_LOG):
            detail = one_line(re.sub(r"<[^>]*>\s*", "", message))
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


#: TIFF compressions tifffile decodes without imagecodecs: none, Deflate (zlib), LZMA.
_BUILTIN_CODECS = {1, 8, 32946, 34925}


def check_codec(path: Path, tif: tifffile.TiffFile) -> None:
    """Refuse, before reading, a compression that needs a package which is not installed (naming it)."""
    from importlib.util import find_spec

    try:
        compression = int(tif.pages.first.compression)
    except Exception:
        return
    if compression in _BUILTIN_CODECS or find_spec("imagecodecs") is not None:
        return
    try:
        name = tifffile.TIFF.COMPRESSION(compression).name
    except ValueError:
        name = f"code {compression}"
    if name == "ZSTD" and find_spec("compression") is not None:  # Python 3.14's compression.zstd
        return
    raise DataError(
        f"{path}: is compressed with {name}, which needs the 'imagecodecs' package; install it "
        "(pip install imagecodecs) or save the file uncompressed",
        kind=KIND_MISSING_PACKAGE,
    )


def _fmt_shape(shape: Sequence[int]) -> str:
    return "x".join(str(int(n)) for n in shape)


# --------------------------------------------------------------------------------------------- writing


def read_time_lapse(path: Path, channel: int | None) -> tuple[np.ndarray, tuple[float, ...] | None, str | None, str]:
    """A TIFF with a T axis as (T,Y,X) or (T,Z,Y,X), one channel picked, singleton axes dropped."""
    from .paths import check_input_file

    path = check_input_file(path)
    try:
        with tifffile_errors() as logged, tifffile.TiffFile(path) as tif:
            if not tif.series:
                raise DataError(f"{path}: contains no images; check that it is an image stack", kind=KIND_BAD_INPUT)
            series = tif.series[0]
            check_not_truncated(path, tif, series, logged)
            check_codec(path, tif)
            axes, shape = series.axes.upper(), tuple(int(n) for n in series.shape)
            sizes = physical_sizes(tif, series)
            data = np.asarray(series.asarray())
            check_not_truncated(path, tif, series, logged)
    except DataError:
        raise
    except Exception as exc:  # corrupt or foreign files: one line
        raise DataError(f"{path}: not a readable TIFF file ({one_line(exc)})") from None
    index: list[Any] = []
    kept = ""
    for a, n in zip(axes, shape, strict=True):
        if a in "CS" and n > 1:
            if channel is None:
                raise UsageError(
                    f"{path}: has {n} channels",
                    kind=KIND_CHOICE_NEEDED,
                    option="channel",
                    hint=f"choose one channel (0 to {n - 1})",
                )
            if not 0 <= channel < n:
                raise UsageError(
                    f"{path}: channel {channel} is out of range; the file has {n} channels",
                    kind=KIND_INVALID_VALUE,
                    option="channel",
                )
            index.append(channel)
        elif n == 1 and a not in "YX":
            index.append(0)
        else:
            index.append(slice(None))
            kept += a
    if kept not in ("TYX", "TZYX"):
        raise DataError(
            f"{path}: has axes {kept} but TiS needs a time axis (TYX or TZYX); denoise z-stacks in SiS mode"
        )
    spatial = kept[1:]
    found = [sizes.get(a) for a in spatial]
    voxel = None
    unit = None
    if all(f is not None for f in found):
        voxel = tuple(float(f[0]) for f in found if f is not None)
        unit = next((f[1] for f in found if f is not None), None)
    return np.ascontiguousarray(data[tuple(index)]), voxel, unit, kept
