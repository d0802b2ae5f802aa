"""What one run of the dock is: its state (an enum, not strings) and its context (a dataclass, not a tuple)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class RunState(Enum):
    """Where the dock's run stands; ``run_finished`` emits the value of the last three."""

    IDLE = "idle"
    RUNNING = "running"
    CANCELLING = "cancelling"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "error"


@dataclass
class RunContext:
    """Everything the dock keeps about the run in flight, captured when it starts.

    ``layer`` stays the input even if the user deletes it from the viewer meanwhile (the result is still
    placed over where it was).
    """

    layer: Any
    factor: tuple[int, ...]
    index: tuple[int, ...]  # of the volume trained on, in the layer's leading axes
    request: Any  # the worker's RunRequest
    #: Seconds of training in all (a time-budget run), None when the run counts steps or applies a model.
    budget: float | None = None
    state: RunState = RunState.RUNNING
    started: float = field(default_factory=time.perf_counter)
    stage: str = ""  # the stage of the latest training step
    stage_elapsed: dict[str, float] = field(default_factory=dict)  # seconds trained per stage
    volume_stages: int = 0  # enhancement stages announced so far (names the step of a gradual factor)
    cancel: Any = None  # the core CancelToken
    progress: Any = None  # napari's progress (the Activity panel)

    @property
    def mode(self) -> str:
        return "enhance" if self.request.model is not None else self.request.mode

    @property
    def all_volumes(self) -> bool:
        return self.request.volumes is not None

    @property
    def blockwise(self) -> bool:
        return self.request.large_output is not None

    @property
    def applying(self) -> bool:
        """True when a saved model is applied (nothing is trained)."""
        return self.request.model is not None

    @property
    def trained_seconds(self) -> float:
        return sum(self.stage_elapsed.values())

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started
