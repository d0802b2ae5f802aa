"""Helpers the tests share (importable as ``helpers``: pytest puts tests/ on the path)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from self_vision.cli import main
from self_vision.core.events import run_to_end


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """``self-vision ARGV`` in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    """The single stderr line of a failed run (checked: one line, our prefix, no traceback)."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {err!r}"
    assert lines[0].startswith("self-vision: error: ")
    return lines[0]


def drain(gen: Generator[Any, None, Any]) -> tuple[list[Any], Any]:
    """Run a core generator to its end: (every event it yielded, its result)."""
    events: list[Any] = []
    return events, run_to_end(gen, events.append)
