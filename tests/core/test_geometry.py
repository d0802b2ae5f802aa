"""Placement of an upsampled result: the output covers exactly the input's field of view."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision.core.geometry import output_translate, output_voxel_size


def test_voxel_size_divides_by_the_factor() -> None:
    assert output_voxel_size((2.0, 0.5, 0.5), (4, 2, 1)) == (0.5, 0.25, 0.5)


@pytest.mark.parametrize("factor", [1, 2, 3, 4])
def test_sub_voxels_tile_the_input_voxel_exactly(factor: int) -> None:
    size, origin = 0.8, 5.0
    (first,) = output_translate((size,), (factor,), (origin,))
    centres = first + np.arange(factor) * size / factor
    # the sub-voxels' centres are symmetric about the input voxel's centre and span exactly its width
    assert np.isclose(centres.mean(), origin)
    assert np.isclose(centres[0] - size / (2 * factor), origin - size / 2)
    assert np.isclose(centres[-1] + size / (2 * factor), origin + size / 2)


def test_no_translate_means_the_origin() -> None:
    assert output_translate((1.0, 1.0), (1, 2)) == (0.0, -0.25)
