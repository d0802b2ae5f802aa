"""The detail weight: cubic + w * (network - cubic), then back-projection; w fitted on the held-out slab."""

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.enhancer import load_model, save_model
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.enhance.selfcheck import back_projected, fit_detail_weight
from self_vision.core.errors import UsageError
from self_vision.core.events import run_to_end
from self_vision.core.quality import back_projection_baseline, degrade_array, score
from self_vision.core.sample import synthetic_neurons, synthetic_shapes


def enhance(volume, factor, steps=6, **kwargs):
    options = EnhanceOptions(steps=steps, seed=0, **kwargs)
    return run_to_end(enhance_steps(volume, factor, voxel_size=(2.0, 0.5, 0.5), options=options, device="cpu"))


@pytest.fixture(scope="module")
def smooth():
    rng = np.random.default_rng(0)
    reference = ndimage.gaussian_filter(rng.random((4, 32, 32)), 2).astype(np.float32)
    factor = (1, 2, 2)
    low = degrade_array(reference, factor)
    return reference, low, factor


def test_closed_form_weight_without_back_projection(smooth):
    reference, low, factor = smooth
    cubic = cubic_upsample(low, factor)
    border = [0, 2, 2]
    # half-way to the truth needs a weight of 1/2 of a detail that overshoots twice
    w, psnr = fit_detail_weight(cubic + 2 * (reference - cubic), cubic, low, reference, factor, "area", 0.5, 0, border)
    assert w == pytest.approx(0.5, abs=1e-4)
    assert psnr > 60
    # the truth itself: all of the detail; detail pointing away from the truth: none of it
    assert fit_detail_weight(reference, cubic, low, reference, factor, "area", 0.5, 0, border)[0] == 1.0
    assert fit_detail_weight(2 * cubic - reference, cubic, low, reference, factor, "area", 0.5, 0, border)[0] == 0.0


def test_closed_form_weight_is_the_best_with_back_projection():
    factor = (1, 2, 2)
    reference = ndimage.gaussian_filter(np.random.default_rng(0).random((4, 32, 32)), (0, 1, 1)).astype(np.float32)
    low = degrade_array(reference, factor)
    cubic = cubic_upsample(low, factor)
    noise = np.random.default_rng(1).normal(0, 0.02, reference.shape).astype(np.float32)
    network = cubic + 0.7 * (reference - cubic) + noise
    border = [0, 4, 4]
    w, psnr = fit_detail_weight(network, cubic, low, reference, factor, "area", 0.5, 10, border)
    assert 0.0 < w < 1.0
    for other in np.linspace(0, 1, 11):  # no weight on a grid does better than the closed form
        start = cubic + np.float32(other) * (network - cubic)
        result = back_projected(start, low, factor, "area", 0.5, 10)  # the back-projection the fit uses
        if other == 0:  # w = 0 is classical back-projection
            np.testing.assert_allclose(result, back_projection_baseline(low, factor, rounds=10), atol=1e-5)
        assert score(result, reference, border=border).psnr <= psnr + 1e-6


@pytest.mark.parametrize("factor", [(1, 2, 2), (1, 4, 4), (2, 2, 2)])
def test_zero_weight_is_classical_back_projection(factor):
    volume = synthetic_neurons((8, 48, 48), seed=1)
    result = enhance(volume, factor, detail_weight=0.0)
    assert set(result.detail_weights.values()) == {0.0}
    x = result.normalizer.forward(volume)
    sampling = result.model.sampling
    expected = result.normalizer.inverse(back_projection_baseline(x, factor, rounds=10, sampling=sampling))
    np.testing.assert_allclose(result.data, expected, atol=1e-4 * float(np.abs(expected).max()))


def test_default_keeps_all_of_the_detail():
    volume = synthetic_neurons((8, 48, 48), seed=1)
    result = enhance(volume, (2, 2, 2), gate_unchecked="network")  # 48 px: too narrow for a held-out slab
    assert result.detail_weights == {"lateral": 1.0, "axial": 1.0}
    assert result.model.detail_weights == {}
    assert result.self_check is None or "detail weight" not in result.self_check.summary()


def test_weight_is_checked_before_training():
    volume = synthetic_neurons((8, 48, 48), seed=1)
    for bad in (1.5, -0.1, "sometimes"):
        with pytest.raises(UsageError, match="detail_weight"):
            enhance(volume, (1, 2, 2), detail_weight=bad)
    with pytest.raises(UsageError, match="unchecked_detail_weight"):
        enhance(volume, (1, 2, 2), detail_weight="auto", unchecked_detail_weight=2.0)


def test_sharp_structures_keep_their_detail():
    reference = synthetic_shapes((12, 128, 128), seed=0)
    result = enhance(degrade_array(reference, (1, 2, 2)), (1, 2, 2), steps=200, detail_weight="auto", keep_network=True)
    check = result.self_check
    assert check.weights["lateral"] > 0.6
    assert check.weight_sources["lateral"] == "held-out"
    assert result.detail_weights == check.weights
    assert "detail weight lateral" in check.summary()


def test_detail_that_does_not_hold_on_held_out_data_is_dropped():
    # trained on sharp shapes, held out on smooth data, where the sharpening the network learned hurts:
    # the weight falls and the result moves towards classical back-projection
    factor = (1, 2, 2)
    sharp = degrade_array(synthetic_shapes((12, 128, 128), seed=0), factor)
    rng = np.random.default_rng(0)
    smooth = ndimage.gaussian_filter(rng.random(sharp.shape), (0, 3, 3)).astype(np.float32)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    volume = sharp.copy()
    volume[..., 48:] = smooth[..., 48:]  # the held-out quarter (16 of 64 columns) and a margin before it
    result = enhance(volume, factor, steps=200, detail_weight="auto")
    assert result.self_check.weights["lateral"] < 0.5


def test_weights_are_saved_with_the_model(tmp_path):
    volume = synthetic_neurons((8, 48, 48), seed=1)
    result = enhance(volume, (1, 2, 2), detail_weight=0.25, gate_unchecked="network")  # no slab in 48 px
    loaded = load_model(save_model(result.model, tmp_path / "m.pt"))
    assert loaded.detail_weights == {"lateral": 0.25}
    x = result.normalizer.forward(volume)
    np.testing.assert_allclose(loaded.apply(x), result.model.apply(x), atol=1e-6)
    legacy = dataclasses.replace(result.model, detail_weights={}).to_dict()
    del legacy["detail_weights"]  # files written before the weight existed keep all of the detail
    assert type(loaded).from_dict(legacy).detail_weights == {}


def test_an_axial_stage_that_cannot_be_checked_keeps_its_detail():
    # 7 slices cannot be degraded 4x along z once more, nor 2x (zcheck needs 8); the weight fitted on lateral
    # planes is reported only
    # (keep_network: the gate, which also weighs the held-out lateral planes, is tested below and in test_gate)
    result = enhance(
        synthetic_neurons((7, 48, 48), seed=1), (4, 1, 1), steps=20, detail_weight="auto", keep_network=True
    )
    check = result.self_check
    assert "axial" in check.unchecked
    assert "axial" in check.plane_intervals  # still measured at its trained scale on lateral planes
    gain, low, _ = check.plane_intervals["axial"]
    assert result.gate.verdicts["axial"] == ("unconfirmed" if low > 0 and gain >= 0.1 else "rejected")
    assert check.weights == {"axial": 1.0} == result.detail_weights
    assert check.weight_sources["axial"].startswith("z not checked")
    assert 0.0 <= check.proxy_weights["axial"] <= 1.0
    fixed = enhance(
        synthetic_neurons((7, 48, 48), seed=1), (4, 1, 1), steps=20, detail_weight="auto", unchecked_detail_weight=0.0
    )
    assert fixed.detail_weights == {"axial": 0.0}
