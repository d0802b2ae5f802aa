import numpy as np
import pytest
import torch

from self_vision.core.degrade import (
    add_poisson_gaussian,
    back_project,
    cubic_upsample,
    degrade,
    resample_axis,
    upsample_linear,
)


def smooth_volume(shape=(8, 24, 24), seed=0):
    rng = np.random.default_rng(seed)
    from scipy import ndimage

    return ndimage.gaussian_filter(rng.random(shape), 3).astype(np.float32)


@pytest.mark.parametrize("operator", ["area", "psf", "cubic"])
@pytest.mark.parametrize("factor", [(1, 4, 4), (4, 1, 1), (2, 2, 2), (1, 3, 2)])
def test_degrade_shapes_and_constants(operator, factor):
    x = torch.full((2, 1, 9, 25, 26), 0.7)
    y = degrade(x, factor, operator)
    assert y.shape == (2, 1, 9 // factor[0], 25 // factor[1], 26 // factor[2])
    assert torch.allclose(y, torch.full_like(y, 0.7), atol=1e-5)


def test_area_is_the_block_mean():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert degrade(x, (2, 2), "area")[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]


def test_unknown_operator():
    with pytest.raises(ValueError, match="unknown degradation operator"):
        degrade(torch.zeros(1, 1, 4, 4), (2, 2), "box")


@pytest.mark.parametrize("factor", [(1, 4, 4), (2, 2, 2), (4, 1, 1)])
def test_cubic_upsample_is_pixel_area_aligned(factor):
    low = smooth_volume((8, 12, 12))
    up = cubic_upsample(low, factor)
    assert up.shape == tuple(s * f for s, f in zip(low.shape, factor, strict=True))
    back = degrade(torch.from_numpy(up)[None, None], factor)[0, 0].numpy()
    inner = (slice(1, -1),) * 3
    assert np.abs(back - low)[inner].max() < 0.02 * np.ptp(low)


def test_linear_upsample_is_pixel_area_aligned():
    low = torch.from_numpy(smooth_volume((6, 10, 10)))[None, None]
    back = degrade(upsample_linear(low, (2, 2, 2)), (2, 2, 2))
    assert (back - low)[..., 1:-1, 1:-1, 1:-1].abs().max() < 0.02 * float(low.max() - low.min())


def test_back_projection_restores_data_consistency():
    rng = np.random.default_rng(1)
    low = torch.from_numpy(rng.random((1, 1, 6, 10, 10)).astype(np.float32))
    start = upsample_linear(low, (1, 4, 4))
    before = (degrade(start, (1, 4, 4)) - low).abs().mean()
    after = (degrade(back_project(start, low, (1, 4, 4), rounds=10), (1, 4, 4)) - low).abs().mean()
    assert after < 0.1 * before


def test_resample_axis_changes_only_that_axis():
    x = smooth_volume((4, 40, 30))
    y = resample_axis(x, 1, 16)
    assert y.shape == (4, 16, 30)
    assert abs(float(y.mean()) - float(x.mean())) < 0.01


def test_poisson_gaussian_noise_level():
    rng = np.random.default_rng(0)
    x = np.full((64, 64), 0.5, np.float32)
    noisy = add_poisson_gaussian(x, photons=100.0, read_sigma=0.01, rng=rng)
    expected = np.sqrt(0.5 / 100 + 0.01**2)
    assert abs(noisy.std() - expected) < 0.2 * expected
    assert abs(noisy.mean() - 0.5) < 0.01
