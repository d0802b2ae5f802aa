"""Training a denoiser: interleaved (even -> odd) pairs, the gap-amending regulariser, the patch sampler."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import torch

from ..events import CancelToken, TrainProgress
from ..fit import TrainLog, fit
from .inference import sis_halves_ensemble
from .net import DenoiseNet
from .options import DenoiseOptions


def interleave_pairs(data: np.ndarray | torch.Tensor, axis: int = 0) -> tuple:
    """Split along ``axis`` into (even, odd) of equal length: even index ``2i`` is paired with odd ``2i+1``."""
    n = data.shape[axis] // 2
    index_even = [slice(None)] * data.ndim
    index_odd = [slice(None)] * data.ndim
    index_even[axis] = slice(0, 2 * n, 2)
    index_odd[axis] = slice(1, 2 * n, 2)
    return data[tuple(index_even)], data[tuple(index_odd)]


def gar_loss(
    prediction: torch.Tensor, target: torch.Tensor, gap: torch.Tensor | None, gamma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``‖y_o − f(x_e)‖² + γ‖y_o − f(x_e) − gap‖²`` (means), ``gap = f̃(x)_o − f̃(x)_e``; returns (loss, GAR)."""
    residual = target - prediction
    fit = torch.mean(residual**2)
    if gap is None or gamma == 0:
        return fit, torch.zeros((), device=fit.device)
    reg = torch.mean((residual - gap) ** 2)
    return fit + gamma * reg, reg


class Sampler:
    """Random training batches ``(input, target, gap_fn)`` for one mode; flips double as 'vice versa'."""

    def __init__(self, x: np.ndarray, axes: str, options: DenoiseOptions, rng: np.random.Generator) -> None:
        self.x, self.axes, self.rng = x, axes, rng
        lateral = [min(options.patch, s) for s in x.shape[-2:]]
        if axes == "ZYX":
            z = min(options.patch_z, x.shape[0]) // 2 * 2
            self.patch = (z, *lateral)
            self.batch = options.batch_size or 4
        elif axes == "TYX":
            self.patch = (2, *lateral)  # a pair of consecutive frames
            self.batch = options.batch_size or 16
        else:
            self.patch = (2, min(options.patch_z, x.shape[1]), *lateral)
            self.batch = options.batch_size or 2

    def _crop(self) -> np.ndarray:
        starts = []
        for axis, (size, p) in enumerate(zip(self.x.shape, self.patch, strict=True)):
            if self.axes != "ZYX" and axis == 0:
                starts.append(2 * int(self.rng.integers(0, size // 2)))  # (even, odd) time points
            else:
                starts.append(int(self.rng.integers(0, size - p + 1)))
        crop = self.x[tuple(slice(s, s + p) for s, p in zip(starts, self.patch, strict=True))]
        flips = [a for a in range(crop.ndim) if self.rng.random() < 0.5]  # axis 0 flip swaps the pair's roles
        crop = np.flip(crop, flips) if flips else crop
        if crop.shape[-1] == crop.shape[-2]:
            crop = np.rot90(crop, int(self.rng.integers(4)), axes=(-2, -1))
        return np.ascontiguousarray(crop)

    def sample(self) -> torch.Tensor:
        """``(B, 1, 2n, ...)`` for SiS (interleaved axis 2) or ``(B, 2, ...)`` pairs for TiS."""
        batch = np.stack([self._crop() for _ in range(self.batch)])
        return torch.from_numpy(batch[:, None] if self.axes == "ZYX" else batch)


def _step_tensors(
    model: DenoiseNet, batch: torch.Tensor, axes: str, gamma: float, how: str = "full"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(f(x_e), y_o, gap) for one batch; ``gap`` from a no-gradient pass over the full patches."""
    if axes == "ZYX":
        even, odd = interleave_pairs(batch, axis=2)
        gap = None
        if gamma:
            with torch.no_grad():
                full = model(batch) if how == "full" else sis_halves_ensemble(model, batch)
                full_even, full_odd = interleave_pairs(full, axis=2)
                gap = full_odd - full_even
        return model(even), odd, gap
    even, odd = batch[:, :1], batch[:, 1:2]  # per-frame network: f̃(x)_o = f̃(x_o)
    gap = None
    if gamma:
        with torch.no_grad():
            gap = model(odd) - model(even)
    return model(even), odd, gap


def train_denoiser(
    model: DenoiseNet,
    sampler: Sampler,
    options: DenoiseOptions,
    *,
    device: torch.device,
    stage: str,
    cancel: CancelToken | None = None,
) -> Generator[TrainProgress, None, TrainLog]:
    """Fit ``model`` on interleaved pairs with the GAR loss; one event per step."""

    def batch_loss() -> torch.Tensor:
        batch = sampler.sample().to(device)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            pred, target, gap = _step_tensors(model, batch, sampler.axes, options.gamma, options.gap)
        loss, _ = gar_loss(pred.float(), target.float(), None if gap is None else gap.float(), options.gamma)
        return loss

    return (yield from fit(model, batch_loss, options.settings(), device=device, stage=stage, cancel=cancel))
