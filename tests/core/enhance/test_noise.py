import numpy as np
import pytest
from scipy import ndimage

from helpers import drain
from self_vision.core.enhance.noise import NoiseMatch, matching_noise, noise_sigma
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import train_steps
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
