"""Self-supervised denoising by interleaved pairs: SiS (z-slices) and TiS (time points), with the GAR loss.

Neighbouring slices (SiS) or frames (TiS) show nearly the same structure with independent noise, so a
network fed the even ones and asked for the odd ones can only learn the shared signal. The gap-amending
regulariser corrects for what truly differs between neighbours:

    L = ‖y_o − f(x_e)‖² + γ ‖y_o − f(x_e) − (f̃(x)_o − f̃(x)_e)‖²

where f̃ is a no-gradient pass of the same network over the full (uninterleaved) stack, computed here on
each training patch. A SiS network only ever sees half-stacks (twice the z-step): inference applies it to
the even and odd half-stacks, forwards and z-flipped, and averages what each half says about every slice
(:func:`sis_halves_ensemble`). TiS networks see whole frames / volumes and are applied to each one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .devices import resolve_device
from .errors import DataError, UsageError
from .events import CancelToken, Event, InferProgress, StageInfo, TrainProgress
from .fnsm import FNSM
from .infer import DEFAULT_MAX_TILE_OUTPUT, predict, predict_planes
from .intensity import Normalizer
from .modelfile import save_payload
from .train import TrainLog, TrainSettings, fit

MODES = ("sis", "tis")
#: Fewest slices (SiS) or time points (TiS): two interleaved pairs.
MIN_INTERLEAVED = 4
#: Smallest lateral size the network can learn from.
MIN_LATERAL = 8


@dataclass(frozen=True)
class DenoiseConfig:
    """Shape of a :class:`DenoiseNet`."""

    ndim: int  # 3 (ZYX) or 2 (YX, per frame)
    features: int = 16
    depth: int = 4  # 3^d convolutions
    fnsm: bool = False
    spacing: tuple[float, ...] | None = None  # voxel size for the FNSM's physical frequencies
    mode: str = "sis"  # what it was trained for, hence how it is applied: sis (ZYX) or tis (TYX / TZYX)

    @property
    def halo(self) -> int:
        """Receptive-field radius of the convolutional part, plus one."""
        return self.depth + 1


class ConvDenoiser(nn.Module):
    """Light residual CNN: ``x + convs(x)``; the last conv starts near zero, so f starts near identity."""

    def __init__(self, config: DenoiseConfig) -> None:
        super().__init__()
        self.config = config
        conv = nn.Conv3d if config.ndim == 3 else nn.Conv2d
        c = config.features
        layers: list[nn.Module] = [conv(1, c, 3, padding=1), nn.PReLU(c)]
        for _ in range(config.depth - 2):
            layers += [conv(c, c, 3, padding=1), nn.PReLU(c)]
        last = conv(c, 1, 3, padding=1)
        nn.init.normal_(last.weight, std=1e-3)
        nn.init.zeros_(last.bias)
        self.body = nn.Sequential(*layers, last)

    @property
    def factor(self) -> tuple[int, ...]:
        """No resampling: lets :func:`core.infer.predict` tile this network."""
        return (1,) * self.config.ndim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class DenoiseNet(nn.Module):
    """Optional FNSM first stage, then :class:`ConvDenoiser`."""

    def __init__(self, config: DenoiseConfig) -> None:
        super().__init__()
        if config.ndim not in (2, 3):
            raise ValueError("DenoiseNet is 2D or 3D")
        self.config = config
        self.fnsm = FNSM(config.ndim, config.spacing) if config.fnsm else None
        self.cnn = ConvDenoiser(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(self.fnsm(x) if self.fnsm is not None else x)


@dataclass
class DenoiseOptions:
    """What shapes a denoising run besides the data."""

    gamma: float = 1.0  # weight of the gap-amending regulariser; 0 disables it
    fnsm: bool = False
    steps: int | None = None
    time_budget: float | None = None  # default 30 s when steps is None too
    seed: int | None = None
    batch_size: int | None = None
    learning_rate: float = 3e-3
    features: int = 16
    depth: int = 4
    patch: int = 48  # lateral training patch (voxels)
    patch_z: int = 16  # slices of a SiS patch (split into 8 inputs and 8 targets), or z of a TiS 3D patch
    max_tile_output: int = DEFAULT_MAX_TILE_OUTPUT
    sis_inference: str = "halves"  # SIS_INFERENCE: "full" applies a SiS net to the whole stack (for comparison)
    #: SiS GAR: f̃ is the net on the full patch ("full", the formula literally) or the half-stack ensemble
    #: that inference uses ("halves": f̃ at the z-step the net learned at)
    gap: str = "full"  # one of SIS_INFERENCE

    def settings(self) -> TrainSettings:
        budget = 30.0 if self.time_budget is None and self.steps is None else self.time_budget
        return TrainSettings(steps=self.steps, time_budget=budget, learning_rate=self.learning_rate)


@dataclass
class DenoiseResult:
    """The denoised data (float32, input intensity units) and how it was made."""

    data: np.ndarray
    mode: str
    model: DenoiseNet
    voxel_size: tuple[float, ...] | None
    train_seconds: float
    log: TrainLog = field(default_factory=TrainLog)
    normalizer: Normalizer | None = None

    @property
    def fnsm_cutoff(self) -> float | None:
        """Learned FNSM cutoff (1/µm with a voxel size, else 1/voxel); None without FNSM."""
        return None if self.model.fnsm is None else self.model.fnsm.learned_cutoff()


# --------------------------------------------------------------------------------------------- pairs and loss


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


# --------------------------------------------------------------------------------------------- checks


def check_denoise_input(data: np.ndarray, mode: str, name: str = "input") -> str:
    """Validate ``data`` for ``mode``; return the axes (``ZYX``, ``TYX`` or ``TZYX``)."""
    if mode not in MODES:
        raise UsageError(f"unknown denoising mode {mode!r}; choose sis (z-stacks) or tis (time-lapses)")
    if data.size == 0:
        raise DataError(f"{name}: is empty {data.shape}")
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
        raise DataError(f"{name}: has data type {data.dtype}; give integer or real-valued voxels")
    if mode == "sis":
        if data.ndim != 3:
            raise DataError(f"{name}: has {data.ndim} axes {data.shape}; SiS denoises a 3D (ZYX) stack")
        if data.shape[0] < MIN_INTERLEAVED:
            raise DataError(
                f"{name}: has {data.shape[0]} slices; SiS needs at least {MIN_INTERLEAVED} to pair even with odd ones"
            )
        axes = "ZYX"
    else:
        if data.ndim not in (3, 4):
            raise DataError(
                f"{name}: has {data.ndim} axes {data.shape} and no time axis; TiS denoises (T,Y,X) or (T,Z,Y,X)"
            )
        if data.shape[0] < MIN_INTERLEAVED:
            raise DataError(
                f"{name}: has {data.shape[0]} time points; TiS needs at least {MIN_INTERLEAVED} (use sis for a z-stack)"
            )
        axes = "TYX" if data.ndim == 3 else "TZYX"
    if min(data.shape[-2:]) < MIN_LATERAL:
        raise DataError(
            f"{name}: is {data.shape[-2]}x{data.shape[-1]} laterally; give at least {MIN_LATERAL}x{MIN_LATERAL}"
        )
    if np.issubdtype(data.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        if bad:
            raise DataError(f"{name}: has {bad} NaN/Inf voxels; replace them (e.g. with 0) before denoising")
    low, high = data.min(), data.max()
    if low == high:
        raise DataError(f"{name}: is constant (every voxel is {low}); there is nothing to denoise")
    return axes


# --------------------------------------------------------------------------------------------- training


class _Sampler:
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
    sampler: _Sampler,
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


# --------------------------------------------------------------------------------------------- inference


#: How a SiS model is applied: ``halves`` (default; at the z-step it was trained on) or ``full`` (the old way).
SIS_INFERENCE = ("halves", "full")


@torch.no_grad()
def apply_denoiser(
    model: DenoiseNet,
    x: np.ndarray,
    axes: str,
    *,
    device: torch.device,
    max_tile_output: int = DEFAULT_MAX_TILE_OUTPUT,
    sis_inference: str = "halves",
) -> np.ndarray:
    """Denoise normalised data: the FNSM over each whole volume/frame, then the CNN (tiled when large).

    A SiS model is applied to the even and the odd half-stacks (the z-step it learned at), never to the full
    stack, unless ``sis_inference="full"``; see :func:`sis_halves_ensemble`.
    """
    if sis_inference not in SIS_INFERENCE:
        raise ValueError(f"sis_inference must be one of {SIS_INFERENCE}")
    model = model.to(device).eval()

    def filtered(v: np.ndarray) -> np.ndarray:
        if model.fnsm is None:
            return v
        t = torch.from_numpy(np.ascontiguousarray(v))[:, None].to(device) if axes == "TYX" else None
        if t is not None:
            return model.fnsm(t)[:, 0].cpu().numpy()
        return model.fnsm(torch.from_numpy(np.ascontiguousarray(v))[None, None].to(device))[0, 0].cpu().numpy()

    def net(v: np.ndarray) -> np.ndarray:
        return predict(model.cnn, filtered(np.ascontiguousarray(v)), device=device, max_tile_output=max_tile_output)

    if axes == "TYX":
        return predict_planes(model.cnn, filtered(x), device=device, max_tile_output=max_tile_output)
    if axes == "ZYX" and model.config.mode == "sis" and sis_inference == "halves":
        return sis_halves_ensemble(net, x)
    frames = [x] if axes == "ZYX" else list(x)
    out = [net(f) for f in frames]
    return out[0] if axes == "ZYX" else np.stack(out)


def sis_halves_ensemble(net: Callable[[Any], Any], x: Any) -> Any:
    """Apply a SiS network ``net`` (trained even → next odd slice) to a stack at its training z-step.

    ``x`` is a NumPy array or a tensor with z as its third-last axis (ZYX, or (B, C, Z, Y, X) patches).
    ``net`` runs on each half-stack ``h`` (even slices, odd slices) forwards and z-flipped: ``net(h)[i]``
    was trained to predict the slice after ``h[i]`` and ``flip(net(flip(h)))[i]`` the slice before it.
    Every slice ``k`` then gets two estimates that rest on different noise: from its own half-stack, the mean
    of the forward and flipped outputs at ``h[i] = x[k]``; from the other half-stack, the mean of the forward
    prediction made from slice ``k − 1`` and the backward one made from ``k + 1`` (one of them at the ends).
    The result is the mean of the two. Four passes over half-stacks cost as much as two over the stack.
    """
    tensor = isinstance(x, torch.Tensor)

    def flip(a: Any) -> Any:
        return torch.flip(a, (-3,)) if tensor else a[..., ::-1, :, :]

    n = x.shape[-3]
    own = torch.empty_like(x) if tensor else np.empty_like(x, dtype=np.float32)
    other = torch.zeros_like(x) if tensor else np.zeros_like(x, dtype=np.float32)
    count = np.zeros(n, dtype=np.float32)
    for start in (0, 1):
        half = x[..., start::2, :, :]
        forward = net(half)
        backward = flip(net(flip(half)))
        own[..., start::2, :, :] = 0.5 * (forward + backward)
        index = np.arange(start, n, 2)
        for shifted, estimate in ((index + 1, forward), (index - 1, backward)):
            keep = (shifted >= 0) & (shifted < n)
            other[..., shifted[keep].tolist(), :, :] += estimate[..., np.flatnonzero(keep).tolist(), :, :]
            count[shifted[keep]] += 1
    weight = 1.0 / np.maximum(count, 1)[:, None, None]
    other = other * (torch.from_numpy(weight).to(x.device) if tensor else weight)
    return 0.5 * (own + other)


# --------------------------------------------------------------------------------------------- the run


def denoise_steps(
    data: np.ndarray,
    mode: str = "sis",
    *,
    voxel_size: Sequence[float] | None = None,
    options: DenoiseOptions | None = None,
    device: str | torch.device = "auto",
    cancel: CancelToken | None = None,
    name: str = "input",
) -> Generator[Event, None, DenoiseResult]:
    """Learn to denoise ``data`` from itself (``sis``: ZYX stack; ``tis``: TYX or TZYX) and denoise it.

    ``voxel_size`` covers the spatial axes (Z,Y,X or Y,X; never T) and sets the FNSM's frequency units.
    """
    options = options or DenoiseOptions()
    axes = check_denoise_input(data, mode, name)
    if options.gamma < 0 or not math.isfinite(options.gamma):
        raise UsageError(f"gar {options.gamma}: the regulariser weight must be 0 or positive")
    if options.sis_inference not in SIS_INFERENCE:
        raise UsageError(f"sis_inference {options.sis_inference!r}: choose one of {', '.join(SIS_INFERENCE)}")
    if options.gap not in SIS_INFERENCE:
        raise UsageError(f"gap {options.gap!r}: choose one of {', '.join(SIS_INFERENCE)}")
    spatial = axes.replace("T", "")
    if voxel_size is not None:
        voxel_size = tuple(float(v) for v in voxel_size)
        if len(voxel_size) != len(spatial) or min(voxel_size) <= 0:
            raise UsageError(f"voxel size {voxel_size}: give {len(spatial)} positive numbers ({spatial})")
    dev = resolve_device(device)
    rng = np.random.default_rng(options.seed)
    if options.seed is not None:
        torch.manual_seed(options.seed)
    normalizer = Normalizer.fit(data)
    x = normalizer.forward(data)
    spacing = voxel_size
    if mode == "sis" and voxel_size is not None:  # the network only ever sees half-stacks: twice the z-step
        spacing = (2 * voxel_size[0], *voxel_size[1:])
    config = DenoiseConfig(len(spatial), options.features, options.depth, options.fnsm, spacing, mode)
    model = DenoiseNet(config)
    sampler = _Sampler(x, axes, options, rng)
    what = "even slices predict odd ones" if mode == "sis" else "even time points predict odd ones"
    gar = f"GAR γ={options.gamma:g}" if options.gamma else "no GAR"
    yield StageInfo(mode, f"{mode.upper()}: {what} ({gar}{', FNSM' if options.fnsm else ''}), patches {sampler.patch}")
    log = yield from train_denoiser(model, sampler, options, device=dev, stage=mode, cancel=cancel)
    if model.fnsm is not None:
        yield StageInfo(mode, model.fnsm.report())
    yield StageInfo("inference", "denoising the whole input")
    yield InferProgress("inference", 0, 1)
    y = apply_denoiser(
        model, x, axes, device=dev, max_tile_output=options.max_tile_output, sis_inference=options.sis_inference
    )
    yield InferProgress("inference", 1, 1)
    return DenoiseResult(
        data=normalizer.inverse(y, inplace=True),
        mode=mode,
        model=model,
        voxel_size=voxel_size,
        train_seconds=log.seconds,
        log=log,
        normalizer=normalizer,
    )


# --------------------------------------------------------------------------------------------- saved denoisers

#: Tag of a saved denoiser file (``torch.save`` of plain tensors and settings).
DENOISER_FORMAT = "napari-self-vision-denoiser/1"


def save_denoiser(model: DenoiseNet | DenoiseResult, path: str | Path) -> Path:
    """Write a trained denoiser (or a :class:`DenoiseResult`'s) atomically; returns the path written."""
    net = model.model if isinstance(model, DenoiseResult) else model
    if not isinstance(net, DenoiseNet):
        raise UsageError(f"save_denoiser: give a DenoiseNet or DenoiseResult, not {type(model).__name__}")
    return save_payload(denoiser_to_dict(net), path)


def load_denoiser(path: str | Path) -> DenoiseNet:
    """Read a denoiser written by :func:`save_denoiser`; any other file is a one-line :class:`DataError`."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise DataError(f"{source}: no such denoiser file")
    try:
        data = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as err:
        raise DataError(f"{source}: not a napari-self-vision denoiser ({type(err).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != DENOISER_FORMAT:
        hint = " (it is an enhancement model: use it with enhance/apply)" if _is_enhancer(data) else ""
        raise DataError(f"{source}: not a napari-self-vision denoiser file{hint}")
    try:
        return denoiser_from_dict(data)
    except Exception as err:
        raise DataError(f"{source}: a damaged denoiser file ({type(err).__name__})") from None


def denoiser_to_dict(net: DenoiseNet) -> dict:
    """The plain tensors and settings :func:`save_denoiser` writes (also what dask workers receive)."""
    config = asdict(net.config)
    config["spacing"] = None if net.config.spacing is None else list(net.config.spacing)
    return {
        "format": DENOISER_FORMAT,
        "config": config,
        "state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
    }


def denoiser_from_dict(data: dict) -> DenoiseNet:
    """Rebuild a denoiser from :func:`denoiser_to_dict`'s output (in eval mode)."""
    raw = dict(data["config"])
    raw["spacing"] = None if raw.get("spacing") is None else tuple(float(v) for v in raw["spacing"])
    config = DenoiseConfig(**raw)
    if config.mode not in MODES:
        raise ValueError(f"mode {config.mode!r}")
    net = DenoiseNet(config)
    net.load_state_dict(data["state"])
    return net.eval()


def _is_enhancer(data: object) -> bool:
    from .pipeline import MODEL_FORMAT

    return isinstance(data, dict) and data.get("format") == MODEL_FORMAT


def apply_denoiser_steps(
    model: DenoiseNet,
    data: np.ndarray,
    mode: str | None = None,
    *,
    voxel_size: Sequence[float] | None = None,
    options: DenoiseOptions | None = None,
    device: str | torch.device = "auto",
    name: str = "input",
) -> Generator[Event, None, DenoiseResult]:
    """Denoise ``data`` with an already trained ``model`` (no training); ``mode`` defaults to the model's own.

    ``voxel_size`` is only carried into the result: a model with FNSM filters at the voxel size it was
    trained with.
    """
    mode = model.config.mode if mode is None else mode
    axes = check_denoise_input(data, mode, name)
    if mode != model.config.mode:
        raise UsageError(
            f"this denoiser was trained for {model.config.mode} and cannot run {mode}; use --mode {model.config.mode}"
        )
    spatial = len(axes.replace("T", ""))
    if spatial != model.config.ndim:
        raise DataError(
            f"{name}: has {spatial}D frames ({axes}) but the denoiser was trained on {model.config.ndim}D ones"
        )
    options = options or DenoiseOptions()
    dev = resolve_device(device)
    normalizer = Normalizer.fit(data)
    yield StageInfo("inference", f"denoising with a saved {mode.upper()} model (no training)")
    yield InferProgress("inference", 0, 1)
    y = apply_denoiser(model, normalizer.forward(data), axes, device=dev, max_tile_output=options.max_tile_output)
    yield InferProgress("inference", 1, 1)
    return DenoiseResult(
        data=normalizer.inverse(y, inplace=True),
        mode=mode,
        model=model,
        voxel_size=None if voxel_size is None else tuple(float(v) for v in voxel_size),
        train_seconds=0.0,
        normalizer=normalizer,
    )
