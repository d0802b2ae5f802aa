"""The dock's mode switch: Denoise (SiS, same grid) and Denoise + enhance run in the same worker machinery."""

from __future__ import annotations

import time

import numpy as np
import pytest

from self_vision._napari import widget as widget_module
from self_vision._napari.worker import RunRequest, run_events
from self_vision.core.degrade import add_poisson_gaussian
from self_vision.core.denoise.options import DenoiseOptions
from self_vision.core.denoise.result import DenoiseResult
from self_vision.core.events import CancelToken
from self_vision.core.sample import synthetic_neurons

pytestmark = pytest.mark.qt

SCALE = (1.0, 0.5, 0.5)
TRANSLATE = (1.0, 2.0, 3.0)


def noisy_volume() -> np.ndarray:
    clean = synthetic_neurons((8, 32, 32), seed=2)
    return add_poisson_gaussian(clean / clean.max(), 30.0, 0.02, np.random.default_rng(0))


@pytest.fixture
def noisy_layer(widget_and_viewer):
    _, viewer, _ = widget_and_viewer
    return viewer.add_image(noisy_volume(), name="noisy", scale=SCALE, translate=TRANSLATE, colormap="magma")


def run(widget, qtbot, timeout: int = 60_000) -> str:
    with qtbot.waitSignal(widget.run_finished, timeout=timeout) as done:
        assert widget.start()
        assert widget.start_button.text() == "Cancel"
    return done.args[0]


def test_denoise_mode_disables_the_factors_and_enables_gar(widget_and_viewer, noisy_layer):
    widget, _, _ = widget_and_viewer
    assert widget.mode() == "enhance"
    assert widget.lateral_spin.isEnabled() and widget.axial_spin.isEnabled()
    assert not widget.gar_spin.isEnabled() and not widget.fnsm_check.isEnabled()
    widget.mode_box.setCurrentText("Denoise")
    assert widget.mode() == "denoise"
    assert not widget.lateral_spin.isEnabled() and not widget.axial_spin.isEnabled()
    assert widget.gar_spin.isEnabled() and widget.fnsm_check.isEnabled()
    assert not widget.backproj_spin.isEnabled()
    widget.mode_box.setCurrentText("Denoise + enhance")
    assert widget.lateral_spin.isEnabled() and widget.gar_spin.isEnabled()
    widget.mode_box.setCurrentText("Enhance")
    assert widget.lateral_spin.isEnabled() and not widget.gar_spin.isEnabled()


def test_denoise_adds_a_layer_on_the_same_grid(widget_and_viewer, noisy_layer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    before = noisy_layer.data.copy()
    quick(widget, steps=5)
    widget.mode_box.setCurrentText("Denoise")
    widget.gar_spin.setValue(0.5)
    assert run(widget, qtbot) == "done", widget.status.text()
    result = viewer.layers["noisy denoised"]
    assert result.data.shape == noisy_layer.data.shape
    np.testing.assert_allclose(result.scale, SCALE)
    np.testing.assert_allclose(result.translate, TRANSLATE)
    assert result.colormap.name == "magma"
    assert result.metadata["self_vision_result"]["mode"] == "denoise"
    record = result.metadata["self_vision_run"]  # what made it, for the writer (core.provenance)
    assert record["task"] == "denoise" and record["steps_trained"] == {"sis": 5} and record["settings"]["gamma"] == 0.5
    assert widget.plot.points("sis")
    np.testing.assert_array_equal(noisy_layer.data, before)
    assert widget.model is None and not widget.save_button.isEnabled()  # a denoiser is no enhancer to save
    assert not widget.lateral_spin.isEnabled()  # still in Denoise mode after the run


def test_denoise_then_enhance_adds_the_enhanced_layer(widget_and_viewer, noisy_layer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    quick(widget, steps=5, axial=1, lateral=2)
    widget.mode_box.setCurrentText("Denoise + enhance")
    assert run(widget, qtbot) == "done", widget.status.text()
    result = viewer.layers["noisy denoised ×1×2×2"]
    assert result.data.shape == (8, 64, 64)
    np.testing.assert_allclose(result.scale, (1.0, 0.25, 0.25))
    assert widget.plot.points("sis")
    assert widget.model is not None  # the enhancer can be saved


def test_cancel_in_denoise_mode_adds_nothing(widget_and_viewer, noisy_layer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    quick(widget, steps=0)  # the preset's time budget: far longer than the test
    widget.mode_box.setCurrentText("Denoise")
    widget.start()
    qtbot.waitUntil(lambda: "step" in widget.progress_bar.format(), timeout=20_000)
    start = time.perf_counter()
    with qtbot.waitSignal(widget.run_finished, timeout=2_000) as done:
        widget.start_button.click()
    assert time.perf_counter() - start < 2.0
    assert done.args == ["cancelled"]
    assert [layer.name for layer in viewer.layers] == ["noisy"]


def test_denoise_on_a_2d_layer_says_sis_needs_a_stack(widget_and_viewer, qtbot, monkeypatch, quick):
    widget, viewer, _ = widget_and_viewer
    shown: list[str] = []
    monkeypatch.setattr(widget_module, "show_error", shown.append)
    viewer.add_image(noisy_volume()[0], name="plane")
    quick(widget, steps=2)
    widget.mode_box.setCurrentText("Denoise")
    assert run(widget, qtbot, timeout=10_000) == "error"
    assert shown and "3D (ZYX) stack" in shown[0]


def test_worker_runs_the_denoiser_without_qt():
    request = RunRequest(
        noisy_volume(), (1, 1, 1), SCALE, None, "cpu", mode="denoise", denoise_options=DenoiseOptions(steps=3)
    )
    gen = run_events(request, CancelToken())
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            result = stop.value
            break
    assert isinstance(result, DenoiseResult)
    assert result.data.shape == (8, 32, 32)
