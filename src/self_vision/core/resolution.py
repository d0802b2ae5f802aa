"""A no-reference resolution figure per axis: decorrelation analysis (after Descloux, Grußmayer & Radenovic,
Nat. Methods 16, 918-924, 2019), on frequency sectors around each axis.

The image's spectrum ``I`` is compared with its phase alone, ``In = I / |I|``, inside a growing radius ``r``:
``d(r) = Σ_{ρ≤r} Re(I·In*) / sqrt(Σ |I|² · Σ_{ρ≤r} |In|²)``. Where the signal dominates, phases are coherent and
``d`` rises; where noise takes over it falls, so the peak's position marks the highest frequency that still carries
the object. Repeating this on Gaussian high-passed copies of ``I`` and keeping the highest valid peak ``kc``
(in units of the axis's Nyquist frequency) gives the resolution ``2 · spacing / kc``.

Per axis (our addition; the paper's "sectorial" variant is 2D): only the frequencies within
:data:`SECTOR_DEGREES` of that axis count, with frequencies in units of each axis's Nyquist, so an elongated
axial PSF shows as a coarser z figure.

Pitfalls, also in docs/method.md: the figure measures where the image's content stops being coherent, not
whether it is true. A network can put coherent but invented detail into an image and the figure will improve;
an interpolated image cannot go beyond its input's sampling. Read it beside data consistency (how well the
result, degraded again, matches the input) and the self-check, never alone. On few slices (< MIN_SAMPLES) or
when no peak stands out the figure is None and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal.windows import tukey

#: Half-angle of the frequency cone that belongs to an axis. Narrow, so that an interpolated result's empty
#: spectrum beyond its input's Nyquist along one axis barely enters the other axes' cones (at 30° a lateral
#: figure of a z-interpolated stack came out 4x too coarse).
SECTOR_DEGREES = 15.0
#: Radii at which d(r) is sampled (units of Nyquist).
RADII = 50
#: Gaussian high-pass widths tried (units of Nyquist), weak to strong.
HIGH_PASS = np.geomspace(0.03, 0.6, 10)
#: A peak lower than this is noise in d itself (the paper's threshold).
MIN_PEAK = 0.05
#: How far d must fall after a maximum for it to count as a peak.
MIN_DROP = 1e-3
#: Fewest samples along an axis for a figure.
MIN_SAMPLES = 16
#: Largest crop per axis (the central region is analysed).
MAX_CROP = 128


def _curves(magnitude: np.ndarray, radius: np.ndarray, sector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak positions and heights of d(r) for the unfiltered and each high-passed spectrum in ``sector``."""
    edges = np.linspace(0.0, 1.0, RADII + 1)[1:]
    rho, mag = radius[sector], magnitude[sector]
    bins = np.minimum(np.searchsorted(edges, rho), RADII - 1)
    inside = rho <= 1.0
    count = np.cumsum(np.bincount(bins[inside], minlength=RADII))
    positions, heights = [], []
    for width in (None, *HIGH_PASS):
        weight = mag if width is None else mag * (1.0 - np.exp(-0.5 * (rho / width) ** 2))
        energy = float(np.sum(weight**2))
        if energy <= 0:
            continue
        numerator = np.cumsum(np.bincount(bins[inside], weights=weight[inside], minlength=RADII))
        d = numerator / np.sqrt(energy * np.maximum(count, 1))
        d[count == 0] = 0.0
        peak = _peak(d)
        if peak is not None:
            positions.append(_refine(edges, d, peak))
            heights.append(d[peak])
    return np.asarray(positions), np.asarray(heights)


def _refine(edges: np.ndarray, d: np.ndarray, peak: int) -> float:
    """The peak's radius between the sampled ones: the vertex of the parabola through it and its neighbours."""
    if 0 < peak < d.size - 1:
        left, centre, right = d[peak - 1], d[peak], d[peak + 1]
        curvature = left - 2.0 * centre + right
        if curvature < 0:
            shift = float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))
            return float(edges[peak] + shift * (edges[1] - edges[0]))
    return float(edges[peak])


def _peak(d: np.ndarray) -> int | None:
    """The highest local maximum of ``d`` that d falls from afterwards. Pure noise makes d rise steadily
    (``sqrt(N(r) / N)``), so a maximum reached at the end of a rising tail is dropped and the search repeats
    on what precedes it."""
    end = d.size
    while end > 1:
        peak = int(np.argmax(d[:end]))
        if peak == end - 1:
            end -= 1
            continue
        if d[peak] >= MIN_PEAK and d[peak] - d[peak:].min() >= MIN_DROP:
            return peak
        end = peak
    return None


def _spectrum(data: np.ndarray) -> np.ndarray:
    """|FFT| of the mean-free, edge-tapered data (Tukey window per axis)."""
    x = data.astype(np.float64) - float(np.mean(data))
    for axis, size in enumerate(x.shape):
        shape = [1] * x.ndim
        shape[axis] = size
        x = x * tukey(size, 0.25).reshape(shape)
    return np.abs(np.fft.fftn(x))


def _centre(data: np.ndarray, size: Sequence[int]) -> np.ndarray:
    starts = [(s - c) // 2 for s, c in zip(data.shape, size, strict=True)]
    return data[tuple(slice(a, a + c) for a, c in zip(starts, size, strict=True))]


@dataclass(frozen=True)
class AxisResolution:
    """One axis's figure: ``value`` in the spacing's unit; ``limited``: no peak before Nyquist, so the content is
    coherent up to the sampling limit and ``value`` (two samples) is an upper bound; None: too few samples."""

    value: float | None
    limited: bool = False

    def __str__(self) -> str:
        if self.value is None:
            return "n/a"
        return f"≤{self.value:.3g}" if self.limited else f"{self.value:.3g}"


def decorrelation(data: np.ndarray, spacing: Sequence[float]) -> dict[int, AxisResolution]:
    """Resolution per axis index (same unit as ``spacing``) of a 2D/3D array's central region."""
    crop = [min(s, MAX_CROP) for s in data.shape]
    data = _centre(data, crop)
    magnitude = _spectrum(data)
    grids = np.meshgrid(*[np.fft.fftfreq(s) * 2.0 for s in data.shape], indexing="ij")  # units of Nyquist
    radius = np.sqrt(sum(g**2 for g in grids))
    cos_limit = np.cos(np.deg2rad(SECTOR_DEGREES))
    out: dict[int, AxisResolution] = {}
    for axis, size in enumerate(data.shape):
        if size < MIN_SAMPLES:
            out[axis] = AxisResolution(None)
            continue
        sector = (np.abs(grids[axis]) >= cos_limit * radius) & (radius > 0)
        positions, _ = _curves(magnitude, radius, sector)
        if positions.size == 0:
            out[axis] = AxisResolution(2.0 * float(spacing[axis]), limited=True)
        else:
            out[axis] = AxisResolution(float(2.0 * spacing[axis] / positions.max()))
    return out


@dataclass
class ResolutionReport:
    """Decorrelation resolution per axis of the input and the result, and how well the result degraded again
    matches the input (RMS difference relative to the input's RMS contrast; 0 = exactly)."""

    axes: str
    before: dict[str, AxisResolution]
    after: dict[str, AxisResolution]
    unit: str
    consistency: float | None = None

    def summary(self) -> str:
        """``resolution (decorrelation, no reference): z 2.1 -> 1.6, y ... µm; ...``."""
        parts = [f"{a} {self.before[a]} -> {self.after[a]}" for a in self.axes]
        text = f"resolution (decorrelation, no reference): {', '.join(parts)} {self.unit}"
        if self.consistency is not None:
            text += f"; the result degraded again differs from the input by {100 * self.consistency:.1f} % RMS"
        return text

    def short(self) -> str:
        """One dock line: ``resolution z 2.1→1.6, y 0.58→0.58 µm (decorrelation; re-degraded 1.4 % off the input)``."""
        parts = ", ".join(f"{a} {self.before[a]}→{self.after[a]}" for a in self.axes)
        off = "" if self.consistency is None else f"; re-degraded {100 * self.consistency:.1f} % off the input"
        return f"resolution {parts} {self.unit} (decorrelation{off})"

    def as_dict(self) -> dict:
        """For the output's metadata."""

        def entry(r: AxisResolution) -> dict:
            return {"value": r.value, "sampling_limited": r.limited}

        return {
            "method": "decorrelation analysis (Descloux et al. 2019), per-axis frequency sectors",
            "unit": self.unit,
            "input": {a: entry(self.before[a]) for a in self.axes},
            "output": {a: entry(self.after[a]) for a in self.axes},
            "consistency_rms": self.consistency,
        }


def regions(shape: Sequence[int], factor: Sequence[int]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """The analysed region of an input of ``shape`` (central, at most MAX_CROP on the output grid per axis) and
    its exact image on the output grid: both figures describe the same part of the sample."""
    crop_in = [min(s, max(1, MAX_CROP // f)) for s, f in zip(shape, factor, strict=True)]
    start = [(s - c) // 2 for s, c in zip(shape, crop_in, strict=True)]
    region_in = tuple(slice(a, a + c) for a, c in zip(start, crop_in, strict=True))
    region_out = tuple(slice(a * f, (a + c) * f) for a, c, f in zip(start, crop_in, factor, strict=True))
    return region_in, region_out


def resolution_report(
    volume: np.ndarray,
    result: np.ndarray,
    factor: Sequence[int],
    voxel_size: Sequence[float] | None,
    degrade: Callable[[np.ndarray], np.ndarray] | None = None,
    unit: str = "µm",
) -> ResolutionReport:
    """Per-axis decorrelation resolution of ``volume`` and of ``result`` (its enhancement by ``factor``) over the
    same central region; in ``unit`` with a voxel size, else in input pixels. ``degrade`` (the result's region
    back to the input grid, the way the input was sampled) gives the consistency figure on that region."""
    axes = "zyx"[-volume.ndim :]
    spacing = tuple(float(v) for v in voxel_size) if voxel_size is not None else (1.0,) * volume.ndim
    out_spacing = tuple(s / f for s, f in zip(spacing, factor, strict=True))
    region_in, region_out = regions(volume.shape, factor)
    before = decorrelation(volume[region_in], spacing)
    after = decorrelation(result[region_out], out_spacing)
    consistency = None
    if degrade is not None:
        again = degrade(result[region_out]).astype(np.float64)
        x = volume[region_in].astype(np.float64)
        if again.shape == x.shape:
            contrast = float(np.std(x)) or 1.0
            consistency = float(np.sqrt(np.mean((again - x) ** 2)) / contrast)
    return ResolutionReport(
        axes,
        {a: before[i] for i, a in enumerate(axes)},
        {a: after[i] for i, a in enumerate(axes)},
        unit if voxel_size is not None else "input pixels",
        consistency,
    )
