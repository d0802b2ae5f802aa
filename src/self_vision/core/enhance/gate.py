"""The gate: keep the network's result only where the self-check shows it beats the classical methods.

For each stage group the self-check (:mod:`.check`) measures, on the held-out slab, the gain in dB of the
network (with the product's back-projection) over the better of cubic interpolation and classical back-
projection, with a 95 % block-bootstrap interval. The axial stage has two such measurements: in z, one z-step
coarser than the output (the only z data with a truth), and on held-out lateral planes prepared as in its
training (the physical scale it was trained at, on lateral content). Neither alone predicts the true gain
(docs/benchmarks.md, "Predicted vs true"): a group is *confirmed* only when every measurement it has lies above
zero and estimates a gain of at least ``MIN_GAIN_DB`` (the self-check's own bar for a gain worth a network;
below it the result is indistinguishable by eye and the risk is not worth it: on the point protocol a lateral-
plane estimate of +0.05 dB came with a true -0.03), and one of them is the slab's. Any other checked group is
*rejected*: its detail weight becomes 0, so that group is plain cubic interpolation, and when every group is
rejected the run returns the better classical result (cubic, or back-projection from cubic) as a whole.

A stack too thin for that z check but with ``g * 4`` slices for a proper divisor ``g`` of the axial factor is
checked in z at that finer step (:mod:`.zcheck`: x4 checked by degrading z x2), and there the z measurement
judges alone (the held-out lateral planes, which read -0.16 to -1.26 dB on the confocal cases that gain +0.56
and +2.35, are only reported). For one network it may reject but not confirm: a pass is *unconfirmed*. Over 25 seeds
per protocol on the confocal x4 it is unbiased on average but tied to each seed's true gain only loosely
(correlation about 0.2): confirming on a pass returned a -0.16 dB loss (seed 1), and a +0.5 dB bar on its
interval's lower end, tested before adoption, a -0.69 dB loss (seed 18); docs/benchmarks.md, "A +0.5 dB bar"
and "z at a finer step". A stage that averages ``FINER_CONFIRM_MEMBERS`` (4) networks or more varies much less
between seeds, and there a pass confirms (the rule passed a test written before its runs: docs/benchmarks.md,
"Several networks per stage"); ``needs_members`` tells the user when more networks would let it.

The held-out lateral planes alone may reject but not confirm: a thin stack's axial stage (z cannot be degraded
once more) that passes on them is *unconfirmed*. Measured over every benchmark table (400 and 1,500 steps, both
protocols), such a stage passed on the planes once (cortex x4 z-step, 1,500 steps), where its true gain was
-0.03 dB, and was rejected on all four cases whose true gain was above +0.05 dB (nucleus x4, +0.08 to +2.35).
An unconfirmed group, like one nothing could measure (every group of an input too small to hold out a slab:
*unchecked*), follows ``EnhanceOptions.gate_unchecked``: "classical" (the default since 2026-12-06: a result
nothing vouches for is not returned; measured, such unverified networks ended below cubic, docs/benchmarks.md)
or "network" (kept and reported as unverified).
``keep_network=True`` keeps the network everywhere; the decision the gate would have taken is still reported.

Back-projection makes the result consistent with the input, noise included: on a noisy input it puts the noise
back. The self-check scores the network with and without it on held-out data topped up to the noise a real
acquisition would carry; when every measurement prefers the network alone, the gate drops back-projection
(``back_projection_dropped``) and judges the network alone (unless ``keep_network``, which keeps the run as
trained).

Which classical result: on a step-sampled input cubic (it already passes through the samples); on binned data
the one :mod:`.classical` measures better on the whole input reduced once more at its own noise (back-
projection puts the input's noise back: on noisy binned data it fell up to 2.8 dB below cubic), else, where
that cannot be measured, the slab's preference, else back-projection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ...defaults import FINER_CONFIRM_MEMBERS
from ..errors import UsageError
from .classical import CLASSICAL_ROUNDS, ClassicalCheck
from .enhancer import Enhancer
from .options import EnhanceOptions
from .selfcheck import MIN_GAIN_DB, SelfCheck

GATE_UNCHECKED = ("network", "classical")
#: Verdicts of groups nothing vouches for: no measurement at all, or only the lateral planes, which passed.
UNVERIFIED = ("unchecked", "unconfirmed")
#: What the gate returns when it keeps no network result.
CLASSICAL = ("cubic", "back-projection")


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided, per stage group, and what the run returned."""

    #: group -> "confirmed" (gain above 0 with 95 % confidence), "rejected", "unconfirmed" (only the held-out
    #: lateral planes measured it, and they did not object) or "unchecked"
    verdicts: dict[str, str] = field(default_factory=dict)
    #: group -> the network's result was kept
    kept: dict[str, bool] = field(default_factory=dict)
    #: "network", "cubic", "back-projection", or e.g. "network (lateral) + cubic (axial)"
    returned: str = "network"
    keep_network: bool = False
    #: the network alone beat it with back-projection on every held-out measurement: rounds set to 0
    back_projection_dropped: bool = False
    #: an axial stage passed the z check at a finer step but averages too few networks for it to confirm
    needs_members: bool = False
    #: cubic against back-projection on the whole input (:mod:`.classical`); None where not measured
    classical: ClassicalCheck | None = None

    @property
    def fell_back(self) -> bool:
        """The gate replaced at least one group's network result by a classical one."""
        return not all(self.kept.values())

    def summary(self) -> str:
        """One line: what was returned and why."""
        if not self.verdicts:
            return f"gate: not applied (no self-check); returned the {self.returned} result"
        return self._decision() + self._classical_note()

    def _classical_note(self) -> str:
        if self.classical is None or self.returned not in CLASSICAL:
            return ""
        other = "back-projection" if self.returned == "cubic" else "cubic"
        return f"; {self.returned}, not {other}: {self.classical.summary()}"

    def _decision(self) -> str:
        if all(v == "unchecked" for v in self.verdicts.values()) and self.fell_back:
            return (
                f"gate: nothing could be checked (the input is too small to hold out data); returned "
                f"{self.returned} (keep_network / --keep-network returns the unverified network)"
            )
        parts = ", ".join(f"{k} {v}" for k, v in self.verdicts.items())
        if self.keep_network and any(v == "rejected" for v in self.verdicts.values()):
            return f"gate: {parts}; kept the network anyway (keep_network): the classical result scored higher"
        if self.fell_back and "unconfirmed" in self.verdicts.values():
            return (
                f"gate: {parts}; returned {self.returned} (z is too thin to check the axial stage at its factor: "
                + (
                    f"z at a finer step passed, but confirms only the mean of {FINER_CONFIRM_MEMBERS} or more "
                    f"networks: {FINER_CONFIRM_MEMBERS} axial networks (the default without --members or "
                    f"--axial-members) let it confirm, "
                    if self.needs_members
                    else "held-out lateral planes can reject a gain but not confirm one; "
                )
                + "--gate-unchecked network keeps it)"
            ) + (self._bp_note() if any(self.kept.values()) else "")
        if self.fell_back:
            return f"gate: {parts}; returned {self.returned} (the network did not beat it with confidence)" + (
                self._bp_note() if any(self.kept.values()) else ""
            )
        unverified = [k for k, v in self.verdicts.items() if v in UNVERIFIED]
        note = f" ({', '.join(unverified)} unverified)" if unverified else ""
        return f"gate: {parts}; returned the network result{note}{self._bp_note()}"

    def _bp_note(self) -> str:
        if not self.back_projection_dropped:
            return ""
        return "; back-projection dropped (the network alone scored higher on held-out data as noisy as the input)"


def decide(
    enhancer: Enhancer, check: SelfCheck | None, options: EnhanceOptions, classical: ClassicalCheck | None = None
) -> GateDecision:
    """The gate's decision for ``enhancer`` given its self-check (None: the input was too small for one) and the
    classical check of the whole input (:mod:`.classical`; None: not measured)."""
    if options.gate_unchecked not in GATE_UNCHECKED:
        raise UsageError(f"gate_unchecked {options.gate_unchecked!r}: choose one of {', '.join(GATE_UNCHECKED)}")
    labels = [label for label, _, _ in enhancer.groups()]
    drop = check is not None and _drop_back_projection(enhancer, check, options)
    if check is None:  # self-check asked for, but the input is too small to hold out a slab
        measured: tuple[dict[str, tuple[float, float, float]], ...] = ()
    elif drop:
        measured = (check.plain_intervals, check.plane_plain_intervals)
    else:
        measured = (check.intervals, check.plane_intervals)
    verdicts: dict[str, str] = {}
    kept: dict[str, bool] = {}
    needs_members = False
    for label in labels:
        evidence = [found[label] for found in measured if label in found]
        finer = label == "axial" and check is not None and checked_finer(check, enhancer.factor)
        if finer:
            evidence = evidence[:1]  # z at a finer step judges alone; the lateral planes are only reported
        if not evidence:
            verdicts[label] = "unchecked"
        elif not all(low > 0 and gain >= MIN_GAIN_DB for gain, low, _ in evidence):
            verdicts[label] = "rejected"
        else:  # the held-out lateral planes alone may veto a gain but not confirm one (module docstring),
            # nor may z at a finer step for fewer than FINER_CONFIRM_MEMBERS networks (too loose: r ~ 0.2)
            confirms = not finer or members(enhancer, label) >= FINER_CONFIRM_MEMBERS
            verdicts[label] = "confirmed" if label in measured[0] and confirms else "unconfirmed"
            needs_members = needs_members or not confirms
        keep = verdicts[label] == "confirmed" or (verdicts[label] in UNVERIFIED and options.gate_unchecked == "network")
        kept[label] = keep or options.keep_network
    if all(kept.values()):
        returned = "network"
    elif not any(kept.values()):
        returned = "cubic" if _point_sampled(enhancer) else _best_classical(check, classical)
    else:
        returned = " + ".join(f"{'network' if kept[k] else 'cubic'} ({k})" for k in labels)
    return GateDecision(
        verdicts,
        kept,
        returned,
        options.keep_network,
        drop and returned not in CLASSICAL,
        needs_members,
        classical,
    )


def members(enhancer: Enhancer, label: str) -> int:
    """Networks the stage group ``label`` averages (the fewest over its stages; 1 for a single network)."""
    counts = [getattr(s, "members", 1) for name, stages, _ in enhancer.groups() if name == label for s in stages]
    return min(counts, default=1)


def checked_finer(check: SelfCheck, factor: Sequence[int]) -> bool:
    """The axial stage was checked in z at a step finer than the run's axial factor ``factor[0]``
    (:mod:`.zcheck`)."""
    checked = check.check_factors.get("axial")
    if "axial" not in check.intervals or checked is None or not factor:
        return False
    return checked[0] < factor[0]


def _drop_back_projection(enhancer: Enhancer, check: SelfCheck, options: EnhanceOptions) -> bool:
    """The network alone beat the network with back-projection on every held-out measurement there is."""
    if options.keep_network or not enhancer.back_projection:
        return False
    pairs = [
        (with_bp[k][0], alone[k][0])
        for with_bp, alone in (
            (check.intervals, check.plain_intervals),
            (check.plane_intervals, check.plane_plain_intervals),
        )
        for k in alone
        if k in with_bp
    ]
    return bool(pairs) and all(a > b for b, a in pairs)


def _point_sampled(enhancer: Enhancer) -> bool:
    """Every upsampled axis is a step (point samples): cubic interpolation already passes through the
    samples, so back-projection has nothing to correct (it only moves even-factor block centres)."""
    if enhancer.sampling is None:  # a model saved before sampling models: area everywhere
        return False
    return all(s == "point" for s, f in zip(enhancer.sampling, enhancer.factor, strict=True) if f > 1)


def _best_classical(check: SelfCheck | None, classical: ClassicalCheck | None = None) -> str:
    """The one the whole input's classical check prefers; without it, cubic or back-projection, whichever
    scored higher summed over the checked groups; with no slab check, the one the held-out lateral planes
    preferred; back-projection when nothing was checked (it is consistent with the input, cubic need not be)."""
    if classical is not None:
        return classical.preferred
    if check is None:
        return "back-projection"
    if not check.psnr_cubic:
        preferred = set(check.plane_best_classical.values())
        return preferred.pop() if len(preferred) == 1 else "back-projection"
    margin = sum(check.psnr_back_projection[k] - check.psnr_cubic[k] for k in check.psnr_cubic)
    return "back-projection" if margin >= 0 else "cubic"


def apply_decision(enhancer: Enhancer, decision: GateDecision) -> None:
    """Put the decision on ``enhancer``: weight 0 for rejected groups; all classical -> cubic or back-projection."""
    for label, keep in decision.kept.items():
        if not keep:
            enhancer.detail_weights[label] = 0.0
    if decision.back_projection_dropped:
        enhancer.back_projection = 0
    if decision.returned == "cubic":
        enhancer.back_projection = 0
    elif decision.returned == "back-projection":
        enhancer.back_projection = max(enhancer.back_projection, CLASSICAL_ROUNDS)
