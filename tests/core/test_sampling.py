"""Sampling models per axis: point (a step) vs area (binning), where a point sample sits, and the geometry."""

import numpy as np
import pytest
import torch

from self_vision.core.degrade import back_project, cubic_upsample, degrade, point_sample
from self_vision.core.errors import UsageError
from self_vision.core.geometry import output_translate
from self_vision.core.quality import degrade_array
from self_vision.core.sampling import area_voxels, describe, parse_sampling


def test_parse_sampling():
    assert parse_sampling(None, 3) == ("point", "area", "area")  # z is a step, y/x bin by default
    assert parse_sampling(None, 2) == ("area", "area")
    assert parse_sampling("point", 3) == ("point",) * 3
    assert parse_sampling("xy=point", 3) == ("point", "point", "point")
    assert parse_sampling("z=area", 3) == ("area", "area", "area")
    assert parse_sampling("point,area,point", 3) == ("point", "area", "point")
    assert parse_sampling(("area", "point"), 2) == ("area", "point")
    for bad in ("z=step", "dots", "point,area"):
        with pytest.raises(UsageError, match="sampling"):
            parse_sampling(bad, 3)
    assert describe(("point", "area", "area")) == "z: point, y/x: area"


@pytest.mark.parametrize("f", [3, 5])
def test_odd_point_sample_is_the_centre_voxel(f):
    x = torch.arange(4.0 * f).reshape(1, 1, -1)
    assert point_sample(x, 2, f)[0, 0].tolist() == [i * f + (f - 1) // 2 for i in range(4)]


@pytest.mark.parametrize("f", [2, 4])
def test_even_point_sample_is_half_way_between_the_central_voxels(f):
    # a linear ramp away from the edges: the cubic-convolution value half-way is the exact centre
    x = torch.arange(6.0 * f).reshape(1, 1, -1)
    got = point_sample(x, 2, f)[0, 0].numpy()
    centres = np.arange(6) * f + (f - 1) / 2
    np.testing.assert_allclose(got[1:-1], centres[1:-1], atol=1e-5)


@pytest.mark.parametrize("factor", [(3, 1, 1), (1, 3, 3), (3, 3, 3), (5, 1, 1)])
def test_cubic_interpolation_passes_through_point_samples(factor):
    # the geometry (pixel-area centres, geometry.output_translate) and the point model agree: interpolating
    # and point-sampling again returns the input exactly at odd factors
    rng = np.random.default_rng(0)
    low = rng.random((6, 7, 8)).astype(np.float32)
    again = degrade_array(cubic_upsample(low, factor), factor, sampling=("point",) * 3)
    np.testing.assert_allclose(again, low, atol=1e-4)
    # and the input voxel's centre is the output voxel i*f + (f-1)/2: output_translate's first voxel lies
    # (f-1)/2 output voxels before it
    t = output_translate((1.0, 1.0, 1.0), factor)
    assert t == tuple(-(f - 1) / 2 / f for f in factor)


def test_point_and_area_differ_only_along_point_axes():
    x = torch.rand(1, 1, 6, 8, 8)
    mixed = degrade(x, (3, 2, 2), sampling=("point", "area", "area"))
    expected = torch.nn.functional.avg_pool3d(x[:, :, 1::3], (1, 2, 2))
    torch.testing.assert_close(mixed, expected)
    assert torch.equal(degrade(x, (3, 2, 2)), degrade(x, (3, 2, 2), sampling=("area",) * 3))


def test_point_sampling_keeps_the_noise_binning_averages_it():
    noise = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (1, 1, 30, 60, 60)).astype(np.float32))
    point = degrade(noise, (3, 1, 1), sampling=("point", "area", "area"))
    area = degrade(noise, (3, 1, 1), sampling=("area",) * 3)
    assert float(point.var()) == pytest.approx(1.0, rel=0.05)
    assert float(area.var()) == pytest.approx(1 / 3, rel=0.05)
    assert area_voxels(("point", "area", "area"), (3, 2, 2)) == 4


@pytest.mark.parametrize("factor", [(3, 1, 1), (2, 1, 1), (1, 3, 3)])
def test_back_projection_makes_the_result_consistent_at_the_sample_positions(factor):
    sampling = ("point",) * 3
    rng = np.random.default_rng(1)
    low = torch.from_numpy(rng.random((1, 1, 8, 9, 9)).astype(np.float32))
    shape = [s * f for s, f in zip(low.shape[2:], factor, strict=True)]
    start = torch.zeros(1, 1, *shape)
    rounds = 1 if all(f % 2 for f in factor) else 30  # odd: exact after one round
    y = back_project(start, low, factor, "area", rounds, sampling=sampling)
    torch.testing.assert_close(degrade(y, factor, sampling=sampling), low, atol=2e-3, rtol=0)
