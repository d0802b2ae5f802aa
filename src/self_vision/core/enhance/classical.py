"""Which classical result the gate returns on binned data: cubic or back-projection, measured on the input.

Back-projection makes the result's block means equal the input's, noise included: on a clean input that undoes
part of the binning's blur (+0.25 to +0.66 dB over cubic on the development cases), on a noisy one it puts the
noise back with that sharpening (up to 2.8 dB *below* cubic with noise added to the binned copy;
docs/benchmarks.md, "Cubic or back-projection"). No learning is involved, so the choice is measured on (a
central crop of) the whole input: reduce it once more by the run's factor, recover it with both methods, and
score both against the input (at the smallest prime step of the factor: x2 for a x4 run).

Two things make that measurement honest on a noisy input (each measured: the slab check's old way picked
back-projection on 16 of 16 noisy cases where cubic was better):

- the reduced copy is topped up to the *input's* noise (a block mean averages noise away, which would test
  back-projection at a signal-to-noise ratio the input does not have);
- the input it is scored against carries the same noise that its block means average, and back-projection
  reproduces those means: that shared noise is credited to it. A Stein correction removes the credit
  (``+ 2·<L(D n), n>`` per method, ``L`` the method, ``D`` the reduction, ``n`` fresh noise of the input's
  measured curve; both methods are linear in their input).

Its limit: the noise curve (:func:`.noise.noise_curve`) reads structure at the pixel scale as noise, so on a
sharp, clean input the check tops up too much and prefers cubic where back-projection would gain (a synthetic
case: +2.9 dB forgone; the sparse two-photon cortex: +0.13 forgone, against a reference corrected for its own
noise). It errs towards cubic, which cannot end below cubic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..bootstrap import block_sum, gain_interval
from ..degrade import cubic_upsample
from ..quality import back_projection_baseline, crop_reference, degrade_array
from .noise import NoiseCurve, noise_curve

#: Back-projection rounds of the classical result the gate returns (and of this check).
CLASSICAL_ROUNDS = 10
#: The fewest samples an axis keeps after the check's extra reduction.
MIN_CHECK_SAMPLES = 8
#: The check runs on a central crop of at most this many input voxels (the methods are local).
MAX_CHECK_VOXELS = 500_000
#: Noise draws averaged by the Stein correction.
STEIN_DRAWS = 4


@dataclass(frozen=True)
class ClassicalCheck:
    """Back-projection's gain over cubic (dB, 95 % block-bootstrap interval) on the input reduced once more."""

    gain: float
    low: float
    high: float
    #: the extra reduction the input got (per axis; a thin z is stood in for by y)
    factor: tuple[int, ...]

    @property
    def preferred(self) -> str:
        return "back-projection" if self.gain > 0 else "cubic"

    def summary(self) -> str:
        return (
            f"back-projection {self.gain:+.2f} dB [{self.low:+.2f}, {self.high:+.2f}] vs cubic on the input reduced "
            f"{'x'.join(map(str, self.factor))} once more at its own noise"
        )


def check_factor(shape: Sequence[int], factor: Sequence[int]) -> tuple[int, ...] | None:
    """The extra reduction: on every axis long enough for it, the smallest prime of the run's factor there (x4 is
    checked by reducing x2: over the 30 development x4 cases, with and without noise, its pick was below cubic
    on none, the x4 reduction's on 2, by 0.13 and 1.93 dB);
    a z too thin for it is stood in for by y (3D only). None when nothing can be reduced."""
    g, _ = reduction(shape, factor, ["area"] * len(factor))
    return g


def reduction(
    shape: Sequence[int], factor: Sequence[int], sampling: Sequence[str]
) -> tuple[tuple[int, ...] | None, list[str]]:
    """:func:`check_factor` and the sampling of each axis in the check (y standing in for z is sampled as z)."""
    step = [_smallest_prime(f) for f in factor]
    g = [p if p > 1 and s // p >= MIN_CHECK_SAMPLES else 1 for s, p in zip(shape, step, strict=True)]
    axis_sampling = list(sampling)
    if len(g) == 3 and step[0] > 1 and g[0] == 1 and g[1] == 1 and shape[1] // step[0] >= MIN_CHECK_SAMPLES:
        g[1], axis_sampling[1] = step[0], sampling[0]
    return (tuple(g) if any(f > 1 for f in g) else None), axis_sampling


def _smallest_prime(n: int) -> int:
    return next((p for p in range(2, int(n) + 1) if n % p == 0), 1)


def classical_check(
    x: np.ndarray,
    factor: Sequence[int],
    sampling: Sequence[str],
    operator: str = "area",
    psf_sigma: float = 0.5,
    seed: int = 0,
) -> ClassicalCheck | None:
    """Cubic against back-projection on ``x`` (the normalised input) reduced once more; None when too small, or
    when no upsampled axis is binned (cubic already passes through point samples: nothing to choose)."""
    if not any(s == "area" for s, f in zip(sampling, factor, strict=True) if f > 1):
        return None
    g, axis_sampling = reduction(x.shape, factor, sampling)
    if g is None:
        return None
    base = crop_reference(_central(x), g)
    curve = noise_curve(base)
    reduced = degrade_array(base, g, operator, psf_sigma, axis_sampling)
    rng = np.random.default_rng(seed)
    binned = int(np.prod([f for f, s in zip(g, axis_sampling, strict=True) if s == "area"]))
    reduced = reduced + _noise(reduced, curve, rng, already=curve.binned(binned))
    border = [min(2 * f, n // 4) for f, n in zip(g, base.shape, strict=True)]

    def methods(low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cubic = cubic_upsample(low, g)
        bp = back_projection_baseline(low, g, operator, CLASSICAL_ROUNDS, psf_sigma, axis_sampling)
        return cubic, bp

    sse = [block_sum((m - base) ** 2, border) for m in methods(reduced)]
    credit = stein_credit(
        base, curve, lambda n: methods(degrade_array(n, g, operator, psf_sigma, axis_sampling)), border, rng
    )
    sse = [s + c for s, c in zip(sse, credit, strict=True)]
    gain, low, high = gain_interval(np.clip(sse[1], 0, None), np.clip(sse[0], 0, None))
    return ClassicalCheck(gain, low, high, g)


def stein_credit(
    truth: np.ndarray,
    curve: NoiseCurve,
    methods: Callable[[np.ndarray], Sequence[np.ndarray]],
    border: Sequence[int],
    rng: np.random.Generator,
    draws: int = STEIN_DRAWS,
) -> list[np.ndarray]:
    """Per method, per block of :func:`.bootstrap.block_sum`: ``2·<L(D n), n>``, averaged over ``draws`` of noise
    ``n`` with ``curve`` at ``truth``'s intensities. ``methods(n)``: each linear method applied to the reduced
    noise ``D n``. Added to a method's squared error against ``truth``, it removes the credit for the noise
    ``truth`` shares with the input the method was given."""
    credit: list[np.ndarray] | None = None
    for _ in range(draws):
        n = _noise(truth, curve, rng)
        terms = [2 * block_sum(m * n, border) / draws for m in methods(n)]
        credit = terms if credit is None else [c + t for c, t in zip(credit, terms, strict=True)]
    return credit or []


def _noise(like: np.ndarray, curve: NoiseCurve, rng: np.random.Generator, already: NoiseCurve | None = None):
    """Gaussian noise with the variance ``curve`` gives at ``like``'s intensities, less what ``already`` has."""
    variance = curve.variance(like) - (0.0 if already is None else already.variance(like))
    return (rng.standard_normal(like.shape) * np.sqrt(np.clip(variance, 0.0, None))).astype(np.float32)


def _central(x: np.ndarray) -> np.ndarray:
    """A central crop of ``x`` of at most :data:`MAX_CHECK_VOXELS`, shrinking its longest axes first."""
    shape = list(x.shape)
    while np.prod(shape) > MAX_CHECK_VOXELS:
        longest = int(np.argmax(shape))
        shape[longest] = max(1, shape[longest] * 3 // 4)
    region = tuple(slice((n - c) // 2, (n - c) // 2 + c) for n, c in zip(x.shape, shape, strict=True))
    return np.ascontiguousarray(x[region], dtype=np.float32)
