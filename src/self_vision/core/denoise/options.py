"""What shapes a denoising run besides the data: :class:`DenoiseOptions` and the modes' limits."""

from __future__ import annotations

from dataclasses import dataclass

from ...defaults import DEFAULT_SEED, DENOISE_TIME_BUDGET, MAX_TILE_OUTPUT
from ..fit import TrainSettings

MODES = ("sis", "tis")


#: Fewest slices (SiS) or time points (TiS): two interleaved pairs.
MIN_INTERLEAVED = 4


#: Smallest lateral size the network can learn from.
MIN_LATERAL = 8


@dataclass
class DenoiseOptions:
    """What shapes a denoising run besides the data."""

    gamma: float = 1.0  # weight of the gap-amending regulariser; 0 disables it
    fnsm: bool = False
    steps: int | None = None
    time_budget: float | None = None  # default 30 s when steps is None too
    seed: int | None = DEFAULT_SEED
    batch_size: int | None = None
    learning_rate: float = 3e-3
    features: int = 16
    depth: int = 4
    patch: int = 48  # lateral training patch (voxels)
    patch_z: int = 16  # slices of a SiS patch (split into 8 inputs and 8 targets), or z of a TiS 3D patch
    max_tile_output: int = MAX_TILE_OUTPUT
    sis_inference: str = "halves"  # SIS_INFERENCE: "full" applies a SiS net to the whole stack (for comparison)
    #: SiS GAR: f̃ is the net on the full patch ("full", the formula literally) or the half-stack ensemble
    #: that inference uses ("halves": f̃ at the z-step the net learned at)
    gap: str = "full"  # one of SIS_INFERENCE

    def settings(self) -> TrainSettings:
        budget = DENOISE_TIME_BUDGET if self.time_budget is None and self.steps is None else self.time_budget
        return TrainSettings(steps=self.steps, time_budget=budget, learning_rate=self.learning_rate)


#: How a SiS model is applied: ``halves`` (default; at the z-step it was trained on) or ``full`` (the old way).
SIS_INFERENCE = ("halves", "full")
