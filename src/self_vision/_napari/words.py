"""What the dock says, in a biologist's words: factors, stages, the self-check verdict. Qt-free, torch-free."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def prime_steps(factor: int) -> list[int]:
    """The ×2/×3/… steps a factor is learned in (4 -> [2, 2]); the core's gradual plan, per axis."""
    steps, n, p = [], int(factor), 2
    while n > 1:
        while n % p == 0:
            steps.append(p)
            n //= p
        p += 1
    return steps


def factor_text(factor: Sequence[int]) -> str:
    """``×4 lateral``, ``×2 axial and ×2 lateral``, or ``no upsampling``."""
    lateral = int(factor[-1])
    axial = int(factor[0]) if len(factor) == 3 else 1
    parts = ([f"×{axial} axial"] if axial > 1 else []) + ([f"×{lateral} lateral"] if lateral > 1 else [])
    return " and ".join(parts) or "no upsampling"


def _steps_text(total: int, where: str) -> str:
    steps = prime_steps(total)
    if len(steps) < 2:
        return f"×{total} {where}"
    if len(set(steps)) == 1:
        return f"×{total} {where} as {NUMBER_WORDS.get(len(steps), len(steps))} ×{steps[0]} steps"
    return f"×{total} {where} as " + " then ".join(f"×{s}" for s in steps) + " steps"


def stage_name(stage: str, factor: Sequence[int]) -> str:
    """A training stage's name for the loss plot: ``lateral ×4``, ``axial ×4``, ``denoise (SiS)``."""
    if stage in ("sis", "tis"):
        return f"denoise ({stage.upper()})"
    if stage == "axial":
        return f"axial ×{factor[0]}"
    if stage.startswith(("lateral", "3d")):
        step = stage.split(" ")[1] if " " in stage else None
        if step:
            return f"{stage.split(' ')[0]} step ×{step.split('x')[-1]}"
        return "3D" if stage == "3d" else f"lateral ×{factor[-1]}"
    return stage


def stage_message(stage: str, message: str, factor: Sequence[int], volume_stage: int = 1) -> str:
    """The status line for a core ``StageInfo``: what is being learned or done, without shapes and codes.

    ``volume_stage`` counts the enhancement stages announced so far (1 for the first).
    """
    lateral = int(factor[-1])
    if stage.startswith(("lateral", "3d")):
        where = "in all axes" if stage.startswith("3d") else "lateral"
        steps = prime_steps(lateral)
        text = f"learning {_steps_text(lateral, where)} from the image itself"
        distinct = list(dict.fromkeys(steps))
        if len(steps) > 1 and len(distinct) == 1:
            text += f" (one ×{steps[0]} model, applied {NUMBER_WORDS.get(len(steps), len(steps))} times)"
        elif len(distinct) > 1:
            text += f" (step {volume_stage} of {len(distinct)})"
        return text
    if stage == "axial":
        blur = re.match(r"axial blur estimated at ([0-9.]+) µm", message)
        if blur:
            return f"estimated the microscope's blur along Z: {blur.group(1)} µm"
        return f"learning ×{factor[0]} axial: sharp XY planes teach how Z should look"
    if stage == "self-check":
        return "self-check: comparing the model with plain cubic interpolation on a held-out quarter of the image"
    if stage == "inference":
        return "denoising the whole image" if "denois" in message else "enhancing the whole image"
    if stage in ("sis", "tis"):
        if message.startswith(("SIS", "TIS")):
            pairs = "even z-slices predict odd ones" if stage == "sis" else "even time points predict odd ones"
            return f"learning to denoise: {pairs}, so noise (which differs between them) is not learned"
        return message
    if stage == "enhance":
        return "enhancing the denoised image"
    return message


def check_skipped_reason(result: Any, context: Any) -> str:
    """Why a run has no self-check, in plain words."""
    if context.applying:
        return "a saved model was applied: nothing of this image was held out from training"
    if context.mode == "denoise":
        return "it checks added resolution, and denoising adds none"
    width = int(context.request.data.shape[-1]) if context.request.data is not None else None
    try:
        from ..core.enhance.selfcheck import HOLDOUT_FRACTION
        from ..core.validate import MIN_LOW_RES
    except ImportError:  # pragma: no cover - the core moved
        return "the image is too small to hold a part out"
    needed = int(-(-2 * int(context.factor[-1]) * MIN_LOW_RES // HOLDOUT_FRACTION))
    if width is not None:
        return f"the image is {width} px wide; holding out a quarter for the check needs at least {needed} px"
    return "the image is too small to hold a part out"


def verdict(check: Any, skipped: str | None = None) -> str:
    """One plain line: verified, not verified, or skipped and why."""
    if check is None or not check.gains:
        notes = "; ".join(f"{k}: {v}" for k, v in check.unchecked.items()) if check is not None else ""
        why = skipped or notes or "the image could not be split for it"
        return f"self-check skipped because {why}"
    gain = check.gain
    if check.trusted:
        return f"added detail verified on held-out data ({gain:+.1f} dB over cubic interpolation)"
    return (
        f"not verified: on held-out data the model did not beat cubic interpolation clearly ({gain:+.1f} dB);"
        " do not trust the added detail"
    )
