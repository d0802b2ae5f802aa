"""The axial z check at a finer step, for stacks too thin to be degraded by the whole factor."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.zcheck import check_axial_finer, finer_divisor
from self_vision.core.quality import degrade_array


@pytest.mark.parametrize(
    ("fz", "slices", "expected"),
    [(4, 11, 2), (4, 8, 2), (4, 7, None), (3, 40, None), (2, 40, None), (6, 12, 3), (6, 11, 2), (8, 20, 4)],
)
def test_the_finer_step_is_the_largest_proper_divisor_that_fits(fz, slices, expected):
    assert finer_divisor(fz, slices) == expected


@pytest.mark.parametrize("sampling", ["point", "area"])
def test_a_network_that_knows_the_object_passes_and_one_that_adds_noise_fails(sampling):
    # the object on a grid twice as fine in z as the slab: the x4 result of the slab degraded x2 lies on it
    rng = np.random.default_rng(0)
    fine = gaussian_filter(rng.standard_normal((24, 64, 64)), (0.7, 1.5, 1.5)).astype(np.float32)
    mode = (sampling, "area", "area")
    held = degrade_array(fine, (2, 1, 1), "area", 0.5, mode)  # 12 planes, as the input would hold them

    def check(network):
        return check_axial_finer(network, held, 4, 2, "area", 0.5, 10, mode)

    near = fine + rng.normal(0, 0.002, fine.shape).astype(np.float32)  # exact would score an infinite PSNR
    oracle = check(lambda low: near)
    assert oracle.interval[1] > 1.0 and oracle.model > oracle.cubic + 1.0
    as_cubic = check(lambda low: cubic_upsample(low, (4, 1, 1)))
    assert abs(as_cubic.model - as_cubic.cubic) < 0.5  # only back-projection separates them
    noisy = check(lambda low: cubic_upsample(low, (4, 1, 1)) + rng.normal(0, 0.5, (24, 64, 64)).astype(np.float32))
    assert noisy.interval[2] < 0 and noisy.model < noisy.cubic


@pytest.mark.parametrize(("factor", "whole_checked"), [((4, 1, 1), True), ((4, 2, 2), False)])
def test_an_axial_only_run_checks_z_on_the_whole_input(monkeypatch, factor, whole_checked):
    """The finer z check sees every z-profile of an axial-only input; with lateral stages, the slab."""
    from self_vision.core.enhance import check as check_module
    from self_vision.core.enhance.options import EnhanceOptions
    from self_vision.core.enhance.run import train_steps
    from self_vision.core.events import run_to_end

    seen = []
    real = check_module.check_axial_finer

    def spy(network, data, *args, **kwargs):
        seen.append(data.shape)
        return real(network, data, *args, **kwargs)

    monkeypatch.setattr(check_module, "check_axial_finer", spy)
    rng = np.random.default_rng(0)
    volume = gaussian_filter(rng.standard_normal((10, 96, 96)), (0.5, 2, 2)).astype(np.float32)
    run_to_end(train_steps(volume, factor, options=EnhanceOptions(steps=4, seed=0), device="cpu"))
    lateral = (96, 96) if factor[1] == 1 else (192, 192)
    assert len(seen) == 1 and seen[0][0] == 10
    assert (seen[0][1:] == lateral) is whole_checked  # the slab is a quarter of X
