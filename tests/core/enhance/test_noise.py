import numpy as np
import pytest
from scipy import ndimage

from helpers import drain
from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.noise import NoiseMatch, matching_noise, noise_curve, noise_sigma, top_up
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import train_steps
from self_vision.core.enhance.selfcheck import check_volume_group
from self_vision.core.events import StageInfo


@pytest.fixture(scope="module")
def clean():
    rng = np.random.default_rng(0)
    x = ndimage.gaussian_filter(rng.random((24, 80, 80)), 3)
    return ((x - x.min()) / (x.max() - x.min())).astype(np.float32)


def noisy(clean, sigma, seed=1):
    return (clean + np.random.default_rng(seed).normal(0, sigma, clean.shape)).astype(np.float32)


@pytest.mark.parametrize("sigma", [0.02, 0.08])
def test_noise_sigma_reads_white_noise_level(clean, sigma):
    assert noise_sigma(noisy(clean, sigma)) == pytest.approx(sigma, rel=0.1)


@pytest.mark.parametrize("factor", [(1, 2, 2), (4, 1, 1)])
def test_binning_halves_the_noise_and_the_difference_is_added(clean, factor):
    x = noisy(clean, 0.05)
    match = matching_noise([x], [x], factor, ("area",) * 3)
    assert match.training_inputs == pytest.approx(0.025, rel=0.15)  # a block mean of 4 halves the sd
    assert match.added == pytest.approx(0.05 * np.sqrt(3 / 4), rel=0.1)


def test_point_sampling_keeps_the_noise_so_nothing_is_added(clean):
    x = noisy(clean, 0.05)
    assert matching_noise([x], [x], (3, 1, 1), ("point", "area", "area")).added == 0.0


def test_clean_input_gets_no_noise(clean):
    assert matching_noise([clean], [clean], (1, 2, 2), ("area",) * 3).added == 0.0


def test_plane_stacks_are_degraded_along_their_rows(clean):
    planes = noisy(clean, 0.05)  # (N, H, W): rows play z in the axial path
    match = matching_noise([planes], [planes], (4, 1), ("area", "area"))
    assert match.added == pytest.approx(0.05 * np.sqrt(3 / 4), rel=0.1)
    assert "added to match" in match.summary()


def test_too_small_to_degrade_adds_nothing(clean):
    tiny = noisy(clean, 0.05)[:3, :6, :6]
    assert matching_noise([tiny], [tiny], (4, 1, 1), ("area",) * 3) == NoiseMatch(
        noise_sigma(tiny), noise_sigma(tiny), 0.0
    )


def test_a_run_with_match_noise_reports_and_uses_it(clean, monkeypatch):
    import self_vision.core.enhance.training as train_module

    sigmas = []
    original = train_module.add_poisson_gaussian

    def spy(x, photons, sigma, rng):
        sigmas.append(sigma)
        return original(x, photons, sigma, rng)

    monkeypatch.setattr(train_module, "add_poisson_gaussian", spy)
    x = noisy(clean, 0.05)[:, :48, :48] * 100
    options = EnhanceOptions(steps=4, match_noise=True, self_check=False, sampling="area", gradual=False)
    events, _ = drain(train_steps(x, (1, 2, 2), options=options, device="cpu"))
    notes = [e.message for e in events if isinstance(e, StageInfo) and "added to match" in e.message]
    assert len(notes) == 1
    assert sigmas and all(s > 0.01 for s in sigmas)  # in normalised units the noise is a few per cent
    sigmas.clear()
    drain(train_steps(x, (1, 2, 2), options=EnhanceOptions(steps=4, self_check=False, sampling="area"), device="cpu"))
    assert sigmas == []  # off: the training inputs stay as degraded


def test_top_up_brings_a_clean_array_to_the_target_and_leaves_a_noisy_one(clean):
    target = noise_curve(noisy(clean, 0.05))
    topped = top_up(clean, target)
    assert noise_sigma(topped) == pytest.approx(0.05, rel=0.15)
    np.testing.assert_array_equal(topped, top_up(clean, target))  # a fixed seed: the check is reproducible
    already = noisy(clean, 0.05, seed=2)
    assert top_up(already, target) is already
    assert top_up(clean, None) is clean


def test_the_noise_curve_follows_poisson_noise_and_tops_up_where_it_is_bright(clean):
    """Poisson noise grows with intensity: a median over the image reads the dim part only."""
    rng = np.random.default_rng(3)
    photons = 30.0
    shot = (rng.poisson(clean * photons) / photons + rng.normal(0, 0.01, clean.shape)).astype(np.float32)
    curve = noise_curve(shot)
    assert curve.slope == pytest.approx(1 / photons, rel=0.25)
    assert curve.offset == pytest.approx(0.01**2, abs=5e-4)
    binned = shot.reshape(12, 2, 80, 80).mean(1)  # two planes averaged: half the variance
    topped = top_up(binned, curve)
    bright, dim = binned > 0.6, binned < 0.2
    added = topped - binned
    assert added[bright].std() > 1.5 * added[dim].std()  # more noise added where the input is brighter
    assert noise_curve(topped).slope == pytest.approx(curve.slope, rel=0.25)


def test_the_self_check_scores_on_data_as_noisy_as_the_input(clean):
    """Binning x4 halves the noise of the degraded slab; topped up to the input's noise (noise added after the
    binning, as in ``benchmarks/quality.py --noise``), the classical methods score lower, as on such an input."""
    held = noisy(np.concatenate([clean] * 2), 0.05)
    factor, sampling = (4, 1, 1), ("area",) * 3

    def network(low):
        return cubic_upsample(low, factor)

    quiet = check_volume_group(network, held, factor, "area", 0.5, 10, sampling)
    real = check_volume_group(network, held, factor, "area", 0.5, 10, sampling, noise_curve(held))
    assert real.cubic < quiet.cubic - 1.0 and real.back_projection < quiet.back_projection - 1.0
    # back-projection puts the input's noise back: at the input's noise it loses to cubic clearly
    assert quiet.cubic - quiet.back_projection < 0.1 < 0.3 < real.cubic - real.back_projection
    assert real.best_classical == "cubic"
    # the "network" here is cubic itself: alone (no back-projection) it ties the best classical exactly
    assert real.plain_interval == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)


def test_the_check_expects_a_binned_acquisition_to_be_as_noisy_as_a_block_mean(clean):
    from self_vision.core.enhance.check import _expected_noise

    x = noisy(clean, 0.06)
    level = noise_sigma(x)
    assert _expected_noise(x, (3, 1, 1), ("point", "area", "area")).level(x) == pytest.approx(level, rel=0.05)
    binned = _expected_noise(x, (1, 2, 2), ("point", "area", "area")).level(x)
    assert binned == pytest.approx(level / 2, rel=0.05)  # 4 samples summed: half the standard deviation
