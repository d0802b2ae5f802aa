"""The no-reference resolution figure (decorrelation analysis per axis) and its report."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from self_vision.core.resolution import MIN_SAMPLES, AxisResolution, decorrelation, resolution_report


def _beads(shape=(48, 96, 96), seed=0) -> np.ndarray:
    """Sparse point objects: their spectrum is flat, so the image's resolution is the blur's."""
    rng = np.random.default_rng(seed)
    return (rng.random(shape) > 0.995).astype(np.float64) * 100


def _imaged(obj: np.ndarray, sigma, seed=1) -> np.ndarray:
    """Blur by ``sigma`` (voxels, per axis), then shot noise."""
    rng = np.random.default_rng(seed)
    return rng.poisson(np.maximum(ndimage.gaussian_filter(obj, sigma), 0) * 5 + 2) / 5.0


def test_the_figure_grows_with_the_blur_and_follows_the_axis():
    obj = _beads()
    figures = [decorrelation(_imaged(obj, (s, s, s)), (1.0, 1.0, 1.0)) for s in (1.0, 2.0, 3.0)]
    for axis in range(3):
        values = [f[axis].value for f in figures]
        assert all(v is not None for v in values)
        assert values[0] < values[1] < values[2], values
        assert not any(f[axis].limited for f in figures)
    # an axial blur three times the lateral one shows in z only
    elongated = decorrelation(_imaged(obj, (3.0, 1.0, 1.0)), (1.0, 1.0, 1.0))
    # (less than 3x: a sigma of one pixel sits near the two-pixel sampling limit)
    assert elongated[0].value > 1.7 * elongated[1].value
    assert elongated[1].value == pytest.approx(figures[0][1].value, rel=0.35)


def test_the_figure_is_in_the_spacing_unit():
    image = _imaged(_beads(), (2.0, 2.0, 2.0))
    in_pixels = decorrelation(image, (1.0, 1.0, 1.0))
    in_um = decorrelation(image, (0.5, 0.2, 0.2))
    assert in_um[0].value == pytest.approx(0.5 * in_pixels[0].value)
    assert in_um[2].value == pytest.approx(0.2 * in_pixels[2].value)


def test_sharp_content_is_sampling_limited_and_few_slices_give_no_figure():
    sharp = decorrelation(_imaged(_beads(), (0.3, 0.3, 0.3)), (2.0, 1.0, 1.0))
    assert sharp[1].limited and sharp[1].value == pytest.approx(2.0)  # at most two pixels, all we can say
    assert str(sharp[1]) == "≤2"
    thin = decorrelation(_imaged(_beads((MIN_SAMPLES - 1, 64, 64)), 1.5), (1.0, 1.0, 1.0))
    assert thin[0] == AxisResolution(None) and str(thin[0]) == "n/a"
    assert thin[1].value is not None


def test_the_report_compares_the_same_region_and_measures_consistency():
    volume = _imaged(_beads((32, 64, 64)), 1.5).astype(np.float32)
    factor = (2, 2, 2)
    nearest = volume.repeat(2, 0).repeat(2, 1).repeat(2, 2)

    def block_mean(region: np.ndarray) -> np.ndarray:
        s = region.shape
        return region.reshape(s[0] // 2, 2, s[1] // 2, 2, s[2] // 2, 2).mean(axis=(1, 3, 5))

    report = resolution_report(volume, nearest, factor, (1.0, 0.4, 0.4), block_mean)
    assert report.consistency == pytest.approx(0.0, abs=1e-6)  # its block means are the input exactly
    wrong = resolution_report(volume, np.roll(nearest, 3, axis=2), factor, (1.0, 0.4, 0.4), block_mean)
    assert wrong.consistency > 0.3
    assert report.axes == "zyx" and report.unit == "µm"
    assert report.before["y"].value is not None and report.before["y"].value > 0.8  # 1.5-voxel blur at 0.4 µm
    text = report.summary()
    assert text.startswith("resolution (decorrelation, no reference): z ") and "0.0 % RMS" in text
    assert "→" in report.short() and set(report.as_dict()["output"]) == {"z", "y", "x"}
    unitless = resolution_report(volume, nearest, factor, None)
    assert unitless.unit == "input pixels" and unitless.consistency is None


def test_the_peak_is_placed_between_sampled_radii():
    from self_vision.core.resolution import _refine

    edges = np.linspace(0.0, 1.0, 11)
    d = 1.0 - (edges - 0.43) ** 2  # a parabola whose vertex lies between the samples 0.4 and 0.5
    assert _refine(edges, d, int(np.argmax(d))) == pytest.approx(0.43)
    assert _refine(edges, d, 0) == 0.0  # at an end there is no neighbour to refine with
