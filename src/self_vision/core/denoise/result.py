"""What a denoising run returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..fit import TrainLog
from ..intensity import Normalizer
from .net import DenoiseNet


@dataclass
class DenoiseResult:
    """The denoised data (float32, input intensity units) and how it was made."""

    data: np.ndarray
    mode: str
    model: DenoiseNet
    voxel_size: tuple[float, ...] | None
    train_seconds: float
    log: TrainLog = field(default_factory=TrainLog)
    normalizer: Normalizer | None = None

    @property
    def fnsm_cutoff(self) -> float | None:
        """Learned FNSM cutoff (1/µm with a voxel size, else 1/voxel); None without FNSM."""
        return None if self.model.fnsm is None else self.model.fnsm.learned_cutoff()
