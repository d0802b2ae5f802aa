"""Learning the axial factor from lateral planes (the CARE-isotropic idea), with an axial blur.

Lateral planes are sharper and far more numerous than axial profiles, so they can teach the axial
up-sampling. But the PSF is longer along z than across it, so sharp lateral planes would teach the network
to invent lateral-looking detail in z: :func:`axial_training_planes` blurs them along the axis that plays z.
Without the optics, the blur is :func:`nyquist_axial_blur`: the output's z spacing (docs/method.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..degrade import gaussian_blur, resample_axis


def nyquist_axial_blur(z_out: float) -> float:
    """The extra axial blur (Gaussian σ, µm) of the training planes when the optics are not given: the output's
    z spacing ``z_out``.

    The output grid is taken to sample the axial resolution at Nyquist (spacing ≈ FWHM / 2.3, so the axial
    PSF's σ = FWHM / 2.355 ≈ the spacing); asking for a finer grid than the optics resolve only interpolates.
    Measured better than the old correlation-matching estimate on every case tried (docs/benchmarks.md).
    """
    return float(z_out)


def axial_training_planes(
    source: np.ndarray, fz: int, lateral_spacing: Sequence[float] | None, z_out: float | None, blur_um: float = 0.0
) -> list[np.ndarray]:
    """Two stacks of lateral planes, each with one lateral axis playing z: blurred by ``blur_um`` along it and
    resampled to the output's axial spacing ``z_out`` (when the voxel size is known)."""
    stacks = []
    for axis in (1, 2):
        planes = source if axis == 1 else np.ascontiguousarray(source.transpose(0, 2, 1))
        if lateral_spacing is not None and z_out is not None:
            spacing = float(lateral_spacing[axis - 1])
            if blur_um > 0:
                t = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[:, None]
                planes = gaussian_blur(t, [blur_um / spacing, 0.0])[:, 0].numpy()
            size = round(planes.shape[1] * spacing / z_out)
            if planes.shape[1] > size >= fz * 4:
                planes = resample_axis(planes, 1, size)
        stacks.append(planes)
    return stacks
