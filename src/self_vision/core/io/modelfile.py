"""Saved models: one atomic ``torch.save`` writer and one checked reader, for enhancers and denoisers alike.

A model file is a dict of plain tensors and settings tagged with its ``format``; it is read with
``weights_only=True`` (no code runs). What the payload's sizes may be is checked by its owner
(:meth:`Enhancer.from_dict`, :func:`denoiser_from_dict`) before any network is built.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import KIND_BAD_MODEL, KIND_INVALID_VALUE, KIND_OUTPUT_PATH, DataError, UsageError, one_line

#: Tag of a saved enhancement model.
MODEL_FORMAT = "napari-self-vision model"
#: Tag of a saved denoiser.
DENOISER_FORMAT = "napari-self-vision-denoiser/1"
#: format -> (the word for it, what to do with it instead)
_KIND = {
    MODEL_FORMAT: ("model", "it is an enhancement model: use it with enhance/apply"),
    DENOISER_FORMAT: ("denoiser", "it is a denoiser: use it with denoise"),
}


def save_payload(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` (plain tensors and settings) to ``path`` atomically; return the path written.

    The data go to a hidden temporary file in the same folder, renamed over ``path`` only once complete.
    """
    import torch

    from .writing import clean_leftovers

    if not isinstance(path, str | os.PathLike) or not str(path):
        raise UsageError(f"a model path must be a file name, not {path!r}", kind=KIND_INVALID_VALUE, option="path")
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise UsageError(
            f"{target}: folder {target.parent} does not exist; create it or choose another path", kind=KIND_OUTPUT_PATH
        )
    if target.is_dir():
        raise UsageError(f"{target}: is a folder; give a file name for the model", kind=KIND_OUTPUT_PATH)
    if target.exists() and not target.is_file():
        raise UsageError(f"{target}: is not a regular file; choose another path for the model", kind=KIND_OUTPUT_PATH)
    clean_leftovers(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # like any other new file, not mkstemp's 0600
    try:
        torch.save(payload, tmp)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError | RuntimeError):  # torch reports a full disk as a RuntimeError
            raise DataError(
                f"{target}: cannot write the model ({one_line(exc)}); check free disk space and that the folder "
                "is writable",
                kind=KIND_OUTPUT_PATH,
            ) from None
        raise
    return target


def read_payload(path: str | Path, expected: str) -> dict[str, Any]:
    """Read a model file written by :func:`save_payload` whose format is ``expected``.

    A missing file, a file of another kind (naming it when it is this product's other model kind) or an
    unreadable one is a one-line :class:`DataError`.
    """
    import torch

    from .modelcheck import check_denoiser_payload, check_enhancer_payload
    from .paths import check_input_file

    if not isinstance(path, str | os.PathLike) or not str(path):
        raise UsageError(
            f"a model path must be a file name, not {type(path).__name__} {path!r}",
            kind=KIND_INVALID_VALUE,
            option="path",
        )
    noun = _KIND[expected][0]
    source = Path(path).expanduser()
    if not source.exists():
        raise DataError(f"{source}: no such {noun} file", kind=KIND_BAD_MODEL)
    source = check_input_file(source, noun)
    try:
        data = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as err:
        raise DataError(
            f"{source}: not a napari-self-vision {noun} ({type(err).__name__})", kind=KIND_BAD_MODEL
        ) from None
    found = data.get("format") if isinstance(data, dict) else None
    if found != expected:
        hint = f" ({_KIND[found][1]})" if isinstance(found, str) and found in _KIND else ""
        raise DataError(f"{source}: not a napari-self-vision {noun} file{hint}", kind=KIND_BAD_MODEL)
    check = check_enhancer_payload if expected == MODEL_FORMAT else check_denoiser_payload
    return check(data, str(source))
