"""The GUI stays responsive while training, and training in the worker is as fast as the bare API."""

from __future__ import annotations

import time

import numpy as np
import pytest
from qtpy.QtCore import QTimer

from self_vision._napari import settings as settings_module
from self_vision._napari.worker import TrainBatch
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.events import run_to_end
from self_vision.defaults import Preset

pytestmark = pytest.mark.qt

BUDGET = 3.0  # seconds of training in each of the two runs
PROBE_MS = 20


def test_event_loop_keeps_ticking_during_a_run(widget_and_viewer, image_layer, qtbot, quick, monkeypatch):
    widget, _, _ = widget_and_viewer
    monkeypatch.setitem(settings_module.PRESETS, "Fast", Preset(BUDGET, 1))
    widget.preset_box.setCurrentText("Fast")
    quick(widget, steps=0)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    steps: list[int] = []
    with qtbot.waitSignal(widget.run_finished, timeout=60_000) as done:
        widget.start()
        widget._worker.yielded.connect(lambda e: isinstance(e, TrainBatch) and steps.append(e.latest.step))
        timer.start()
    timer.stop()
    assert done.args == ["done"], widget.status.text()
    lateness_ms = (np.diff(ticks) - PROBE_MS / 1000) * 1000
    p99 = float(np.percentile(lateness_ms, 99))

    bare = run_to_end(
        enhance_steps(
            image_layer.data.copy(),
            (1, 2, 2),
            voxel_size=(2.0, 0.5, 0.5),
            options=EnhanceOptions(time_budget=BUDGET, back_projection=2, seed=0),
            device="cpu",
        )
    )
    bare_steps = sum(log.steps for log in bare.logs.values())
    print(
        f"\nGUI probe: {len(ticks)} ticks, lateness p50 {np.median(lateness_ms):.1f} ms, p99 {p99:.1f} ms, "
        f"max {lateness_ms.max():.1f} ms; training steps in {BUDGET:.0f} s: worker {steps[-1]}, bare API {bare_steps}"
    )
    assert p99 < 250  # target 100 ms; generous for small shared CI machines
    assert steps[-1] >= 0.5 * bare_steps
