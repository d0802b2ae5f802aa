"""The self-check: does the trained model beat cubic interpolation on a part of the input it never saw?

A slab of the input (the last quarter along X) is held out of training. After training, that slab is
degraded once more by the factor each stage learned, enhanced with the trained stages (and the same
back-projection) and with cubic interpolation, and both are scored (PSNR) against the slab. The gain in
dB predicts whether the model adds anything on this data; a gain at or below zero says: do not trust it.
The axial stage is checked on held-out lateral planes prepared the way it was trained, because a thin
stack cannot be degraded along z once more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .degrade import back_project, cubic_upsample
from .infer import predict_planes
from .quality import back_projection_baseline, crop_reference, degrade_array, score
from .validate import MIN_LOW_RES

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
        """Checked, at least ``MIN_GAIN_DB`` over cubic and above back-projection on every checked stage."""
        over_bp = self.gains_over_back_projection.values()
        return bool(self.gains) and self.gain >= MIN_GAIN_DB and all(g > 0 for g in over_bp)

    def summary(self) -> str:
        notes = "".join(f"; {stage} not checked: {why}" for stage, why in self.unchecked.items())
        if not self.gains:
            return f"self-check: not possible{notes}"
        bp = self.gains_over_back_projection
        parts = ", ".join(
            f"{k} {g:+.2f} dB vs cubic" + (f" ({bp[k]:+.2f} vs back-projection)" if k in bp else "")
            for k, g in self.gains.items()
        )
        verdict = (
            "beats cubic and back-projection"
            if self.trusted
            else "does NOT beat cubic and back-projection: do not trust the added detail"
        )
        return f"self-check on held-out data: {parts}; the model {verdict}{notes}"


def split_holdout(x: np.ndarray, factor: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Training part and held-out slab (last quarter along X); no slab when X is too small to spare one."""
    fx = factor[-1]
    width = x.shape[-1]
    held = int(width * HOLDOUT_FRACTION)
    needed = 2 * fx * MIN_LOW_RES
    if held < needed or width - held < needed:
        return x, None
    return x[..., : width - held], x[..., width - held :]


def check_volume_stages(
    enhance: object,
    held: np.ndarray,
    factor: Sequence[int],
    operator: str,
    psf_sigma: float,
    back_projection: int = 10,
) -> tuple[float, float, float] | None:
    """PSNR of ``enhance(low)``, of cubic and of back-projection on ``held`` degraded by ``factor``.

    None when ``held`` is too small to degrade once more.
    """
    if any(f > 1 and s < f * MIN_LOW_RES for s, f in zip(held.shape, factor, strict=True)):
        return None
    reference = crop_reference(held, factor)
    low = degrade_array(reference, factor, operator, psf_sigma)
    border = [min(2 * f, s // 4) for f, s in zip(factor, reference.shape, strict=True)]
    model = score(enhance(low), reference, border=border).psnr  # type: ignore[operator]
    cubic = score(cubic_upsample(low, factor), reference, border=border).psnr
    rounds = max(back_projection, 10)
    classical = score(back_projection_baseline(low, factor, operator, rounds, psf_sigma), reference, border=border)
    return model, cubic, classical.psnr


def check_axial_stage(
    model: torch.nn.Module,
    planes: list[np.ndarray],
    fz: int,
    operator: str,
    psf_sigma: float,
    back_projection: int,
    device: torch.device,
) -> tuple[float, float] | None:
    """(model PSNR, cubic PSNR) of the axial model on held-out lateral planes degraded along their axis 1."""
    factor = (1, fz, 1)
    model_scores, cubic_scores = [], []
    for stack in planes:
        if stack.shape[1] < fz * MIN_LOW_RES:
            continue
        reference = crop_reference(stack, factor)
        low = degrade_array(reference, factor, operator, psf_sigma)
        pred = predict_planes(model, low, device=device)  # type: ignore[arg-type]
        if back_projection:
            with torch.no_grad():
                pred = back_project(
                    torch.from_numpy(pred)[None, None],
                    torch.from_numpy(low)[None, None],
                    factor,
                    operator,
                    back_projection,
                    psf_sigma,
                )[0, 0].numpy()
        border = [0, min(2 * fz, reference.shape[1] // 4), 2]
        model_scores.append(score(pred, reference, border=border).psnr)
        cubic_scores.append(score(cubic_upsample(low, factor), reference, border=border).psnr)
    if not model_scores:
        return None
    return float(np.mean(model_scores)), float(np.mean(cubic_scores))
