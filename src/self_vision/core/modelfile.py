"""Saved models: one atomic ``torch.save`` for enhancers and denoisers alike."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import UsageError


def save_payload(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` (plain tensors and settings) to ``path`` atomically; return the path written.

    The data go to a hidden temporary file in the same folder, renamed over ``path`` only once complete.
    """
    import torch

    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise UsageError(f"{target}: folder {target.parent} does not exist; create it or choose another path")
    if target.is_dir():
        raise UsageError(f"{target}: is a folder; give a file name for the model")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # like any other new file, not mkstemp's 0600
    try:
        torch.save(payload, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
