"""SIM mode of the dock: a raw 9×Y×X (or T×9×Y×X) layer in, widefield / SIM / rDL-SIM layers out at half the
pixel, exactly aligned with the input; the pattern and warnings shown; options of other modes hidden."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision._napari import widget as widget_module
from self_vision._napari.request import build_request
from self_vision.core.sim.simulate import simulate_sim

pytestmark = pytest.mark.qt

PIXEL = 0.0626  # µm, the simulation's camera pixel
TRANSLATE = (5.0, 3.0)
SPOT = (20, 40)  # raw pixel of the added bright spot


@pytest.fixture(scope="module")
def raw_frames() -> np.ndarray:
    """Simulated raw 2D-SIM frames (9, 64, 64) plus an unmodulated bright spot at ``SPOT``."""
    frames = simulate_sim(64, 200.0, seed=1).raw.copy()
    yy, xx = np.mgrid[:64, :64]
    frames += 400 * np.exp(-((yy - SPOT[0]) ** 2 + (xx - SPOT[1]) ** 2) / 2.0).astype(np.float32)
    return frames


def _sim_layer(viewer, data, name="raw"):
    lead = data.ndim - 2
    return viewer.add_image(
        data,
        name=name,
        scale=(1.0,) * lead + (PIXEL, PIXEL),
        translate=(0.0,) * lead + TRANSLATE,
        units=("pixel",) * lead + ("micrometer", "micrometer"),
    )


def _run(widget, qtbot, timeout=60_000) -> str:
    with qtbot.waitSignal(widget.run_finished, timeout=timeout) as done:
        assert widget.start(), widget.status.text()
    return done.args[0]


def test_sim_mode_shows_its_options_and_hides_the_others(widget_and_viewer, raw_frames):
    widget, viewer, _ = widget_and_viewer
    _sim_layer(viewer, raw_frames)
    widget.advanced.toggle.setChecked(True)
    assert not widget.sim.isVisibleTo(widget)
    widget.mode_box.setCurrentIndex(widget.mode_box.findData("sim"))
    assert widget.sim.isVisibleTo(widget)
    for hidden in (widget.factor_row, widget.operator_box, widget.gar_spin, widget.tile_spin, widget.backproj_spin):
        assert not hidden.isVisibleTo(widget)
    for shown in (widget.steps_spin, widget.seed_spin, widget.device_box, widget.sim_pixel_spin):
        assert shown.isVisibleTo(widget)
    assert not widget.preset_box.isVisibleTo(widget)  # Wiener only: nothing is trained, no time to choose
    widget.sim_denoise_box.setCurrentIndex(widget.sim_denoise_box.findData("rdl"))
    assert widget.preset_box.isVisibleTo(widget)
    assert "62.6 nm" in widget.sim_pixel_spin.specialValueText()  # the layer's scale
    widget.mode_box.setCurrentIndex(widget.mode_box.findData("enhance"))
    assert not widget.sim.isVisibleTo(widget)
    assert widget.factor_row.isVisibleTo(widget)


def test_wiener_sim_adds_aligned_layers_and_reports_the_pattern(widget_and_viewer, raw_frames, qtbot):
    widget, viewer, _ = widget_and_viewer
    layer = _sim_layer(viewer, raw_frames)
    widget.settings.mode = "sim"
    assert _run(widget, qtbot) == "done", widget.status.text()
    assert [x.name for x in viewer.layers] == ["raw", "raw widefield", "raw SIM"]
    spot_world = np.asarray(layer.data_to_world((0, *SPOT)))[-2:]
    for name in ("raw widefield", "raw SIM"):
        out = viewer.layers[name]
        assert out.data.shape == (128, 128)
        np.testing.assert_allclose(out.scale, (PIXEL / 2, PIXEL / 2))
        np.testing.assert_allclose(out.translate, TRANSLATE)
        peak = np.unravel_index(int(np.argmax(out.data)), out.data.shape)
        # the bright spot lies at the same world position in the input and in each output (no half-pixel shift)
        np.testing.assert_allclose(out.data_to_world(peak), spot_world, atol=1e-9)
        assert out.metadata["self_vision_result"]["mode"] == "sim"
        assert out.metadata["self_vision_run"]["task"] == "sim" and out.metadata["self_vision_run"]["pattern"]
    text = widget.sim_pattern_label.text()
    assert text.count(" nm · ") == 3 and text.startswith("angle · spacing · modulation")
    assert "nm" in text
    assert "181." in text  # the simulated line spacing (488 nm / 2·1.35) for the first orientation
    assert "raw SIM" in widget.status.text()
    assert not widget.save_button.isEnabled()  # a Wiener SIM has no model to save


def test_rdl_on_a_time_lapse_adds_rdl_sim_with_the_time_axis(widget_and_viewer, raw_frames, qtbot, monkeypatch):
    widget, viewer, _ = widget_and_viewer
    warned: list[str] = []
    monkeypatch.setattr(widget_module, "show_warning", warned.append)
    _sim_layer(viewer, np.stack([raw_frames, raw_frames[:, :, ::-1].copy()]), name="movie")
    widget.settings.mode = "sim"
    widget.sim_denoise_box.setCurrentIndex(widget.sim_denoise_box.findData("rdl"))
    widget.steps_spin.setValue(4)
    widget.seed_spin.setValue(0)
    assert _run(widget, qtbot, timeout=120_000) == "done", widget.status.text()
    out = viewer.layers["movie rDL-SIM"]
    assert out.data.shape == (2, 128, 128)
    np.testing.assert_allclose(out.scale, (1.0, PIXEL / 2, PIXEL / 2))
    np.testing.assert_allclose(out.translate, (0.0, *TRANSLATE))
    assert viewer.layers["movie SIM"].data.shape == (2, 128, 128)
    assert widget.plot.points("rdl")  # the denoiser's loss was plotted
    if widget.sim_warnings_label.text():  # every warning in the dock is also a napari notification
        assert warned


def test_a_missing_pixel_size_asks_for_it_then_the_field_is_used(widget_and_viewer, raw_frames, qtbot, monkeypatch):
    widget, viewer, _ = widget_and_viewer
    shown: list[str] = []
    monkeypatch.setattr(widget_module, "show_error", shown.append)
    viewer.add_image(raw_frames, name="uncalibrated")
    widget.settings.mode = "sim"
    assert widget.start() is False
    assert "pixel" in shown[0]
    assert "Raw pixel" in shown[0]
    widget.sim_pixel_spin.setValue(62.6)
    context = build_request(widget.settings, widget.selected_layer())
    assert context.request.sim_options.pixel_size_um == pytest.approx(0.0626)
    assert _run(widget, qtbot) == "done", widget.status.text()
    assert viewer.layers["uncalibrated SIM"].scale[-1] == pytest.approx(0.5)  # half the layer's own pixel


def test_the_device_and_budget_reach_the_sim_options(widget_and_viewer, raw_frames):
    widget, viewer, _ = widget_and_viewer
    _sim_layer(viewer, raw_frames)
    widget.settings.mode = "sim"
    widget.device_box.setCurrentIndex(widget.device_box.findData("cpu"))
    widget.settings.sim_denoise = "rdl"
    widget.settings.preset = "Fast"
    options = build_request(widget.settings, widget.selected_layer()).request.to_core().sim_options
    assert (options.device, options.denoise, options.time_budget_s) == ("cpu", "rdl", 15.0)


def test_a_wrong_frame_count_is_a_one_line_error(widget_and_viewer, raw_frames, qtbot, monkeypatch):
    widget, viewer, _ = widget_and_viewer
    shown: list[str] = []
    monkeypatch.setattr(widget_module, "show_error", shown.append)
    _sim_layer(viewer, raw_frames[:8].copy())
    widget.settings.mode = "sim"
    assert _run(widget, qtbot) == "error"
    assert "8 frames" in shown[0]
    assert "\n" not in shown[0]
    assert len(viewer.layers) == 1


def test_cancel_stops_rdl_training_and_adds_nothing(widget_and_viewer, raw_frames, qtbot):
    widget, viewer, _ = widget_and_viewer
    _sim_layer(viewer, raw_frames)
    widget.settings.mode = "sim"
    widget.settings.sim_denoise = "rdl"
    widget.steps_spin.setValue(0)  # the Quality's time budget: far longer than the test
    widget.start()
    qtbot.waitUntil(lambda: " s of " in widget.progress_bar.format(), timeout=30_000)
    with qtbot.waitSignal(widget.run_finished, timeout=3_000) as done:
        widget.start_button.click()
    assert done.args == ["cancelled"]
    assert [x.name for x in viewer.layers] == ["raw"]
