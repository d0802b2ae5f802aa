"""napari-self-vision: zero-shot resolution enhancement of microscopy volumes.

The public API (``enhance``, ``evaluate``, ``save_model``, ``load_model``, ...) is loaded on first use, so
that importing the package (as napari does at start-up) does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.provenance import installed_version

__version__ = installed_version()

__all__ = [
    "Blockwise",
    "CancelToken",
    "DenoiseOptions",
    "DenoiseResult",
    "EnhanceOptions",
    "EnhanceResult",
    "Enhancer",
    "Evaluation",
    "RunRequest",
    "__version__",
    "denoise",
    "enhance",
    "enhance_steps",
    "evaluate",
    "load_denoiser",
    "load_model",
    "run",
    "save_denoiser",
    "save_model",
    "sim",
]

if TYPE_CHECKING:
    from .api import (
        Blockwise,
        CancelToken,
        DenoiseOptions,
        DenoiseResult,
        EnhanceOptions,
        Enhancer,
        EnhanceResult,
        Evaluation,
        RunRequest,
        denoise,
        enhance,
        enhance_steps,
        evaluate,
        load_denoiser,
        load_model,
        run,
        save_denoiser,
        save_model,
        sim,
    )


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'self_vision' has no attribute {name!r}")
