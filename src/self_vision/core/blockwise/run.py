"""Enhance or denoise volumes larger than memory: train on a sample, then block by block into OME-Zarr or BigTIFF.

Flow: pick a structure-rich training region (at most ``train_voxels``) → :func:`.pipeline.train_steps`
on it → save the model into the partial output → enhance each block (input read with a halo, output
written as whole chunks) here or on dask.distributed workers → pyramid, metadata, completion marker and
rename (see :mod:`.store`). Memory is bounded by the block size, not by the volume. An interrupted run
continues with ``resume=True`` from the blocks already marked done, with the model it saved.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ... import defaults
from ..devices import resolve_device
from ..enhance.enhancer import Enhancer
from ..enhance.options import EnhanceOptions
from ..enhance.run import train_steps
from ..errors import DataError, UsageError
from ..events import CancelToken, Event
from ..intensity import Normalizer
from ..io.lazy import LazyVolume
from ..provenance import denoise_record, enhance_record, run_record
from ..validate import parse_factor
from .describe import TrainedSample
from .engine import ZARR_OUTPUTS, BlockwiseResult, blockwise_steps, is_blockwise_output
from .plan import training_region

__all__ = [
    "ZARR_OUTPUTS",
    "BlockwiseResult",
    "blockwise_steps",
    "denoise_blockwise_steps",
    "enhance_blockwise_steps",
    "is_blockwise_output",
    "training_region",
]


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

    def train(sample: np.ndarray) -> Generator[Event, None, TrainedSample]:
        if model is not None:
            record = run_record("enhance", options, steps={}, seconds=0.0, factor=list(model.factor), model="given")
            return TrainedSample(model, Normalizer.fit(sample), record=record)
        assert factor_t is not None
        trained = yield from train_steps(sample, factor_t, voxel_size=volume.voxel_size, options=options, device=dev)
        return TrainedSample(
            trained.enhancer,
            trained.normalizer,
            trained.self_check,
            trained.train_seconds,
            record=enhance_record(trained, options),
            gate=trained.gate,
        )

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
            given_model=model,
            resolution=options.resolution,
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
        raise UsageError(
            "block-wise denoising runs SiS models; this one was trained for TiS", kind="invalid value", option="model"
        )

    settings = options or DenoiseOptions()

    def train(sample: np.ndarray) -> Generator[Event, None, TrainedSample]:
        if model is not None:
            record = run_record("denoise", settings, steps={}, seconds=0.0, mode="sis", model="given")
            return TrainedSample(model, Normalizer.fit(sample), record=record)
        result = yield from denoise_steps(
            sample, "sis", voxel_size=volume.voxel_size, options=settings, device=dev, cancel=cancel
        )
        assert result.normalizer is not None
        return TrainedSample(
            result.model, result.normalizer, seconds=result.train_seconds, record=denoise_record(result, settings)
        )

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
            sis_inference=settings.sis_inference,
            given_model=model,
        )
    )
