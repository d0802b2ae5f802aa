"""Per-orientation estimation of the illumination pattern of 2D-SIM: wave vector, phases, modulation depth.

Method (after fairSIM / Wicker et al. 2013, written from the papers):

1. Separate the three bands (0, +1, −1) of one orientation assuming equally spaced phases.
2. Cross-correlate band 0 and band +1, both weighted by the OTF, over a search region (an annulus around the
   expected |k0|, and wedges around the expected angles when given); the peak is the wave vector k0.
3. Refine k0 below one pixel by evaluating the cross-correlation at non-grid frequencies (a shrinking 3 × 3
   search on its discrete-time Fourier transform).
4. Phase of each frame from its own OTF-weighted autocorrelation at k0 (Wicker's non-iterative estimate);
   separate again with those phases, then the complex overlap of band +1 (moved to its true place) with
   band 0 gives the modulation depth and a common phase correction.
5. Checks: the peak must stand out and the modulation must be > ``min_modulation``; orientations should be
   about 180°/n apart and share one |k0|. A failed orientation falls back to the prior with a warning; when
   every orientation fails the data holds no usable pattern and a :class:`DataError` is raised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import DataError
from .fourier import dtft2, dtft2_grid, edge_taper, phase_ramp, resize_spectrum
from .optics import OTF, frequency_grid, otf_on_grid


@dataclass(frozen=True)
class PatternParams:
    """One orientation: ``k0 = (ky, kx)`` cycles/µm, pattern ``1 + m·cos(2π k0·r + φ_p)``, r = (row, col)·pixel."""

    k0: tuple[float, float]
    phases: tuple[float, ...]
    modulation: float
    reliable: bool = True
    score: float = float("nan")  # peak height over the median of the search region
    source: str = "estimated"  # "estimated" or "prior"

    @property
    def magnitude(self) -> float:
        """|k0| in cycles/µm."""
        return float(math.hypot(*self.k0))

    @property
    def angle(self) -> float:
        """Direction of k0, ``atan2(ky, kx)`` in radians."""
        return float(math.atan2(self.k0[0], self.k0[1]))

    @property
    def spacing_um(self) -> float:
        """Line spacing 1/|k0| in µm."""
        return 1.0 / self.magnitude

    def flipped(self) -> PatternParams:
        """The same pattern written with −k0 and −φ."""
        return replace(self, k0=(-self.k0[0], -self.k0[1]), phases=tuple(-p for p in self.phases))

    def summary(self) -> str:
        phases = ", ".join(f"{p % (2 * math.pi):.2f}" for p in self.phases)
        flag = "" if self.reliable else " (UNRELIABLE)"
        return (
            f"angle {self.angle % (2 * math.pi):.3f} rad, |k0| {self.magnitude:.3f} /µm (spacing "
            f"{1000 * self.spacing_um:.1f} nm), phases [{phases}], modulation {self.modulation:.2f}, "
            f"{self.source}{flag}"
        )


def separation_matrix(phases: tuple[float, ...]) -> np.ndarray:
    """``M[p] = [1, e^{iφ_p}, e^{−iφ_p}]``: frames = M @ (band 0, band +1, band −1)."""
    ph = np.asarray(phases, dtype=np.float64)
    return np.stack([np.ones_like(ph), np.exp(1j * ph), np.exp(-1j * ph)], axis=1).astype(np.complex128)


def separate(spectra: np.ndarray, phases: tuple[float, ...]) -> np.ndarray:
    """Bands ``(3, Y, X)`` (0, +1, −1) from frame spectra ``(P, Y, X)`` taken at ``phases`` (least squares)."""
    inverse = np.linalg.pinv(separation_matrix(phases))
    return np.tensordot(inverse, spectra, axes=(1, 0))


def nominal_phases(n: int) -> tuple[float, ...]:
    return tuple(2 * math.pi * p / n for p in range(n))


def _angle_distance(a: np.ndarray | float, b: float, period: float = math.pi) -> np.ndarray:
    d = np.mod(np.asarray(a) - b + period / 2, period) - period / 2
    return np.abs(d)


def _wrap_close(params: PatternParams, angle_prior: float | None) -> PatternParams:
    """Choose the sign of k0 that puts its angle nearest the prior (mod 2π), else in [0, π)."""
    if angle_prior is None:
        return params if 0 <= params.angle < math.pi else params.flipped()
    if _angle_distance(params.angle, angle_prior, 2 * math.pi) > math.pi / 2:
        return params.flipped()
    return params


class _Orientation:
    """Everything needed for one orientation: weighted spectra on the raw grid and the 2× grid."""

    def __init__(self, frames: np.ndarray, pixel_um: float, otf: OTF) -> None:
        self.pixel = pixel_um
        self.shape = frames.shape[-2:]
        self.shape2 = (2 * self.shape[0], 2 * self.shape[1])
        self.otf = otf
        self.spectra = np.fft.fft2(edge_taper(frames.astype(np.float64), 8), axes=(-2, -1))
        h = otf_on_grid(otf, self.shape, pixel_um)
        # a mildly whitened OTF weight: flatter than the OTF, so the overlap envelope biases the peak less
        self.weight = np.where(h > 0.02, h / (h**2 + 0.05), 0.0)
        outside = h <= 0.0
        mean_spectrum = self.spectra.mean(axis=0)
        #: noise power per frequency of band 0 (white noise, read beyond the OTF support)
        self.noise0 = float(np.mean(np.abs(mean_spectrum[outside]) ** 2)) if outside.any() else 0.0

    def upsampled(self, spectrum: np.ndarray) -> np.ndarray:
        """Real-space image on the 2× grid of a raw-grid spectrum (zero padded)."""
        return np.fft.ifft2(resize_spectrum(spectrum.astype(np.complex128), self.shape2))

    def correlation_image(self, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
        """``conj(a)·b`` on the 2× grid: its Fourier transform at k is Σ_q conj(A(q))·B(q + k)."""
        a = self.upsampled(c0 * self.weight)
        b = self.upsampled(c1 * self.weight)
        return np.conj(a) * b

    def overlap(self, bands: np.ndarray, k0: tuple[float, float]) -> complex:
        """Complex ratio of band +1 moved back by k0 to band 0, OTF-weighted over their overlap: (m/2)·e^{iε}."""
        px2 = self.pixel / 2
        c0 = np.fft.fft2(self.upsampled(bands[0]))
        c1 = np.fft.fft2(self.upsampled(bands[1]) * phase_ramp(self.shape2, (-k0[0], -k0[1]), px2))
        h0 = otf_on_grid(self.otf, self.shape2, px2)
        h1 = otf_on_grid(self.otf, self.shape2, px2, shift=k0)
        ky, kx = frequency_grid(self.shape2, px2)
        region = (h0 > 0.05) & (h1 > 0.05) & (np.hypot(ky, kx) > 0.1 * self.otf.cutoff)
        x = (c0 * h1)[region]
        y = (c1 * h0)[region]
        power = np.abs(x) ** 2 - self.noise0 * h1[region] ** 2  # unbiased by the noise of band 0
        denominator = float(max(np.sum(power), 0.25 * np.sum(np.abs(x) ** 2)))
        return complex(np.sum(np.conj(x) * y) / denominator) if denominator > 0 else 0j

    def frame_phases(self, k0: tuple[float, float], *, individual: bool = True) -> tuple[float, ...]:
        """Phases of the frames at k0: equally spaced plus one offset, or each frame free (``individual``).

        The phases maximise the normalised OTF-weighted cross-correlation at k0 of band 0 and band +1 (both
        linear in the frames, so the 3 × 3 frame-pair correlations are computed once); the common offset comes
        from the phase of that correlation.
        """
        n = self.spectra.shape[0]
        d = [self.upsampled(s * self.weight) for s in self.spectra]
        g = np.array([[dtft2(np.conj(d[i]) * d[j], k0, self.pixel / 2) for j in range(n)] for i in range(n)])
        w2 = self.weight**2
        power = np.array(
            [[np.sum(np.conj(self.spectra[i]) * self.spectra[j] * w2) for j in range(n)] for i in range(n)]
        )
        base = np.asarray(nominal_phases(n))

        def terms(delta: np.ndarray) -> tuple[complex, float]:
            inverse = np.linalg.pinv(separation_matrix(tuple(base + np.r_[0.0, delta])))
            v, w = inverse[0], inverse[1]
            num = complex(np.conj(v) @ g @ w)
            norm = float(np.real(np.conj(w) @ power @ w)) * float(np.real(np.conj(v) @ power @ v))
            return num, norm

        delta = np.zeros(n - 1)
        if individual:
            from scipy.optimize import minimize

            def cost(x: np.ndarray) -> float:
                num, norm = terms(x)
                return -abs(num) / math.sqrt(max(norm, 1e-300))

            found = minimize(cost, delta, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-10, "maxiter": 400})
            if np.all(np.abs(found.x) < 1.0):
                delta = found.x
        phases = base + np.r_[0.0, delta]
        offset = float(np.angle(terms(delta)[0]))
        return tuple(float(p + offset) for p in phases)


def _refine(image: np.ndarray, start: tuple[float, float], step: float, pixel: float) -> tuple[float, float]:
    """Zoom on the peak of ``|DTFT(image)|``: 7 × 7 grids around the best point, each 3× finer than the last."""
    best = np.asarray(start, dtype=np.float64)
    offsets = np.arange(-3, 4, dtype=np.float64)
    for _ in range(7):
        ky, kx = best[0] + offsets * step, best[1] + offsets * step
        values = np.abs(dtft2_grid(image, ky, kx, pixel))
        iy, ix = np.unravel_index(int(np.argmax(values)), values.shape)
        best = np.array([ky[iy], kx[ix]])
        step /= 3
    return float(best[0]), float(best[1])


def estimate_orientation(
    frames: np.ndarray,
    pixel_um: float,
    otf: OTF,
    *,
    k0_prior: float | None,
    angle_prior: float | None = None,
    k0_tolerance: float = 0.1,
    angle_tolerance: float = 0.2,
    min_modulation: float = 0.1,
    min_score: float = 4.0,
    individual_phases: bool = True,
) -> PatternParams:
    """Estimate the pattern of one orientation from its phase frames ``(P, Y, X)`` (offset removed)."""
    o = _Orientation(frames, pixel_um, otf)
    bands = separate(o.spectra, nominal_phases(frames.shape[0]))
    product = o.correlation_image(bands[0], bands[1])
    corr = np.abs(np.fft.fft2(product))
    ky, kx = frequency_grid(o.shape2, pixel_um / 2)
    radius = np.hypot(ky, kx)
    kc = otf.cutoff
    if k0_prior is not None:
        region = np.abs(radius - k0_prior) <= k0_tolerance * k0_prior
    else:
        region = (radius > 0.3 * kc) & (radius < min(1.9 * kc, 1 / (2 * pixel_um) * 1.9))
    if angle_prior is not None:
        region &= _angle_distance(np.arctan2(ky, kx) + 0 * kx, angle_prior) <= angle_tolerance
    if not region.any():
        raise DataError("the pattern search region is empty; check the pixel size and the expected |k0| / angles")
    masked = np.where(region, corr, 0.0)
    iy, ix = np.unravel_index(int(np.argmax(masked)), masked.shape)
    score = float(masked[iy, ix] / max(np.median(corr[region]), 1e-30))
    coarse = (float(np.broadcast_to(ky, corr.shape)[iy, ix]), float(np.broadcast_to(kx, corr.shape)[iy, ix]))
    dk = 1.0 / (o.shape[0] * pixel_um)
    k0 = _refine(product, coarse, dk / 2, pixel_um / 2)
    phases = o.frame_phases(k0, individual=individual_phases)
    ratio = o.overlap(separate(o.spectra, phases), k0)
    phases = tuple(p + float(np.angle(ratio)) for p in phases)
    modulation = float(2 * abs(ratio))
    reliable = modulation >= min_modulation and score >= min_score
    params = PatternParams(k0=k0, phases=phases, modulation=modulation, reliable=reliable, score=score)
    return _wrap_close(params, angle_prior)


def params_at(frames: np.ndarray, pixel_um: float, otf: OTF, k0: tuple[float, float]) -> PatternParams:
    """Phases and modulation for a given (prior) wave vector."""
    o = _Orientation(frames, pixel_um, otf)
    phases = o.frame_phases(k0)
    ratio = o.overlap(separate(o.spectra, phases), k0)
    phases = tuple(p + float(np.angle(ratio)) for p in phases)
    return PatternParams(k0=k0, phases=phases, modulation=float(2 * abs(ratio)), reliable=False, source="prior")


def estimate_pattern(
    stack: np.ndarray,
    pixel_um: float,
    otf: OTF,
    *,
    k0_prior: float | None,
    angles_prior: tuple[float, ...] | None = None,
    k0_tolerance: float = 0.1,
    angle_tolerance: float = 0.2,
    min_modulation: float = 0.1,
    min_score: float = 4.0,
    individual_phases: bool = True,
) -> tuple[list[PatternParams], list[str]]:
    """Estimate every orientation of ``stack`` ``(O, P, Y, X)`` (offset removed); returns (params, warnings).

    Unreliable orientations take the prior wave vector (the prior angle, and the |k0| shared by the reliable
    orientations or the prior |k0|) with phases and modulation measured there. Raises :class:`DataError`
    when no orientation shows a pattern.
    """
    n_ori = stack.shape[0]
    if angles_prior is not None and len(angles_prior) != n_ori:
        raise DataError(f"{len(angles_prior)} prior angles given for {n_ori} orientations; give one per orientation")
    kwargs = dict(
        k0_tolerance=k0_tolerance,
        angle_tolerance=angle_tolerance,
        min_modulation=min_modulation,
        min_score=min_score,
        individual_phases=individual_phases,
    )
    params = [
        estimate_orientation(
            stack[d],
            pixel_um,
            otf,
            k0_prior=k0_prior,
            angle_prior=None if angles_prior is None else angles_prior[d],
            **kwargs,
        )
        for d in range(n_ori)
    ]
    if angles_prior is None and n_ori > 1:
        params = _align_to_anchor(stack, pixel_um, otf, params, k0_prior, kwargs)
    warnings: list[str] = []
    good = [p for p in params if p.reliable]
    if not good:
        best = max(params, key=lambda p: p.modulation)
        raise DataError(
            f"no illumination pattern found in the raw SIM frames (best modulation {best.modulation:.2f}, peak "
            f"score {best.score:.1f}); is this widefield data, or are the frame order, pixel size or wavelength wrong?"
        )
    magnitudes = np.array([p.magnitude for p in good])
    shared = float(np.median(magnitudes))
    for d, p in enumerate(params):
        if p.reliable and abs(p.magnitude / shared - 1) > 0.02:
            warnings.append(
                f"orientation {d}: |k0| {p.magnitude:.3f} /µm differs from the others ({shared:.3f}) by "
                f"more than 2%; check the estimate"
            )
    for d, p in enumerate(params):
        if p.reliable:
            continue
        angle = angles_prior[d] if angles_prior is not None else p.angle  # else: the weak peak's direction
        k0 = (shared * math.sin(angle), shared * math.cos(angle))
        fallback = params_at(stack[d], pixel_um, otf, k0)
        fallback = replace(fallback, modulation=float(np.clip(fallback.modulation, 0.0, 1.0)), score=p.score)
        params[d] = fallback
        warnings.append(
            f"orientation {d}: pattern fit unreliable (modulation {p.modulation:.2f}, peak score {p.score:.1f}); "
            f"using the prior wave vector (angle {angle:.3f} rad, |k0| {shared:.3f} /µm)"
        )
    if n_ori > 1:
        angles = np.sort(np.mod([p.angle for p in params], math.pi))
        gaps = np.diff(np.r_[angles, angles[0] + math.pi])
        expected = math.pi / n_ori
        if np.max(np.abs(gaps - expected)) > 0.1:
            warnings.append(
                f"orientations are not {math.degrees(expected):.0f}° apart (gaps "
                f"{', '.join(f'{math.degrees(g):.1f}°' for g in gaps)}); check the frame order"
            )
    return params, warnings


def _align_to_anchor(stack, pixel_um, otf, params, k0_prior, kwargs) -> list[PatternParams]:
    """Without prior angles: orientations off the 180°/n grid set by the clearest one are searched again
    around the free grid angles (a weak orientation may lock onto a spurious peak)."""
    n = len(params)
    anchor = max(range(n), key=lambda d: params[d].score if params[d].reliable else -1.0)
    grid = [params[anchor].angle + j * math.pi / n for j in range(1, n)]
    params = list(params)
    for d in range(n):
        if d == anchor or min(_angle_distance(params[d].angle, g) for g in grid) < 0.05:
            continue
        tries = [
            estimate_orientation(stack[d], pixel_um, otf, k0_prior=k0_prior, angle_prior=g, **kwargs) for g in grid
        ]
        params[d] = max(tries, key=lambda p: (p.reliable, p.score))
    return params
