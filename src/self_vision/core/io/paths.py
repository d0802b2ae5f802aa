"""One path-resolution step before any work: every path a run reads and writes, checked against every other.

:func:`resolve_paths` expands ``~``, resolves links and compares each output (result, model, uncertainty map,
a block-wise run's ``.partial`` / ``.old`` folders and lock) with every other output and with every input, by
name and by file identity (a hard link or a symlink to the same file is the same file), and by containment
(an output inside an input folder, or an input inside an output folder, would be overwritten with it). A
collision is a one-line :class:`UsageError` of kind ``path collision`` whatever ``overwrite`` says: an input
is never a valid output target.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import KIND_BAD_INPUT, KIND_OUTPUT_PATH, KIND_PATH_COLLISION, DataError, UsageError


def expand(path: str | os.PathLike[str]) -> Path:
    """``~`` expanded, made absolute and resolved (links followed) without requiring the path to exist."""
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(inner: Path, outer: Path) -> bool:
    return outer in inner.parents


def _clash(a: Path, b: Path) -> bool:
    return _same_file(a, b) or _inside(a, b) or _inside(b, a)


def resolve_paths(
    inputs: Mapping[str, str | os.PathLike[str] | None],
    outputs: Mapping[str, str | os.PathLike[str] | None],
    extra_outputs: Mapping[str, Iterable[str | os.PathLike[str]]] | None = None,
) -> dict[str, Path]:
    """Resolve every path of a run and refuse any collision; returns ``label -> resolved path``.

    ``inputs`` / ``outputs`` map the face's label for each path (``"input"``, ``"-o"``, ``"save_model"``…) to the
    path, or None when unused. ``extra_outputs`` lists, per output label, the other paths writing it touches
    (e.g. ``OUT.partial``): they must not collide with anything either, but are reported under their owner.
    """
    resolved_in = {label: expand(p) for label, p in inputs.items() if p is not None}
    resolved_out = {label: expand(p) for label, p in outputs.items() if p is not None}
    written: list[tuple[str, Path, Path]] = [(label, path, path) for label, path in resolved_out.items()]
    for label, paths in (extra_outputs or {}).items():
        written += [(label, expand(p), resolved_out.get(label, expand(p))) for p in paths]
    for label, path, shown in written:
        for in_label, source in resolved_in.items():
            if _clash(path, source):
                raise UsageError(
                    f"{label} {shown}: is (or holds, or lies inside) the {in_label} {source}; an input is never "
                    "overwritten, choose another output path",
                    kind=KIND_PATH_COLLISION,
                    option=label,
                )
    for i, (label, path, shown) in enumerate(written):
        for other_label, other, other_shown in written[i + 1 :]:
            if other_label != label and _clash(path, other):
                raise UsageError(
                    f"{label} {shown} and {other_label} {other_shown}: are the same path (or one holds the other); "
                    "give each output its own path",
                    kind=KIND_PATH_COLLISION,
                    option=other_label,
                )
    return {**resolved_in, **resolved_out}


def check_extension(path: str | os.PathLike[str], allowed: Iterable[str], label: str = "output") -> Path:
    """Refuse an output whose name does not end with one of ``allowed`` (e.g. ``.tif``), naming them."""
    allowed = tuple(allowed)
    target = Path(path)
    if not target.name.lower().endswith(tuple(a.lower() for a in allowed)):
        shown = target.suffix or "no extension"
        raise UsageError(
            f"{label} {target}: {shown} is not a format this writes; give a name ending {', '.join(allowed)}",
            kind=KIND_OUTPUT_PATH,
            option=label,
        )
    return target


def check_input_file(path: str | os.PathLike[str], label: str = "input", folders: bool = False) -> Path:
    """An input that exists and is a regular file (or, with ``folders``, a folder): a FIFO, socket or device
    is refused before it is opened (opening a FIFO would wait for a writer forever)."""
    source = Path(path).expanduser()
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise DataError(f"{source}: no such file or folder; check the path", kind=KIND_BAD_INPUT) from None
    except OSError as exc:
        raise DataError(f"{source}: cannot be read ({exc.strerror})", kind=KIND_BAD_INPUT) from None
    if stat.S_ISDIR(mode):
        if folders:
            return source
        raise DataError(f"{source}: is a folder, not a file; give the path of a file", kind=KIND_BAD_INPUT)
    if not stat.S_ISREG(mode):
        what = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "not a regular file (a socket or device)"
        raise DataError(f"{source}: is {what}; give a regular file", kind=KIND_BAD_INPUT, option=label)
    return source
