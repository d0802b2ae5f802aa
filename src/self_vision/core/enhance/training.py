"""Fitting one enhancement stage: (degrade(patch), patch) pairs for volume stages, lateral planes for axial ones."""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..degrade import add_poisson_gaussian, blur_array, crop_to_multiple, degrade
from ..errors import DataError
from ..events import CancelToken, Event, StageInfo, TrainProgress
from ..fit import TrainLog, TrainSettings, autocast_training, fit
from ..model import SelfVisionNet
from ..patches import PatchSampler, augment
from ..validate import MIN_LOW_RES
from .axial import axial_training_planes, nyquist_axial_blur
from .noise import matching_noise
from .options import EnhanceOptions
from .planning import model_config, step_target_blur, volume_patch


def train_volume_model(
    parts: Sequence[np.ndarray],
    factor: tuple[int, ...],
    options: EnhanceOptions,
    settings: TrainSettings,
    device: torch.device,
    rng: np.random.Generator,
    stage: str,
    cancel: CancelToken | None,
    total: tuple[int, ...] | None = None,
) -> Generator[Event, None, tuple[SelfVisionNet, TrainLog]]:
    """Fit a volume-kind model of ``factor`` to (degrade(crop), crop) pairs cut from ``parts`` of the input
    (the input less the self-check's slab; patches never straddle two parts). ``total``: the run's whole factor
    on these axes (sets :func:`step_target_blur`; default ``factor``)."""
    model = SelfVisionNet(model_config(factor, options))
    applied_to = parts  # the noise the stage meets is the input's, not the blurred patches'
    sigma = step_target_blur(total or factor, options.sampling_for(len(factor)), options.step_psf)
    if any(s > 0 for s in sigma):
        parts = [blur_array(part, sigma) for part in parts]
        blurred = ", ".join(f"{s:.2f}" for s in sigma)
        yield StageInfo(
            stage, f"{stage}: training patches blurred by {blurred} px (optics: {options.step_psf:g} output voxels)"
        )
    patch = volume_patch(max((p.shape for p in parts), key=lambda shape: np.prod(shape)), factor)
    sampler = PatchSampler(parts, patch, rng)
    yield StageInfo(stage, f"learning {'x'.join(map(str, factor))} from {patch} patches of the input")
    settings.batch_size = options.batch_size or (4 if len(patch) == 3 else 16)
    if options.match_noise and options.noise is None:
        match = matching_noise(
            applied_to, parts, factor, options.sampling_for(len(factor)), options.operator, options.psf_sigma
        )
        settings.noise_sigma = match.added
        yield StageInfo(stage, f"{stage}: {match.summary()}")
    log = yield from train_model(
        model,
        sampler,
        settings,
        device=device,
        rng=rng,
        stage=stage,
        cancel=cancel,
        rotate_lateral=factor[-1] == factor[-2] and patch[-1] == patch[-2],
        sampling=options.sampling_for(len(factor)),
    )
    return model, log


def train_axial_model(
    x: np.ndarray,
    parts: Sequence[np.ndarray],
    factor: tuple[int, ...],
    voxel_size: Sequence[float] | None,
    options: EnhanceOptions,
    settings: TrainSettings,
    device: torch.device,
    rng: np.random.Generator,
    cancel: CancelToken | None,
) -> Generator[Event, None, tuple[SelfVisionNet, TrainLog, Callable[[np.ndarray], list[np.ndarray]]]]:
    """Fit the 2D (fz, 1) model on lateral planes of ``parts`` (the input less the self-check's slab, after
    the lateral stages; see :mod:`.axial`).

    Returns the model, its training log and the function that prepares planes the way training did (the
    self-check reuses it on held-out data). ``x`` is the whole input.
    """
    fz = factor[0]
    lateral_spacing = z_out = None
    if voxel_size is not None:
        lateral_spacing = tuple(v / f for v, f in zip(voxel_size[1:], factor[1:], strict=True))
        z_out = voxel_size[0] / fz
    blur = options.axial_blur or 0.0
    z_sampling = options.sampling_for(3)[0]
    if options.axial_blur is None and options.optics is not None:
        blur = options.optics.axial_blur()
        yield StageInfo("axial", f"axial blur {blur:.2f} µm from the optics ({options.optics.describe()})")
    elif z_out is not None and options.axial_blur is None:
        blur = nyquist_axial_blur(z_out)
        yield StageInfo("axial", f"axial blur {blur:.2f} µm: the output's z spacing (no optics given)")
    planes = functools.partial(axial_training_planes, fz=fz, lateral_spacing=lateral_spacing, z_out=z_out, blur_um=blur)
    sources = [stack for part in parts for stack in planes(part)]
    lr, width = _plane_patch(sources, fz)
    if lr < MIN_LOW_RES:
        raise DataError(f"input lateral size {x.shape[1:]} is too small to learn a {fz}x axial factor")
    model = SelfVisionNet(model_config((fz, 1), options))
    sampler = PatchSampler(sources, (1, lr * fz, width), rng)
    yield StageInfo("axial", f"learning {fz}x axial from lateral planes ({lr * fz}x{width} patches)")
    settings.batch_size = options.batch_size or 16
    if options.match_noise and options.noise is None:
        match = matching_noise(parts, sources, (fz, 1), (z_sampling, "area"), options.operator, options.psf_sigma)
        settings.noise_sigma = match.added
        yield StageInfo("axial", f"axial: {match.summary()}")
    log = yield from train_model(
        model,
        sampler,
        settings,
        device=device,
        rng=rng,
        stage="axial",
        cancel=cancel,
        rotate_lateral=False,
        sampling=(z_sampling, "area"),
    )
    return model, log, planes


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
    sampling: Sequence[str] | None = None,
) -> Generator[TrainProgress, None, TrainLog]:
    """Fit ``model`` to (degrade(patch), patch) pairs drawn from ``sampler``; yields one event per step.

    ``sampling`` (per axis of the model, None = area) is how the low-resolution side is made.
    """
    factor = model.factor

    def batch_loss() -> torch.Tensor:
        high = sampler.sample(settings.batch_size)
        high = augment(high.reshape(len(high), *high.shape[-len(factor) :]), rng, rotate_lateral)
        target = crop_to_multiple(torch.from_numpy(high).unsqueeze(1).to(device), factor)
        low = degrade(target, factor, settings.operator, settings.psf_sigma, sampling)
        if settings.noise_photons or settings.noise_sigma > 0:
            noisy = add_poisson_gaussian(low.cpu().numpy(), settings.noise_photons, settings.noise_sigma, rng)
            low = torch.from_numpy(noisy).to(device)
        with autocast_training(device):
            pred = model(low)
        pred = pred.float()
        return F.l1_loss(pred, target) if settings.loss == "l1" else F.mse_loss(pred, target)

    return (yield from fit(model, batch_loss, settings, device=device, stage=stage, cancel=cancel))


def _plane_patch(stacks: Sequence[np.ndarray], fz: int) -> tuple[int, int]:
    """(low-res rows, width) of the axial training patch.

    Of the patches that fit each stack (at most 16 rows and 48 wide, at least ``MIN_LOW_RES`` rows), the one
    that leaves the most plane voxels to sample from (stacks it does not fit are unused); ties: the larger.
    """

    def usable(patch: tuple[int, int]) -> tuple[int, int]:
        rows, width = patch
        voxels = sum(s.size for s in stacks if s.shape[1] >= rows * fz and s.shape[2] >= width)
        return voxels, rows * width

    candidates = {(min(16, s.shape[1] // fz), min(48, s.shape[2])) for s in stacks}
    trainable = [c for c in candidates if c[0] >= MIN_LOW_RES] or [max(candidates)]
    return max(sorted(trainable), key=usable)
