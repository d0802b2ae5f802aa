"""Layer glue: which layers qualify, which volume is sent, default factors, result placement."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Image, Labels

from self_vision._napari import layers


def test_supported_layers():
    assert layers.is_supported(Image(np.zeros((4, 8, 8))))
    assert layers.is_supported(Image(np.zeros((8, 8))))
    assert "RGB" in layers.unsupported_reason(Image(np.zeros((8, 8, 3), np.uint8), rgb=True))
    assert "Labels" in layers.unsupported_reason(Labels(np.zeros((8, 8), np.uint8)))
    assert "no image layer" in layers.unsupported_reason(None)


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ((1.0, 1.0, 1.0), (2, 2)),
        ((2.0, 1.0, 1.0), (4, 2)),
        ((2.0, 0.5, 0.5), (4, 2)),  # isotropy needs 8: capped at defaults.PROPOSED_FACTOR_CAP
        ((2.0, 0.2, 0.2), (4, 2)),  # the stack: 20 before the cap (was 16)
        ((0.5, 0.5), (1, 2)),
        ((0.1, 1.0, 1.0), (1, 2)),
    ],
)
def test_suggested_factors_make_voxels_near_isotropic(scale, expected):
    assert layers.suggest_factors(scale) == expected


def test_metadata_hint_wins_over_the_scale():
    layer = Image(np.zeros((4, 8, 8)), scale=(1, 1, 1), metadata={layers.FACTOR_KEY: (1, 4, 4)})
    assert layers.default_factors(layer) == (1, 4)


def test_current_volume_of_a_4d_layer_is_a_private_copy_at_the_current_time():
    data = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    layer = Image(data, scale=(10, 1, 1, 1))
    volume, index = layers.current_volume(layer, (10.0, 0, 0, 0))
    assert index == (1,)
    np.testing.assert_array_equal(volume, data[1])
    volume[:] = 0
    assert data[1].max() > 0


def test_result_kwargs_follow_the_geometry_convention():
    layer = Image(np.zeros((4, 8, 8)), scale=(2, 0.5, 0.5), translate=(1, 2, 3), colormap="magma", units="micrometer")
    kw = layers.result_kwargs(layer, (2, 4, 4))
    assert kw["scale"] == (1.0, 0.125, 0.125)
    assert kw["translate"] == pytest.approx((0.5, 2 - 0.5 * 3 / 8, 3 - 0.5 * 3 / 8))
    assert kw["colormap"].name == "magma"
    assert kw["units"] == ("micrometer",) * 3
    assert layers.result_name("cells", (2, 4, 4)) == "cells ×2×4×4"
