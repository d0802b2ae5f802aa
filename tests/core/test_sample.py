"""The built-in synthetic samples: reproducible, structured, in range."""

from __future__ import annotations

import numpy as np

from self_vision.core.sample import synthetic_neurons, synthetic_shapes


def test_neurons_are_reproducible_by_seed_and_structured() -> None:
    a = synthetic_neurons((16, 96, 96), seed=3)
    b = synthetic_neurons((16, 96, 96), seed=3)
    c = synthetic_neurons((16, 96, 96), seed=4)
    assert a.shape == (16, 96, 96) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0 and 0.5 < np.percentile(a, 99.9) < 1.1
    assert np.percentile(a, 99) > 5 * np.percentile(a, 50)  # bright structure on a dim floor, not noise


def test_shapes_have_flat_tops_and_sharp_edges() -> None:
    v = synthetic_shapes((8, 48, 48), seed=0, count=10)
    assert v.min() >= 0 and v.max() <= 1
    values = np.unique(v)
    assert len(values) <= 11  # piecewise constant: background plus one level per shape at most
