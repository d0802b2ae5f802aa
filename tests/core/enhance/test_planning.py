"""Planning a run: the blur that keeps a step axis's training pairs at the output's scale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import drain
from self_vision.core.degrade import blur_array
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.planning import gradual_steps, step_target_blur
from self_vision.core.enhance.run import train_steps
from self_vision.core.events import StageInfo
from self_vision.core.sample import synthetic_neurons


def test_only_step_axes_with_a_factor_are_blurred():
    assert step_target_blur((1, 3, 3), ("point", "point", "point"), 1.0) == (0.0, math.sqrt(8 / 9), math.sqrt(8 / 9))
    assert step_target_blur((1, 3, 3), ("point", "area", "area"), 1.0) == (0.0, 0.0, 0.0)
    assert step_target_blur((4, 1, 1), ("point", "point", "area"), 2.0) == (2 * math.sqrt(15 / 16), 0.0, 0.0)
    assert step_target_blur((1, 2, 2), ("point",) * 3, 0.0) == (0.0, 0.0, 0.0)


def _width(image: np.ndarray) -> float:
    """Width (px) of the autocorrelation along the last axis, from its value at lag 1 (a Gaussian's:
    rho(1) = exp(-1 / (2 w^2)))."""
    x = image - image.mean(axis=-1, keepdims=True)
    rho = (x[:, 1:] * x[:, :-1]).sum() / (x * x).sum()
    return float(np.sqrt(-1.0 / (2.0 * np.log(rho))))


@pytest.mark.parametrize("factor", [2, 3])
def test_blurred_input_has_the_outputs_blur_in_its_own_voxels(factor):
    """A step-sampled image of an object blurred by 1.5 fine voxels, blurred by the rule, is as smooth in its own
    voxels as the fine image is in fine voxels: the pairs cut from it are at the scale the result must have."""
    rng = np.random.default_rng(0)
    fine = blur_array(rng.normal(size=(1, 256, 256 * factor)).astype(np.float32), (0, 0, 1.5))
    coarse = fine[..., factor // 2 :: factor]
    target = blur_array(coarse, step_target_blur((1, 1, factor), ("point",) * 3, 1.5))
    assert _width(target[0]) == pytest.approx(_width(fine[0]), rel=0.05)
    assert _width(coarse[0]) < 0.6 * _width(fine[0])  # the raw input is much sharper: the mismatch it fixes


def test_a_step_sampled_lateral_run_blurs_its_patches_and_a_binned_one_does_not():
    volume = synthetic_neurons(shape=(6, 48, 48), seed=2)
    said = {}
    for sampling in ("point", "z=point,xy=area"):
        options = EnhanceOptions(steps=2, seed=0, self_check=False, sampling=sampling)
        events, _ = drain(train_steps(volume, (1, 2, 2), options=options))
        said[sampling] = [e.message for e in events if isinstance(e, StageInfo) and "blurred" in e.message]
    assert said["point"] == ["lateral: training patches blurred by 0.00, 0.87, 0.87 px (optics: 1 output voxels)"]
    assert said["z=point,xy=area"] == []


def test_gradual_steps_split_into_primes():
    assert gradual_steps((1, 4, 6)) == [(1, 2, 2), (1, 2, 3)]
