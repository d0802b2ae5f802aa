"""A per-voxel uncertainty map: how far the trained model misses, at each place, one scale down.

The input ``x`` is degraded once more by the factor (the training operator), enhanced by the trained
model back to the input's grid, and compared with ``x`` itself, which there is the ground truth:
``r = |enhance(degrade(x)) - x|``. Its local RMS (a Gaussian of ``UNCERTAINTY_SIGMA`` input voxels) is
interpolated (linear) onto the output grid and scaled to the input's intensity units. It is high where
the input is noisy (noise cannot be predicted from a coarser copy) and on fine structures the model does
not reproduce; it costs one extra inference on a volume ``prod(factor)`` times smaller than the input.
No extra training: it works for an applied saved model too.

It estimates the error one scale down, not the error of the output itself: it assumes that what the
model gets wrong going from ``x / f`` to ``x`` it also gets wrong going from ``x`` to ``x * f`` at the same
place (the zero-shot assumption itself). Two models with different seeds were tried first and are not
used: they agree almost everywhere and their spread is not higher where the input is noisy (see
docs/method.md, "Uncertainty").
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import replace

import numpy as np
import torch

from ..degrade import upsample_linear
from ..devices import resolve_device
from ..errors import DataError
from ..events import Event, StageInfo
from ..quality import degrade_array
from ..validate import check_volume, parse_factor
from .enhancer import Enhancer
from .options import EnhanceOptions
from .run import EnhanceResult

#: Voxels each upsampled axis must keep after the input is degraded once more.
MIN_SLICES = 2
#: Gaussian sigma (input voxels) of the neighbourhood the squared residual is averaged over; 0: none.
UNCERTAINTY_SIGMA = 1.0


def check_uncertainty_size(shape: Sequence[int], factor: Sequence[int], name: str = "input") -> None:
    """Raise a one-line :class:`DataError` when an axis is too short to be degraded once more by ``factor``.

    Training already needs ``factor * 4`` voxels laterally; this matters for thin stacks with an axial factor.
    """
    for axis, size, f in zip("ZYX"[-len(shape) :], shape, factor, strict=True):
        if f > 1 and size < f * MIN_SLICES:
            raise DataError(
                f"{name}: axis {axis} has {size} voxels, too few for an uncertainty map at factor {f} "
                f"(needs {f * MIN_SLICES}); run without uncertainty or use a smaller factor"
            )


def local_rms(r: np.ndarray, sigma: float = UNCERTAINTY_SIGMA) -> np.ndarray:
    """``sqrt(G_sigma * r**2)``: the root mean square of ``r`` over a Gaussian neighbourhood (float32)."""
    from scipy import ndimage

    out = np.square(r, dtype=np.float32)
    if sigma > 0:
        ndimage.gaussian_filter(out, sigma, output=out, mode="nearest")
        np.maximum(out, 0, out=out)  # the filter can dip a hair below zero next to exact zeros
    return np.sqrt(out, out=out)


def uncertainty_steps(
    enhancer: Enhancer,
    normalized: np.ndarray,
    *,
    device: torch.device,
    scale: float = 1.0,
    ensemble: bool = False,
    max_tile_output: int | None = None,
    precision: str = "auto",
    sigma: float = UNCERTAINTY_SIGMA,
) -> Generator[Event, None, np.ndarray]:
    """The uncertainty of enhancing ``normalized`` with ``enhancer``, on the output grid, times ``scale``.

    Yields the inference events of the one extra (small) enhancement; returns a float32 array of shape
    ``normalized.shape * factor``.
    """
    factor = enhancer.factor
    check_uncertainty_size(normalized.shape, factor)
    yield StageInfo("uncertainty", "uncertainty: enhancing a once more degraded copy of the input")
    low = degrade_array(normalized, factor, enhancer.operator, enhancer.psf_sigma, enhancer.sampling)
    kwargs = {} if max_tile_output is None else {"max_tile_output": max_tile_output}
    again = yield from enhancer.apply_steps(low, device=device, ensemble=ensemble, precision=precision, **kwargs)
    covered = tuple(slice(0, s) for s in again.shape)
    residual = again - normalized[covered]
    np.abs(residual, out=residual)
    if residual.shape != normalized.shape:  # the input was cropped to a multiple of the factor: extend the edge
        residual = np.pad(residual, [(0, s - r) for s, r in zip(normalized.shape, residual.shape, strict=True)], "edge")
    rms = local_rms(residual, sigma)
    with torch.no_grad():
        out = upsample_linear(torch.from_numpy(rms)[None, None], factor)[0, 0].numpy()
    out *= np.float32(scale)
    return out


def with_uncertainty_steps(
    gen: Generator[Event, None, EnhanceResult],
    volume: np.ndarray,
    factor: Sequence[int] | str | int,
    *,
    device: str | torch.device = "auto",
    options: EnhanceOptions | None = None,
    name: str = "input",
) -> Generator[Event, None, EnhanceResult]:
    """Run ``gen`` (an enhancement of ``volume`` by ``factor``), then add the uncertainty map to its result.

    Checks first, before any training, that ``volume`` is large enough to be degraded once more.
    """
    check_volume(volume, name)
    check_uncertainty_size(volume.shape, parse_factor(factor, volume.ndim), name)
    result = yield from gen
    options = options or EnhanceOptions()
    normalizer = result.normalizer
    if normalizer is None:
        raise DataError(f"{name}: the result carries no intensity map; cannot compute its uncertainty")
    u = yield from uncertainty_steps(
        result.model,
        normalizer.forward(volume),
        device=resolve_device(device),
        scale=normalizer.high - normalizer.low,
        ensemble=options.ensemble,
        max_tile_output=options.max_tile_output,
        precision=options.precision,
    )
    if u.shape != result.data.shape:  # never expected: the output grid is the input's times the factor
        raise DataError(f"{name}: uncertainty map {u.shape} does not match the result {result.data.shape}")
    return replace(result, uncertainty=u)
