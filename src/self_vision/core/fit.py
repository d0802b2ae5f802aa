"""The training loop as a generator of progress events.

It stops after ``steps`` steps or ``time_budget`` seconds (whichever comes first), when a
:class:`~self_vision.core.events.CancelToken` is set (raising :class:`CancelledError`), or cleanly when the
consumer stops iterating. The learning rate follows a cosine from ``learning_rate`` to 1% of it over the
planned run (steps, or the time budget's fraction when that is the limit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .errors import CancelledError
from .events import CancelToken, TrainProgress


@dataclass
class TrainSettings:
    """How one model is fitted."""

    steps: int | None = None
    time_budget: float | None = None
    batch_size: int = 4
    learning_rate: float = 2e-3
    loss: str = "l1"  # "l1" or "l2"
    operator: str = "area"
    psf_sigma: float = 0.5
    noise_photons: float | None = None  # Poisson noise on the low-resolution side: photons at intensity 1
    noise_sigma: float = 0.0  # Gaussian read noise added to the low-resolution side (normalised units)


@dataclass
class TrainLog:
    """What a finished training stage reports."""

    steps: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)

    @property
    def first_loss(self) -> float:
        return float(np.mean(self.losses[: max(1, len(self.losses) // 10)])) if self.losses else math.nan

    @property
    def last_loss(self) -> float:
        return float(np.mean(self.losses[-max(1, len(self.losses) // 10) :])) if self.losses else math.nan


def autocast_training(device: torch.device):
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


def fit(
    model: nn.Module,
    batch_loss: Callable[[], torch.Tensor],
    settings: TrainSettings,
    *,
    device: torch.device,
    stage: str = "model",
    cancel: CancelToken | None = None,
) -> Generator[TrainProgress, None, TrainLog]:
    """The loop every model here is trained with: Adam, cosine learning rate, stop on steps / time / cancel.

    ``batch_loss()`` draws one batch and returns its loss (a scalar tensor on ``device``); one
    :class:`TrainProgress` is yielded per step and the :class:`TrainLog` is returned.
    """
    if settings.steps is None and settings.time_budget is None:
        raise ValueError("give steps or a time budget")
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    log = TrainLog()
    start = time.perf_counter()
    step = 0
    while True:
        fraction = _progress_fraction(step, time.perf_counter() - start, settings)
        if fraction >= 1.0:
            break
        if cancel is not None and cancel.cancelled:
            raise CancelledError("cancelled by the user")
        lr = settings.learning_rate * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * fraction)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = batch_loss()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        value = float(loss.detach())
        log.losses.append(value)
        elapsed = time.perf_counter() - start
        total, eta = _plan(step, elapsed, settings)
        yield TrainProgress(stage, step, total, value, lr, elapsed, eta)
    model.eval()
    log.steps = step
    log.seconds = time.perf_counter() - start
    return log


def _progress_fraction(step: int, elapsed: float, settings: TrainSettings) -> float:
    parts = []
    if settings.steps is not None:
        parts.append(step / max(settings.steps, 1))
    if settings.time_budget is not None:
        parts.append(elapsed / max(settings.time_budget, 1e-9))
    return max(parts)


def _plan(step: int, elapsed: float, settings: TrainSettings) -> tuple[int, float]:
    """Planned total steps and seconds left, from the limits and the speed so far."""
    rate = step / max(elapsed, 1e-9)
    totals = []
    if settings.steps is not None:
        totals.append(settings.steps)
    if settings.time_budget is not None:
        totals.append(max(step, int(settings.time_budget * rate)))
    total = min(totals)
    return total, max(0.0, (total - step) / max(rate, 1e-9))
