"""Generalised Wiener reconstruction of 2D-SIM on a grid twice as fine as the camera, and the widefield image.

For each orientation the bands (0, +1, −1) are separated with the estimated phases, band ±1 is moved to its
true place by ∓k0 (a real-space phase ramp on the 2× grid, so sub-pixel k0 is exact), and all bands are
combined as

    SR(k) = A(k) · Σ_b conj(H_b(k)) · C_b(k) / (Σ_b |H_b(k)|² + w²)

with ``H_0 = OTF(k)``, ``H_±1 = (m/2)·OTF(k ± k0)``; ``w`` is the Wiener parameter (dimensionless: the OTF is 1 at
k = 0, so w² is the noise-to-signal power the filter assumes; larger = smoother, fewer artefacts). ``A`` is a
triangular apodisation ``(1 − |k|/k_A)^bend`` with ``k_A = apodisation · (k_c + |k0|)``, the extended SIM support
(``apodisation = inf``: none, as the forward model behind the pattern-modulated images needs).
An optional notch (``attenuation`` in [0, 1), Gaussian of width ``attenuation_width`` µm⁻¹ around each band's
centre) down-weights the low frequencies of every band, where out-of-focus light and residual leakage live.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fourier import edge_taper, phase_ramp, resample, resize_spectrum
from .optics import OTF, frequency_grid, otf_on_grid
from .pattern import PatternParams, separate


@dataclass(frozen=True)
class WienerOptions:
    """Parameters of the reconstruction (see the module docstring)."""

    wiener: float = 0.1
    apodisation: float = 1.0
    apodisation_bend: float = 1.0
    attenuation: float = 0.0
    attenuation_width: float = 1.0
    edge_taper: int = 8
    min_modulation: float = 0.3  # the modulation used in H_±1 is clipped to [min_modulation, 1]


def sim_support(otf: OTF, params: list[PatternParams]) -> float:
    """``k_c + max |k0|``: the largest frequency the SIM reconstruction can carry (cycles/µm)."""
    return otf.cutoff + max(p.magnitude for p in params)


def apodisation(shape: tuple[int, int], pixel_um: float, support: float, bend: float = 1.0) -> np.ndarray:
    """``max(0, 1 − |k|/support)^bend`` on the FFT grid."""
    ky, kx = frequency_grid(shape, pixel_um)
    return np.clip(1.0 - np.hypot(ky, kx) / support, 0.0, None) ** bend


def widefield(stack: np.ndarray) -> np.ndarray:
    """Mean of all frames ``(..., Y, X)`` over the frame axes (all but the last two), resampled to the 2× grid."""
    frames = np.asarray(stack, dtype=np.float64)
    mean = frames.reshape(-1, *frames.shape[-2:]).mean(axis=0)
    return resample(mean, (2 * mean.shape[0], 2 * mean.shape[1])).astype(np.float32)


def reconstruct(
    stack: np.ndarray,
    params: list[PatternParams],
    pixel_um: float,
    otf: OTF,
    options: WienerOptions | None = None,
) -> np.ndarray:
    """Wiener SIM of one acquisition ``(O, P, Y, X)`` (offset removed) → ``(2Y, 2X)`` float32, pixel ``pixel_um/2``."""
    options = options or WienerOptions()
    n_ori, _, ny, nx = stack.shape
    shape2 = (2 * ny, 2 * nx)
    px2 = pixel_um / 2
    ky, kx = frequency_grid(shape2, px2)
    numerator = np.zeros(shape2, dtype=np.complex128)
    denominator = np.zeros(shape2, dtype=np.float64)
    for d in range(n_ori):
        p = params[d]
        frames = edge_taper(stack[d].astype(np.float64), options.edge_taper)
        bands = separate(np.fft.fft2(frames, axes=(-2, -1)), p.phases)
        m = float(np.clip(p.modulation, options.min_modulation, 1.0))
        for band, sign in ((0, 0), (1, 1), (2, -1)):
            shift = (sign * p.k0[0], sign * p.k0[1])
            spectrum = resize_spectrum(bands[band], shape2)
            if sign:
                image = np.fft.ifft2(spectrum) * phase_ramp(shape2, (-shift[0], -shift[1]), px2)
                spectrum = np.fft.fft2(image)
            h = otf_on_grid(otf, shape2, px2, shift=shift) * (1.0 if sign == 0 else m / 2)
            if options.attenuation > 0:
                notch = 1.0 - options.attenuation * np.exp(
                    -((ky + shift[0]) ** 2 + (kx + shift[1]) ** 2) / (2 * options.attenuation_width**2)
                )
                spectrum = spectrum * notch
                h = h * notch
            numerator += h * spectrum  # H is real (radial OTF), so conj(H) = H
            denominator += h * h
    support = options.apodisation * sim_support(otf, params)
    result = numerator / (denominator + options.wiener**2) * apodisation(shape2, px2, support, options.apodisation_bend)
    return (np.fft.ifft2(result).real * 4.0).astype(np.float32)  # ×4: the 2× grid has 4× the samples


def reconstruct_series(
    stacks: np.ndarray, params: list[PatternParams], pixel_um: float, otf: OTF, options: WienerOptions | None = None
) -> np.ndarray:
    """:func:`reconstruct` for every time point of ``(T, O, P, Y, X)`` → ``(T, 2Y, 2X)``."""
    return np.stack([reconstruct(s, params, pixel_um, otf, options) for s in stacks])
