"""Applying a trained denoiser: per frame or volume (TiS), or as the SiS half-stack ensemble."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ...defaults import MAX_TILE_OUTPUT
from ..infer import predict, predict_planes
from .net import DenoiseNet
from .options import SIS_INFERENCE


@torch.no_grad()
def apply_denoiser(
    model: DenoiseNet,
    x: np.ndarray,
    axes: str,
    *,
    device: torch.device,
    max_tile_output: int = MAX_TILE_OUTPUT,
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
