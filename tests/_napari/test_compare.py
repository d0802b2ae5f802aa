"""One-click comparison views: side by side (grid) and XY/XZ/YZ planes."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision._napari import compare

pytestmark = pytest.mark.qt


def test_side_by_side_shows_input_and_result_only_and_restores(make_napari_viewer):
    viewer = make_napari_viewer()
    a = viewer.add_image(np.zeros((4, 8, 8)), name="input")
    b = viewer.add_image(np.zeros((4, 16, 16)), name="result", scale=(1, 0.5, 0.5))
    other = viewer.add_image(np.zeros((4, 8, 8)), name="other")
    saved = compare.side_by_side(viewer, [a, b])
    assert compare.grid_of(viewer).enabled
    assert a.visible
    assert b.visible
    assert not other.visible
    assert compare.side_by_side(viewer, [a, b], saved) is None
    assert not compare.grid_of(viewer).enabled
    assert other.visible


@pytest.mark.parametrize(("plane", "order"), [("XY", (0, 1, 2, 3)), ("XZ", (0, 2, 1, 3)), ("YZ", (0, 3, 1, 2))])
def test_planes_set_the_dims_order(make_napari_viewer, plane, order):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 4, 8, 8)))
    compare.show_plane(viewer, plane)
    assert tuple(viewer.dims.order) == order
