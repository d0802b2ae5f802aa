"""The dock's "Uncertainty layer" option: a second layer over the result, same grid, its own look."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def run_and_wait(widget, qtbot) -> None:
    with qtbot.waitSignal(widget.run_finished, timeout=60_000) as done:
        assert widget.start()
    assert done.args == ["done"], widget.status.text()


def test_uncertainty_layer_overlays_the_result(widget_and_viewer, image_layer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    quick(widget)
    widget.uncertainty_check.setChecked(True)
    assert widget.options().uncertainty
    run_and_wait(widget, qtbot)
    result = viewer.layers["cells ×1×2×2"]
    u = viewer.layers["cells ×1×2×2 uncertainty"]
    assert u.data.shape == result.data.shape == (8, 96, 96)
    np.testing.assert_allclose(u.scale, result.scale)
    np.testing.assert_allclose(u.translate, result.translate)
    assert tuple(map(str, u.units)) == tuple(map(str, result.units))
    assert u.colormap.name == "magma"
    assert u.contrast_limits[0] == 0 and u.contrast_limits[1] > 0
    assert np.isfinite(u.data).all() and u.data.min() >= 0
    assert u.metadata["self_vision_result"]["uncertainty"] is True
    assert "uncertainty" in widget.status.text()

    # a second run replaces it (the default), and unticked adds none
    run_and_wait(widget, qtbot)
    assert [layer.name for layer in viewer.layers].count("cells ×1×2×2 uncertainty") == 1
    viewer.layers.remove("cells ×1×2×2 uncertainty")
    widget.uncertainty_check.setChecked(False)
    run_and_wait(widget, qtbot)
    assert "cells ×1×2×2 uncertainty" not in viewer.layers


def test_uncertainty_is_offered_for_enhancing_only(widget_and_viewer, image_layer):
    widget, _, _ = widget_and_viewer
    widget.uncertainty_check.setChecked(True)
    assert widget.uncertainty_check.isEnabled()
    for label in ("Denoise", "Denoise + enhance"):
        widget.mode_box.setCurrentText(label)
        assert not widget.uncertainty_check.isEnabled()
        assert not widget.options().uncertainty
    widget.mode_box.setCurrentText("Enhance")
    assert widget.uncertainty_check.isEnabled() and widget.options().uncertainty


def test_every_volume_run_adds_the_uncertainty_of_the_trained_volume(widget_and_viewer, small_volume, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    viewer.add_image(np.stack([small_volume, small_volume[::-1]]), name="movie", scale=(1.0, 2.0, 0.5, 0.5))
    viewer.dims.set_point(0, 1.0)
    quick(widget)
    widget.all_volumes_check.setChecked(True)
    widget.uncertainty_check.setChecked(True)
    run_and_wait(widget, qtbot)
    assert viewer.layers["movie ×1×2×2"].data.shape == (2, 8, 96, 96)
    u = viewer.layers["movie ×1×2×2 uncertainty"]
    assert u.data.shape == (8, 96, 96)  # the volume the model was trained on (time point 1)
    assert u.metadata["self_vision_result"]["index"] == (1,)
    np.testing.assert_allclose(u.scale, (2.0, 0.25, 0.25))
