"""The self-check and the network's own contribution, on synthetic data where the answer is known."""

import numpy as np
import pytest
import torch

from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.enhance.selfcheck import MIN_GAIN_DB, SelfCheck, split_holdout
from self_vision.core.events import run_to_end
from self_vision.core.quality import degrade_array, score
from self_vision.core.sample import synthetic_shapes

FACTOR = (1, 2, 2)


def enhance(low, steps=500, **kwargs):
    options = EnhanceOptions(steps=steps, seed=0, **kwargs)
    return run_to_end(enhance_steps(low, FACTOR, options=options, device="cpu"))


@pytest.fixture(scope="module")
def shapes():
    reference = synthetic_shapes((12, 128, 128), seed=0)
    return reference, degrade_array(reference, FACTOR)


@pytest.fixture(scope="module")
def trained(shapes):
    return enhance(shapes[1])


def test_network_alone_beats_cubic_on_sharp_structures(shapes, trained):
    reference, low = shapes
    border = [1, 4, 4]
    network_alone = trained.normalizer.inverse(trained.model.apply(trained.normalizer.forward(low), back_projection=0))
    cubic = score(cubic_upsample(low, FACTOR), reference, border=border).psnr
    assert score(network_alone, reference, border=border).psnr > cubic + 0.3
    assert score(trained.data, reference, border=border).psnr > cubic + 0.3
    assert trained.logs["lateral"].last_loss < 0.9 * trained.logs["lateral"].first_loss


def test_network_output_is_not_constant(shapes, trained):
    # the network's own contribution (what it adds to the interpolation) must carry structure: a dead
    # network (zeros or a constant, as a clamp plus near-zero init gives) fails here
    net = trained.model.stages[0].model
    x = torch.from_numpy(trained.normalizer.forward(shapes[1]))[None, None]
    with torch.no_grad():
        detail = net.detail(x)[0, 0].numpy()
    assert detail.std() > 0.005
    # ... and it must point the right way: towards the detail the interpolation misses
    with torch.no_grad():
        missing = trained.normalizer.forward(shapes[0]) - net.interpolate(x)[0, 0].numpy()
    assert np.corrcoef(detail.ravel(), missing.ravel())[0, 1] > 0.2


def test_self_check_predicts_a_gain_on_structure(trained):
    check = trained.self_check
    assert isinstance(check, SelfCheck)
    assert check.gain > 0.3
    assert check.trusted
    assert "beats cubic and back-projection" in check.summary()
    assert min(check.gains_over_back_projection.values()) > 0


def test_self_check_predicts_no_gain_on_pure_noise():
    noise = np.random.default_rng(0).random((12, 64, 128)).astype(np.float32)
    result = enhance(noise, steps=150)
    check = result.self_check
    assert check is not None
    assert check.gain < MIN_GAIN_DB  # no gain worth the name
    assert not check.trusted
    assert "do not trust" in check.summary()


def test_holdout_is_never_trained_on():
    x = np.zeros((4, 32, 100), np.float32)
    parts, held = split_holdout(x, FACTOR)
    assert held is not None and held.shape[-1] == 25
    assert sum(p.shape[-1] for p in parts) + held.shape[-1] == 100
    assert all(np.shares_memory(p, x) for p in parts)
    assert not any(np.shares_memory(p, held) for p in parts)
    assert split_holdout(np.zeros((4, 32, 20), np.float32), (1, 4, 4))[1] is None


def test_holdout_lies_on_structure_not_background():
    # structure only in the middle of X: the slab must land on it, and both sides stay trainable
    x = np.zeros((4, 32, 160), np.float32)
    x[..., 60:100] = np.random.default_rng(0).random((4, 32, 40))
    parts, held = split_holdout(x, FACTOR)
    assert held is not None and held.std() > 0.2
    assert len(parts) == 2 and all(p.shape[-1] >= 2 * FACTOR[-1] * 4 for p in parts)
    # a uniform input keeps the old place: the last quarter
    parts, held = split_holdout(np.ones((4, 32, 100), np.float32), FACTOR)
    assert len(parts) == 1 and parts[0].shape[-1] == 75


def test_self_check_can_be_switched_off(shapes):
    assert enhance(shapes[1], steps=5, self_check=False).self_check is None
