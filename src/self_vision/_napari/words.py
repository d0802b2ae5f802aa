"""What the dock says, in a biologist's words: factors, stages, the self-check verdict. Qt-free, torch-free."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..defaults import AXIAL_MEMBERS, FINER_CONFIRM_MEMBERS

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


#: SIM stages in plain words (status line).
SIM_STAGES = {
    "sim-estimate": "SIM: finding the illumination stripes (direction, spacing, contrast) in the raw frames",
    "sim-wiener": "SIM: combining the 9 frames into an image with twice the resolution (Wiener SIM)",
    "sim-denoise": "SIM: preparing the rDL denoiser (it is told where the stripes are)",
    "rdl": "SIM: training the rDL denoiser on the raw frames",
    "denoise": "SIM: training the denoiser on the raw frames",
}


def sim_pattern_lines(params: Sequence[Any]) -> list[str]:
    """A header, then one short line per orientation (direction · line spacing · modulation), short enough not
    to wrap in the dock, and a line under an orientation that was not found in the data."""
    import math

    lines = ["angle · spacing · modulation"] if params else []
    for number, p in enumerate(params, start=1):
        angle = p.angle % (2 * math.pi)  # as the core and CLI summaries report it
        lines.append(f"{number}: {math.degrees(angle):.1f}° · {1000 * p.spacing_um:.1f} nm · {p.modulation:.2f}")
        if not p.reliable or p.source != "estimated":
            lines.append("   not found: the expected one is used")
    return lines


def stage_name(stage: str, factor: Sequence[int]) -> str:
    """A training stage's name for the loss plot: ``lateral ×4``, ``axial ×4``, ``denoise (SiS)``; the k-th
    network of a stage that averages several (core stage ``axial #2``): ``axial ×4 #2``."""
    member = re.fullmatch(r"(.+) (#\d+)", stage)
    if member:
        return f"{stage_name(member.group(1), factor)} {member.group(2)}"
    if stage in ("sis", "tis"):
        return f"denoise ({stage.upper()})"
    if stage == "rdl":
        return "rDL denoiser"
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

    ``volume_stage`` counts the enhancement stages announced so far (1 for the first). A message of one of
    several networks per stage ends "(network k of n)"; the line keeps that end.
    """
    member = re.search(r" \(network (\d+) of (\d+)\)$", message)
    if member is None:
        return _stage_text(stage, message, factor, volume_stage)
    text = _stage_text(stage, message[: member.start()], factor, volume_stage)
    return f"{text} (network {member.group(1)} of {member.group(2)})"


def _stage_text(stage: str, message: str, factor: Sequence[int], volume_stage: int) -> str:
    lateral = int(factor[-1])
    step_blur = re.search(r"training patches blurred by .* \(optics: ([0-9.]+) output voxels\)", message)
    if stage.startswith(("lateral", "3d")) and step_blur:
        voxels = step_blur.group(1)
        return f"assumed the optics blur the result by {voxels} of its pixels (each sample is one optical section)"
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
        blur = re.match(r"axial blur ([0-9.]+) µm: the output's z spacing", message)
        if blur:
            return f"assumed the microscope's blur along Z: {blur.group(1)} µm (give the objective's NA to compute it)"
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
    if stage in SIM_STAGES:
        return SIM_STAGES[stage]
    return message


def how_text(model: Any, factor: Sequence[int], applying: bool = False) -> str:
    """What an enhancement did, e.g. ``×4 lateral as two ×2 steps, then ×2 axial, then 10 rounds matching the
    input`` (the enhancer's own ``path`` is written for developers)."""
    stages = list(getattr(model, "stages", None) or [])
    volume = [s for s in stages if s.kind == "volume"]
    everywhere = bool(volume) and len(factor) == 3 and int(volume[0].model.factor[0]) > 1
    lateral = int(factor[-1])
    parts = [_steps_text(lateral, "in all axes" if everywhere else "lateral")] if lateral > 1 else []
    if any(s.kind == "axial" for s in stages):
        parts.append(f"×{int(factor[0])} axial (learned from the XY planes)")
    members = max((int(getattr(s, "members", 1)) for s in stages), default=1)
    if members > 1 and parts:
        parts[-1] += f"; each step the mean of {members} networks"
    rounds = int(getattr(model, "back_projection", 0) or 0)
    if rounds:
        parts.append(f"{rounds} rounds matching the input")
    text = ", then ".join(parts) or factor_text(factor)
    return f"{text}, with the saved model" if applying else text


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
    planes = check.plane_intervals if check is not None else {}
    if check is not None and not check.gains and planes:
        # z was too thin to check: the held-out lateral planes (the scale the axial stage learned) decided
        estimate, low, _ = min(planes.values(), key=lambda interval: interval[1])
        if low > 0:
            return (
                f"added detail verified on held-out lateral planes only ({estimate:+.1f} dB); "
                "the stack has too few slices to check z itself"
            )
        return (
            f"not verified: on held-out lateral planes the model did not beat the classical result clearly "
            f"({estimate:+.1f} dB); do not trust the added detail"
        )
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


def preset_tip(presets: dict[str, Any]) -> str:
    """The Quality box's tooltip, from the presets (seconds, the axial stage's networks)."""
    parts = []
    for name, p in presets.items():
        networks = AXIAL_MEMBERS if p.axial_networks is None else p.axial_networks
        parts.append(
            f"{name} {p.seconds:g} s"
            + ("" if networks == 1 else f" (z: {networks} networks × {p.seconds / networks:g} s, averaged)")
        )
    return (
        f"How long to learn: {', '.join(parts)}. For z, several short networks averaged were steadier and"
        " better than one trained as long, and on a thin stack they are what the self-check needs to confirm"
        f" the added z detail ({FINER_CONFIRM_MEMBERS} or more). Every network is applied to the whole input"
    )


def gate_note(gate: Any) -> str:
    """``; returned back-projection, not the network`` when the gate replaced the network's result, else ``""``."""
    if gate is None or not gate.fell_back:
        return ""
    hint = (
        f" (Quality Balanced or Best, or Advanced ▸ Networks {FINER_CONFIRM_MEMBERS}, lets the z check confirm it)"
        if getattr(gate, "needs_members", False)
        else ""
    )
    if " + " in gate.returned:
        return f"; returned {gate.returned}{hint}"
    return f"; returned {gate.returned}, not the network{hint}"


def user_message(err: BaseException) -> str:
    """A one-line message for an error from a run: what went wrong and what to do."""
    from ..core.errors import SelfVisionError

    if isinstance(err, SelfVisionError):
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if isinstance(err, MemoryError) or "out of memory" in text.lower():
        return "out of memory: choose a smaller tile size (Advanced), a smaller factor, or the CPU device"
    return f"Self-Vision run failed ({type(err).__name__}: {text}); see the console for details"


def start_text(context: Any) -> str:
    """The status line when a run starts: what it will do, to which layer."""
    name, what = context.layer.name, factor_text(context.factor)
    request = context.request
    if context.mode == "sim":
        rdl = request.sim_options is not None and request.sim_options.denoise != "none"
        return f"SIM of '{name}': estimating the pattern, " + (
            "training the rDL denoiser on the raw frames, then Wiener SIM…" if rdl else "then Wiener SIM…"
        )
    if context.applying:
        text = f"applying the saved model to '{name}' ({what})"
    elif context.mode == "denoise":
        text = f"learning to denoise '{name}' ({'time points' if request.denoise_mode == 'tis' else 'z-slices'})"
    elif context.mode == "denoise+enhance":
        text = f"denoising '{name}', then enhancing it ({what})"
    else:
        text = f"learning {what} from '{name}' itself"
    if context.all_volumes:
        count = 1
        for n in request.volumes.shape[: request.volumes.ndim - request.data.ndim]:
            count *= int(n)
        text += f", then applying it to all {count} volumes"
    if context.blockwise:
        text += f", block by block into {request.large_output}"
    return text + "…"
