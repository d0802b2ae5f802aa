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
import torch.nn.functional as F
from torch import nn

from .degrade import add_poisson_gaussian, crop_to_multiple, degrade
from .errors import CancelledError
from .events import CancelToken, TrainProgress
from .model import SelfVisionNet
from .patches import PatchSampler, augment


@dataclass
class TrainSettings:
    """How one model is fitted."""

    steps: int | None = None
    time_budget: float | None = 30.0
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


def _autocast(device: torch.device):
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


def train_model(
    model: SelfVisionNet,
    sampler: PatchSampler,
    settings: TrainSettings,
    *,
    device: torch.device,
    rng: np.random.Generator,
    rotate_lateral: bool,
    stage: str = "model",
    cancel: CancelToken | None = None,
) -> Generator[TrainProgress, None, TrainLog]:
    """Fit ``model`` to (degrade(patch), patch) pairs drawn from ``sampler``; yields one event per step."""
    factor = model.factor

    def batch_loss() -> torch.Tensor:
        high = sampler.sample(settings.batch_size)
        high = augment(high.reshape(len(high), *high.shape[-len(factor) :]), rng, rotate_lateral)
        target = crop_to_multiple(torch.from_numpy(high).unsqueeze(1).to(device), factor)
        low = degrade(target, factor, settings.operator, settings.psf_sigma)
        if settings.noise_photons or settings.noise_sigma > 0:
            noisy = add_poisson_gaussian(low.cpu().numpy(), settings.noise_photons, settings.noise_sigma, rng)
            low = torch.from_numpy(noisy).to(device)
        with _autocast(device):
            pred = model(low)
        pred = pred.float()
        return F.l1_loss(pred, target) if settings.loss == "l1" else F.mse_loss(pred, target)

    return (yield from fit(model, batch_loss, settings, device=device, stage=stage, cancel=cancel))


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
