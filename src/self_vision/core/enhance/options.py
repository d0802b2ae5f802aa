"""What shapes an enhancement run besides the data: :class:`EnhanceOptions`, and the paper's recipe."""

from __future__ import annotations

from dataclasses import dataclass

from ...defaults import (
    AXIAL_MEMBERS,
    DEFAULT_SEED,
    ENHANCE_TIME_BUDGET,
    GATE_UNCHECKED,
    MAX_MEMBERS,
    MAX_TILE_OUTPUT,
    SAMPLING,
    STEP_PSF,
    VOLUME_MEMBERS,
)
from ..errors import UsageError
from ..fit import TrainSettings
from ..optics import Optics
from ..sampling import parse_sampling

PATHS = ("auto", "3d", "lateral-axial")


LOSSES = ("l1", "l2", "mixed")


@dataclass
class EnhanceOptions:
    """Everything that shapes a run besides the data; defaults suit a laptop CPU."""

    path: str = "auto"
    steps: int | None = None  # per run; split over stages
    # Seconds of training per run, shared by its stages and by each stage's networks; default 40 s when steps
    # is None too. A time budget trains a load-dependent number of steps; ``steps`` repeats a run exactly.
    time_budget: float | None = None
    operator: str = "area"
    psf_sigma: float = 0.5
    back_projection: int = 10  # rounds of data consistency after the network; 0 = the network alone
    ensemble: bool = False
    seed: int | None = DEFAULT_SEED
    # Networks per stage (a seed ensemble), continuing the run's random sequence; their outputs are averaged.
    # They share the stage's time budget; an exact step count is each one's (N times the training). None: the
    # default per stage, AXIAL_MEMBERS for the axial stage and VOLUME_MEMBERS for volume stages.
    members: int | None = None
    axial_members: int | None = None  # the axial stage's networks when ``members`` is None (None: AXIAL_MEMBERS)
    batch_size: int | None = None
    learning_rate: float = 2e-3
    loss: str = "mixed"  # l1, l2, or "mixed": l1 for volume (lateral) stages, l2 for the axial stage
    features: int = 16
    mapping: int = 3
    residual: str = "cubic"  # the interpolation the network's detail is added to: cubic, linear or none
    max_tile_output: int = MAX_TILE_OUTPUT
    precision: str = (
        "auto"  # inference convolutions: fp32, bf16, or auto (bf16 on CUDA and on CPUs with AMX/AVX512-BF16)
    )
    self_check: bool = True  # hold out a quarter of X from training and score the model on it
    gradual: bool = True  # large factors in prime steps (4 = 2 x 2), one model per distinct step
    noise: tuple[float | None, float] | None = None  # (photons at intensity 1, read sigma) on training inputs
    # Measure the noise of the data each stage is applied to and of its degraded training inputs, and add
    # Gaussian noise to the training inputs to make up the difference (.noise); ignored when ``noise`` is set.
    match_noise: bool = False
    axial_blur: float | None = None  # µm of extra axial blur of the axial training planes; None: optics or estimate
    # The objective and light (core.optics.Optics): when given (and axial_blur is None), the axial blur of the
    # lateral training planes comes from the PSF's axial/lateral widths instead of being estimated from the data.
    optics: Optics | None = None
    # The PSF assumed on a point-sampled (step) axis of a volume stage, as a Gaussian sigma in output voxels:
    # the training patches are blurred so that their blur, in their own voxels, is the output's (see
    # .planning.step_target_blur). Default 1 (the output grid samples the resolution at Nyquist); 0: off.
    step_psf: float = STEP_PSF
    uncertainty: bool = False  # also map the model's error one scale down per voxel (see .uncertainty)
    fnsm: bool = False  # a learned Fourier low-pass (core.fnsm) as the network's first stage
    # How much of the network's detail (its output minus cubic interpolation) is kept, per stage group:
    # a number in [0, 1] for every group, or "auto": fitted on the self-check's held-out slab (0 = the result
    # is classical back-projection from cubic). A group the slab cannot check gets ``unchecked_detail_weight``
    # (default 1). Not the weight fitted on held-out lateral planes for a thin stack's axial stage: measured, it
    # points the wrong way (0.03 where the true best is 1, 0.88 where it is 0; docs/experiments.md); that
    # weight is only reported (SelfCheck.proxy_weights).
    detail_weight: float | str = 1.0
    unchecked_detail_weight: float = 1.0
    # How each low-resolution sample was taken (core.sampling): "point" (a coarser z-step or scan step: one
    # optical section per plane) or "area" (pixel binning), per axis, e.g. "z=point,xy=area" (the default),
    # "point" (every axis) or "point,area,area". Training pairs, back-projection and the self-check follow it.
    sampling: str = SAMPLING
    # The gate: a stage group whose held-out gain over the best classical method (cubic or back-projection)
    # is not above zero with 95 % confidence is replaced by that classical result. keep_network=True keeps the
    # network's result anyway (the self-check still reports). A group the held-out data cannot check (every
    # group when the input is too small to hold out a slab) is replaced too ("classical") or kept ("network").
    keep_network: bool = False
    gate_unchecked: str = GATE_UNCHECKED
    # A no-reference resolution figure per axis for the input and the result (core.resolution), and how well
    # the result degraded again matches the input; about a second on a 128³ crop.
    resolution: bool = True

    def sampling_for(self, ndim: int) -> tuple[str, ...]:
        """One sampling model per spatial axis of ``ndim``-D data."""
        return parse_sampling(self.sampling, ndim)

    def check_members(self) -> None:
        """A one-line :class:`UsageError` unless ``members`` and ``axial_members`` are None or whole numbers from 1
        to ``MAX_MEMBERS``."""
        from ..validate import check_int

        for name in ("members", "axial_members"):
            check_int(getattr(self, name), name, name, minimum=1, maximum=MAX_MEMBERS, what="number of networks")

    def members_for(self, stage: str) -> int:
        """Networks a stage (``volume`` or ``axial``) trains: ``members``, else that kind's default."""
        if self.members is not None:
            return self.members
        if stage == "axial":
            return AXIAL_MEMBERS if self.axial_members is None else self.axial_members
        return VOLUME_MEMBERS

    def settings(self, share: float, stage: str = "volume", networks: int = 1) -> TrainSettings:
        """Training settings of each of a stage's ``networks`` (``volume`` or ``axial``) given the stage's ``share``
        of the run: the time budget is shared by the networks, a step count is each one's."""
        if self.loss not in LOSSES:
            raise UsageError(f"loss {self.loss!r}: choose one of {', '.join(LOSSES)}")
        loss = self.loss if self.loss != "mixed" else ("l1" if stage == "volume" else "l2")
        budget = self.time_budget
        if budget is None and self.steps is None:
            budget = ENHANCE_TIME_BUDGET
        return TrainSettings(
            steps=None if self.steps is None else max(1, round(self.steps * share)),
            time_budget=None if budget is None else budget * share / networks,
            learning_rate=self.learning_rate,
            loss=loss,
            operator=self.operator,
            psf_sigma=self.psf_sigma,
            noise_photons=None if self.noise is None else self.noise[0],
            noise_sigma=0.0 if self.noise is None else self.noise[1],
        )


def paper_options(**overrides: object) -> EnhanceOptions:
    """The Self-Vision paper's recipe as far as its text describes it, for comparisons.

    One 3D network with the full per-axis factor learned from the volume itself (no gradual steps, no
    lateral-to-axial path), an FSRCNN-style MSE loss, a linearly interpolated input under the learned
    detail, and back-projection to fuse. Everything else (patches, augmentation, budget) as the default.
    """
    settings: dict[str, object] = {
        "path": "3d",
        "gradual": False,
        "loss": "l2",
        "residual": "linear",
        "back_projection": 10,
    }
    settings.update(overrides)
    return EnhanceOptions(**settings)  # type: ignore[arg-type]
