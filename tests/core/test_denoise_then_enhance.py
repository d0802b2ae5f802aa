"""Denoise-then-enhance: both stages' events pass through, the output is enhanced, cancel stops it."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import drain
from self_vision.core.degrade import add_poisson_gaussian
from self_vision.core.denoise.options import DenoiseOptions
from self_vision.core.denoise_then_enhance import denoise_then_enhance_steps
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import EnhanceResult
from self_vision.core.errors import CancelledError
from self_vision.core.events import CancelToken, StageInfo, TrainProgress
from self_vision.core.sample import synthetic_neurons

VOXEL = (1.0, 0.5, 0.5)


@pytest.fixture
def noisy() -> np.ndarray:
    clean = synthetic_neurons((8, 32, 32), seed=3)
    return add_poisson_gaussian(clean / clean.max(), 30.0, 0.02, np.random.default_rng(0))


def quick_options() -> dict:
    return {
        "enhance_options": EnhanceOptions(steps=4, back_projection=1, seed=0, self_check=False),
        "denoise_options": DenoiseOptions(steps=4, seed=0, patch=16, patch_z=8),
    }


def test_chain_denoises_then_enhances(noisy):
    gen = denoise_then_enhance_steps(noisy, (1, 2, 2), voxel_size=VOXEL, device="cpu", **quick_options())
    events, result = drain(gen)
    assert isinstance(result, EnhanceResult)
    assert result.data.shape == (8, 64, 64)
    assert result.data.dtype == np.float32
    assert np.all(np.isfinite(result.data))
    assert result.voxel_size == pytest.approx((1.0, 0.25, 0.25))
    # in the input's intensity units, not the normalised ones
    assert abs(float(result.data.mean()) - float(noisy.mean())) < 0.1 * float(noisy.max())
    stages = [e.stage for e in events if isinstance(e, TrainProgress)]
    assert "sis" in stages
    assert any(s != "sis" for s in stages)
    assert stages.index("sis") < min(i for i, s in enumerate(stages) if s != "sis")  # denoiser first
    assert any(isinstance(e, StageInfo) and e.stage == "enhance" for e in events)
    assert "sis" in result.logs and len(result.logs) >= 2
    assert result.train_seconds >= result.logs["sis"].seconds


def test_cancel_before_the_start(noisy):
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        drain(denoise_then_enhance_steps(noisy, 2, device="cpu", cancel=token, **quick_options()))


def test_cancel_between_the_stages(noisy):
    token = CancelToken()
    gen = denoise_then_enhance_steps(noisy, (1, 2, 2), device="cpu", cancel=token, **quick_options())
    enhancing = []
    with pytest.raises(CancelledError):
        for event in gen:
            if isinstance(event, StageInfo) and event.stage == "enhance":
                token.cancel()
            elif isinstance(event, TrainProgress) and event.stage != "sis":
                enhancing.append(event)
    assert not enhancing  # no enhancement training step after the cancel
