"""4D+ layers: train once on the current volume, apply the model to every time point / channel."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision._napari.worker import RunRequest, VolumeProgress, run_events
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.errors import CancelledError
from self_vision.core.events import CancelToken
from self_vision.core.sample import synthetic_neurons

pytestmark = pytest.mark.qt

SCALE = (5.0, 2.0, 0.5, 0.5)  # T, Z, Y, X
TRANSLATE = (10.0, 1.0, 2.0, 3.0)


@pytest.fixture
def movie() -> np.ndarray:
    """Three different time points of a tiny (6, 24, 24) volume."""
    return np.stack([synthetic_neurons((6, 24, 24), seed=t) for t in range(3)]).astype(np.float32)


def test_the_option_shows_for_4d_layers_only(widget_and_viewer, image_layer, movie):
    widget, viewer, _ = widget_and_viewer
    assert widget.all_volumes_check.isHidden()  # 3D layer: nothing to choose
    layer = viewer.add_image(movie, name="movie", scale=SCALE)
    widget.select_layer(layer)
    assert not widget.all_volumes_check.isHidden()
    widget.select_layer(image_layer)
    assert widget.all_volumes_check.isHidden()


def test_every_time_point_is_enhanced_into_one_layer(widget_and_viewer, movie, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    layer = viewer.add_image(movie, name="movie", scale=SCALE, translate=TRANSLATE)
    before = layer.data.copy()
    viewer.dims.set_current_step(0, 1)  # train on the middle time point
    quick(widget, steps=5, axial=1, lateral=4)
    widget.all_volumes_check.setChecked(True)
    formats: list[str] = []
    widget.progress_bar.valueChanged.connect(lambda _: formats.append(widget.progress_bar.format()))
    with qtbot.waitSignal(widget.run_finished, timeout=120_000) as done:
        assert widget.start()
    assert done.args == ["done"], widget.status.text()
    result = viewer.layers["movie ×1×4×4"]
    assert result.data.shape == (3, 6, 96, 96)
    np.testing.assert_allclose(result.scale, (5.0, 2.0, 0.125, 0.125))
    assert result.translate[0] == pytest.approx(10.0)
    np.testing.assert_allclose(result.translate[1:], [1.0, 2.0 - 0.5 * 3 / 8, 3.0 - 0.5 * 3 / 8])
    assert result.metadata["self_vision_result"]["index"] == (1,)
    assert result.metadata["self_vision_result"]["all_volumes"] is True
    for t in range(3):  # every time point was processed, each from its own input
        assert np.isfinite(result.data[t]).all()
        assert result.data[t].std() > 0
    assert not np.allclose(result.data[0], result.data[1])
    assert not np.allclose(result.data[1], result.data[2])
    assert not np.allclose(result.data[0], result.data[2])
    # each output follows its own input: the best-matching input of every output is its own time point
    low = result.data.reshape(3, 6, 24, 4, 24, 4).mean(axis=(3, 5))
    for t in range(3):
        errors = [np.abs(low[t] - movie[s]).mean() for s in range(3)]
        assert int(np.argmin(errors)) == t
    assert any(f.startswith("volume 3 of 3") for f in formats), formats
    np.testing.assert_array_equal(layer.data, before)


def test_unchecked_a_4d_layer_still_gives_one_volume(widget_and_viewer, movie, qtbot, quick):
    widget, viewer, _ = widget_and_viewer
    viewer.add_image(movie, name="movie", scale=SCALE)
    quick(widget, steps=3, axial=1, lateral=2)
    assert not widget.all_volumes_check.isChecked()
    with qtbot.waitSignal(widget.run_finished, timeout=60_000) as done:
        widget.start()
    assert done.args == ["done"], widget.status.text()
    assert viewer.layers["movie ×1×2×2"].data.shape == (6, 48, 48)


def test_cancel_between_volumes_stops_the_worker(movie):
    request = RunRequest(
        movie[0].copy(), (1, 2, 2), (2.0, 0.5, 0.5), EnhanceOptions(steps=3, back_projection=1, seed=0), "cpu"
    )
    request.volumes, request.index = movie, (0,)
    cancel = CancelToken()
    gen = run_events(request, cancel)
    seen: list[VolumeProgress] = []
    with pytest.raises(CancelledError):
        while True:
            event = next(gen)
            if isinstance(event, VolumeProgress):
                seen.append(event)
                if event.volume == 1:
                    cancel.cancel()  # the GUI's Cancel, while volume 2 of 3 is running
    assert max(e.volume for e in seen) == 1
