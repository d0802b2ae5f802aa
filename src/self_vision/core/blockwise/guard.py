"""What keeps a block-wise output safe: an input fingerprint checked on resume, and one writer at a time.

* :func:`fingerprint` records the input (its path, size and modification time, its shape and dtype, and a hash
  of a sample of its voxels); :func:`check_resume` refuses to continue a partial output with another input, or
  with settings that shape the output differently (factor, chunks, block size, ensemble, precision, SiS
  inference, an explicitly given model).
* :class:`OutputLock` is an exclusive lock file next to the output (``NAME.lock``, holding the pid and host of
  its writer): a second run on the same output is refused with a one-line error. A lock whose process is gone
  (same host), or older than :data:`defaults.LOCK_STALE_SECONDS` (another host), is stale and taken over.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

from ... import defaults
from ..errors import KIND_OUTPUT_LOCKED, KIND_OUTPUT_PATH, KIND_RESUME_MISMATCH, UsageError

LOCK_SUFFIX = ".lock"


def lock_path(final: Path) -> Path:
    return final.with_name(final.name + LOCK_SUFFIX)


def _sample_regions(shape: tuple[int, ...], edge: int = 24) -> list[tuple[slice, ...]]:
    """Up to nine small regions spread over the volume (corners and centre of each axis)."""
    regions = []
    for where in (0.0, 0.5, 1.0):
        for lateral in (0.0, 0.5, 1.0):
            starts = [round(where * (n - min(n, edge))) for n in shape[:-2]]
            starts += [round(lateral * (n - min(n, edge))) for n in shape[-2:]]
            regions.append(tuple(slice(s, s + min(n, edge)) for s, n in zip(starts, shape, strict=True)))
    unique: dict[str, tuple[slice, ...]] = {repr(r): r for r in regions}
    return list(unique.values())


def fingerprint(volume: Any) -> dict[str, Any]:
    """What identifies a block-wise run's input: path, size, mtime (files), shape, dtype, a hash of a sample."""
    digest = hashlib.sha256()
    for region in _sample_regions(volume.shape):
        digest.update(np.ascontiguousarray(volume.read(region)).tobytes())
    found: dict[str, Any] = {
        "shape": list(volume.shape),
        "dtype": str(np.dtype(volume.data.dtype)),
        "sample_sha256": digest.hexdigest(),
    }
    spec = getattr(volume, "spec", None)
    if spec is not None:
        path = Path(spec.path)
        found.update(path=str(path.resolve()), channel=spec.channel, timepoint=spec.timepoint)
        try:
            info = path.stat()
        except OSError:
            info = None
        if info is not None and path.is_file():
            found.update(size=info.st_size, mtime_ns=info.st_mtime_ns)
    return found


_WHAT = {
    "path": "input path",
    "size": "input size",
    "mtime_ns": "input modification time",
    "sample_sha256": "input voxels",
    "shape": "input shape",
    "dtype": "input data type",
    "channel": "channel",
    "timepoint": "time point",
}


def check_resume(store_path: Path, run: dict[str, Any], current: dict[str, Any], settings: dict[str, Any]) -> None:
    """Refuse to resume ``run`` (a partial output's record) for another input or other output-shaping settings.

    ``settings``: this run's values; a None means "not given" for ``chunks`` / ``block_output`` / ``model`` (the
    recorded ones then hold) and is compared like any value otherwise.
    """

    def refuse(what: str) -> UsageError:
        return UsageError(
            f"{store_path}: was started {what}; resuming would mix two runs in one output",
            kind=KIND_RESUME_MISMATCH,
            option="resume",
            hint="resume with the same input and settings, or start again (overwrite, or delete it)",
        )

    recorded = run.get("fingerprint")
    if not isinstance(recorded, dict):
        raise refuse("without an input fingerprint (by an older version, or its record is damaged)")
    for key, label in _WHAT.items():
        if recorded.get(key) != current.get(key):
            raise refuse(f"for another input ({label} differs: {recorded.get(key)!r} then, {current.get(key)!r} now)")
    before = run.get("settings") or {}
    for key, value in settings.items():
        if key in ("chunks", "block_output", "model") and value is None:
            continue
        if before.get(key) != value:
            raise refuse(f"with {key} {before.get(key)!r}, not {value!r}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class OutputLock:
    """An exclusive lock file for one output; use as a context manager (released on exit, even on error)."""

    def __init__(self, final: Path) -> None:
        self.path = lock_path(final)
        self.held = False

    def _stale(self) -> bool:
        try:
            info = json.loads(self.path.read_text())
            pid, host = int(info["pid"]), str(info["host"])
        except (OSError, ValueError, KeyError, TypeError):
            try:
                return time.time() - self.path.stat().st_mtime > 60  # unreadable: stale once a minute old
            except OSError:
                return True
        if host == socket.gethostname():
            return pid != os.getpid() and not _alive(pid)
        try:
            return time.time() - self.path.stat().st_mtime > defaults.LOCK_STALE_SECONDS
        except OSError:
            return True

    def acquire(self) -> OutputLock:
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                raise UsageError(
                    f"{self.path}: another run is writing this output (its lock file names the writer)",
                    kind=KIND_OUTPUT_LOCKED,
                    option="output",
                    hint="wait for it to finish, or delete the lock file if no run is left",
                ) from None
            except OSError as exc:  # a folder that is not writable, a read-only or full file system
                raise UsageError(
                    f"{self.path}: cannot create the output's lock file ({exc.strerror or exc}); "
                    "choose a writable output folder",
                    kind=KIND_OUTPUT_PATH,
                    option="output",
                ) from None
            with os.fdopen(fd, "w") as handle:
                handle.write(record)
            self.held = True
            return self
        raise UsageError(f"{self.path}: cannot take the output's lock file", kind=KIND_OUTPUT_LOCKED)

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def model_digest(model: Any) -> str | None:
    """A short digest of a model's tensors and settings (None for no model)."""
    if model is None:
        return None
    from .distributed import model_key
    from .models import block_model_state

    return model_key(block_model_state(model))
