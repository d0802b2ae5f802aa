"""The plugin's entry points import fast: no torch (or the core pipeline) at module level."""

from __future__ import annotations

import subprocess
import sys


def test_entry_point_modules_do_not_import_torch():
    modules = ", ".join(f"self_vision._napari.{m}" for m in ("widget", "worker", "reader", "writer", "sample_data"))
    code = f"import sys, {modules}; print('torch' in sys.modules, 'self_vision.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
