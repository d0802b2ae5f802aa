"""Fixtures for the napari tests. Those that build Qt widgets or a viewer (they use ``qtbot``,
``make_napari_viewer`` or a fixture built on them) need pytest-qt and a display (run them under ``xvfb-run -a``)
and are skipped without one; the Qt-free tests here (worker, layers, reader/writer, imports) always run."""

from __future__ import annotations

import os

import numpy as np
import pytest

#: Fixtures that need a Qt display.
QT_FIXTURES = {"qtbot", "make_napari_viewer", "widget_and_viewer", "image_layer"}
HAS_DISPLAY = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that need Qt as ``qt``; skip them when there is no display."""
    skip = pytest.mark.skip(reason="needs a display: run under `xvfb-run -a`")
    for item in items:
        if QT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.qt)
            if not HAS_DISPLAY:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory, monkeypatch):
    """Each test keeps the dock's settings (QSettings) in its own folder: no test sees another's, or the user's."""
    folder = tmp_path_factory.mktemp("qsettings")
    try:
        from qtpy.QtCore import QSettings
    except ImportError:  # no Qt: nothing persists
        yield folder
        return
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


#: Voxel size (Z, Y, X) and placement of the test layer.
SCALE = (2.0, 0.5, 0.5)
TRANSLATE = (1.0, 2.0, 3.0)


@pytest.fixture
def widget_and_viewer(make_napari_viewer):
    """A viewer with the dock built from the manifest, as a user opens it from the Plugins menu."""
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-self-vision", "Enhance resolution")
    yield widget, viewer, dock
    widget.cancel()


@pytest.fixture
def image_layer(widget_and_viewer, small_volume: np.ndarray):
    """The small test volume as a calibrated, translated image layer with its own look."""
    _, viewer, _ = widget_and_viewer
    return viewer.add_image(
        small_volume,
        name="cells",
        scale=SCALE,
        translate=TRANSLATE,
        units=("micrometer",) * 3,
        axis_labels=("z", "y", "x"),
        colormap="viridis",
        contrast_limits=(0.05, 0.8),
    )


@pytest.fixture
def quick():
    """Sets the widget up for a short run: a few steps (0: the preset's time budget), few back-projection rounds."""

    def setup(widget, steps: int = 10, axial: int = 1, lateral: int = 2) -> None:
        widget.steps_spin.setValue(steps)
        widget.backproj_spin.setValue(2)
        widget.seed_spin.setValue(0)
        widget.axial_spin.setValue(axial)
        widget.lateral_spin.setValue(lateral)

    return setup
