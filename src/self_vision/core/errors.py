"""Errors the user can act on.

Each carries a one-line message (what was wrong, where, what to do). The CLI prints it without a
traceback and exits with :attr:`exit_code` (2 for usage errors, 1 for data errors); the napari widget
shows it as a notification.
"""

from __future__ import annotations


class SelfVisionError(Exception):
    """Base class of the errors meant for the user; ``str(err)`` is a complete one-line message."""

    exit_code = 1


class UsageError(SelfVisionError):
    """The request itself is wrong (bad factor, unknown device, existing output without overwrite)."""

    exit_code = 2


class DataError(SelfVisionError):
    """The data cannot be processed (unreadable file, NaN voxels, constant volume, too small)."""

    exit_code = 1


class DeviceError(UsageError):
    """The requested compute device is not available on this machine."""


class CancelledError(SelfVisionError):
    """The run was cancelled by the user."""

    exit_code = 1


def one_line(exc: BaseException | str) -> str:
    """An exception message on one line, not too long."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
