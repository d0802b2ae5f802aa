"""Sample data loads through napari and the widget proposes the factor it was made with."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def test_sample_data_opens_in_napari(widget_and_viewer):
    widget, viewer, _ = widget_and_viewer
    viewer.open_sample("napari-self-vision", "undersampled_neurons")
    viewer.open_sample("napari-self-vision", "reference_neurons")
    low, ref = viewer.layers
    assert low.data.shape[1] * 4 == ref.data.shape[1]
    assert str(low.units[0]) == "micrometer"
    widget.select_layer(low)
    assert (widget.axial_spin.value(), widget.lateral_spin.value()) == (1, 4)
