"""The one request builder: the dock's settings reach the core, for a trained and for a LOADED model."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision.defaults import AXIAL_MEMBERS, VOLUME_MEMBERS

pytestmark = pytest.mark.qt


def test_tile_size_and_precision_reach_inference_for_a_loaded_model(
    widget_and_viewer, image_layer, qtbot, quick, monkeypatch
):
    from self_vision.core.enhance.enhancer import Enhancer

    widget, viewer, _ = widget_and_viewer
    quick(widget, steps=3)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000) as done:
        assert widget.start()
    assert done.args == ["done"], widget.status.text()
    model = widget.model
    assert model is not None

    seen: list[dict] = []
    original = Enhancer.apply_steps

    def spy(self, normalized, **kwargs):
        seen.append(kwargs)
        return original(self, normalized, **kwargs)

    monkeypatch.setattr(Enhancer, "apply_steps", spy)
    widget.tile_spin.setValue(2)
    widget.precision_box.setCurrentIndex(widget.precision_box.findData("fp32"))
    other = viewer.add_image(image_layer.data[:, :32, :32].copy(), name="other", scale=image_layer.scale)
    widget.select_layer(other)
    with qtbot.waitSignal(widget.run_finished, timeout=30_000) as done:
        assert widget.start(model=model)  # what Load model… does once the file is read
    assert done.args == ["done"], widget.status.text()
    assert seen, "inference was not reached"
    assert seen[-1]["max_tile_output"] == 2 * 2**20
    assert seen[-1]["precision"] == "fp32"
    assert viewer.layers["other ×1×2×2"].data.shape == (8, 64, 64)


def test_one_builder_for_every_kind_of_run(widget_and_viewer, image_layer):
    from self_vision._napari.request import RequestError, build_request
    from self_vision._napari.settings import DockSettings

    settings = DockSettings(axial=1, lateral=2, steps=7, tile_mvox=3, precision="bf16")
    context = build_request(settings, image_layer)
    request = context.request
    assert request.factor == (1, 2, 2) and request.mode == "enhance"
    assert request.options.steps == 7 and request.options.max_tile_output == 3 * 2**20
    assert request.options.precision == "bf16"
    assert context.budget is None  # steps, not a time budget
    settings.mode, settings.steps = "denoise", 0
    context = build_request(settings, image_layer)
    assert context.request.factor == (1, 1, 1) and context.request.denoise_options is not None
    assert context.budget == pytest.approx(40.0)
    settings.interleave = "tis"
    flat = widget_and_viewer[1].add_image(np.zeros((8, 8)), name="flat")
    with pytest.raises(RequestError, match="TiS"):
        build_request(settings, flat)


def test_the_dock_seeds_with_the_products_default_seed():
    from self_vision import defaults
    from self_vision._napari.request import enhance_options
    from self_vision._napari.settings import DockSettings

    settings = DockSettings()
    assert settings.seed == defaults.DEFAULT_SEED
    assert enhance_options(settings).seed == defaults.DEFAULT_SEED
    settings.seed = -1  # 'random': the user asked for a different seed each run
    assert enhance_options(settings).seed is None


def test_the_objective_reaches_the_run_only_when_its_na_is_known(widget_and_viewer, image_layer):
    from self_vision._napari.request import RequestError, build_request, enhance_options
    from self_vision._napari.settings import DockSettings
    from self_vision.core.optics import Optics

    widget, _, _ = widget_and_viewer
    assert enhance_options(DockSettings()).optics is None  # NA unknown: the blur is estimated from the data
    assert not widget.emission_spin.isEnabled()
    widget.advanced.toggle.setChecked(True)
    widget.na_spin.setValue(1.2)
    widget.immersion_box.setCurrentIndex(widget.immersion_box.findData("water"))
    widget.microscope_box.setCurrentIndex(widget.microscope_box.findData("confocal"))
    widget.emission_spin.setValue(460)
    assert widget.emission_spin.isEnabled()
    options = build_request(widget.settings, image_layer).request.options
    assert options.optics == Optics(1.2, 0.46, 1.333, "confocal")
    assert "na" not in widget.settings.persisted()  # yesterday's objective does not shape today's data
    widget.immersion_box.setCurrentIndex(widget.immersion_box.findData("air"))  # NA 1.2 in air: impossible
    with pytest.raises(RequestError, match=r"Objective.*immersion"):
        build_request(widget.settings, image_layer)
    widget.settings.mode = "denoise"  # the objective is not read there
    assert build_request(widget.settings, image_layer).request.denoise_options is not None
    assert not widget.na_spin.isVisible()


def test_the_networks_spin_reaches_the_run_and_its_time(widget_and_viewer, image_layer):
    from self_vision._napari.request import build_request, enhance_options

    widget, _, _ = widget_and_viewer
    settings = widget.settings
    assert widget.networks_spin.value() == 0 and widget.networks_spin.text() == "as Quality"
    options = enhance_options(settings)
    assert settings.preset == "Balanced" and options.members is None and options.axial_members is None
    assert (options.members_for("axial"), options.members_for("volume")) == (AXIAL_MEMBERS, VOLUME_MEMBERS)
    one = build_request(settings, image_layer).budget
    widget.networks_spin.setValue(3)
    assert enhance_options(settings).members == 3
    assert build_request(settings, image_layer).budget == pytest.approx(one)  # the networks share the time
    widget.networks_spin.setValue(99)  # the spin box keeps it within what the core accepts
    assert settings.networks == 16 and enhance_options(settings).members == 16
    widget.networks_spin.setValue(0)


def test_the_best_preset_averages_more_axial_networks_in_its_time(widget_and_viewer, image_layer):
    from self_vision._napari.request import build_request, enhance_options
    from self_vision._napari.settings import PRESETS
    from self_vision.defaults import FINER_CONFIRM_MEMBERS

    widget, _, _ = widget_and_viewer
    settings = widget.settings
    widget.preset_box.setCurrentText("Best")
    best = PRESETS["Best"]
    assert best.axial_networks >= FINER_CONFIRM_MEMBERS  # the gate's hint names Best as a way to confirm z
    options = enhance_options(settings)
    assert (options.axial_members, options.time_budget) == (best.axial_networks, best.seconds)
    assert (options.members_for("axial"), options.members_for("volume")) == (best.axial_networks, VOLUME_MEMBERS)
    assert options.settings(1.0, "axial", best.axial_networks).time_budget == pytest.approx(10.0)  # 12 x 10 s
    assert build_request(settings, image_layer).budget == pytest.approx(best.seconds)
    widget.networks_spin.setValue(1)  # an explicit choice overrides the preset's, for every stage
    assert enhance_options(settings).members_for("axial") == 1
    assert build_request(settings, image_layer).budget == pytest.approx(best.seconds)
    settings.mode = "denoise"  # denoising trains one network for the preset's whole time
    context = build_request(settings, image_layer)
    assert context.budget == pytest.approx(best.seconds) and context.request.denoise_options.time_budget == best.seconds
    settings.mode = "enhance"
    widget.networks_spin.setValue(0)
    widget.preset_box.setCurrentText("Balanced")
