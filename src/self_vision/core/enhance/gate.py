"""The gate: keep the network's result only where the self-check shows it beats the classical methods.

For each stage group the self-check (:mod:`.check`) measures, on the held-out slab, the gain in dB of the
network (with the product's back-projection) over the better of cubic interpolation and classical back-
projection, with a 95 % block-bootstrap interval. The axial stage has two such measurements: in z, one z-step
coarser than the output (the only z data with a truth), and on held-out lateral planes prepared as in its
training (the physical scale it was trained at, on lateral content). Neither alone predicts the true gain
(docs/benchmarks.md, "Predicted vs true"): a group is *confirmed* only when every measurement it has lies above
zero. A group with an interval not above zero is *rejected*: its detail weight becomes 0, so that group is
plain cubic interpolation, and when every group is rejected the run returns the better classical result (cubic,
or back-projection from cubic) as a whole. A group the slab cannot check (a thin stack's axial stage) follows
``EnhanceOptions.gate_unchecked`` ("network": kept and reported as unverified; "classical": replaced as well).
``keep_network=True`` keeps the network everywhere; the decision the gate would have taken is still reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError
from .enhancer import Enhancer
from .options import EnhanceOptions
from .selfcheck import SelfCheck

GATE_UNCHECKED = ("network", "classical")
#: Back-projection rounds of the classical result the gate returns.
CLASSICAL_ROUNDS = 10


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided, per stage group, and what the run returned."""

    #: group -> "confirmed" (gain above 0 with 95 % confidence), "rejected", or "unchecked"
    verdicts: dict[str, str] = field(default_factory=dict)
    #: group -> the network's result was kept
    kept: dict[str, bool] = field(default_factory=dict)
    #: "network", "cubic", "back-projection", or e.g. "network (lateral) + cubic (axial)"
    returned: str = "network"
    keep_network: bool = False

    @property
    def fell_back(self) -> bool:
        """The gate replaced at least one group's network result by a classical one."""
        return not all(self.kept.values())

    def summary(self) -> str:
        """One line: what was returned and why."""
        if not self.verdicts:
            return f"gate: not applied (no self-check); returned the {self.returned} result"
        parts = ", ".join(f"{k} {v}" for k, v in self.verdicts.items())
        if self.keep_network and any(v == "rejected" for v in self.verdicts.values()):
            return f"gate: {parts}; kept the network anyway (keep_network): the classical result scored higher"
        if self.fell_back:
            return f"gate: {parts}; returned {self.returned} (the network did not beat it with confidence)"
        unverified = [k for k, v in self.verdicts.items() if v == "unchecked"]
        note = f" ({', '.join(unverified)} unverified)" if unverified else ""
        return f"gate: {parts}; returned the network result{note}"


def decide(enhancer: Enhancer, check: SelfCheck | None, options: EnhanceOptions) -> GateDecision:
    """The gate's decision for ``enhancer`` given its self-check (None: the run did not self-check)."""
    if options.gate_unchecked not in GATE_UNCHECKED:
        raise UsageError(f"gate_unchecked {options.gate_unchecked!r}: choose one of {', '.join(GATE_UNCHECKED)}")
    labels = [label for label, _, _ in enhancer.groups()]
    if check is None:
        return GateDecision({}, dict.fromkeys(labels, True), "network", options.keep_network)
    verdicts: dict[str, str] = {}
    kept: dict[str, bool] = {}
    for label in labels:
        evidence = [found[label] for found in (check.intervals, check.plane_intervals) if label in found]
        if not evidence:
            verdicts[label] = "unchecked"
        else:
            verdicts[label] = "confirmed" if all(low > 0 for _, low, _ in evidence) else "rejected"
        keep = verdicts[label] == "confirmed" or (
            verdicts[label] == "unchecked" and options.gate_unchecked == "network"
        )
        kept[label] = keep or options.keep_network
    if all(kept.values()):
        returned = "network"
    elif not any(kept.values()):
        returned = "cubic" if _point_sampled(enhancer) else _best_classical(check)
    else:
        returned = " + ".join(f"{'network' if kept[k] else 'cubic'} ({k})" for k in labels)
    return GateDecision(verdicts, kept, returned, options.keep_network)


def _point_sampled(enhancer: Enhancer) -> bool:
    """Every upsampled axis is a step (point samples): cubic interpolation already passes through the
    samples, so back-projection has nothing to correct (it only moves even-factor block centres)."""
    if enhancer.sampling is None:  # a model saved before sampling models: area everywhere
        return False
    return all(s == "point" for s, f in zip(enhancer.sampling, enhancer.factor, strict=True) if f > 1)


def _best_classical(check: SelfCheck) -> str:
    """Cubic or back-projection, whichever scored higher summed over the checked groups; with no slab check,
    the one the held-out lateral planes preferred; back-projection when nothing was checked (it is consistent
    with the input, cubic need not be)."""
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
    if decision.returned == "cubic":
        enhancer.back_projection = 0
    elif decision.returned == "back-projection":
        enhancer.back_projection = max(enhancer.back_projection, CLASSICAL_ROUNDS)
