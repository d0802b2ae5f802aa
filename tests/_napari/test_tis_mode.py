"""The dock's Denoise mode on time-lapses: TiS picked from the layer's axis labels, or by hand."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision._napari import widget as widget_module
from self_vision.core.degrade import add_poisson_gaussian
from self_vision.core.sample import synthetic_neurons

pytestmark = pytest.mark.qt


def noisy_movie(shape=(6, 24, 24)) -> np.ndarray:
    """A (T,Y,X) time-lapse: one clean plane that drifts a little, with fresh noise in every frame."""
    plane = synthetic_neurons((1, *shape[1:]), seed=3)[0]
    frames = np.stack([np.roll(plane / plane.max(), t // 2, axis=-1) for t in range(shape[0])])
    return add_poisson_gaussian(frames, 30.0, 0.02, np.random.default_rng(1))


def run(widget, qtbot, timeout: int = 60_000) -> str:
    with qtbot.waitSignal(widget.run_finished, timeout=timeout) as done:
        assert widget.start()
    return done.args[0]


def test_the_interleaving_follows_the_layer_axis_labels(widget_and_viewer):
    widget, viewer, _ = widget_and_viewer
    movie = viewer.add_image(noisy_movie(), name="movie", axis_labels=("t", "y", "x"))
    assert widget.suggested_interleave(movie) == "tis"
    assert widget.interleave_box.currentText() == "time points (TiS)"
    stack = viewer.add_image(noisy_movie(), name="stack", axis_labels=("z", "y", "x"))
    widget.select_layer(stack)
    assert widget.interleave_box.currentText() == "z-slices (SiS)"
    tzyx = viewer.add_image(np.zeros((4, 4, 8, 8)), name="tzyx", axis_labels=("time", "z", "y", "x"))
    assert widget.suggested_interleave(tzyx) == "tis"
    unlabelled = viewer.add_image(np.zeros((4, 8, 8)), name="plain")  # napari's default labels: '0', '1', '2'
    assert widget.suggested_interleave(unlabelled) == "sis"
    five = viewer.add_image(np.zeros((2, 4, 4, 8, 8)), name="five", axis_labels=("t", "c", "z", "y", "x"))
    assert widget.suggested_interleave(five) == "sis"  # TiS takes (T,Y,X) or (T,Z,Y,X) layers only


def test_the_interleave_choice_is_enabled_in_denoise_mode_only(widget_and_viewer):
    widget, viewer, _ = widget_and_viewer
    viewer.add_image(noisy_movie(), name="movie", axis_labels=("t", "y", "x"))
    assert not widget.interleave_box.isEnabled()
    widget.mode_box.setCurrentText("Denoise")
    assert widget.interleave_box.isEnabled() and widget.denoise_mode() == "tis"
    widget.mode_box.setCurrentText("Denoise + enhance")
    assert not widget.interleave_box.isEnabled() and widget.denoise_mode() == "sis"


def test_tis_denoises_the_whole_time_lapse(widget_and_viewer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    movie = viewer.add_image(
        noisy_movie(), name="movie", axis_labels=("t", "y", "x"), scale=(3.0, 0.5, 0.5), colormap="magma"
    )
    quick(widget, steps=3)
    widget.mode_box.setCurrentText("Denoise")
    assert widget.denoise_mode() == "tis"
    assert run(widget, qtbot) == "done", widget.status.text()
    assert "neighbouring time points" in widget.status.text()
    result = viewer.layers["movie denoised"]
    assert result.data.shape == movie.data.shape
    np.testing.assert_allclose(result.scale, movie.scale)
    assert widget.plot.points("tis")


def test_sis_picked_by_hand_on_a_time_labelled_layer(widget_and_viewer, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    viewer.add_image(noisy_movie((8, 24, 24)), name="movie", axis_labels=("t", "y", "x"))
    quick(widget, steps=2)
    widget.mode_box.setCurrentText("Denoise")
    widget.interleave_box.setCurrentText("z-slices (SiS)")
    assert widget.denoise_mode() == "sis"
    assert run(widget, qtbot) == "done", widget.status.text()
    assert widget.plot.points("sis")


def test_tis_on_a_two_axis_layer_is_a_one_line_error(widget_and_viewer, qtbot, monkeypatch, quick):
    widget, viewer, _ = widget_and_viewer
    shown: list[str] = []
    monkeypatch.setattr(widget_module, "show_error", shown.append)
    viewer.add_image(noisy_movie()[0], name="plane")
    quick(widget, steps=2)
    widget.mode_box.setCurrentText("Denoise")
    widget.interleave_box.setCurrentText("time points (TiS)")
    assert not widget.start()
    assert shown and "(T,Y,X) or (T,Z,Y,X)" in shown[0] and "\n" not in shown[0]
