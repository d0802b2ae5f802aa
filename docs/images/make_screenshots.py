"""Regenerate the screenshots of docs/usage.md from a real napari window.

Run from the repository root under a (virtual) X display::

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python docs/images/make_screenshots.py
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
import numpy as np
from PIL import Image
from qtpy.QtWidgets import QApplication

from self_vision._napari import compare

OUT = Path(__file__).resolve().parent
MAX_BYTES = 390_000


def wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait_until(check, timeout: float = 300.0) -> None:
    end = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > end:
            raise TimeoutError
        wait(0.05)


def shot(viewer: napari.Viewer, name: str) -> None:
    """Save the whole window as a PNG under MAX_BYTES (palette-quantised, then downscaled, if needed)."""
    wait(0.5)
    array = viewer.screenshot(canvas_only=False, flash=False)
    image = Image.fromarray(np.asarray(array)[..., :3])
    path = OUT / name
    image.save(path, optimize=True)
    if path.stat().st_size > MAX_BYTES:
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    while path.stat().st_size > MAX_BYTES:  # noisy images (raw SIM frames) stay large as a palette
        image = image.resize((image.width * 9 // 10, image.height * 9 // 10), Image.Resampling.LANCZOS)
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.name}: {path.stat().st_size // 1024} KB")


def main() -> None:
    viewer = napari.Viewer(title="napari — Self-Vision")
    viewer.window._qt_window.resize(1800, 900)
    viewer.open_sample("napari-self-vision", "reference_neurons")
    viewer.open_sample("napari-self-vision", "undersampled_neurons")
    reference, low = viewer.layers
    reference.visible = False
    viewer.layers.selection.active = low
    _, widget = viewer.window.add_plugin_dock_widget("napari-self-vision", "Enhance resolution")
    widget.restore_defaults()  # the dock persists its settings: start from the defaults a new user sees
    widget.preset_box.setCurrentText("Fast")
    widget.advanced.toggle.setChecked(True)
    viewer.dims.set_current_step(0, low.data.shape[0] // 2)
    viewer.reset_view()
    wait(1)

    outcome: list[str] = []
    widget.run_finished.connect(outcome.append)
    widget.start()
    wait_until(lambda: widget.progress_bar.value() > 0.45 * max(widget.progress_bar.maximum(), 1))
    shot(viewer, "dock_training.png")
    wait_until(lambda: outcome)
    assert outcome == ["done"], widget.status.text()

    result = widget.result_layer
    low.opacity = 1.0
    viewer.camera.zoom *= 2.2
    shot(viewer, "result_overlaid.png")
    widget.toggle_side_by_side()
    shot(viewer, "side_by_side.png")
    compare.show_plane(viewer, "XZ")
    shot(viewer, "axial_xz.png")
    print("result", result.name, result.data.shape, result.scale)
    viewer.close()


if __name__ == "__main__":
    main()
