"""Screenshots of the dock itself: the whole window at 1366×768 (a laptop screen, Advanced open) and SIM mode on
the shared raw microtubules (widefield, SIM and rDL-SIM side by side, the estimated pattern in the dock).

Run from the repository root under a (virtual) X display::

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python docs/images/make_dock_screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import napari

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_screenshots import shot, wait, wait_until

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT.parent / "shared" / "data" / "sim" / "microtubules_raw_2dsim.mrc"


def laptop() -> None:
    """The dock at 1366×768 with Advanced open: it fits, the panels scroll."""
    viewer = napari.Viewer(title="napari — Self-Vision at 1366×768")
    viewer.window._qt_window.resize(1366, 768)
    viewer.open_sample("napari-self-vision", "undersampled_neurons")
    _, widget = viewer.window.add_plugin_dock_widget("napari-self-vision", "Enhance resolution")
    widget.restore_defaults()  # the dock persists its settings: start from the defaults a new user sees
    widget.advanced.toggle.setChecked(True)
    viewer.reset_view()
    wait(1)
    shot(viewer, "dock_1366x768.png")
    viewer.close()


def sim() -> None:
    """SIM mode on the real raw frames: Wiener and rDL (Fast), the three results side by side."""
    from self_vision.core.sim.read import read_raw_sim

    raw = read_raw_sim(RAW)
    viewer = napari.Viewer(title="napari — Self-Vision SIM")
    viewer.window._qt_window.resize(1600, 900)
    pixel = raw.pixel_size_um or 0.0626
    viewer.add_image(raw.data, name="microtubules raw", scale=(1, pixel, pixel), units=("pixel", "µm", "µm"))
    _, widget = viewer.window.add_plugin_dock_widget("napari-self-vision", "Enhance resolution")
    widget.restore_defaults()
    widget.settings.mode = "sim"
    widget.settings.sim_denoise = "rdl"
    widget.settings.preset = "Fast"
    outcome: list[str] = []
    widget.run_finished.connect(outcome.append)
    widget.start()
    wait_until(lambda: outcome, timeout=600)
    assert outcome == ["done"], widget.status.text()
    widget.toggle_side_by_side()
    wait(1)
    shot(viewer, "dock_sim.png")
    print(widget.sim_pattern_label.text())
    widget.restore_defaults()  # leave no SIM settings behind for the next napari session
    viewer.close()


if __name__ == "__main__":
    laptop()
    sim()
