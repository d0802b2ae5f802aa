"""Enhance or denoise volumes larger than memory: train on a sample, then block by block into OME-Zarr or BigTIFF.

Flow: pick a structure-rich training region (at most ``train_voxels``) → :func:`.pipeline.train_steps`
on it → save the model into the partial output → enhance each block (input read with a halo, output
written as whole chunks) here or on dask.distributed workers → pyramid, metadata, completion marker and
rename (see :mod:`.store`). Memory is bounded by the block size, not by the volume. An interrupted run
continues with ``resume=True`` from the blocks already marked done, with the model it saved.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ... import defaults
from ..devices import resolve_device
from ..enhance.enhancer import Enhancer
from ..enhance.options import EnhanceOptions
from ..enhance.run import train_steps
from ..enhance.selfcheck import SelfCheck
from ..errors import CancelledError, DataError, UsageError
from ..events import CancelToken, Event, InferProgress, StageInfo
from ..geometry import output_voxel_size
from ..intensity import Normalizer
from ..io.lazy import LazyVolume
from ..io.writing import TIFF_OUTPUTS, check_output_path, write_tiff
from ..validate import check_size, check_volume, parse_factor
from .models import BlockJob, load_block_model, run_block, save_block_model
from .plan import BlockPlan, format_region, plan_blocks
from .store import OutputStore, partial_path

#: Input voxels the model is trained on when the input is larger (a structure-rich region of it).
ZARR_OUTPUTS = (".zarr",)


@dataclass
class BlockwiseResult:
    """Where the enhanced volume was written and how the run went."""

    path: Path
    shape: tuple[int, ...]
    voxel_size: tuple[float, ...] | None
    factor: tuple[int, ...]
    model: Enhancer
    blocks: int
    resumed_blocks: int  # blocks found done from an earlier, interrupted run
    train_seconds: float
    infer_seconds: float
    training_region: tuple[slice, ...] | None
    self_check: SelfCheck | None = None


def is_blockwise_output(path: str | Path) -> bool:
    """Outputs the block-wise path writes: OME-Zarr folders."""
    return Path(path).name.lower().endswith(ZARR_OUTPUTS)


def training_region(volume: LazyVolume, factor: Sequence[int], max_voxels: int) -> tuple[slice, ...]:
    """The region the model learns from: the whole input if small, else the most structured of 9 windows.

    A window keeps every slice (up to what fits) and a square lateral field; each candidate is scored by
    the spread (99th − 50th percentile) of a strided read, so training lands on cells, not background.
    """
    shape = volume.shape
    if math.prod(shape) <= max_voxels:
        return tuple(slice(0, s) for s in shape)
    depth = shape[0] if len(shape) == 3 else 1
    if len(shape) == 3 and depth * 64 * 64 > max_voxels:
        depth = max(1, max_voxels // (64 * 64))
    side = int(math.sqrt(max_voxels / depth))
    side = max(side - side % max(factor[-2:]), max(factor[-2:]))
    window = ([depth] if len(shape) == 3 else []) + [min(side, shape[-2]), min(side, shape[-1])]
    best: tuple[float, tuple[slice, ...]] | None = None
    for fy in (0.0, 0.5, 1.0):
        for fx in (0.0, 0.5, 1.0):
            corner = [(shape[0] - window[0]) // 2] if len(shape) == 3 else []
            corner += [round(fy * (shape[-2] - window[-2])), round(fx * (shape[-1] - window[-1]))]
            region = tuple(slice(c, c + w) for c, w in zip(corner, window, strict=True))
            stride = tuple(slice(r.start, r.stop, max(1, (r.stop - r.start) // 64)) for r in region)
            sample = volume.read(stride).astype(np.float32)
            spread = float(np.percentile(sample, 99) - np.percentile(sample, 50))
            if best is None or spread > best[0]:
                best = (spread, region)
    assert best is not None
    return best[1]


def enhance_blockwise_steps(
    volume: LazyVolume,
    output: str | Path,
    factor: Sequence[int] | str | int | None,
    *,
    options: EnhanceOptions | None = None,
    model: Enhancer | None = None,
    device: str | torch.device = "auto",
    cancel: CancelToken | None = None,
    resume: bool = False,
    overwrite: bool = False,
    chunks: Sequence[int] | None = None,
    block_output: int | None = None,
    halo: int = defaults.BLOCK_HALO,
    train_voxels: int = defaults.TRAIN_VOXELS,
    client: Any = None,
) -> Generator[Event, None, BlockwiseResult]:
    """Train on a sample of ``volume`` (or use ``model``) and write it enhanced to ``output``, block by block.

    ``output``: an OME-Zarr folder (``*.zarr``, with a multiscale pyramid) or a TIFF (BigTIFF beyond 4 GB,
    assembled plane by plane from a partial Zarr store). ``client``: a ``distributed.Client`` to spread
    the blocks over (the input must then be a file every worker can open). Yields training events, then
    one :class:`InferProgress` per finished block.
    """
    options = options or EnhanceOptions()
    dev = resolve_device(device)
    factor_t = None if factor is None else parse_factor(factor, len(volume.shape))
    if model is not None:
        factor_t = tuple(model.factor)
        if len(factor_t) != len(volume.shape):
            raise DataError(f"{volume.name}: is {len(volume.shape)}D but the model enhances {len(factor_t)}D images")

    def train(sample: np.ndarray) -> Generator[Event, None, tuple[Any, Normalizer, SelfCheck | None, float]]:
        if model is not None:
            return model, Normalizer.fit(sample), None, 0.0
        assert factor_t is not None
        trained = yield from train_steps(sample, factor_t, voxel_size=volume.voxel_size, options=options, device=dev)
        return trained.enhancer, trained.normalizer, trained.self_check, trained.train_seconds

    return (
        yield from blockwise_steps(
            volume,
            output,
            factor_t,
            train,
            kind="enhance",
            device=dev,
            cancel=cancel,
            resume=resume,
            overwrite=overwrite,
            chunks=chunks,
            block_output=block_output,
            halo=halo,
            train_voxels=train_voxels,
            client=client,
            ensemble=options.ensemble,
            precision=options.precision,
        )
    )


def denoise_blockwise_steps(
    volume: LazyVolume,
    output: str | Path,
    *,
    options: Any = None,
    model: Any = None,
    device: str | torch.device = "auto",
    cancel: CancelToken | None = None,
    resume: bool = False,
    overwrite: bool = False,
    chunks: Sequence[int] | None = None,
    block_output: int | None = None,
    halo: int = defaults.BLOCK_HALO,
    train_voxels: int = defaults.TRAIN_VOXELS,
    client: Any = None,
) -> Generator[Event, None, BlockwiseResult]:
    """SiS-denoise a z-stack larger than memory: learn on a structured window (all its slices), then
    denoise block by block into ``output`` — the same blocks, halo, resume and cluster as enhancing.

    The halo is even, so every block keeps the even/odd slice parity SiS was trained with; the CNN is local,
    so blocks match whole-stack denoising (a model with FNSM filters each block's own spectrum instead of the
    whole stack's: close, not identical).
    """
    from ..denoise.options import DenoiseOptions
    from ..denoise.run import denoise_steps

    dev = resolve_device(device)
    if len(volume.shape) != 3:
        raise DataError(f"{volume.name}: block-wise denoising takes a ZYX stack (SiS); it is {len(volume.shape)}D")
    if model is not None and model.config.mode != "sis":
        raise UsageError("block-wise denoising runs SiS models; this one was trained for TiS")

    def train(sample: np.ndarray) -> Generator[Event, None, tuple[Any, Normalizer, SelfCheck | None, float]]:
        if model is not None:
            return model, Normalizer.fit(sample), None, 0.0
        result = yield from denoise_steps(
            sample, "sis", voxel_size=volume.voxel_size, options=options or DenoiseOptions(), device=dev, cancel=cancel
        )
        assert result.normalizer is not None
        return result.model, result.normalizer, None, result.train_seconds

    return (
        yield from blockwise_steps(
            volume,
            output,
            (1, 1, 1),
            train,
            kind="denoise",
            device=dev,
            cancel=cancel,
            resume=resume,
            overwrite=overwrite,
            chunks=chunks,
            block_output=block_output,
            halo=halo + halo % 2,
            train_voxels=train_voxels,
            client=client,
            sis_inference=(options or DenoiseOptions()).sis_inference,
        )
    )


def blockwise_steps(
    volume: LazyVolume,
    output: str | Path,
    factor: tuple[int, ...] | None,
    train: Any,
    *,
    kind: str,
    device: torch.device,
    cancel: CancelToken | None = None,
    resume: bool = False,
    overwrite: bool = False,
    chunks: Sequence[int] | None = None,
    block_output: int | None = None,
    halo: int = defaults.BLOCK_HALO,
    train_voxels: int = defaults.TRAIN_VOXELS,
    client: Any = None,
    ensemble: bool = False,
    precision: str = "auto",
    sis_inference: str = "halves",
) -> Generator[Event, None, BlockwiseResult]:
    """The block-wise run shared by enhancing and denoising: sample, ``train(sample)``, blocks, finish.

    ``train`` is a generator function taking the training sample and returning ``(model, normalizer,
    self_check, seconds)``; ``kind`` (``enhance`` / ``denoise``) says how the model is applied and saved.
    """
    final = Path(output).expanduser()
    tiff = final.suffix.lower() in TIFF_OUTPUTS
    if not tiff and not is_blockwise_output(final):
        raise UsageError(f"{final}: give an OME-Zarr folder (name ending .zarr) or a .tif file as the output")
    _check_final(final, overwrite)
    store = OutputStore(final)
    if store.path.exists() and not (resume or overwrite):
        raise UsageError(
            f"{store.path}: an interrupted run's output is there; pass --resume to continue it, "
            "or --overwrite (or delete it) to start again"
        )
    if client is not None and volume.spec is None:
        raise UsageError("distributed runs read the input from a file on every worker; give a file path as input")
    name = volume.name

    trained_check: SelfCheck | None = None
    region: tuple[slice, ...] | None = None
    train_seconds = 0.0
    if resume and store.exists:
        run = store.run()
        plan = BlockPlan.from_dict(run["plan"])
        if tuple(plan.shape) != volume.shape or (factor is not None and tuple(plan.factor) != tuple(factor)):
            raise UsageError(
                f"{store.path}: was started for an input of shape {tuple(plan.shape)} and factor "
                f"{tuple(plan.factor)}; this run asks for {volume.shape} and {factor}; "
                "delete it or use --overwrite to start again"
            )
        if run.get("kind", "enhance") != kind:
            raise UsageError(f"{store.path}: was started to {run.get('kind')}, not to {kind}; delete it or --overwrite")
        model = load_block_model(store.model_path, kind)
        normalizer = Normalizer(*run["normalizer"])
        factor = tuple(plan.factor)
        yield StageInfo("resume", f"resuming {store.path.name}: {len(store.done())} of {len(plan)} blocks are done")
    else:
        if factor is None:
            raise UsageError("give the enhancement factor (or a trained model)")
        check_size(volume.shape, factor, name)
        region = training_region(volume, factor, train_voxels)
        sample = volume.read(region)
        check_volume(sample, f"{name} (training region {format_region(region)})")
        yield StageInfo("sample", f"training on region {format_region(region)} of {_fmt_shape(volume.shape)}")
        model, normalizer, trained_check, train_seconds = yield from train(sample)
        del sample
        plan = plan_blocks(volume.shape, factor, chunks=chunks, block_output=block_output, halo=halo)
        store.create(
            plan.output_shape,
            plan.chunks,
            {
                "kind": kind,
                "input": name,
                "factor": list(factor),
                "plan": plan.to_dict(),
                "normalizer": [normalizer.low, normalizer.high],
                "voxel_size": None if volume.voxel_size is None else list(volume.voxel_size),
                "unit": volume.unit,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
        save_block_model(model, store.model_path)

    job = BlockJob(
        str(store.path), normalizer.low, normalizer.high, str(device), ensemble, precision, sis_inference=sis_inference
    )
    done = store.done()
    resumed = len(done)
    pending = [i for i in range(len(plan)) if i not in done]
    verb = "enhancing" if kind == "enhance" else "denoising"
    yield StageInfo("inference", f"{verb} {len(pending)} of {len(plan)} blocks into {store.path.name}")
    started = time.perf_counter()
    if client is None:
        for finished in range(len(pending)):
            if cancel is not None and cancel.cancelled:
                raise _cancelled(store, len(done) + finished, len(plan))
            block = plan.block(pending[finished])
            store.write_block(block.index, block.output, run_block(job, volume, block, model))
            yield InferProgress("blocks", resumed + finished + 1, len(plan))
    else:
        from .distributed import run_blocks

        finished = 0
        for _ in run_blocks(client, job, volume, plan, pending, model, cancel):
            finished += 1
            yield InferProgress("blocks", resumed + finished, len(plan))
        if cancel is not None and cancel.cancelled:
            raise _cancelled(store, resumed + finished, len(plan))
    infer_seconds = time.perf_counter() - started
    run = store.run()
    voxel = None if run["voxel_size"] is None else output_voxel_size(run["voxel_size"], factor)
    yield StageInfo("writing", f"finishing {final.name}")
    if tiff:
        import zarr

        write_tiff(
            final, zarr.open_array(str(store.path / "0"), mode="r"), voxel_size=voxel, unit=run["unit"], overwrite=True
        )
        store.discard()
    else:
        store.finish(voxel_size=voxel, unit=run["unit"], overwrite=overwrite, name=final.stem)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return BlockwiseResult(
        final,
        plan.output_shape,
        voxel,
        factor,
        model,
        len(plan),
        resumed,
        train_seconds,
        infer_seconds,
        region,
        trained_check,
    )


def _check_final(final: Path, overwrite: bool) -> None:
    """Fail before any work when the output cannot be written."""
    if final.exists() and not overwrite:
        raise UsageError(f"{final}: exists; pass --overwrite to replace it")
    if final.suffix.lower() in TIFF_OUTPUTS:
        check_output_path(final, overwrite=overwrite)
    elif not final.parent.is_dir():
        raise UsageError(f"{final}: folder {final.parent} does not exist; create it first or choose another output")
    if partial_path(final).exists() and not partial_path(final).is_dir():
        raise UsageError(f"{partial_path(final)}: is in the way (a file); move it")


def _cancelled(store: OutputStore, done: int, total: int) -> CancelledError:
    return CancelledError(
        f"cancelled: {done} of {total} blocks are saved in {store.path}; run again with --resume to continue"
    )


def _fmt_shape(shape: Sequence[int]) -> str:
    return "x".join(str(n) for n in shape)
