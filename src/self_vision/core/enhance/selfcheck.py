"""The self-check: does the trained model beat cubic interpolation on a part of the input it never saw?

A slab of the input (a quarter of X, where the input has most structure) is held out of training.
After training, that slab is degraded once more by the factor each stage learned, enhanced with the
trained stages (and the same back-projection) and with cubic interpolation, and both are scored (PSNR)
against the slab. The gain in dB predicts whether the model adds anything on this data; a gain at or
below zero says: do not trust it.
The axial stage is checked on held-out lateral planes prepared the way it was trained, because a thin
stack cannot be degraded along z once more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..bootstrap import block_sse, gain_interval
from ..degrade import back_project, blur_array, cubic_upsample
from ..infer import predict_planes
from ..quality import back_projection_baseline, crop_reference, degrade_array, score
from ..validate import MIN_LOW_RES
from .noise import NoiseCurve, top_up

#: Fraction of the last axis held out of training for the self-check.
HOLDOUT_FRACTION = 0.25
#: Smallest gain over cubic (dB) that counts as a gain: below it the difference is not worth an added
#: network (even on white noise a model can beat cubic by a few hundredths of a dB, by learning that
#: the best guess of a noisy block is flat).
MIN_GAIN_DB = 0.1


@dataclass(frozen=True)
class SelfCheck:
    """PSNR (dB) of the model and of cubic interpolation on held-out data, per checked stage."""

    psnr_model: dict[str, float] = field(default_factory=dict)
    psnr_cubic: dict[str, float] = field(default_factory=dict)
    psnr_back_projection: dict[str, float] = field(default_factory=dict)
    unchecked: dict[str, str] = field(default_factory=dict)  # stage -> why it could not be checked
    #: Detail weight per stage (see :func:`fit_detail_weight`) when the run calibrates it, and how each was
    #: chosen ("held-out", "held-out lateral planes", "not checked: ..."); empty when the run does not.
    weights: dict[str, float] = field(default_factory=dict)
    weight_sources: dict[str, str] = field(default_factory=dict)
    #: PSNR on the held-out slab with the fitted weight (fitted there too, so an optimistic estimate).
    psnr_weighted: dict[str, float] = field(default_factory=dict)
    #: Weight fitted on held-out lateral planes for a stage that could not be checked itself (the axial one).
    proxy_weights: dict[str, float] = field(default_factory=dict)
    #: Per checked group: the best classical method on the held-out slab ("cubic" or "back-projection") and
    #: the model's gain over it, dB, as (estimate, low, high) with a 95 % block-bootstrap interval.
    best_classical: dict[str, str] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    #: The factor each group was checked at (one learned step: the scale the model was trained at).
    check_factors: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: The axial stage's gain (dB, estimate and 95 % interval) over the best classical method on held-out
    #: lateral planes prepared as in training: the physical scale it was trained at. The z check above runs
    #: one z-step coarser, where the axial blur is a smaller share of a sample; the gate needs both.
    plane_intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    plane_best_classical: dict[str, str] = field(default_factory=dict)
    #: The same two gains for the network alone, without back-projection (the gate drops back-projection when
    #: it costs more than it gives on held-out data as noisy as the input: it puts the input's noise back).
    plain_intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    plane_plain_intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    @property
    def gains_over_classical(self) -> dict[str, float]:
        """Gain (dB) over the best classical method per checked group."""
        return {k: v[0] for k, v in self.intervals.items()}

    @property
    def gains(self) -> dict[str, float]:
        return {k: self.psnr_model[k] - self.psnr_cubic[k] for k in self.psnr_model}

    @property
    def gain(self) -> float:
        """The smallest gain over cubic among the checked stages (dB); NaN when nothing could be checked."""
        return min(self.gains.values()) if self.gains else float("nan")

    @property
    def gains_over_back_projection(self) -> dict[str, float]:
        return {k: self.psnr_model[k] - self.psnr_back_projection[k] for k in self.psnr_back_projection}

    @property
    def trusted(self) -> bool:
        """Checked, at least ``MIN_GAIN_DB`` over cubic and above back-projection on every checked stage, and
        above classical on the held-out lateral planes where the axial stage was checked there too."""
        over_bp = self.gains_over_back_projection.values()
        planes = all(i[0] > 0 for i in self.plane_intervals.values())
        return bool(self.gains) and self.gain >= MIN_GAIN_DB and all(g > 0 for g in over_bp) and planes

    def summary(self) -> str:
        notes = "".join(f"; {stage} not checked: {why}" for stage, why in self.unchecked.items())
        notes += "".join(
            f"; {stage} on held-out lateral planes at its trained scale {i[0]:+.2f} dB vs "
            f"{self.plane_best_classical.get(stage, 'cubic')} [95% {i[1]:+.2f}, {i[2]:+.2f}]"
            + _alone(self.plane_plain_intervals.get(stage), i)
            for stage, i in self.plane_intervals.items()
        )
        if not self.gains:
            return f"self-check: not possible{notes}{self.weights_summary()}"
        bp = self.gains_over_back_projection
        parts = ", ".join(
            f"{k} {g:+.2f} dB vs cubic"
            + (f" (z {self.check_factors[k][0]}x coarser)" if k == "axial" and k in self.check_factors else "")
            + (f" ({bp[k]:+.2f} vs back-projection)" if k in bp else "")
            + (
                f", {self.intervals[k][0]:+.2f} dB vs {self.best_classical[k]} "
                f"[95% {self.intervals[k][1]:+.2f}, {self.intervals[k][2]:+.2f}]"
                + _alone(self.plain_intervals.get(k), self.intervals[k])
                if k in self.intervals
                else ""
            )
            for k, g in self.gains.items()
        )
        verdict = (
            "beats cubic and back-projection"
            if self.trusted
            else "does NOT beat cubic and back-projection: do not trust the added detail"
        )
        return f"self-check on held-out data: {parts}; the model {verdict}{notes}{self.weights_summary()}"

    def weights_summary(self) -> str:
        """``; detail weight lateral 0.62 (held-out), ...``, or nothing when no weight was calibrated."""
        if not self.weights:
            return ""
        parts = ", ".join(
            f"{k} {w:.2f}" + (f" ({self.weight_sources[k]})" if k in self.weight_sources else "")
            for k, w in self.weights.items()
        )
        return f"; detail weight {parts}"


def _alone(plain: tuple[float, float, float] | None, with_bp: tuple[float, float, float]) -> str:
    """`` (network alone +0.03 [95% ...])`` where the network without back-projection scored higher."""
    if plain is None or not plain[0] > with_bp[0]:
        return ""
    return f" (network alone {plain[0]:+.2f} [95% {plain[1]:+.2f}, {plain[2]:+.2f}])"


def split_holdout(x: np.ndarray, factor: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The parts to train on and the held-out slab: a quarter of X, placed where the input has most structure.

    A slab of empty background says nothing about the model (every method is near-exact there, and a
    fraction of a grey level decides the score): the last quarter along X, used first, was background on
    both development volumes. So the slab is the quarter-wide window along X (tried at steps of an eighth)
    whose intensity spread is largest; the parts left and right of it are trained on (each as a separate
    source, so no patch straddles the gap). No slab when X is too small to spare one.
    """
    fx = factor[-1]
    width = x.shape[-1]
    held = int(width * HOLDOUT_FRACTION)
    needed = 2 * fx * MIN_LOW_RES
    if held < needed or width - held < needed:
        return [x], None
    step = max(1, held // 2)
    starts = sorted({*range(0, width - held + 1, step), width - held})

    def usable(start: int) -> bool:
        left, right = start, width - held - start
        return all(n == 0 or n >= needed for n in (left, right))

    spread = {s: float(np.std(x[..., s : s + held])) for s in starts if usable(s)}
    start = max(sorted(spread, reverse=True), key=lambda s: spread[s])  # ties: the later window
    parts = [p for p in (x[..., :start], x[..., start + held :]) if p.shape[-1] > 0]
    return parts, x[..., start : start + held]


@dataclass(frozen=True)
class GroupCheck:
    """Held-out scores of one group of stages (PSNR, dB) and the detail weight fitted there."""

    model: float  # the network as trained (weight 1), with the product's back-projection
    cubic: float
    back_projection: float  # classical back-projection from cubic
    weight: float
    weighted: float  # with the fitted weight (fitted on the same data: optimistic)
    best_classical: str = "cubic"  # the better of cubic and back-projection here
    interval: tuple[float, float, float] = (float("nan"),) * 3  # model's gain over it: estimate, 95 % interval
    plain_interval: tuple[float, float, float] = (float("nan"),) * 3  # the same for the network alone (no BP)


def check_volume_group(
    network: object,
    held: np.ndarray,
    factor: Sequence[int],
    operator: str,
    psf_sigma: float,
    back_projection: int = 10,
    sampling: Sequence[str] | None = None,
    noise: NoiseCurve | None = None,
    blur: Sequence[float] = (),
) -> GroupCheck | None:
    """Degrade ``held`` by ``factor`` (with ``sampling``), enhance it with ``network(low)`` (no back-projection:
    the product's rounds are added here) and with the classical methods; score all against ``held``.

    ``noise``: the noise curve the degraded slab would carry as an acquisition; it is topped up to it
    (:func:`.noise.top_up`), so the methods are compared on inputs as noisy as a real one. ``blur`` (voxels per
    axis): the blur the stage's training patches got (:func:`.planning.step_target_blur`); the slab gets it too,
    so the check runs at the scale the stage was trained at.
    Returns None when ``held`` is too small to be degraded once more.
    """
    if any(f > 1 and s < f * MIN_LOW_RES for s, f in zip(held.shape, factor, strict=True)):
        return None
    reference = crop_reference(blur_array(held, blur) if blur else held, factor)
    low = top_up(degrade_array(reference, factor, operator, psf_sigma, sampling), noise)
    border = [min(2 * f, s // 4) for f, s in zip(factor, reference.shape, strict=True)]
    net = network(low)  # type: ignore[operator]
    cubic = cubic_upsample(low, factor)
    weight, weighted = fit_detail_weight(
        net, cubic, low, reference, factor, operator, psf_sigma, back_projection, border, sampling
    )
    result = back_projected(net, low, factor, operator, psf_sigma, back_projection, sampling)
    rounds = max(back_projection, 10)
    classical = back_projection_baseline(low, factor, operator, rounds, psf_sigma, sampling)
    sse = {name: block_sse(y, reference, border) for name, y in (("cubic", cubic), ("back-projection", classical))}
    best = min(sse, key=lambda name: sse[name].sum())
    interval = gain_interval(block_sse(result, reference, border), sse[best])
    plain = gain_interval(block_sse(net, reference, border), sse[best]) if back_projection else interval
    return GroupCheck(
        score(result, reference, border=border).psnr,
        score(cubic, reference, border=border).psnr,
        score(classical, reference, border=border).psnr,
        weight,
        weighted,
        best,
        interval,
        plain,
    )


def back_projected(
    y: np.ndarray,
    low: np.ndarray,
    factor: Sequence[int],
    operator: str,
    psf_sigma: float,
    rounds: int,
    sampling: Sequence[str] | None = None,
) -> np.ndarray:
    """``rounds`` of back-projection of ``y`` onto ``low`` (``y`` itself when 0)."""
    if not rounds:
        return y
    with torch.no_grad():
        return back_project(
            torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))[None, None],
            torch.from_numpy(np.ascontiguousarray(low, dtype=np.float32))[None, None],
            factor,
            operator,
            rounds,
            psf_sigma,
            sampling,
        )[0, 0].numpy()


def check_axial_stage(
    model: torch.nn.Module,
    planes: list[np.ndarray],
    fz: int,
    operator: str,
    psf_sigma: float,
    back_projection: int,
    device: torch.device,
    z_sampling: str = "area",
    noise: NoiseCurve | None = None,
) -> GroupCheck | None:
    """The axial model on held-out lateral planes prepared the way it was trained (same blur and spacing,
    degraded along their axis 1): the scale it was trained at, though on lateral content.

    PSNRs are means over the plane stacks; the gain over the best classical method (cubic or back-projection,
    pooled over the stacks) comes with a 95 % block-bootstrap interval; the weight is fitted as in
    :func:`fit_detail_weight`, pooled over the stacks; ``noise`` as in :func:`check_volume_group` (the prepared
    planes are smoother than the input: without it back-projection looks better than it is on noisy data).
    None when no stack is tall enough.
    """
    factor = (1, fz, 1)
    sampling = ("area", z_sampling, "area")
    scores: dict[str, list[float]] = {"model": [], "cubic": [], "back-projection": []}
    sse: dict[str, list[np.ndarray]] = {"model": [], "cubic": [], "back-projection": [], "plain": []}
    num = den = 0.0
    for i, stack in enumerate(planes):
        if stack.shape[1] < fz * MIN_LOW_RES:
            continue
        reference = crop_reference(stack, factor)
        low = top_up(degrade_array(reference, factor, operator, psf_sigma, sampling), noise, seed=i)
        net = predict_planes(model, low, device=device)  # type: ignore[arg-type]
        cubic = cubic_upsample(low, factor)
        border = [0, min(2 * fz, reference.shape[1] // 4), 2]
        pred = back_projected(net, low, factor, operator, psf_sigma, back_projection, sampling)
        base = back_projected(cubic, low, factor, operator, psf_sigma, back_projection, sampling)
        rounds = max(back_projection, 10)  # the classical baseline, as in check_volume_group
        classical = (
            base
            if rounds == back_projection
            else back_projected(cubic, low, factor, operator, psf_sigma, rounds, sampling)
        )
        for name, y in (("model", pred), ("cubic", cubic), ("back-projection", classical)):
            scores[name].append(score(y, reference, border=border).psnr)
            sse[name].append(block_sse(y, reference, border))
        sse["plain"].append(block_sse(net, reference, border))
        region = _interior(reference.shape, border)
        d = (pred - base)[region].astype(np.float64)
        num += float((d * (reference[region] - base[region])).sum())
        den += float((d * d).sum())
    if not scores["model"]:
        return None
    weight = 0.0 if den <= 0 else float(np.clip(num / den, 0.0, 1.0))
    pooled = {name: np.concatenate(blocks) for name, blocks in sse.items()}
    best = min(("cubic", "back-projection"), key=lambda name: pooled[name].sum())
    mean = {name: float(np.mean(values)) for name, values in scores.items()}
    return GroupCheck(
        mean["model"],
        mean["cubic"],
        mean["back-projection"],
        weight,
        float("nan"),
        best,
        gain_interval(pooled["model"], pooled[best]),
        gain_interval(pooled["plain"], pooled[best]),
    )


def _interior(shape: Sequence[int], border: Sequence[int]) -> tuple[slice, ...]:
    return tuple(slice(b, s - b if b else None) for b, s in zip(border, shape, strict=True))


def fit_detail_weight(
    network: np.ndarray,
    cubic: np.ndarray,
    low: np.ndarray,
    reference: np.ndarray,
    factor: Sequence[int],
    operator: str,
    psf_sigma: float,
    rounds: int,
    border: Sequence[int],
    sampling: Sequence[str] | None = None,
) -> tuple[float, float]:
    """The detail weight ``w`` in [0, 1] that brings ``BP(cubic + w * (network - cubic))`` closest to ``reference``.

    ``BP`` is ``rounds`` of back-projection onto ``low`` (none when 0). It is affine in its start, so
    ``BP(cubic + w * d) = BP(cubic) + w * (BP(network) - BP(cubic))`` and the least-squares ``w`` over the
    interior (``border`` cropped) has a closed form; clipped to [0, 1]. With ``w = 0`` the result is exactly
    classical back-projection from cubic. Returns ``(w, PSNR of the weighted result)``.
    """
    base = back_projected(cubic, low, factor, operator, psf_sigma, rounds, sampling)
    direction = back_projected(network, low, factor, operator, psf_sigma, rounds, sampling) - base
    region = _interior(reference.shape, border)
    d = direction[region].astype(np.float64)
    r = reference[region].astype(np.float64) - base[region]
    dd = float((d * d).sum())
    w = 0.0 if dd <= 0 else float(np.clip((d * r).sum() / dd, 0.0, 1.0))
    return w, score(base + np.float32(w) * direction, reference, border=border).psnr
