"""What every command shares: run and input options, reading the input, the progress bar, exit codes."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..core import errors
from ..core.errors import UsageError
from ..core.provenance import steps_by_stage
from ..defaults import AXIAL_MEMBERS, DEFAULT_SEED, GATE_UNCHECKED, VOLUME_MEMBERS

#: Exit code of ``enhance --strict`` when the self-check finds no gain over cubic (the output is written).
STRICT_EXIT = 3

#: Outputs this command has written completely (what an interruption reports).
WRITTEN: list[Path] = []

#: What to do, in this face's words, per error kind (the core's own hint is neutral).
_HINTS = {
    errors.KIND_OUTPUT_EXISTS: "pass --overwrite to replace it",
    errors.KIND_DEVICE_UNAVAILABLE: "use --device cpu or auto",
    errors.KIND_PARTIAL_EXISTS: "pass --resume to continue it, or --overwrite (or delete it) to start again",
    errors.KIND_RESUME_MISMATCH: "resume with the same input and options, or pass --overwrite (or delete it) to "
    "start again",
    errors.KIND_CANCELLED: "run again with --resume to continue",
}


def cli_message(err: errors.SelfVisionError) -> str:
    """The core's one-line message with its neutral hint replaced by this command line's flags."""
    kind, hint = getattr(err, "kind", None), getattr(err, "hint", "")
    message = getattr(err, "message", None) or str(err)
    if kind in _HINTS and (hint or kind == errors.KIND_OUTPUT_EXISTS):
        return errors.one_line(f"{message}; {_HINTS[kind]}") if len(message) < 200 else f"{message}; {_HINTS[kind]}"
    option = getattr(err, "option", None)
    if kind == errors.KIND_CHOICE_NEEDED and option and hint:
        return f"{message}; {hint.replace(f'choose one {option}', f'choose one with --{option} N')}"
    return str(err)


def factor_arg(text: str) -> str:
    return text  # parsed (with the image's rank known) by core.validate.parse_factor


def add_run_options(parser: argparse.ArgumentParser, required_factor: bool = True) -> None:
    parser.add_argument(
        "--factor", required=required_factor, type=factor_arg, help="per-axis factor Z,Y,X (or Y,X), e.g. 1,4,4"
    )
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument("--time-budget", type=float, default=None, metavar="SECONDS", help="training time (default 40)")
    limit.add_argument("--steps", type=int, default=None, metavar="N", help="training steps instead of a time budget")
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed (default {DEFAULT_SEED}; with --steps a run repeats exactly)",
    )
    parser.add_argument(
        "--path", default="auto", choices=["auto", "3d", "lateral-axial"], help="how the axial factor is learned"
    )
    parser.add_argument("--operator", default="area", choices=["area", "psf", "cubic"], help="degradation model")
    parser.add_argument(
        "--back-projection", type=int, default=10, metavar="ROUNDS", help="data-consistency rounds (0: off)"
    )
    parser.add_argument(
        "--noise",
        default=None,
        metavar="PHOTONS,SIGMA",
        help="train on Poisson-Gaussian noisy inputs: photons at full scale and read-noise sigma (0-1 units)",
    )
    parser.add_argument("--ensemble", action="store_true", help="average over flips/rotations (slower, smoother)")
    parser.add_argument(
        "--members",
        type=int,
        default=None,
        metavar="N",
        help=f"networks trained per stage, their outputs averaged, sharing the stage's --time-budget (default "
        f"{AXIAL_MEMBERS} for the axial stage, {VOLUME_MEMBERS} for lateral stages; with --steps each trains them)",
    )
    parser.add_argument(
        "--axial-members",
        type=int,
        default=None,
        metavar="N",
        help=f"networks of the axial stage when --members is not given (default {AXIAL_MEMBERS}; the dock's "
        "Best: 12 sharing 120 s)",
    )
    optics = parser.add_mutually_exclusive_group()
    optics.add_argument(
        "--optics",
        default=None,
        metavar="NA,WAVELENGTH[,IMMERSION[,MICROSCOPE[,EXCITATION]]]",
        help="the objective and light, for the axial blur of the training planes (instead of the output's z spacing): "
        "e.g. 1.2,0.46,water,confocal,0.405 (wavelengths in µm; immersion: air, water, silicone, glycerol, oil "
        "or an index; microscope: widefield, confocal, two-photon)",
    )
    optics.add_argument(
        "--axial-blur", type=float, default=None, metavar="UM", help="extra axial blur (µm) of the training planes"
    )
    parser.add_argument(
        "--step-psf",
        type=float,
        default=None,
        metavar="VOXELS",
        help="on step-sampled (point) axes, the optics' blur (Gaussian sigma) in output voxels: the training "
        "patches are blurred to it (default 1: the output grid samples the resolution at Nyquist; 0: off)",
    )
    add_gate_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """How the input was sampled, and what the self-check's gate may return."""
    from ..defaults import SAMPLING

    parser.add_argument(
        "--sampling",
        default=SAMPLING,
        metavar="AXES=MODEL,...",
        help=f"how each axis was sampled (default {SAMPLING}): point = a z-step or scan step (each plane is one "
        "optical section), area = pixel binning (each voxel averages a block); e.g. z=point,xy=area, or area",
    )
    parser.add_argument(
        "--keep-network",
        action="store_true",
        help="return the network's result even where the self-check finds it no better than cubic or "
        "back-projection (the verdict is still reported)",
    )
    parser.add_argument(
        "--gate-unchecked",
        default=GATE_UNCHECKED,
        choices=["network", "classical"],
        help="a stage the self-check cannot measure at all (an input too small to hold out a slab, or an axial "
        "stage whose held-out planes are tiny): return the classical result (default) or keep the network "
        "(reported as unverified)",
    )


def gate_text(gate, check) -> str:
    """``; returned cubic: gate: lateral rejected ...; held-out gain lateral -0.12 dB vs cubic [95% ...]``."""
    if gate is None:
        return ""
    line = gate.summary().replace("(keep_network)", "(--keep-network)")
    measured = (
        []
        if check is None
        else [
            ("held-out gain", check.intervals, check.best_classical),
            ("on held-out lateral planes", check.plane_intervals, check.plane_best_classical),
        ]
    )
    for title, intervals, best in measured:
        if intervals:
            gains = ", ".join(
                f"{k} {est:+.2f} dB vs {best.get(k, 'classical')} [95% {low:+.2f}, {high:+.2f}]"
                for k, (est, low, high) in intervals.items()
            )
            line += f"; {title} {gains}"
    return f"; returned {gate.returned}: {line}"


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", type=int, default=None, help="channel to use from a multichannel file")
    parser.add_argument("--timepoint", type=int, default=None, help="time point to use from a time series")
    parser.add_argument("--voxel-size", default=None, metavar="Z,Y,X", help="voxel size if the file has none")


def enhance_options(args: argparse.Namespace):
    from ..core.enhance.options import EnhanceOptions
    from ..core.validate import check_int, check_noise, check_seed, check_steps, check_time_budget
    from ..defaults import MAX_BACK_PROJECTION, MAX_MEMBERS

    check_steps(args.steps, "--steps")
    check_time_budget(args.time_budget, "--time-budget")
    check_seed(args.seed, "--seed")
    for flag, value in (("--members", args.members), ("--axial-members", args.axial_members)):
        check_int(value, flag, flag.lstrip("-"), minimum=1, maximum=MAX_MEMBERS, what="number of networks")
    check_int(args.back_projection, "--back-projection", "back_projection", maximum=MAX_BACK_PROJECTION, what="number")
    noise = None
    if args.noise:
        try:
            photons, sigma = (float(v) for v in args.noise.split(","))
        except ValueError:
            raise UsageError(
                f"--noise {args.noise!r}: write PHOTONS,SIGMA, e.g. --noise 100,0.01",
                kind=errors.KIND_INVALID_VALUE,
                option="noise",
            ) from None
        noise = check_noise((photons, sigma), "--noise")
    from ..core.sampling import parse_sampling

    sampling = getattr(args, "sampling", None)
    if sampling is not None:
        try:
            if not sampling.strip():
                raise UsageError("sampling '': give e.g. z=point,xy=area")
            parse_sampling(sampling, 3)
        except UsageError as err:
            raise UsageError(f"--{err}", kind=errors.KIND_INVALID_VALUE, option="sampling") from None
    extra = {} if sampling is None else {"sampling": sampling}
    if getattr(args, "optics", None) is not None:
        from ..core.optics import parse_optics

        try:
            extra["optics"] = parse_optics(args.optics)
        except UsageError as err:
            raise UsageError(f"--{err}", kind=errors.KIND_INVALID_VALUE, option="optics") from None
    for name, top, words in (("axial_blur", 100, "a blur in µm"), ("step_psf", 10, "the blur in output voxels")):
        value = getattr(args, name, None)
        if value is None:
            continue
        if not (math.isfinite(value) and 0 <= value <= top):
            flag = "--" + name.replace("_", "-")
            raise UsageError(
                f"{flag} {value}: give {words} between 0 and {top}", kind=errors.KIND_INVALID_VALUE, option=name
            )
        extra[name] = value
    return EnhanceOptions(
        **extra,
        keep_network=getattr(args, "keep_network", False),
        gate_unchecked=getattr(args, "gate_unchecked", GATE_UNCHECKED),
        noise=noise,
        path=args.path,
        steps=args.steps,
        time_budget=args.time_budget,
        operator=args.operator,
        back_projection=args.back_projection,
        ensemble=args.ensemble,
        seed=args.seed,
        members=args.members,
        axial_members=args.axial_members,
    )


def read_volume(args: argparse.Namespace, path: Path):
    from ..core.io.tiff import read_tiff
    from ..core.validate import check_voxel_size

    sizes = voxel_size_arg(args.voxel_size)
    volume = read_tiff(path, channel=args.channel, timepoint=args.timepoint)
    if sizes is not None:
        volume.voxel_size = check_voxel_size(sizes, volume.data.ndim, "--voxel-size")
    return volume


def voxel_size_arg(text: str | None) -> tuple[float, ...] | None:
    """``--voxel-size Z,Y,X`` parsed and checked (finite, positive) before any work."""
    from ..core.validate import check_voxel_size

    if not text:
        return None
    try:
        sizes = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(
            f"--voxel-size {text!r}: write numbers like 2,0.5,0.5", kind=errors.KIND_INVALID_VALUE, option="voxel_size"
        ) from None
    return check_voxel_size(sizes, None, "--voxel-size")


def check_cli_paths(args: argparse.Namespace, outputs: dict, extra: dict | None = None) -> None:
    """The one path-resolution step of a command: inputs vs outputs vs each other (see core.io.paths)."""
    from ..core.io.paths import resolve_paths

    inputs = {"input": getattr(args, "input", None), "--model": getattr(args, "model", None)}
    resolve_paths(inputs, outputs, extra)


def check_model_path(path: Path, overwrite: bool, label: str = "--save-model") -> None:
    """Fail before training, not after: a file name in an existing folder; an existing file needs --overwrite."""
    from ..core.errors import output_exists

    target = path.expanduser()
    if target.is_dir():
        raise UsageError(
            f"{label} {path}: is a folder; give a file name such as {path / 'model.pt'}",
            kind=errors.KIND_OUTPUT_PATH,
            option="save_model",
        )
    if not target.parent.is_dir():
        raise UsageError(
            f"{label} {path}: folder {target.parent} does not exist; create it first",
            kind=errors.KIND_OUTPUT_PATH,
            option="save_model",
        )
    if target.exists() and not target.is_file():
        raise UsageError(f"{label} {path}: is not a regular file", kind=errors.KIND_OUTPUT_PATH, option="save_model")
    if target.exists() and not overwrite:
        raise output_exists(f"{label} {path}")


def wrote(path: Path) -> None:
    WRITTEN.append(Path(path))


class ProgressBar:
    """A tqdm bar per training stage on stderr, fed by the core's events."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.stage: str | None = None

    def __call__(self, event: object) -> None:
        from tqdm import tqdm

        from ..core.events import InferProgress, StageInfo, TrainProgress

        if not self.enabled:
            return
        if isinstance(event, StageInfo):
            self.close()
            print(f"self-vision: {event.message}", file=sys.stderr)
        elif isinstance(event, TrainProgress):
            if self.bar is None or self.stage != event.stage:
                self.close()
                self.bar = tqdm(total=event.total, desc=f"training {event.stage}", unit="step", file=sys.stderr)
                self.stage = event.stage
            self.bar.total = event.total
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix(loss=f"{event.loss:.4f}", refresh=False)
        elif isinstance(event, InferProgress) and event.stage == "blocks":
            if self.bar is None or self.stage != event.stage:
                self.close()
                self.bar = tqdm(
                    total=event.total, initial=event.done - 1, desc="enhancing", unit="block", file=sys.stderr
                )
                self.stage = event.stage
            self.bar.update(event.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def steps_text(record: dict) -> str:
    """How long the run trained, and whether it repeats exactly: "trained 40.0 s (1200 steps, ...)"."""
    steps = sum(record.get("steps_trained", {}).values())
    seconds, seed = record.get("train_seconds", 0.0), record.get("seed")
    if not steps:
        return f"trained {seconds:.1f} s (saved model, no training)"
    if record.get("exact_steps"):
        return f"trained {seconds:.1f} s ({steps} steps, exact steps, seed {seed}: repeats exactly)"
    shared = _shared_stages(record.get("steps_trained", {}))
    return (
        f"trained {seconds:.1f} s ({steps} steps in a time budget{shared}: the count varies with the machine's "
        f"load; --steps repeats a run exactly{', and counts each network' if shared else ''}, seed {seed})"
    )


def _shared_stages(steps_trained: dict[str, int]) -> str:
    """ ", 4 axial networks of 1180-1380" for each stage whose time several networks shared ("" if none)."""
    return "".join(
        f", {len(ns)} {stage} networks of {min(ns)}-{max(ns)}"
        for stage, ns in steps_by_stage(steps_trained).items()
        if len(ns) > 1
    )
