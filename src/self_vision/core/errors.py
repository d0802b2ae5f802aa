"""Errors the user can act on.

Each carries a one-line message (what was wrong, where, what to do) in neutral words: the core never names a
command-line flag or a dock control. A machine-readable :attr:`~SelfVisionError.kind` (one of the ``KIND_*``
names below) and :attr:`~SelfVisionError.option` (the setting concerned, by its API name, e.g. ``"overwrite"``,
``"device"``, ``"time_budget"``) let each face say what to do in its own terms: the CLI maps them to its flags
(``--overwrite``, ``--device cpu``), the dock to its controls. ``str(err)`` is the neutral message (with the
neutral :attr:`~SelfVisionError.hint`); :attr:`~SelfVisionError.message` is the part before the hint.

The CLI prints the message without a traceback and exits with :attr:`exit_code` (2 for usage errors, 1 for
data errors); the napari widget shows it as a notification.
"""

from __future__ import annotations

#: An output exists and replacing it was not allowed (option ``overwrite``).
KIND_OUTPUT_EXISTS = "output exists"
#: Two paths of one run are the same file (an output on an input, or two outputs on each other).
KIND_PATH_COLLISION = "path collision"
#: An output path cannot be written (folder missing, not writable, a folder where a file goes, wrong extension).
KIND_OUTPUT_PATH = "output path"
#: A number, extension, voxel size or other setting is out of range or malformed (``option`` names it).
KIND_INVALID_VALUE = "invalid value"
#: The requested compute device is not there (option ``device``).
KIND_DEVICE_UNAVAILABLE = "device unavailable"
#: A block-wise output's interrupted run is in the way (options ``resume`` / ``overwrite``).
KIND_PARTIAL_EXISTS = "partial output exists"
#: A partial output was started for another input or other settings (option ``resume``).
KIND_RESUME_MISMATCH = "resume mismatch"
#: Another run is writing the same output (a live lock file).
KIND_OUTPUT_LOCKED = "output locked"
#: A file is missing, unreadable, truncated, of the wrong kind, or not a regular file.
KIND_BAD_INPUT = "bad input"
#: A model file is damaged, of another kind, or sets sizes beyond the limits.
KIND_BAD_MODEL = "bad model file"
#: Metadata (OME-Zarr multiscales, OME/ImageJ calibration) is malformed.
KIND_BAD_METADATA = "bad metadata"
#: A file needs an optional package that is not installed (e.g. imagecodecs for zstd TIFF).
KIND_MISSING_PACKAGE = "missing package"
#: A wait ran past its time limit (e.g. a dask scheduler that does not answer).
KIND_TIMEOUT = "timeout"
#: A choice the file needs was not made (which channel / time point: ``option``).
KIND_CHOICE_NEEDED = "choice needed"
#: The run was cancelled; a block-wise one can be resumed (option ``resume``).
KIND_CANCELLED = "cancelled"


class SelfVisionError(Exception):
    """Base class of the errors meant for the user; ``str(err)`` is a complete one-line message."""

    exit_code = 1

    def __init__(self, message: str = "", *, kind: str | None = None, option: str | None = None, hint: str = ""):
        self.message = message
        self.kind = kind
        self.option = option
        self.hint = hint
        super().__init__(f"{message}; {hint}" if hint else message)


class UsageError(SelfVisionError):
    """The request itself is wrong (bad factor, unknown device, existing output without overwrite)."""

    exit_code = 2


class DataError(SelfVisionError):
    """The data cannot be processed (unreadable file, NaN voxels, constant volume, too small)."""

    exit_code = 1


class DeviceError(UsageError):
    """The requested compute device is not available on this machine."""

    def __init__(self, message: str = "", *, kind: str | None = KIND_DEVICE_UNAVAILABLE, option="device", hint=""):
        super().__init__(message, kind=kind, option=option, hint=hint)


class CancelledError(SelfVisionError):
    """The run was cancelled by the user."""

    exit_code = 1


def output_exists(path: object) -> UsageError:
    """The one error for an output that exists when replacing it was not allowed."""
    return UsageError(
        f"{path}: exists", kind=KIND_OUTPUT_EXISTS, option="overwrite", hint="allow overwriting or choose another name"
    )


def invalid(label: str, value: object, what: str, option: str | None = None) -> UsageError:
    """A setting out of range: ``"{label} {value}: {what}"`` (``label`` is the face's name for it)."""
    shown = value if isinstance(value, str) else repr(value)
    return UsageError(f"{label} {shown}: {what}", kind=KIND_INVALID_VALUE, option=option or label.lstrip("-"))


def one_line(exc: BaseException | str) -> str:
    """An exception message on one line, not too long."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
