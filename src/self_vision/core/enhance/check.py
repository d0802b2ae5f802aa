"""The self-check of a trained :class:`Enhancer` on the held-out slab, and the detail-weight policy.

The statistics themselves (held-out split, group checks, weight fit) are in :mod:`.selfcheck`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import UsageError
from .enhancer import Enhancer
from .noise import NoiseCurve, noise_curve
from .options import EnhanceOptions
from .planning import step_target_blur
from .selfcheck import GroupCheck, SelfCheck, check_axial_stage, check_volume_group
from .zcheck import WHOLE_CHECK_MAX_VOXELS, check_axial_finer, finer_divisor


def check_detail_weight(options: EnhanceOptions) -> None:
    for name in ("detail_weight", "unchecked_detail_weight"):
        value = getattr(options, name)
        if value == "auto" and name == "detail_weight":
            continue
        if isinstance(value, str) or not 0.0 <= float(value) <= 1.0:
            allowed = "'auto' or a number" if name == "detail_weight" else "a number"
            raise UsageError(f"{name} must be {allowed} in [0, 1], not {value!r}")


def detail_weights_for(enhancer: Enhancer, options: EnhanceOptions, check: SelfCheck | None) -> dict[str, float]:
    """Each stage group's detail weight: the option's number, or (``"auto"``) what the self-check fitted."""
    labels = [label for label, _, _ in enhancer.groups()]
    if options.detail_weight != "auto":
        weight = float(options.detail_weight)
        return {} if weight == 1.0 else dict.fromkeys(labels, weight)
    fallback = options.unchecked_detail_weight
    found = {} if check is None else check.weights
    return {label: found.get(label, fallback) for label in labels}


def check_enhancer(
    enhancer: Enhancer,
    held: np.ndarray,
    held_source: np.ndarray | None,
    factor: tuple[int, ...],
    options: EnhanceOptions,
    device: torch.device,
    axial_planes: Callable[[np.ndarray], list[np.ndarray]] | None,
    full_input: np.ndarray | None = None,
) -> SelfCheck:
    """Score the trained stages against cubic and back-projection on the held-out slab (see :mod:`.selfcheck`).

    Each group is checked at one learned step (the scale it was trained at: a x4 lateral group made of two
    x2 stages is checked by degrading the slab x2 and applying one stage), with the run's sampling model.
    A volume group the gate rejects is replaced by cubic in the slab the axial stage is checked on, as in
    the product. Each degraded slab is topped up to the noise it would have as an acquisition (see
    :func:`_expected_noise`). With ``options.detail_weight == "auto"`` it also fits each group's detail
    weight there. ``full_input`` (the whole normalised input, slab included): an axial-only run too thin for the
    whole-factor z check is checked in z at a finer step on all of it, not on the slab alone; the axial
    stage learns from lateral planes only, so no z-profile of the input was seen in training (4x the data
    of the slab; docs/benchmarks.md, "z at a finer step"), up to ``WHOLE_CHECK_MAX_VOXELS``.
    """
    out = _Found()
    calibrate = options.detail_weight == "auto"
    rounds = options.back_projection
    sampling = options.sampling_for(held.ndim)
    volume_groups = [g for g in enhancer.groups() if g[0] != "axial"]
    if volume_groups:
        label, volume_stages, volume_factor = volume_groups[0]
        step = volume_stages[0].model.factor
        part = Enhancer(step, volume_stages[:1], options.operator, options.psf_sigma, 0)
        found = check_volume_group(
            lambda low: part.apply(low, device=device),
            held,
            step,
            options.operator,
            options.psf_sigma,
            rounds,
            sampling,
            _expected_noise(held, step, sampling),
            step_target_blur(volume_factor, sampling, options.step_psf),
        )
        out.add(label, found, step, calibrate, options.unchecked_detail_weight)
        weight = out.weights.get(label, 1.0)
        if found is not None and found.interval[1] <= 0 and not options.keep_network:
            weight = 0.0  # the gate will replace this group by cubic: check the axial stage on what it gets
        if held_source is not None and weight != 1.0:
            whole = Enhancer(volume_factor, volume_stages, options.operator, options.psf_sigma, 0)
            whole.detail_weights = {label: weight}
            held_source = whole.apply(held, device=device)
    axial = [s for s in enhancer.stages if s.kind == "axial"]
    if axial and held_source is not None:
        fz = factor[0]
        axial_factor = (fz, 1, 1)
        z_only = (sampling[0], "area", "area")
        noise = _expected_noise(held_source, axial_factor, z_only)
        part = Enhancer(axial_factor, axial, options.operator, options.psf_sigma, 0)
        found = check_volume_group(
            lambda low: part.apply(low, device=device),
            held_source,
            axial_factor,
            options.operator,
            options.psf_sigma,
            rounds,
            z_only,
            noise,
        )
        finer = finer_divisor(fz, held_source.shape[0]) if found is None else None
        if finer is not None:  # too thin for the whole factor: z at a finer step (see :mod:`.zcheck`)
            # the axial stage never sees z in training: an axial-only run checks every z-profile it has
            z_data = held_source
            if full_input is not None and full_input.size <= WHOLE_CHECK_MAX_VOXELS and not volume_groups:
                z_data = full_input
            found = check_axial_finer(
                lambda low: part.apply(low, device=device),
                z_data,
                fz,
                finer,
                options.operator,
                options.psf_sigma,
                rounds,
                z_only,
                _expected_noise(z_data, (finer, 1, 1), z_only),
            )
            out.add("axial", found, (finer, 1, 1), False, options.unchecked_detail_weight)
            if calibrate:  # no weight is fitted at the finer step
                out.weights["axial"], out.sources["axial"] = options.unchecked_detail_weight, "not fitted"
        else:
            out.add("axial", found, axial_factor, calibrate, options.unchecked_detail_weight)
        planes = None
        if axial_planes is not None:
            planes = check_axial_stage(
                axial[0].model,
                axial_planes(held_source),
                fz,
                options.operator,
                options.psf_sigma,
                rounds,
                device,
                sampling[0],
                noise,
            )
            if planes is not None:
                out.planes["axial"], out.plane_best["axial"] = planes.interval, planes.best_classical
                out.plane_plain["axial"] = planes.plain_interval
        if found is None:
            note = f"{held_source.shape[0]} slices are too few to degrade z once more"
            if planes is not None:
                note += f" (on held-out lateral planes it gains {planes.model - planes.cubic:+.2f} dB over cubic)"
                out.proxies["axial"] = planes.weight
            out.unchecked["axial"] = note
            if calibrate:
                out.sources["axial"] = "z not checked" + (
                    f"; {out.proxies['axial']:.2f} on held-out lateral planes, not used"
                    if "axial" in out.proxies
                    else ""
                )
    return out.check()


def _expected_noise(data: np.ndarray, factor: tuple[int, ...], sampling: tuple[str, ...]) -> NoiseCurve:
    """The noise curve an acquisition of ``data`` at ``factor`` coarser sampling would carry: the data's own
    where the axis is a step (a point sample keeps the noise), a block mean's where it is binned (summed
    photons stay Poisson). Blur, the PSF operator and the axial planes' resampling model optics, which act
    before the noise is added, so the noise they remove in the check is put back."""
    count = int(np.prod([f for f, s in zip(factor, sampling, strict=True) if s == "area"]))
    return noise_curve(data).binned(max(1, count))


@dataclass
class _Found:
    """What :func:`check_enhancer` collects, group by group."""

    model: dict[str, float] = field(default_factory=dict)
    cubic: dict[str, float] = field(default_factory=dict)
    bp: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    weighted: dict[str, float] = field(default_factory=dict)
    proxies: dict[str, float] = field(default_factory=dict)
    unchecked: dict[str, str] = field(default_factory=dict)
    best: dict[str, str] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    factors: dict[str, tuple[int, ...]] = field(default_factory=dict)
    planes: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    plane_best: dict[str, str] = field(default_factory=dict)
    plain: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    plane_plain: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def add(
        self, label: str, found: GroupCheck | None, step: tuple[int, ...], calibrate: bool, fallback: float
    ) -> None:
        if found is None:
            if calibrate:
                self.weights[label], self.sources[label] = fallback, "not checked"
            return
        self.model[label], self.cubic[label], self.bp[label] = found.model, found.cubic, found.back_projection
        self.best[label], self.intervals[label], self.factors[label] = found.best_classical, found.interval, step
        self.plain[label] = found.plain_interval
        if calibrate:
            self.weights[label], self.sources[label], self.weighted[label] = found.weight, "held-out", found.weighted

    def check(self) -> SelfCheck:
        return SelfCheck(
            self.model,
            self.cubic,
            self.bp,
            self.unchecked,
            self.weights,
            self.sources,
            self.weighted,
            self.proxies,
            self.best,
            self.intervals,
            self.factors,
            self.planes,
            self.plane_best,
            self.plain,
            self.plane_plain,
        )
