"""napari-self-vision: zero-shot resolution enhancement of microscopy volumes.

The public API (``enhance``, ``evaluate``, ``save_model``, ``load_model``, ...) is loaded on first use, so
that importing the package (as napari does at start-up) does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    "CancelToken",
    "EnhanceOptions",
    "EnhanceResult",
    "Enhancer",
    "Evaluation",
    "denoise",
    "enhance",
    "enhance_steps",
    "evaluate",
    "load_denoiser",
    "load_model",
    "save_denoiser",
    "save_model",
}

__all__ = [
    "CancelToken",
    "EnhanceOptions",
    "EnhanceResult",
    "Enhancer",
    "Evaluation",
    "__version__",
    "denoise",
    "enhance",
    "enhance_steps",
    "evaluate",
    "load_denoiser",
    "load_model",
    "save_denoiser",
    "save_model",
]

#: Served by ``denoise_api`` (the rest of ``_API`` by ``api``).
_DENOISE_API = {"denoise", "load_denoiser", "save_denoiser"}

if TYPE_CHECKING:
    from .api import (
        CancelToken,
        EnhanceOptions,
        Enhancer,
        EnhanceResult,
        Evaluation,
        enhance,
        enhance_steps,
        evaluate,
        load_model,
        save_model,
    )
    from .denoise_api import denoise, load_denoiser, save_denoiser


def __getattr__(name: str) -> Any:
    if name in _DENOISE_API:
        from . import denoise_api

        return getattr(denoise_api, name)
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'self_vision' has no attribute {name!r}")
