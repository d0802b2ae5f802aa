import numpy as np
import pytest
import torch

from self_vision.core.infer import ensemble_transforms, predict, predict_planes, self_ensemble
from self_vision.core.model import ModelConfig, SelfVisionNet

CPU = torch.device("cpu")


def random_net(factor, seed=0):
    torch.manual_seed(seed)
    net = SelfVisionNet(ModelConfig(factor))
    with torch.no_grad():
        net.to_subpixels.weight.normal_(std=0.2)  # a clearly non-trivial function
    return net.eval()


@pytest.mark.parametrize("factor", [(1, 4, 4), (2, 2, 2), (4, 1, 1)])
def test_tiled_equals_untiled(factor):
    rng = np.random.default_rng(0)
    volume = rng.random((9, 23, 30)).astype(np.float32)
    net = random_net(factor)
    whole = predict(net, volume, device=CPU)
    tiled = predict(net, volume, device=CPU, tile_shape=(4, 7, 11))
    assert whole.shape == tuple(s * f for s, f in zip(volume.shape, factor, strict=True))
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_memory_limit_forces_tiles_with_the_same_result():
    volume = np.random.default_rng(1).random((6, 40, 40)).astype(np.float32)
    net = random_net((1, 2, 2))
    whole = predict(net, volume, device=CPU)
    small = predict(net, volume, device=CPU, max_tile_output=4000)
    np.testing.assert_allclose(small, whole, atol=1e-5)


def test_planes_match_per_plane_prediction():
    volume = np.random.default_rng(2).random((5, 12, 17)).astype(np.float32)
    net = random_net((4, 1))
    stacked = predict_planes(net, volume, device=CPU, max_tile_output=3000)
    single = np.stack([predict(net, plane, device=CPU) for plane in volume])
    np.testing.assert_allclose(stacked, single, atol=1e-5)


def nearest_upsample(x: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(np.repeat(x, 2, 0), 2, 1), 2, 2) * 1.5 + 0.25


def test_self_ensemble_leaves_an_equivariant_function_unchanged():
    volume = np.random.default_rng(3).random((4, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(
        self_ensemble(nearest_upsample, volume, rotate_lateral=True), nearest_upsample(volume), rtol=1e-6
    )
    assert len(ensemble_transforms(3, rotate_lateral=True)) == 16
    assert len(ensemble_transforms(3, rotate_lateral=False)) == 8


def test_self_ensemble_averages_a_non_equivariant_function():
    volume = np.random.default_rng(4).random((4, 6, 6)).astype(np.float32)

    def shift(x):
        return np.roll(x, 1, axis=-1)

    assert not np.allclose(self_ensemble(shift, volume, rotate_lateral=True), shift(volume))


def test_mixed_precision_stays_close_and_keeps_the_base_in_float32():
    volume = np.random.default_rng(5).random((6, 20, 20)).astype(np.float32)
    net = random_net((1, 2, 2))
    exact = predict(net, volume, device=CPU, precision="fp32")
    mixed = predict(net, volume, device=CPU, precision="bf16")
    # bfloat16 keeps ~3 significant digits: the detail may move a little, the base (the intensities) not
    assert np.abs(mixed - exact).max() < 0.02
    assert np.abs(mixed - exact).mean() < 0.002
    with pytest.raises(ValueError, match="unknown precision"):
        predict(net, volume, device=CPU, precision="fp8")
