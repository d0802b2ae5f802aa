"""The dock widget: built from the manifest, follows layers, runs in the background, adds an aligned result."""

from __future__ import annotations

import time

import numpy as np
import pytest

from self_vision._napari import widget as widget_module
from self_vision._napari.widget import EnhanceWidget
from self_vision._napari.writer import write_image
from self_vision.core.provenance import RECORD_KEY, read_record

pytestmark = pytest.mark.qt

SCALE = (2.0, 0.5, 0.5)  # as the image_layer fixture
TRANSLATE = (1.0, 2.0, 3.0)


def test_widget_builds_from_the_manifest_and_is_in_the_filter_menu(widget_and_viewer):
    from napari._app_model import get_app_model

    widget, _, _ = widget_and_viewer
    assert isinstance(widget, EnhanceWidget)
    assert widget.device_box.itemData(0) == "auto"
    assert "cpu" in [widget.device_box.itemData(i) for i in range(widget.device_box.count())]
    items = get_app_model().menus.get_menu("napari/layers/filter")
    ids = [getattr(getattr(item, "command", None), "id", "") for item in items]
    assert any("napari-self-vision" in i for i in ids), ids


def test_picker_offers_grey_images_only_and_suggests_factors(widget_and_viewer, image_layer):
    widget, viewer, _ = widget_and_viewer
    viewer.add_labels(np.zeros((8, 48, 48), np.uint8), name="labels")
    viewer.add_image(np.zeros((32, 32, 3), np.uint8), name="photo", rgb=True)
    viewer.add_points(np.zeros((2, 3)), name="points")
    names = [widget.layer_box.itemText(i) for i in range(widget.layer_box.count())]
    assert names == ["cells"]
    # lateral 2 -> 0.25 µm; z at 2 µm would need 8x to be near-isotropic: capped at 4
    assert (widget.axial_spin.value(), widget.lateral_spin.value()) == (4, 2)
    image_layer.name = "renamed"
    assert widget.layer_box.itemText(0) == "renamed"


def test_unsupported_layer_gives_a_message(widget_and_viewer, monkeypatch):
    widget, viewer, _ = widget_and_viewer
    shown: list[str] = []
    monkeypatch.setattr(widget_module, "show_error", shown.append)
    viewer.add_labels(np.zeros((8, 48, 48), np.uint8), name="nuclei")
    assert widget.layer_box.count() == 0
    assert widget.start() is False
    assert widget._worker is None
    assert shown
    assert "Labels layer" in shown[0]
    assert "Image layers only" in widget.status.text()


def test_run_adds_an_aligned_result_and_leaves_the_input_alone(widget_and_viewer, image_layer, qtbot, tmp_path, quick):
    widget, viewer, _ = widget_and_viewer
    before = image_layer.data.copy()
    quick(widget)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000) as done:
        assert widget.start()
        assert widget.start_button.text() == "Cancel"
    assert done.args == ["done"], widget.status.text()
    assert widget.start_button.text() == "Start"
    result = viewer.layers["cells ×1×2×2"]
    assert result.data.shape == (8, 96, 96)
    np.testing.assert_allclose(result.scale, (2.0, 0.25, 0.25))
    expected = [t - s * (f - 1) / (2 * f) for t, s, f in zip(TRANSLATE, SCALE, (1, 2, 2), strict=True)]
    np.testing.assert_allclose(result.translate, expected)
    assert result.colormap.name == image_layer.colormap.name
    assert tuple(result.contrast_limits) == pytest.approx((0.05, 0.8))
    assert tuple(map(str, result.units)) == ("micrometer",) * 3
    assert tuple(result.axis_labels) == ("z", "y", "x")
    np.testing.assert_array_equal(image_layer.data, before)
    assert widget.plot.points("lateral") or widget.plot.points("3d")
    # the run record travels with the layer and into a file saved with the plugin's writer, as the CLI's outputs
    record = result.metadata[RECORD_KEY]
    assert record["seed"] == 0 and record["exact_steps"] is True and record["settings"]["steps"] == 10
    saved = write_image(str(tmp_path / "saved.tif"), result.data, result.as_layer_data_tuple()[1])
    assert read_record(saved[0]) == record

    # the trained model is saved, then applied to another layer without training
    path = widget.save_model(str(tmp_path / "model.pt"))
    assert path is not None
    other = viewer.add_image(image_layer.data[:, :32, :32].copy(), name="other", scale=SCALE)
    widget.select_layer(other)
    with qtbot.waitSignal(widget.run_finished, timeout=30_000) as done:
        assert widget.load_model(path), widget.status.text()
    assert done.args == ["done"], widget.status.text()
    assert viewer.layers["other ×1×2×2"].data.shape == (8, 64, 64)


def test_rerun_replaces_the_previous_result(widget_and_viewer, image_layer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    quick(widget, steps=3)
    for _ in range(2):
        with qtbot.waitSignal(widget.run_finished, timeout=60_000):
            widget.start()
    assert [layer.name for layer in viewer.layers] == ["cells", "cells ×1×2×2"]


def test_cancel_stops_within_two_seconds_and_adds_nothing(widget_and_viewer, image_layer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    quick(widget, steps=0)  # the quality preset's time budget: far longer than the test
    widget.start()
    qtbot.waitUntil(lambda: "step" in widget.progress_bar.format(), timeout=20_000)
    start = time.perf_counter()
    with qtbot.waitSignal(widget.run_finished, timeout=2_000) as done:
        widget.start_button.click()  # the Start button is Cancel while running
    assert time.perf_counter() - start < 2.0
    assert done.args == ["cancelled"]
    assert [layer.name for layer in viewer.layers] == ["cells"]
    assert widget.start_button.text() == "Start"
    assert "cancelled" in widget.status.text()


def test_closing_the_dock_cancels_the_run(widget_and_viewer, image_layer, qtbot, quick):
    widget, viewer, dock = widget_and_viewer
    quick(widget, steps=0)
    widget.start()
    qtbot.waitUntil(lambda: "step" in widget.progress_bar.format(), timeout=20_000)
    with qtbot.waitSignal(widget.run_finished, timeout=2_000) as done:
        viewer.window.remove_dock_widget(dock)
    assert done.args == ["cancelled"]
    assert len(viewer.layers) == 1


def test_errors_are_notified_and_the_widget_returns_to_idle(widget_and_viewer, qtbot, monkeypatch, quick):
    widget, viewer, _ = widget_and_viewer
    shown: list[str] = []
    monkeypatch.setattr(widget_module, "show_error", shown.append)
    viewer.add_image(np.ones((8, 48, 48), np.float32), name="flat")  # constant: nothing to learn
    quick(widget)
    with qtbot.waitSignal(widget.run_finished, timeout=10_000) as done:
        widget.start()
    assert done.args == ["error"]
    assert shown
    assert "constant" in shown[0]
    assert "\n" not in shown[0]
    assert widget.start_button.text() == "Start"
    assert widget.layer_box.isEnabled()


def test_loading_a_file_that_is_no_model_says_so(widget_and_viewer, image_layer, tmp_path, monkeypatch):
    widget, _, _ = widget_and_viewer
    shown: list[str] = []
    monkeypatch.setattr(widget_module, "show_error", shown.append)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a model")
    assert widget.load_model(str(junk)) is False
    assert "not a napari-self-vision model" in shown[0]


def test_four_d_layer_runs_on_the_current_volume(widget_and_viewer, small_volume, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    movie = np.stack([small_volume, small_volume[::-1]])
    viewer.add_image(movie, name="movie", scale=(1.0, *SCALE))
    viewer.dims.set_current_step(0, 1)
    quick(widget, steps=3)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000) as done:
        widget.start()
    assert done.args == ["done"], widget.status.text()
    result = viewer.layers["movie ×1×2×2"]
    assert result.data.shape == (8, 96, 96)
    assert result.metadata["self_vision_result"]["index"] == (1,)


def test_tile_size_defaults_to_the_cores(widget_and_viewer):
    from self_vision.defaults import MAX_TILE_OUTPUT as DEFAULT_MAX_TILE_OUTPUT

    widget = widget_and_viewer[0]
    assert widget.tile_spin.value() * 2**20 == DEFAULT_MAX_TILE_OUTPUT
