"""Progress events yielded by the training and inference generators."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainProgress:
    """One training step finished."""

    stage: str  # which model is being trained, e.g. "lateral" or "axial"
    step: int  # 1-based step within this stage
    total: int  # planned steps in this stage (an estimate when the stop is a time budget)
    loss: float
    learning_rate: float
    elapsed: float  # seconds since this stage started
    eta: float  # estimated seconds left in this stage


@dataclass(frozen=True)
class StageInfo:
    """A new stage of the run starts (training a model, inference, self-check)."""

    stage: str
    message: str


@dataclass(frozen=True)
class InferProgress:
    """Tiles of the inference done so far."""

    stage: str
    done: int
    total: int


Event = TrainProgress | StageInfo | InferProgress


class CancelToken:
    """A thread-safe flag a consumer sets to stop a running generator at the next step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def run_to_end(gen: Generator[Event, None, object], progress: Callable[[Event], None] | None = None) -> object:
    """Drive a generator to its end, passing each event to ``progress``; return its result."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(event)
