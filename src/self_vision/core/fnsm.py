"""The Fourier noise-suppression module (FNSM): a trainable soft low-pass in physical frequency units.

``y = Re(IFFT(M ⊙ FFT(x)))`` with ``M(k) = sigmoid(slope · (k_c − |k|))``. ``|k|`` is the length of the
frequency vector in cycles per µm when the voxel size is known (per-axis spacing, so the mask is an
ellipsoid in index space), else in cycles per voxel. The cutoff ``k_c`` and ``slope`` are trainable and
stay in range by construction: ``k_c = k_nyq · (ε + (1 − ε) · sigmoid(a))`` lies in ``(0, k_nyq]`` and
``slope = (softplus(b) + ε) / k_nyq`` is positive, whatever the optimiser does to ``a`` and ``b``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

_EPS = 1e-3


def theoretical_cutoff(na: float, wavelength_um: float) -> float:
    """The incoherent imaging cutoff ``2·NA/λ`` in cycles per µm (λ in µm)."""
    if na <= 0 or wavelength_um <= 0:
        raise ValueError("NA and wavelength must be positive")
    return 2.0 * na / wavelength_um


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _inverse_softplus(y: float) -> float:
    return y + math.log(-math.expm1(-y))  # log(exp(y) - 1) without overflow


class FNSM(nn.Module):
    """Soft isotropic (in physical units) low-pass over the last ``ndim`` axes of ``(B, C, *spatial)``."""

    def __init__(
        self,
        ndim: int,
        spacing: Sequence[float] | None = None,
        *,
        init_cutoff: float = 0.8,
        init_slope: float = 20.0,
    ) -> None:
        """``init_cutoff``: starting ``k_c`` as a fraction of Nyquist; ``init_slope``: in units of 1/k_nyq."""
        super().__init__()
        if ndim not in (2, 3):
            raise ValueError("FNSM works on 2D (YX) or 3D (ZYX) data")
        spacing = tuple(float(s) for s in spacing) if spacing is not None else (1.0,) * ndim
        if len(spacing) != ndim or min(spacing) <= 0:
            raise ValueError(f"FNSM needs {ndim} positive spacings, got {spacing}")
        if not 0 < init_cutoff <= 1 or init_slope <= 0:
            raise ValueError("init_cutoff must be in (0, 1] and init_slope positive")
        self.ndim = ndim
        self.spacing = spacing
        self.unit = "1/µm" if spacing != (1.0,) * ndim else "1/voxel"
        #: the largest frequency sampled along any axis (that of the finest spacing)
        self.k_nyquist = 1.0 / (2.0 * min(spacing))
        fraction = min(max((init_cutoff - _EPS) / (1 - _EPS), 1e-4), 1 - 1e-4)
        self.raw_cutoff = nn.Parameter(torch.tensor(_logit(fraction)))
        self.raw_slope = nn.Parameter(torch.tensor(_inverse_softplus(max(init_slope - _EPS, 1e-4))))

    @property
    def cutoff(self) -> torch.Tensor:
        """``k_c`` in (0, k_nyq] (differentiable)."""
        return self.k_nyquist * (_EPS + (1 - _EPS) * torch.sigmoid(self.raw_cutoff))

    @property
    def slope(self) -> torch.Tensor:
        """Steepness of the mask, > 0 (differentiable), in 1/(frequency unit)."""
        return (F.softplus(self.raw_slope) + _EPS) / self.k_nyquist

    def learned_cutoff(self) -> float:
        """The current cutoff ``k_c`` in :attr:`unit`."""
        return float(self.cutoff.detach())

    def report(self, na: float | None = None, wavelength_um: float | None = None) -> str:
        """One line: the learned cutoff, beside ``2·NA/λ`` when both are given."""
        text = f"FNSM cutoff {self.learned_cutoff():.3g} {self.unit} (Nyquist {self.k_nyquist:.3g})"
        if na is not None and wavelength_um is not None:
            text += f"; theoretical 2·NA/λ = {theoretical_cutoff(na, wavelength_um):.3g} 1/µm"
        return text

    def radius(self, shape: Sequence[int], device: torch.device) -> torch.Tensor:
        """``|k|`` on the half-spectrum grid of ``rfftn`` for a spatial ``shape``."""
        grids = []
        for axis, (n, d) in enumerate(zip(shape, self.spacing, strict=True)):
            last = axis == len(shape) - 1
            k = torch.fft.rfftfreq(n, d, device=device) if last else torch.fft.fftfreq(n, d, device=device)
            grids.append(k)
        mesh = torch.meshgrid(*grids, indexing="ij")
        return torch.sqrt(sum(g.float() ** 2 for g in mesh))

    def mask(self, shape: Sequence[int], device: torch.device) -> torch.Tensor:
        """``M(k)`` on the ``rfftn`` grid."""
        return torch.sigmoid(self.slope * (self.cutoff - self.radius(shape, device)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(-self.ndim, 0))
        spatial = x.shape[-self.ndim :]
        with torch.autocast(device_type=x.device.type, enabled=False):
            spectrum = torch.fft.rfftn(x.float(), dim=dims)
            filtered = spectrum * self.mask(spatial, x.device)
            return torch.fft.irfftn(filtered, s=spatial, dim=dims)
