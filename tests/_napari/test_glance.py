"""Issue 14, a dock a biologist reads at a glance: factors that respect the user, a locked run, napari's own
progress, a self-check always reported, settings kept and restorable, a dock that fits a laptop screen."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision._napari import settings as settings_module
from self_vision._napari import widget as widget_module
from self_vision._napari.request import enhance_options
from self_vision._napari.widget import EnhanceWidget

pytestmark = pytest.mark.qt


def test_factors_the_user_typed_survive_clicking_other_layers(widget_and_viewer, image_layer):
    widget, viewer, _ = widget_and_viewer
    assert (widget.axial_spin.value(), widget.lateral_spin.value()) == (4, 2)  # proposed, capped at 4
    assert "capped at ×4" in widget.factor_row.toolTip()
    widget.axial_spin.setValue(3)
    other = viewer.add_image(np.zeros((8, 40, 40), np.float32), name="other", scale=(0.25, 0.25, 0.25))
    viewer.layers.selection.active = other
    assert widget.selected_layer() == other
    assert widget.axial_spin.value() == 3
    viewer.layers.selection.active = image_layer
    assert (widget.axial_spin.value(), widget.lateral_spin.value()) == (3, 2)


def test_proposals_follow_the_layer_until_the_user_sets_a_factor(widget_and_viewer, image_layer):
    widget, viewer, _ = widget_and_viewer
    other = viewer.add_image(np.zeros((8, 40, 40), np.float32), name="iso", scale=(0.25, 0.25, 0.25))
    viewer.layers.selection.active = other
    assert widget.axial_spin.value() == 2  # ×2 lateral makes XY 0.125 µm; the 0.25 µm z-step is twice that
    viewer.layers.selection.active = image_layer
    assert widget.axial_spin.value() == 4


def test_the_run_keeps_its_layer_and_factors_locked_even_if_the_layer_is_deleted(
    widget_and_viewer, image_layer, qtbot, quick
):
    widget, viewer, _ = widget_and_viewer
    viewer.add_image(np.zeros((8, 40, 40), np.float32), name="second")
    widget.select_layer(image_layer)
    quick(widget, steps=0, axial=1, lateral=2)
    widget.start()
    qtbot.waitUntil(lambda: "s of" in widget.progress_bar.format(), timeout=20_000)
    viewer.layers.remove(image_layer)
    assert widget.layer_box.currentText() == "cells"
    assert not widget.layer_box.isEnabled()
    assert not widget.axial_spin.isEnabled()
    assert not widget.lateral_spin.isEnabled()
    assert (widget.settings.axial, widget.settings.lateral) == (1, 2)
    with qtbot.waitSignal(widget.run_finished, timeout=3_000):
        widget.cancel()
    assert widget.layer_box.isEnabled()
    assert [widget.layer_box.itemText(i) for i in range(widget.layer_box.count())] == ["second"]


def test_napari_activity_moves_with_elapsed_time_against_the_budget(widget_and_viewer, image_layer, qtbot, quick):
    widget, _, _ = widget_and_viewer
    quick(widget, steps=0, axial=1, lateral=2)
    widget.settings.preset = "Fast"
    widget.start()
    context = widget.context
    qtbot.waitUntil(lambda: context.progress is not None and context.progress.n >= 2, timeout=30_000)
    totals = set()
    for _ in range(5):
        qtbot.wait(300)
        totals.add((widget.progress_bar.maximum(), context.progress.total))
        assert " s of 15 s" in widget.progress_bar.format()
    assert totals == {(15, 15)}  # the total is the budget, not a jumping step estimate
    with qtbot.waitSignal(widget.run_finished, timeout=3_000):
        widget.cancel()
    assert context.progress is None  # closed: the Activity entry goes away


def test_a_skipped_self_check_is_said_and_put_on_the_result_layer(widget_and_viewer, image_layer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    quick(widget, steps=3, axial=1, lateral=4)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000) as done:
        widget.start()
    assert done.args == ["done"], widget.status.text()
    verdict = viewer.layers["cells ×1×4×4"].metadata["self_vision_result"]["verdict"]
    assert verdict.startswith(("self-check skipped because", "added detail verified", "not verified"))
    assert verdict in widget.status.text()
    status = widget.status.text()
    assert "×4 lateral" in status
    for jargon in ("1x2x2", "volume ", "back-projection x"):
        assert jargon not in status, status


def test_the_sampling_model_reaches_the_core(widget_and_viewer):
    widget, _, _ = widget_and_viewer
    assert enhance_options(widget.settings).sampling == "z=point,xy=area"
    assert widget.sampling_z_box.currentText().startswith("z-step (optical sections)")
    widget.sampling_z_box.setCurrentIndex(widget.sampling_z_box.findData("area"))
    assert widget.sampling_z_box.currentText() == "pixel binning"
    options = enhance_options(widget.settings)
    assert options.sampling == "z=area,xy=area"
    assert options.sampling_for(3) == ("area", "area", "area")


def test_advanced_options_have_one_line_tooltips_and_no_jargon(widget_and_viewer):
    widget, _, _ = widget_and_viewer
    form = widget.advanced.form
    for row in range(form.rowCount()):
        label = form.itemAt(row, form.ItemRole.LabelRole)
        field = form.itemAt(row, form.ItemRole.FieldRole).widget()
        tip = field.toolTip()
        assert tip
        assert "\n" not in tip
        text = label.widget().text() if label is not None else ""
        for jargon in ("GAR", "FNSM", "Mvox", "Degradation", "γ"):
            assert jargon not in text


def test_settings_persist_between_sessions_and_restore_defaults(widget_and_viewer, qtbot):
    widget, viewer, _ = widget_and_viewer
    widget.preset_box.setCurrentIndex(widget.preset_box.findData("Best"))
    widget.gar_spin.setValue(3.5)
    widget.sampling_xy_box.setCurrentIndex(widget.sampling_xy_box.findData("point"))
    again = EnhanceWidget(viewer)
    qtbot.addWidget(again)
    assert (again.settings.preset, again.settings.gar, again.settings.sampling_xy) == ("Best", 3.5, "point")
    again.restore_button.click()
    assert (again.settings.preset, again.settings.gar, again.settings.sampling_xy) == ("Balanced", 1.0, "area")
    assert again.preset_box.currentText() == "Balanced"
    third = EnhanceWidget(viewer)
    qtbot.addWidget(third)
    assert third.settings.preset == "Balanced"


def test_a_broken_settings_store_is_ignored(widget_and_viewer, qtbot):
    from qtpy.QtCore import QSettings

    QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, *settings_module.STORE).setValue(
        "settings", '{"preset": 7, "steps": "many", "unknown": 1'
    )
    fresh = EnhanceWidget(widget_and_viewer[1])
    qtbot.addWidget(fresh)
    assert fresh.settings.preset == "Balanced"


def test_the_dock_fits_a_1366_by_768_screen_with_advanced_open(widget_and_viewer):
    widget, viewer, dock = widget_and_viewer
    widget.advanced.toggle.setChecked(True)
    assert widget.minimumSizeHint().height() < 300  # the panels scroll; the dock does not force a height
    assert widget.minimumWidth() <= 420
    viewer.window._qt_window.resize(1366, 768)
    viewer.window._qt_window.show()
    assert dock.height() <= 768
    assert dock.width() < 1366 / 2


@pytest.mark.parametrize("mode", ["enhance", "sim"])
def test_opening_advanced_widens_the_dock_so_no_control_is_clipped(widget_and_viewer, qtbot, mode):
    widget, viewer, dock = widget_and_viewer
    widget.settings.mode = mode
    viewer.window._qt_window.resize(1366, 768)
    viewer.window._qt_window.show()
    closed = widget.minimumWidth()
    widget.advanced.toggle.setChecked(True)
    qtbot.wait(50)
    needed = widget._body.minimumSizeHint().width()
    assert needed >= closed
    # the minimum follows what is shown, not the state at start-up, and the dock grows with it
    qtbot.waitUntil(lambda: widget.minimumWidth() >= needed, timeout=2000)
    qtbot.waitUntil(lambda: widget._scroll.viewport().width() >= needed, timeout=2000)
    assert dock.width() < 1366 / 2


def test_loss_plot_has_one_panel_with_its_own_axis_per_stage(qtbot):
    from self_vision._napari.plot import LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(300, 140)
    plot.add_losses("lateral", [1.0, 0.5, 0.2] * 50, "lateral ×2")
    plot.add_losses("axial", [0.3, 0.2], "axial ×4")
    assert plot.stages() == ["lateral", "axial"]
    first, second = plot.panels()
    assert first.right() < second.left()
    assert first.width() == pytest.approx(second.width())
    image = plot.grab().toImage()  # paints without error
    assert image.width() == 300


def test_a_loaded_model_asks_before_replacing_a_result_and_save_follows_the_shown_result(
    widget_and_viewer, image_layer, qtbot, quick, tmp_path, monkeypatch
):
    widget, viewer, _ = widget_and_viewer
    quick(widget, steps=3)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000):
        widget.start()
    first = viewer.layers["cells ×1×2×2"]
    first_model = widget.model
    path = widget.save_model(str(tmp_path / "first.pt"))
    other = viewer.add_image(image_layer.data[:, :40, :40].copy(), name="other", scale=(2.0, 0.5, 0.5))
    widget.select_layer(other)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000):
        widget.start()
    assert widget.model is not first_model  # the newest result is shown
    viewer.layers.selection.active = first
    assert widget.model is first_model  # the selected result's model is the one saved
    assert widget.save_button.isEnabled()
    assert "cells ×1×2×2" in widget.save_button.toolTip()

    questions: list[str] = []
    monkeypatch.setattr(widget_module, "ask", lambda parent, q: questions.append(q) or False)
    widget.select_layer(viewer.layers["cells"])
    assert widget.load_model(path) is False
    assert questions
    assert "Replace 'cells ×1×2×2'" in questions[0]
    assert "kept" in widget.status.text()
    assert viewer.layers["cells ×1×2×2"] == first


def test_a_thin_stack_verdict_names_the_lateral_planes_that_decided_it():
    from self_vision._napari.words import verdict
    from self_vision.core.enhance.selfcheck import SelfCheck

    thin = {"unchecked": {"axial": "8 slices are too few to degrade z once more"}}
    passed = SelfCheck(**thin, plane_intervals={"axial": (0.4, 0.1, 0.6)})
    failed = SelfCheck(**thin, plane_intervals={"axial": (0.2, -0.3, 0.5)})
    assert verdict(passed).startswith("added detail verified on held-out lateral planes only (+0.4 dB)")
    assert verdict(failed).startswith("not verified") and "lateral planes" in verdict(failed)
    assert verdict(SelfCheck(**thin)).startswith("self-check skipped because axial: 8 slices")


def test_the_verdict_says_when_the_gate_returned_a_classical_result():
    from self_vision._napari.words import gate_note
    from self_vision.core.enhance.gate import GateDecision

    assert gate_note(None) == ""
    assert gate_note(GateDecision({"lateral": "confirmed"}, {"lateral": True}, "network")) == ""
    nothing = GateDecision({"lateral": "unchecked"}, {"lateral": False}, "back-projection")
    assert gate_note(nothing) == "; returned back-projection, not the network"
    mixed = GateDecision(
        {"lateral": "confirmed", "axial": "rejected"},
        {"lateral": True, "axial": False},
        "network (lateral) + cubic (axial)",
    )
    assert gate_note(mixed) == "; returned network (lateral) + cubic (axial)"
    thin = GateDecision({"axial": "unconfirmed"}, {"axial": False}, "cubic", needs_members=True)
    assert gate_note(thin) == (
        "; returned cubic, not the network"
        " (Quality Balanced or Best, or Advanced ▸ Networks 4, lets the z check confirm it)"
    )


def test_the_assumed_axial_blur_is_said_in_plain_words():
    from self_vision._napari.words import stage_message

    words = stage_message("axial", "axial blur 0.50 µm: the output's z spacing (no optics given)", (2, 1, 1))
    assert "0.50 µm" in words and "NA" in words


def test_the_assumed_lateral_blur_of_a_step_sampled_image_is_said_in_plain_words():
    from self_vision._napari.words import stage_message

    message = "lateral: training patches blurred by 0.00, 0.94, 0.94 px (optics: 1 output voxels)"
    words = stage_message("lateral", message, (1, 3, 3))
    assert words == "assumed the optics blur the result by 1 of its pixels (each sample is one optical section)"
    assert stage_message("lateral", "learning 1x3x3 from (8, 48, 48) patches of the input", (1, 3, 3)).startswith(
        "learning ×3 lateral"
    )


def test_which_of_several_networks_is_training_is_said():
    from self_vision._napari.words import stage_message, stage_name

    line = stage_message("axial", "learning 4x axial from lateral planes (64x48 patches) (network 2 of 4)", (4, 1, 1))
    assert line == "learning ×4 axial: sharp XY planes teach how Z should look (network 2 of 4)"
    assert stage_name("axial #2", (4, 1, 1)) == "axial ×4 #2"
    assert stage_name("lateral 1x2x2 #3", (1, 4, 4)) == "lateral step ×2 #3"
