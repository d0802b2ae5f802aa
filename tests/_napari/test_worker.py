"""The background run as a plain generator: throttled training updates, cancel, result."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import drain as _drain
from self_vision._napari.worker import RunRequest, TrainBatch, run_events
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.errors import CancelledError
from self_vision.core.events import CancelToken, StageInfo


def test_run_events_batches_steps_and_returns_the_result(small_volume: np.ndarray):
    request = RunRequest(
        small_volume, (1, 2, 2), (2.0, 0.5, 0.5), EnhanceOptions(steps=12, back_projection=1, seed=0), "cpu"
    )
    events, result = _drain(run_events(request, CancelToken(), interval=10.0))
    batches = [e for e in events if isinstance(e, TrainBatch)]
    assert any(isinstance(e, StageInfo) for e in events)
    assert sum(len(b.losses) for b in batches) == 12
    assert len(batches) <= 3  # throttled: not one signal per step
    assert result.data.shape == (8, 96, 96)


def test_a_cancelled_token_stops_the_run(small_volume: np.ndarray):
    cancel = CancelToken()
    cancel.cancel()
    request = RunRequest(small_volume, (1, 2, 2), None, EnhanceOptions(steps=1000), "cpu")
    with pytest.raises(CancelledError):
        _drain(run_events(request, cancel))
