"""The sim_steps generator: events, result shapes, the three training modes, cancel and usage errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from self_vision.core.errors import CancelledError, UsageError
from self_vision.core.events import CancelToken, StageInfo, TrainProgress
from self_vision.core.sim.noise import estimate_noise
from self_vision.core.sim.run import SimOptions, run_sim, sim_steps
from self_vision.core.sim.simulate import simulate_sim

FAST = dict(
    pixel_size_um=0.0626,
    na_detection=1.35,
    emission_wavelength_um=0.488,
    device="cpu",
    patch=32,
    batch=4,
    width=8,
    blocks=1,
    time_budget_s=20.0,
)


def _drain(gen):
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


def test_plain_run_gives_widefield_and_sim_on_the_2x_grid(sim200):
    events, result = _drain(sim_steps(sim200.raw, SimOptions(**FAST)))
    assert any(isinstance(e, StageInfo) for e in events)
    assert result.sr.shape == result.widefield.shape == (192, 192)
    assert result.sr_denoised is None and result.denoised is None
    assert result.pixel_size_um == pytest.approx(0.0313)
    assert len(result.params) == 3 and result.warnings == []
    assert "orientation 2" in result.summary()


def test_rdl_self_supervised_training_lowers_the_loss(sim100):
    options = SimOptions(**{**FAST, "denoise": "rdl", "max_steps": 150, "learning_rate": 3e-3, "width": 16, "batch": 8})
    events, result = _drain(sim_steps(sim100.raw, options))
    steps = [e for e in events if isinstance(e, TrainProgress)]
    assert len(steps) == 150 and steps[-1].stage == "rdl"
    assert np.mean(result.losses[-15:]) < np.mean(result.losses[:5])
    assert result.denoised.shape == sim100.raw.shape
    assert result.sr_denoised.shape == (192, 192)
    clean = simulate_sim(96, 100.0, seed=7, noise=False).raw - result.offset
    assert np.mean((result.denoised - clean) ** 2) < np.mean((sim100.raw - result.offset - clean) ** 2)


def test_timelapse_and_supervised_modes(sim200):
    series = np.stack([sim200.raw, simulate_sim(96, 200.0, seed=5, noise=True).raw])
    series[1] = np.random.default_rng(1).poisson(np.clip(series[0] - 100, 0, None)) + 100.0
    options = SimOptions(**{**FAST, "denoise": "plain", "max_steps": 3})
    result = run_sim(series, options)
    assert result.sr.shape == (2, 192, 192) and result.denoised.shape == series.shape
    target = simulate_sim(96, 2000.0, seed=5, noise=False).raw / 10 + 90
    supervised = run_sim(
        sim200.raw, SimOptions(**{**FAST, "denoise": "rdl", "training": "supervised", "max_steps": 3}), target=target
    )
    assert supervised.sr_denoised.shape == (192, 192)
    with pytest.raises(UsageError, match="high-SNR"):
        run_sim(sim200.raw, SimOptions(**{**FAST, "denoise": "rdl", "training": "supervised"}))
    with pytest.raises(UsageError, match="2 time points"):
        run_sim(sim200.raw, SimOptions(**{**FAST, "denoise": "rdl", "training": "timelapse"}))


def test_cancel_and_missing_pixel_size(sim200):
    token = CancelToken()
    gen = sim_steps(sim200.raw, SimOptions(**{**FAST, "denoise": "rdl"}), cancel=token)
    next(gen)
    token.cancel()
    with pytest.raises(CancelledError):
        _drain(gen)
    with pytest.raises(UsageError, match="pixel size is unknown") as err:
        run_sim(sim200.raw, SimOptions())
    assert "\n" not in str(err.value)


def test_noise_model_of_poisson_frames(sim200):
    from self_vision.core.sim import layout

    stack = layout.subtract_offset(layout.arrange(sim200.raw), sim200.offset)
    model = estimate_noise(stack, sim200.pixel_size_um, sim200.otf)
    assert 0.8 < model.gain < 1.25  # counts are photons: Var = mean


def test_exact_steps_over_two_stages_are_counted_per_stage(sim200):
    """An infinite time budget trains exactly max_steps, split over the plain and the rDL stage."""
    options = SimOptions(**{**FAST, "denoise": "rdl", "pm_source": "denoised", "time_budget_s": float("inf")})
    events, result = _drain(sim_steps(sim200.raw, replace(options, max_steps=3)))
    assert result.steps_trained == {"denoise": 1, "rdl": 2}
    assert result.training_mode == "self" and len(result.losses) == 3
    assert any(isinstance(e, StageInfo) and "exactly 2 steps" in e.message for e in events)
