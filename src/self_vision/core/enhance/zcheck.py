"""The axial stage checked in z on a stack too thin to be degraded by its whole factor.

The z check of :func:`.selfcheck.check_volume_group` degrades the held-out slab by the axial factor ``fz`` once
more, which needs ``fz * MIN_LOW_RES`` slices: 16 at x4, more than a thin stack has (the nucleus at x4 keeps 11).
Here the slab is degraded by a proper divisor ``g`` of ``fz`` only (x2 for x4: every other plane, as rDL's
slice-interleaved denoising does), the ``fz`` stage is applied to it as it is to the input, and each method's
``fz`` result is brought back to the slab's planes with the run's sampling model (a point sample at the plane's
centre, or a block mean) and scored against the planes that were left out. Every method (network with the
product's back-projection, cubic, classical back-projection) goes through the same ``fz`` grid and the same
sampling, so the comparison is the one the gate makes, at a z-step ``g`` times coarser than the input's (the
whole-factor check is ``fz`` times coarser).

An axial-only run checks this on the whole input rather than the held-out slab (the axial stage learns from
lateral planes of the rest, so no z-profile was seen in training): on the three x4 cases compared (the
nucleus, confocal and widefield, 1,500 steps, seed 0) the estimate moved by -0.11 to +0.10 dB and the 95 % interval
was about half as wide; no decision changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..bootstrap import block_sse, gain_interval
from ..degrade import cubic_upsample
from ..quality import back_projection_baseline, crop_reference, degrade_array, score
from ..validate import MIN_LOW_RES
from .noise import NoiseCurve, top_up
from .selfcheck import GroupCheck, back_projected

#: The largest input (voxels) checked whole: beyond it the slab (a quarter of X) keeps the check's cost bounded
#: (the check enhances the input degraded by ``g``: about 1/g of the cost of enhancing it).
WHOLE_CHECK_MAX_VOXELS = 8_000_000


def finer_divisor(fz: int, slices: int) -> int | None:
    """The largest proper divisor ``g >= 2`` of ``fz`` that ``slices`` planes can be degraded by (None: none)."""
    found = [g for g in range(2, fz) if fz % g == 0 and slices >= g * MIN_LOW_RES]
    return max(found) if found else None


def check_axial_finer(
    network: Callable[[np.ndarray], np.ndarray],
    held: np.ndarray,
    fz: int,
    g: int,
    operator: str,
    psf_sigma: float,
    back_projection: int,
    sampling: Sequence[str],
    noise: NoiseCurve | None = None,
) -> GroupCheck:
    """Degrade ``held`` (ZYX) by ``g`` along z, enhance it by ``fz`` (``network(low)``: the axial stage without
    back-projection; the product's rounds are added here) and classically, sample each result back at ``held``'s
    planes and score them there. ``noise`` as in :func:`.selfcheck.check_volume_group`. The detail weight is
    not fitted here (``weight`` is NaN)."""
    reference = crop_reference(held, (g, 1, 1))
    low = top_up(degrade_array(reference, (g, 1, 1), operator, psf_sigma, sampling), noise)
    up, back = (fz, 1, 1), (fz // g, 1, 1)
    net = network(low)
    results = {
        "model": back_projected(net, low, up, operator, psf_sigma, back_projection, sampling),
        "plain": net,
        "cubic": cubic_upsample(low, up),
        "back-projection": back_projection_baseline(low, up, operator, max(back_projection, 10), psf_sigma, sampling),
    }
    # each fz result at the slab's own planes: the sampling model alone (the optics are already in the data)
    at_planes = {name: degrade_array(y, back, "area", psf_sigma, sampling) for name, y in results.items()}
    border = [min(2 * g, reference.shape[0] // 4), 2, 2]
    sse = {name: block_sse(y, reference, border) for name, y in at_planes.items()}
    best = min(("cubic", "back-projection"), key=lambda name: sse[name].sum())
    psnr = {name: score(y, reference, border=border).psnr for name, y in at_planes.items()}
    interval = gain_interval(sse["model"], sse[best])
    plain = gain_interval(sse["plain"], sse[best]) if back_projection else interval  # no rounds: the same result
    return GroupCheck(
        psnr["model"], psnr["cubic"], psnr["back-projection"], float("nan"), float("nan"), best, interval, plain
    )
