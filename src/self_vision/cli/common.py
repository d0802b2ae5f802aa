"""What every command shares: run and input options, reading the input, the progress bar, exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import UsageError

#: Exit code of ``enhance --strict`` when the self-check finds no gain over cubic (the output is written).
STRICT_EXIT = 3


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
    parser.add_argument("--seed", type=int, default=None, help="random seed for a reproducible run")
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
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", type=int, default=None, help="channel to use from a multichannel file")
    parser.add_argument("--timepoint", type=int, default=None, help="time point to use from a time series")
    parser.add_argument("--voxel-size", default=None, metavar="Z,Y,X", help="voxel size if the file has none")


def enhance_options(args: argparse.Namespace):
    from ..core.enhance.options import EnhanceOptions

    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps {args.steps}: give a positive number of steps")
    if args.time_budget is not None and args.time_budget <= 0:
        raise UsageError(f"--time-budget {args.time_budget}: give a positive number of seconds")
    noise = None
    if args.noise:
        try:
            photons, sigma = (float(v) for v in args.noise.split(","))
        except ValueError:
            raise UsageError(f"--noise {args.noise!r}: write PHOTONS,SIGMA, e.g. --noise 100,0.01") from None
        if photons < 0 or sigma < 0:
            raise UsageError(f"--noise {args.noise!r}: photons and sigma must not be negative")
        noise = (photons or None, sigma)
    return EnhanceOptions(
        noise=noise,
        path=args.path,
        steps=args.steps,
        time_budget=args.time_budget,
        operator=args.operator,
        back_projection=max(0, args.back_projection),
        ensemble=args.ensemble,
        seed=args.seed,
    )


def read_volume(args: argparse.Namespace, path: Path):
    from ..core.io.tiff import read_tiff

    volume = read_tiff(path, channel=args.channel, timepoint=args.timepoint)
    sizes = voxel_size_arg(args.voxel_size)
    if sizes is not None:
        if len(sizes) != volume.data.ndim:
            raise UsageError(f"--voxel-size {args.voxel_size!r}: give {volume.data.ndim} positive numbers")
        volume.voxel_size = sizes
    return volume


def voxel_size_arg(text: str | None) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        sizes = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--voxel-size {text!r}: write numbers like 2,0.5,0.5") from None
    if not sizes or min(sizes) <= 0:
        raise UsageError(f"--voxel-size {text!r}: give positive numbers")
    return sizes


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
