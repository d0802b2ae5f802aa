"""The ``self-vision`` command: enhance | evaluate | demo. Parses, calls the API, prints; no science here."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .cli_denoise import add_denoise_parser, run_denoise
from .cli_large import add_large_options
from .core.errors import SelfVisionError, UsageError
from .core.validate import parse_factor

#: Exit code of ``enhance --strict`` when the self-check finds no gain over cubic (the output is written).
STRICT_EXIT = 3


def _factor_arg(text: str) -> str:
    return text  # parsed (with the image's rank known) by core.validate.parse_factor


def _add_run_options(parser: argparse.ArgumentParser, required_factor: bool = True) -> None:
    parser.add_argument(
        "--factor", required=required_factor, type=_factor_arg, help="per-axis factor Z,Y,X (or Y,X), e.g. 1,4,4"
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


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", type=int, default=None, help="channel to use from a multichannel file")
    parser.add_argument("--timepoint", type=int, default=None, help="time point to use from a time series")
    parser.add_argument("--voxel-size", default=None, metavar="Z,Y,X", help="voxel size if the file has none")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="self-vision", description="Zero-shot resolution enhancement of microscopy volumes."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    enhance = sub.add_parser("enhance", help="enhance a TIFF volume, learning from it alone")
    enhance.add_argument("input", type=Path)
    enhance.add_argument("-o", "--output", type=Path, required=True)
    _add_run_options(enhance, required_factor=False)  # --model brings its own factor
    _add_input_options(enhance)
    enhance.add_argument("--save-model", type=Path, default=None, metavar="PATH", help="also save the trained model")
    enhance.add_argument(
        "--uncertainty",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write a per-voxel uncertainty TIFF (estimated error, in the input's units) next to the output",
    )
    enhance.add_argument("--model", type=Path, default=None, metavar="PATH", help="apply a saved model (no training)")
    enhance.add_argument("--overwrite", action="store_true", help="replace existing output files")
    add_large_options(enhance)
    enhance.add_argument(
        "--strict",
        action="store_true",
        help=f"exit {STRICT_EXIT} (after writing) when the self-check does not show a gain over cubic",
    )

    evaluate = sub.add_parser("evaluate", help="degrade a reference, enhance it and score it vs cubic")
    evaluate.add_argument("reference", type=Path)
    _add_run_options(evaluate)
    _add_input_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")

    demo = sub.add_parser("demo", help="run on a built-in synthetic sample and write a figure")
    demo.add_argument("--out", type=Path, default=Path("demo_out"))
    demo.add_argument("--time-budget", type=float, default=30.0, metavar="SECONDS")
    demo.add_argument("--device", default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--overwrite", action="store_true", default=True, help=argparse.SUPPRESS)
    add_denoise_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler: Callable[[argparse.Namespace], int] = {
            "enhance": _enhance,
            "evaluate": _evaluate,
            "demo": _demo,
            "denoise": run_denoise,
        }[args.command]
        return handler(args)
    except SelfVisionError as err:
        print(f"self-vision: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("self-vision: interrupted; nothing was written", file=sys.stderr)
        return 130


def _options(args: argparse.Namespace):
    from .core.pipeline import EnhanceOptions

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


def _read(args: argparse.Namespace, path: Path):
    from .core.io import read_tiff

    volume = read_tiff(path, channel=args.channel, timepoint=args.timepoint)
    sizes = _voxel_size_arg(args.voxel_size)
    if sizes is not None:
        if len(sizes) != volume.data.ndim:
            raise UsageError(f"--voxel-size {args.voxel_size!r}: give {volume.data.ndim} positive numbers")
        volume.voxel_size = sizes
    return volume


def _voxel_size_arg(text: str | None) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        sizes = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--voxel-size {text!r}: write numbers like 2,0.5,0.5") from None
    if not sizes or min(sizes) <= 0:
        raise UsageError(f"--voxel-size {text!r}: give positive numbers")
    return sizes


class _ProgressBar:
    """A tqdm bar per training stage on stderr, fed by the core's events."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.stage: str | None = None

    def __call__(self, event: object) -> None:
        from tqdm import tqdm

        from .core.events import InferProgress, StageInfo, TrainProgress

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


def _enhance(args: argparse.Namespace) -> int:
    from .api import enhance
    from .cli_large import run_large, wants_blocks
    from .core.io import check_output_path, write_tiff
    from .core.pipeline import load_model, save_model

    options = _options(args)
    if wants_blocks(args):
        return run_large(args, options, _voxel_size_arg(args.voxel_size))
    check_output_path(args.output, overwrite=args.overwrite)
    if args.save_model is not None:
        check_output_path(args.save_model, overwrite=args.overwrite)
    if args.uncertainty is not None:
        if args.uncertainty.resolve() == args.output.resolve():
            raise UsageError(f"--uncertainty {args.uncertainty}: is the output file too; choose another path")
        check_output_path(args.uncertainty, overwrite=args.overwrite)
    model = load_model(args.model) if args.model is not None else None
    if model is None and args.factor is None:
        raise UsageError("enhance: give --factor Z,Y,X (e.g. 1,4,4), or --model PATH to apply a saved model")
    volume = _read(args, args.input)
    if model is not None and args.factor is not None:
        given = parse_factor(args.factor, volume.data.ndim)
        if given != model.factor:
            raise UsageError(f"--factor {args.factor} differs from the model's factor {model.factor}; omit --factor")
    bar = _ProgressBar(not args.quiet)
    start = time.perf_counter()
    try:
        result = enhance(
            volume.data,
            args.factor if model is None else model.factor,
            voxel_size=volume.voxel_size,
            device=args.device,
            model=model,
            options=options,
            progress=bar,
            name=str(args.input),
            uncertainty=args.uncertainty is not None,
        )
    finally:
        bar.close()
    write_tiff(
        args.output, result.data, voxel_size=result.voxel_size, unit=volume.unit or "µm", overwrite=args.overwrite
    )
    if args.uncertainty is not None and result.uncertainty is not None:
        write_tiff(
            args.uncertainty,
            result.uncertainty,
            voxel_size=result.voxel_size,
            unit=volume.unit or "µm",
            overwrite=args.overwrite,
        )
    if args.save_model is not None:
        save_model(result.model, args.save_model)
    voxel = "" if result.voxel_size is None else " voxel " + "x".join(f"{v:g}" for v in result.voxel_size)
    check = result.self_check
    gain = "" if check is None or not check.gains else f"; self-check {check.gain:+.2f} dB vs cubic"
    print(
        f"self-vision: {args.input.name} {volume.data.shape} -> {args.output} {result.data.shape}{voxel} "
        f"via {result.path}; trained {result.train_seconds:.1f} s, total {time.perf_counter() - start:.1f} s{gain}"
    )
    if check is not None and not check.trusted:
        print(f"self-vision: warning: {check.summary()}", file=sys.stderr)
        if args.strict:
            return STRICT_EXIT
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .api import evaluate

    options = _options(args)
    volume = _read(args, args.reference)
    bar = _ProgressBar(not args.quiet and not args.json)
    try:
        evaluation = evaluate(
            volume.data,
            args.factor,
            voxel_size=volume.voxel_size,
            device=args.device,
            options=options,
            progress=bar,
            name=str(args.reference),
        )
    finally:
        bar.close()
    if args.json:
        print(
            json.dumps(
                {
                    "factor": evaluation.factor,
                    "path": evaluation.path,
                    "train_seconds": evaluation.train_seconds,
                    "scores": evaluation.scores,
                }
            )
        )
        return 0
    cubic = evaluation.scores["cubic"]["psnr"]
    print(f"{'method':<16} {'PSNR (dB)':>9} {'SSIM':>7} {'vs cubic':>9}")
    for name, s in evaluation.scores.items():
        print(f"{name:<16} {s['psnr']:>9.2f} {s['ssim']:>7.4f} {s['psnr'] - cubic:>+9.2f}")
    print(f"path: {evaluation.path}; trained {evaluation.train_seconds:.1f} s")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .core.devices import resolve_device
    from .demo import run_demo

    if args.time_budget <= 0:
        raise UsageError(f"--time-budget {args.time_budget}: give a positive number of seconds")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file, not a folder; choose a folder for the demo's outputs")
    resolve_device(args.device)
    run_demo(args.out, time_budget=args.time_budget, device=args.device, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
