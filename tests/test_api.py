import numpy as np
import pytest

import self_vision
from self_vision.core.events import InferProgress, StageInfo, TrainProgress
from self_vision.core.sample import synthetic_neurons


def test_enhance_reports_progress_and_returns_a_result():
    volume = synthetic_neurons((8, 40, 40), seed=5)
    events = []
    result = self_vision.enhance(volume, "1,2,2", voxel_size=(1, 0.4, 0.4), steps=8, seed=1, progress=events.append)
    assert result.data.shape == (8, 80, 80)
    assert result.voxel_size == (1.0, 0.2, 0.2)
    kinds = {type(e) for e in events}
    assert {TrainProgress, StageInfo, InferProgress} <= kinds
    assert sum(isinstance(e, TrainProgress) for e in events) == 8


def test_enhance_with_a_trained_model_skips_training():
    volume = synthetic_neurons((8, 40, 40), seed=5)
    first = self_vision.enhance(volume, (1, 2, 2), steps=5, seed=1)
    events = []
    again = self_vision.enhance(volume[:, :32, :32], (1, 2, 2), model=first.model, progress=events.append)
    assert again.data.shape == (8, 64, 64)
    assert not any(isinstance(e, TrainProgress) for e in events)


def test_evaluate_scores_the_result_and_the_baselines():
    reference = synthetic_neurons((8, 64, 64), seed=6)
    evaluation = self_vision.evaluate(reference, (1, 2, 2), options=self_vision.EnhanceOptions(steps=20, seed=0))
    assert set(evaluation.scores) == {"enhanced", "cubic", "back-projection"}
    for scores in evaluation.scores.values():
        assert 10 < scores["psnr"] < 60
        assert 0 < scores["ssim"] <= 1
    assert np.isfinite(evaluation.gain_over_cubic())


def test_enhance_with_uncertainty_returns_a_map_on_the_output_grid():
    volume = synthetic_neurons((8, 40, 40), seed=5)
    plain = self_vision.enhance(volume, (1, 2, 2), steps=8, seed=1)
    assert plain.uncertainty is None  # off unless asked
    events = []
    result = self_vision.enhance(volume, (1, 2, 2), steps=8, seed=1, uncertainty=True, progress=events.append)
    assert result.uncertainty is not None and result.uncertainty.shape == result.data.shape == (8, 80, 80)
    assert np.isfinite(result.uncertainty).all() and result.uncertainty.min() >= 0
    np.testing.assert_array_equal(result.data, plain.data)  # the map changes nothing else
    assert any(isinstance(e, StageInfo) and e.stage == "uncertainty" for e in events)
    via_options = self_vision.enhance(
        volume, (1, 2, 2), options=self_vision.EnhanceOptions(steps=8, seed=1, uncertainty=True)
    )
    np.testing.assert_array_equal(via_options.uncertainty, result.uncertainty)
    applied = self_vision.enhance(volume, (1, 2, 2), model=result.model, uncertainty=True)
    np.testing.assert_allclose(applied.uncertainty, result.uncertainty, rtol=1e-4, atol=1e-6)


def test_every_public_name_resolves():
    """``self_vision.__all__`` is served lazily from ``api``: each name must be there."""
    for name in self_vision.__all__:
        assert getattr(self_vision, name) is not None


def test_sim_goes_through_the_dispatcher_and_reports_the_pattern():
    from self_vision.core.sim.run import SimOptions
    from self_vision.core.sim.simulate import simulate_sim

    raw = simulate_sim(96, 200.0, seed=5).raw
    seen = []
    options = SimOptions(na_detection=1.35, emission_wavelength_um=0.488)
    result = self_vision.sim(raw, pixel_size=0.0626, options=options, device="cpu", progress=seen.append)
    assert result.sr.shape == result.widefield.shape == (192, 192)
    assert result.denoised is None and len(result.params) == 3
    assert seen, "the run yields progress events"
    with pytest.raises(self_vision.api.UsageError, match="pixel size is unknown"):
        self_vision.sim(raw, options=options)
    with pytest.raises(self_vision.api.UsageError, match="time_budget"):
        self_vision.sim(raw, pixel_size=0.0626, denoise="rdl", time_budget=float("nan"))


def test_evaluate_degrades_and_builds_baselines_with_the_sampling_model():
    """At an odd axial factor a z-step keeps every 3rd plane (the block centre): cubic is scored on exactly that."""
    from self_vision.core.degrade import cubic_upsample
    from self_vision.core.quality import back_projection_baseline, score

    reference = synthetic_neurons((18, 32, 32), seed=7)
    scored = {}
    for sampling in ("z=point,xy=area", "area"):
        options = self_vision.EnhanceOptions(steps=4, seed=0, sampling=sampling)
        scored[sampling] = self_vision.evaluate(reference, (3, 1, 1), options=options)
    point = scored["z=point,xy=area"]
    assert point.sampling == ("point", "area", "area")
    assert scored["area"].sampling == ("area", "area", "area")
    border = [min(2 * f, s // 4) for f, s in zip((3, 1, 1), reference.shape, strict=True)]
    steps = reference[1::3].astype(np.float32)
    expected = score(cubic_upsample(steps, (3, 1, 1)), reference, border=border).psnr
    assert point.scores["cubic"]["psnr"] == pytest.approx(expected, abs=1e-3)
    bp = back_projection_baseline(steps, (3, 1, 1), sampling=("point", "area", "area"))
    assert point.scores["back-projection"]["psnr"] == pytest.approx(score(bp, reference, border=border).psnr, abs=1e-3)
    assert scored["area"].scores["cubic"]["psnr"] != pytest.approx(expected, abs=1e-3)
    assert point.returned in point.gate or not point.gate
