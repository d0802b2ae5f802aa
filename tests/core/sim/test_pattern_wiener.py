"""Pattern estimation against the simulated truth, and the Wiener reconstruction against widefield."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from self_vision.core.errors import DataError
from self_vision.core.sim import layout, wiener
from self_vision.core.sim.optics import expected_k0
from self_vision.core.sim.pattern import estimate_pattern


def _stack(sim):
    return layout.subtract_offset(layout.arrange(sim.raw)[0], layout.estimate_offset(sim.raw))


def _angle_error(a, b):
    return abs((a - b + math.pi / 2) % math.pi - math.pi / 2)


@pytest.mark.parametrize("fixture", ["sim200", "sim100"])
@pytest.mark.parametrize("with_angles", [False, True])
def test_wave_vectors_within_aims(request, fixture, with_angles):
    sim = request.getfixturevalue(fixture)
    priors = tuple(p.angle for p in sim.params) if with_angles else None
    params, warnings = estimate_pattern(
        _stack(sim), sim.pixel_size_um, sim.otf, k0_prior=expected_k0(0.488, 1.35), angles_prior=priors
    )
    assert warnings == []
    for est, truth in zip(params, sim.params, strict=True):
        assert est.reliable
        assert _angle_error(est.angle, truth.angle) < 0.01
        assert abs(est.magnitude / truth.magnitude - 1) < 0.01
        assert abs(est.modulation - truth.modulation) < 0.2
        if with_angles:  # the sign of k0 follows the prior, so the phases are comparable
            pairs = zip(est.phases, truth.phases, strict=True)
            errors = [abs((e - t + math.pi) % (2 * math.pi) - math.pi) for e, t in pairs]
            assert max(errors) < 0.5


def test_widefield_input_is_refused(sim200):
    frames = np.repeat(sim200.raw.reshape(3, 3, *sim200.raw.shape[1:]).mean(axis=(0, 1))[None], 9, axis=0)
    noisy = np.random.default_rng(0).poisson(frames).astype(np.float32)
    with pytest.raises(DataError, match="no illumination pattern"):
        estimate_pattern(_stack_raw(noisy), sim200.pixel_size_um, sim200.otf, k0_prior=expected_k0(0.488, 1.35))


def _stack_raw(raw):
    return layout.subtract_offset(layout.arrange(raw)[0], layout.estimate_offset(raw))


def test_wiener_beats_widefield_against_band_limited_truth(sim200):
    stack = _stack(sim200)
    params = sim200.params
    sr = wiener.reconstruct(stack, params, sim200.pixel_size_um, sim200.otf)
    wf = wiener.widefield(stack)
    assert sr.shape == wf.shape == (192, 192)
    support = wiener.sim_support(sim200.otf, params)
    apo = wiener.apodisation(sr.shape, sim200.pixel_size_um / 2, support)
    truth = np.fft.ifft2(np.fft.fft2(sim200.truth_2x) * apo).real

    def error(image):
        design = np.stack([image.ravel(), np.ones(image.size)], 1)
        coef, *_ = np.linalg.lstsq(design, truth.ravel(), rcond=None)
        return float(np.sqrt(np.mean((design @ coef - truth.ravel()) ** 2)))

    assert error(sr) < 0.8 * error(wf)
    ky = np.fft.fftfreq(192, sim200.pixel_size_um / 2)[:, None]
    kx = np.fft.fftfreq(192, sim200.pixel_size_um / 2)[None, :]
    band = (np.hypot(ky, kx) > sim200.otf.cutoff) & (np.hypot(ky, kx) < support)

    def high(image):
        spectrum = np.abs(np.fft.fft2(image - image.mean())) ** 2
        return spectrum[band].sum() / spectrum.sum()

    assert high(sr) > 10 * high(wf)


def test_wiener_speed_9x256(sim200):
    stack = np.tile(_stack(sim200), (1, 1, 3, 3))[..., :256, :256]
    wiener.reconstruct(stack, sim200.params, sim200.pixel_size_um, sim200.otf)
    start = time.perf_counter()
    wiener.reconstruct(stack, sim200.params, sim200.pixel_size_um, sim200.otf)
    assert time.perf_counter() - start < 2.0  # aim 1 s; the margin is for a loaded CI machine
