"""The Python API, and the one dispatcher every face goes through.

:func:`run` turns a :class:`RunRequest` into the core generator that does the work (train and enhance, apply a
saved model, denoise, denoise then enhance, block by block) and yields its progress events; the generator
returns the typed result. :func:`enhance`, :func:`denoise` and :func:`evaluate` build a request and drive it
to the end; the command line does the same, and the napari dock drives :func:`run` in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .core.degrade import cubic_upsample
from .core.denoise.files import load_denoiser
from .core.denoise.files import save_denoiser as save_denoiser
from .core.denoise.net import DenoiseNet
from .core.denoise.options import DenoiseOptions
from .core.denoise.result import DenoiseResult
from .core.enhance.enhancer import Enhancer
from .core.enhance.enhancer import load_model as load_model
from .core.enhance.enhancer import save_model as save_model
from .core.enhance.options import EnhanceOptions
from .core.enhance.run import EnhanceResult
from .core.enhance.run import enhance_steps as enhance_steps
from .core.errors import DataError, UsageError
from .core.events import CancelToken, Event, run_to_end
from .core.quality import back_projection_baseline, crop_reference, degrade_array, score
from .core.validate import MIN_LOW_RES, check_request, check_time_budget, check_volume, parse_factor

#: What a run does: enhance (train, or apply ``model``), denoise (SiS/TiS), SiS-denoise then enhance, or
#: reconstruct raw 2D-SIM frames (optionally rDL-denoised first).
TASKS = ("enhance", "denoise", "denoise+enhance", "sim")


@dataclass
class Blockwise:
    """Where and how a block-wise run writes (see :mod:`self_vision.core.blockwise.run`)."""

    volume: Any  # a core.io.lazy.LazyVolume: the input, read block by block
    output: str | Path  # an OME-Zarr folder or a TIFF
    resume: bool = False
    overwrite: bool = False
    chunks: Sequence[int] | None = None
    block_output: int | None = None
    train_voxels: int | None = None
    client: Any = None  # a distributed.Client, or None for this process


@dataclass
class RunRequest:
    """Everything one run needs besides the cancel token; the faces fill it in, :func:`run` reads it."""

    task: str = "enhance"  # one of TASKS
    data: np.ndarray | None = None  # the input (None for block-wise runs: ``blockwise.volume``)
    factor: Sequence[int] | str | int | None = None  # enhance: per-axis factor (a model brings its own)
    voxel_size: Sequence[float] | None = None
    options: EnhanceOptions | None = None
    denoise_options: DenoiseOptions | None = None
    denoise_mode: str = "sis"  # sis (a ZYX stack) or tis (a TYX/TZYX time-lapse)
    model: Enhancer | DenoiseNet | None = None  # apply this trained model instead of training
    device: str = "auto"
    name: str = "input"  # starts every error message about the data (e.g. the file)
    uncertainty: bool = False  # enhance: also map the error one scale down (result.uncertainty)
    blockwise: Blockwise | None = None
    sim_options: Any = None  # sim: a core.sim.run.SimOptions (None: its defaults; the pixel size is required)
    target: np.ndarray | None = None  # sim, supervised training: the matched high-SNR raw frames


def run(request: RunRequest, cancel: CancelToken | None = None) -> Generator[Event, None, Any]:
    """The core generator for ``request``: yields progress events, returns the result.

    Enhance runs return an :class:`EnhanceResult`, denoise runs a :class:`DenoiseResult`, block-wise runs a
    ``BlockwiseResult`` (where the output was written).
    """
    if request.task not in TASKS:
        raise UsageError(f"unknown task {request.task!r}; choose one of {', '.join(TASKS)}")
    if request.blockwise is not None:
        return (yield from _run_blockwise(request, cancel))
    check_request(request)  # the data, voxel size and training numbers, before any work
    if request.data is None:
        raise UsageError("a run needs data (or a block-wise source)")
    if request.task == "denoise":
        return (yield from _run_denoise(request, cancel))
    if request.task == "sim":
        return (yield from _run_sim(request, cancel))
    if request.task == "denoise+enhance":
        from .core.denoise_then_enhance import denoise_then_enhance_steps

        return (
            yield from denoise_then_enhance_steps(
                request.data,
                request.factor,
                voxel_size=request.voxel_size,
                enhance_options=request.options,
                denoise_options=request.denoise_options,
                device=request.device,
                cancel=cancel,
                name=request.name,
            )
        )
    return (yield from _run_enhance(request, cancel))


def _run_enhance(request: RunRequest, cancel: CancelToken | None) -> Generator[Event, None, EnhanceResult]:
    from .core.enhance.run import apply_model_steps

    data, options = request.data, request.options or EnhanceOptions()
    assert data is not None
    model = request.model
    if model is not None and not isinstance(model, Enhancer):
        raise UsageError(f"enhancing needs an enhancement model, not a {type(model).__name__}")
    if model is not None:
        gen = apply_model_steps(
            model, data, voxel_size=request.voxel_size, device=request.device, options=options, name=request.name
        )
    else:
        if request.factor is None:
            raise UsageError("give a factor per axis (e.g. 1,4,4), or a trained model to apply")
        gen = enhance_steps(
            data,
            request.factor,
            voxel_size=request.voxel_size,
            options=options,
            device=request.device,
            cancel=cancel,
            name=request.name,
        )
    if request.uncertainty or options.uncertainty:
        from .core.enhance.uncertainty import with_uncertainty_steps

        factor = model.factor if model is not None else request.factor
        gen = with_uncertainty_steps(gen, data, factor, device=request.device, options=options, name=request.name)
    return (yield from gen)


def _run_denoise(request: RunRequest, cancel: CancelToken | None) -> Generator[Event, None, DenoiseResult]:
    from .core.denoise.run import apply_denoiser_steps, denoise_steps

    assert request.data is not None
    if request.model is not None:
        if not isinstance(request.model, DenoiseNet):
            raise UsageError(f"denoising needs a denoiser, not a {type(request.model).__name__}")
        return (
            yield from apply_denoiser_steps(
                request.model,
                request.data,
                request.denoise_mode,
                voxel_size=request.voxel_size,
                options=request.denoise_options,
                device=request.device,
                name=request.name,
            )
        )
    return (
        yield from denoise_steps(
            request.data,
            request.denoise_mode,
            voxel_size=request.voxel_size,
            options=request.denoise_options,
            device=request.device,
            cancel=cancel,
            name=request.name,
        )
    )


def _run_sim(request: RunRequest, cancel: CancelToken | None) -> Generator[Event, None, Any]:
    from .core.sim.run import SimOptions, sim_steps

    options = request.sim_options or SimOptions()
    if request.device != "auto" and options.device == "auto":
        options = replace(options, device=request.device)
    return (yield from sim_steps(np.asarray(request.data), options, target=request.target, cancel=cancel))


def _run_blockwise(request: RunRequest, cancel: CancelToken | None) -> Generator[Event, None, Any]:
    from . import defaults
    from .core.blockwise.run import denoise_blockwise_steps, enhance_blockwise_steps

    target = request.blockwise
    assert target is not None
    common = {
        "device": request.device,
        "cancel": cancel,
        "resume": target.resume,
        "overwrite": target.overwrite,
        "chunks": target.chunks,
        "block_output": target.block_output,
        "train_voxels": defaults.TRAIN_VOXELS if target.train_voxels is None else target.train_voxels,
        "client": target.client,
    }
    if request.task == "denoise":
        return (
            yield from denoise_blockwise_steps(
                target.volume, target.output, options=request.denoise_options, model=request.model, **common
            )
        )
    if request.task != "enhance" or request.uncertainty:
        raise UsageError("block-wise runs enhance or SiS-denoise one volume; uncertainty maps are not available there")
    return (
        yield from enhance_blockwise_steps(
            target.volume, target.output, request.factor, options=request.options, model=request.model, **common
        )
    )


def enhance(
    volume: np.ndarray,
    factor: Sequence[int] | str | int | None,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str = "auto",
    time_budget: float | None = None,
    steps: int | None = None,
    seed: int | None = None,
    progress: Callable[[Event], None] | None = None,
    model: Enhancer | None = None,
    cancel: CancelToken | None = None,
    options: EnhanceOptions | None = None,
    name: str = "input",
    uncertainty: bool = False,
) -> EnhanceResult:
    """Enhance ``volume`` (2D YX or 3D ZYX) by per-axis ``factor``, learning from the volume alone.

    With ``model`` (from :func:`load_model` or an earlier result's ``.model``) nothing is trained; its tile
    size, precision and ensemble come from ``options``. ``progress`` receives every event; ``cancel`` stops the
    run between steps. Training stops after ``steps`` or ``time_budget`` seconds, whichever comes first
    (default: :data:`self_vision.defaults.ENHANCE_TIME_BUDGET`). ``uncertainty`` (or ``options.uncertainty``)
    also sets ``result.uncertainty``: a per-voxel estimate of the error, in the input's units.
    """
    opts = options or EnhanceOptions()
    if seed is not None:
        opts = replace(opts, seed=seed)
    if time_budget is not None or steps is not None:
        opts = replace(opts, time_budget=time_budget, steps=steps)
    request = RunRequest(
        "enhance", volume, factor, voxel_size, opts, model=model, device=device, name=name, uncertainty=uncertainty
    )
    result = run_to_end(run(request, cancel), progress)
    assert isinstance(result, EnhanceResult)
    return result


def sim(
    raw: np.ndarray,
    *,
    pixel_size: float | None = None,
    denoise: str | None = None,
    time_budget: float | None = None,
    device: str = "auto",
    options: Any = None,
    target: np.ndarray | None = None,
    progress: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
) -> Any:
    """Reconstruct raw 2D-SIM frames ``(9, Y, X)`` or ``(T, 9, Y, X)`` on a 2x grid; return a ``SimResult``.

    ``pixel_size`` is the camera pixel in µm (or ``options.pixel_size_um``). ``denoise="rdl"`` denoises the raw
    frames first with the pattern-guided network (``"plain"``: the same network without the pattern branch),
    trained on the data itself for ``time_budget`` seconds; ``target`` (matched high-SNR frames) switches to
    supervised training. The result holds the widefield and SIM images, the denoised frames and rDL-SIM image
    when denoising, and the estimated pattern (``.params``, ``.summary()``). See docs/sim.md.
    """
    from .core.sim.run import SimOptions

    opts = options or SimOptions()
    changes: dict[str, Any] = {}
    if pixel_size is not None:
        changes["pixel_size_um"] = float(pixel_size)
    if denoise is not None:
        changes["denoise"] = denoise
    if time_budget is not None:
        changes["time_budget_s"] = check_time_budget(time_budget, "time_budget")
    if target is not None and opts.training == "auto":
        changes["training"] = "supervised"
    opts = replace(opts, **changes)
    request = RunRequest("sim", np.asarray(raw), device=device, sim_options=opts, target=target)
    return run_to_end(run(request, cancel), progress)


def denoise(
    data: np.ndarray,
    mode: str | None = None,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str = "auto",
    time_budget: float | None = None,
    steps: int | None = None,
    seed: int | None = None,
    gar: float = 1.0,
    fnsm: bool = False,
    progress: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
    options: DenoiseOptions | None = None,
    name: str = "input",
    model: DenoiseNet | str | Path | None = None,
) -> DenoiseResult:
    """Denoise ``data`` learning from the data alone; returns a :class:`DenoiseResult`.

    ``mode="sis"`` (the default when training): a ZYX stack, even slices predict odd ones (z-sampling near Nyquist);
    ``mode="tis"``: a TYX or TZYX time-lapse, even time points predict odd ones. ``gar`` weighs the
    gap-amending regulariser (0: off); ``fnsm`` adds the Fourier noise-suppression first stage.
    Training stops after ``steps`` or ``time_budget`` seconds, whichever comes first
    (default: :data:`self_vision.defaults.DENOISE_TIME_BUDGET`).

    ``model``: a trained denoiser (a :class:`DenoiseNet`, e.g. ``result.model``, or the path of a file written
    by :func:`save_denoiser`) to apply without training; the training arguments are then ignored and
    ``mode`` must match the model's (it defaults to it).
    """
    net = None
    if model is not None:
        net = model if isinstance(model, DenoiseNet) else load_denoiser(model)
    opts = replace(options or DenoiseOptions(), gamma=gar, fnsm=fnsm)
    if seed is not None:
        opts = replace(opts, seed=seed)
    if time_budget is not None or steps is not None:
        opts = replace(opts, time_budget=time_budget, steps=steps)
    request = RunRequest(
        "denoise",
        data,
        voxel_size=voxel_size,
        denoise_options=opts if net is None else options,
        denoise_mode=mode or (net.config.mode if net is not None else "sis"),
        model=net,
        device=device,
        name=name,
    )
    result = run_to_end(run(request, cancel), progress)
    assert isinstance(result, DenoiseResult)
    return result


@dataclass(frozen=True)
class Evaluation:
    """Scores of the enhanced volume and of the baselines against a reference."""

    factor: tuple[int, ...]
    operator: str
    scores: dict[str, dict[str, float]]  # method -> {"psnr": ..., "ssim": ...}
    train_seconds: float
    path: str
    #: How the reference was reduced, per axis ("point": a step, "area": binning); the training pairs too.
    sampling: tuple[str, ...] = ()
    #: What the gate returned ("network", "cubic", "back-projection", ...) and its one-line reason.
    returned: str = "network"
    gate: str = ""

    def gain_over_cubic(self) -> float:
        return self.scores["enhanced"]["psnr"] - self.scores["cubic"]["psnr"]


def evaluate(
    reference: np.ndarray,
    factor: Sequence[int] | str | int,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str = "auto",
    options: EnhanceOptions | None = None,
    progress: Callable[[Event], None] | None = None,
    name: str = "reference",
) -> Evaluation:
    """Degrade ``reference`` with the training operator and sampling model, enhance it, and score it beside cubic
    and back-projection (made with the same sampling model)."""
    check_volume(reference, name)
    factor = parse_factor(factor, reference.ndim)
    for axis, (size, f) in zip("ZYX"[-reference.ndim :], zip(reference.shape, factor, strict=True), strict=True):
        if f > 1 and size < f * MIN_LOW_RES:
            raise DataError(
                f"{name}: axis {axis} has {size} voxels, too few to evaluate a {f}x factor "
                f"(needs {f * MIN_LOW_RES}); use a smaller factor or a larger reference"
            )
    options = options or EnhanceOptions()
    reference = crop_reference(reference.astype(np.float32), factor)
    sampling = options.sampling_for(reference.ndim)
    low = degrade_array(reference, factor, options.operator, options.psf_sigma, sampling)
    low_voxel = None if voxel_size is None else tuple(v * f for v, f in zip(voxel_size, factor, strict=True))
    request = RunRequest("enhance", low, factor, low_voxel, options, device=device, name=name)
    result = run_to_end(run(request), progress)
    assert isinstance(result, EnhanceResult)
    border = [min(2 * f, s // 4) for f, s in zip(factor, reference.shape, strict=True)]
    candidates = {
        "enhanced": result.data,
        "cubic": cubic_upsample(low, factor),
        "back-projection": back_projection_baseline(low, factor, options.operator, 10, options.psf_sigma, sampling),
    }
    scores = {}
    for method, data in candidates.items():
        s = score(data, reference, border=border)
        scores[method] = {"psnr": s.psnr, "ssim": s.ssim}
    gate = "" if result.gate is None else result.gate.summary()
    return Evaluation(
        factor, options.operator, scores, result.train_seconds, result.path, sampling, result.returned, gate
    )
