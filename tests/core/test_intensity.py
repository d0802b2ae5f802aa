"""Percentile normalisation: exact inverse, robust fall-backs, no copies when asked."""

from __future__ import annotations

import numpy as np

from self_vision.core.intensity import Normalizer


def test_inverse_undoes_forward_in_input_units() -> None:
    volume = np.random.default_rng(0).integers(100, 4000, (4, 16, 16)).astype(np.uint16)
    norm = Normalizer.fit(volume)
    x = norm.forward(volume)
    assert x.dtype == np.float32
    assert 0.0 <= np.percentile(x, 50) <= 1.0
    np.testing.assert_allclose(norm.inverse(x), volume, rtol=1e-5)


def test_inplace_inverse_reuses_the_array() -> None:
    norm = Normalizer(10.0, 20.0)
    x = np.linspace(0, 1, 11, dtype=np.float32)
    out = norm.inverse(x, inplace=True)
    assert out is x
    np.testing.assert_allclose(out, np.linspace(10, 20, 11), rtol=1e-6)


def test_sparse_and_constant_data_get_a_usable_range() -> None:
    sparse = np.zeros((64, 64), np.float32)
    sparse[3, 3] = 5.0  # the 99.9th percentile is 0: fall back to min..max
    assert Normalizer.fit(sparse) == Normalizer(0.0, 5.0)
    flat = np.full((8, 8), 7.0, np.float32)
    norm = Normalizer.fit(flat)
    assert norm.high > norm.low == 7.0
    assert np.isfinite(norm.forward(flat)).all()
