"""Pattern-modulated images are a forward model of the raw frames: from a noise-free acquisition they must give
the frames back (registration, scale, an SR estimate that is not apodised, edges padded rather than tapered)."""

from __future__ import annotations

import numpy as np

from self_vision.core.sim import layout
from self_vision.core.sim.modulated import forward_model, match_mean, modulated_images, sr_estimate
from self_vision.core.sim.optics import expected_k0
from self_vision.core.sim.pattern import estimate_pattern
from self_vision.core.sim.simulate import simulate_sim
from self_vision.core.sim.wiener import WienerOptions, reconstruct


def _psnr(image: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(np.ptp(ref) ** 2 / np.mean((image - ref) ** 2)))


def test_pm_images_of_noise_free_frames_give_the_frames_back():
    sim = simulate_sim(96, 200.0, seed=5, noise=False)
    frames = layout.arrange(sim.raw)[0] - sim.offset
    params, _ = estimate_pattern(frames, sim.pixel_size_um, sim.otf, k0_prior=expected_k0(0.488, 1.35))
    inner = (slice(None), slice(None), slice(12, -12), slice(12, -12))  # away from the edge taper

    def score(sr: np.ndarray) -> float:
        pm = match_mean(modulated_images(sr, params, sim.pixel_size_um, sim.otf), frames)
        assert pm.shape == frames.shape
        return _psnr(pm[inner], frames[inner])

    forward = score(sr_estimate(frames, params, sim.pixel_size_um, sim.otf, 0.05))
    apodised = score(reconstruct(frames, params, sim.pixel_size_um, sim.otf, WienerOptions(wiener=0.05)))
    assert forward > 36.0, forward  # the frames back, fringes in place
    assert forward > apodised + 5.0, (forward, apodised)  # an apodised estimate blurs the forward model


def test_padded_forward_model_is_right_up_to_the_frame_edges():
    sim = simulate_sim(96, 200.0, seed=5, noise=False)
    frames = layout.arrange(sim.raw)[0] - sim.offset
    params, _ = estimate_pattern(frames, sim.pixel_size_um, sim.otf, k0_prior=expected_k0(0.488, 1.35))

    def score(pad: int) -> float:
        pm = forward_model(frames, params, sim.pixel_size_um, sim.otf, 0.05, pad=pad)
        return _psnr(match_mean(pm, frames), frames)  # the whole frame, edges included

    padded, tapered = score(8), score(0)
    assert padded > 38.0, padded
    assert padded > tapered + 5.0, (padded, tapered)
