"""The model of a block-wise run, as the blocks see it: apply one (enhancer or denoiser), ship it to workers,
save it into the partial output, and compute one block's output voxels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..enhance.enhancer import Enhancer, load_model, save_model
from ..errors import DataError
from ..intensity import Normalizer
from ..io.lazy import LazyVolume
from ..io.modelfile import MODEL_FORMAT
from .plan import Block, format_region


@dataclass(frozen=True)
class BlockJob:
    """Everything a worker needs besides the block and the model (small and picklable)."""

    store: str  # the partial output folder
    low: float  # the normaliser the model was trained under
    high: float
    device: str = "cpu"
    ensemble: bool = False
    precision: str = "auto"
    threads: int | None = None  # torch threads inside a worker process
    sis_inference: str = "halves"  # denoising: how a SiS net is applied (see core.denoise.SIS_INFERENCE)


def apply_block_model(model: Any, x: np.ndarray, device: torch.device, job: BlockJob) -> np.ndarray:
    """Enhance (an :class:`Enhancer`) or denoise (a ``DenoiseNet``) one normalised block."""
    if isinstance(model, Enhancer):
        return model.apply(x, device=device, ensemble=job.ensemble, precision=job.precision)
    from ..denoise.inference import apply_denoiser

    return apply_denoiser(model, x, "ZYX"[-x.ndim :], device=device, sis_inference=job.sis_inference)


def block_model_state(model: Any) -> dict:
    """Plain tensors and settings to ship a model to workers."""
    if isinstance(model, Enhancer):
        return model.to_dict()
    from ..denoise.files import denoiser_to_dict

    return denoiser_to_dict(model)


def block_model_from_state(state: dict) -> Any:

    if state.get("format") == MODEL_FORMAT:
        return Enhancer.from_dict(state)
    from ..denoise.files import denoiser_from_dict

    return denoiser_from_dict(state)


def save_block_model(model: Any, path: Path) -> None:
    if isinstance(model, Enhancer):
        save_model(model, path)
    else:
        from ..denoise.files import save_denoiser

        save_denoiser(model, path)


def load_block_model(path: Path, kind: str) -> Any:
    if kind == "enhance":
        return load_model(path)
    from ..denoise.files import load_denoiser

    return load_denoiser(path)


def run_block(job: BlockJob, volume: LazyVolume, block: Block, model: Any) -> np.ndarray:
    """The output voxels of one block, in the input's intensity units (float32)."""
    x = volume.read(block.read)
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise DataError(f"{volume.name}: NaN/Inf voxels in region {format_region(block.read)}; replace them first")
    normalizer = Normalizer(job.low, job.high)
    y = apply_block_model(model, normalizer.forward(x), torch.device(job.device), job)
    return normalizer.inverse(np.ascontiguousarray(y[block.keep]), inplace=True)
