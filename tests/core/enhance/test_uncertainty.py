"""The uncertainty map: higher where the input was noisy, on the output grid, in the input's units, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision.api import RunRequest
from self_vision.api import run as dispatch
from self_vision.core.degrade import add_poisson_gaussian
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.uncertainty import local_rms
from self_vision.core.errors import DataError
from self_vision.core.events import TrainProgress, run_to_end
from self_vision.core.quality import degrade_array
from self_vision.core.sample import synthetic_neurons

FACTOR = (1, 2, 2)


def quick(**overrides: object) -> EnhanceOptions:
    settings: dict[str, object] = {"steps": 40, "seed": 0, "back_projection": 2, "self_check": False}
    settings.update(overrides)
    return EnhanceOptions(**settings)  # type: ignore[arg-type]


def uncertain(volume: np.ndarray, factor=FACTOR, options: EnhanceOptions | None = None, **kwargs) -> RunRequest:
    """A request for an enhancement with its uncertainty map (through the one dispatcher)."""
    return RunRequest("enhance", volume, factor, options=options or quick(), device="cpu", uncertainty=True, **kwargs)


def run(volume: np.ndarray, options: EnhanceOptions | None = None, **kwargs):
    return run_to_end(dispatch(uncertain(volume, options=options, **kwargs)))


@pytest.fixture(scope="module")
def half_noisy() -> tuple[np.ndarray, np.ndarray]:
    """A low-resolution neuron volume (8, 32, 32) with strong Gaussian noise on the half Y >= 16, and its reference."""
    reference = synthetic_neurons((8, 64, 64), seed=2)
    low = degrade_array(reference, FACTOR)
    low[:, 16:] = add_poisson_gaussian(low[:, 16:], None, 0.1, np.random.default_rng(0))
    return low, reference


def test_uncertainty_is_higher_where_the_input_was_noisy(half_noisy) -> None:
    low, reference = half_noisy
    result = run(low)
    u = result.uncertainty
    clean, noisy = float(u[:, 4:28].mean()), float(u[:, 36:60].mean())
    assert noisy > 2.5 * clean, (noisy, clean)
    # and it tracks the error: the most uncertain tenth holds clearly larger errors than the rest
    err = np.abs(result.data - reference)
    top = u >= np.quantile(u, 0.9)
    assert err[top].mean() > 1.5 * err[~top].mean()


def test_uncertainty_on_the_output_grid_finite_and_non_negative(small_volume: np.ndarray) -> None:
    result = run(small_volume, voxel_size=(2.0, 0.5, 0.5))
    u = result.uncertainty
    assert u is not None and u.shape == result.data.shape == (8, 96, 96)
    assert u.dtype == np.float32 and np.isfinite(u).all() and u.min() >= 0 and u.max() > 0
    assert result.voxel_size == (2.0, 0.25, 0.25)


def test_uncertainty_is_in_the_input_intensity_units(small_volume: np.ndarray) -> None:
    """The same data in other units (x 1000 + 50) gives the same map times 1000."""
    base = run(small_volume).uncertainty
    scaled = run(small_volume * 1000 + 50).uncertainty
    assert float(scaled.mean()) == pytest.approx(1000 * float(base.mean()), rel=0.02)


def test_uncertainty_is_reproducible_with_a_seed(small_volume: np.ndarray) -> None:
    first, second = run(small_volume), run(small_volume)
    np.testing.assert_array_equal(first.uncertainty, second.uncertainty)
    np.testing.assert_array_equal(first.data, second.data)


def test_uncertainty_for_an_applied_model(small_volume: np.ndarray) -> None:
    trained = run(small_volume)
    applied = run(small_volume, model=trained.model)
    assert applied.train_seconds == 0
    np.testing.assert_allclose(applied.uncertainty, trained.uncertainty, rtol=1e-4, atol=1e-6)


def test_too_thin_stack_fails_before_training() -> None:
    volume = synthetic_neurons((3, 32, 32), seed=0)  # 3 slices, 2x axial: 1 slice after one more degradation
    gen = dispatch(uncertain(volume, (2, 2, 2), voxel_size=(1.0, 0.5, 0.5), name="thin.tif"))
    events = []
    with pytest.raises(DataError, match=r"thin\.tif: axis Z has 3 voxels, too few for an uncertainty map"):
        for event in gen:
            events.append(event)
    assert not any(isinstance(e, TrainProgress) for e in events)


def test_local_rms() -> None:
    r = np.zeros((9, 9), np.float32)
    r[4, 4] = 2.0
    np.testing.assert_array_equal(local_rms(-r, 0), r)
    smooth = local_rms(r, 1.0)
    assert smooth[4, 4] < 2.0 and smooth[4, 5] > 0 and smooth.min() >= 0
    # the RMS of a constant is the constant
    np.testing.assert_allclose(local_rms(np.full((5, 5), -3.0, np.float32), 1.0), 3.0, rtol=1e-6)
