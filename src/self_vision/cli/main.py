"""The ``self-vision`` command: the parser and the dispatch to one module per command; no science here."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from ..core.errors import SelfVisionError, UsageError
from ..defaults import DEMO_TIME_BUDGET
from .blockwise import add_blockwise_options
from .common import STRICT_EXIT, WRITTEN, add_input_options, add_run_options, cli_message
from .denoise import add_denoise_parser, run_denoise
from .enhance import run_enhance, run_evaluate
from .sim import add_sim_parser, run_sim_command


class OneLineParser(argparse.ArgumentParser):
    """argparse with its mistakes as one ``self-vision: error:`` line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        print(f"self-vision: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="self-vision", description="Zero-shot resolution enhancement of microscopy volumes.")
    sub = parser.add_subparsers(dest="command", required=True)

    enhance = sub.add_parser("enhance", help="enhance a TIFF volume, learning from it alone")
    enhance.add_argument("input", type=Path)
    enhance.add_argument("-o", "--output", type=Path, required=True)
    add_run_options(enhance, required_factor=False)  # --model brings its own factor
    add_input_options(enhance)
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
    add_blockwise_options(enhance)
    enhance.add_argument(
        "--strict",
        action="store_true",
        help=f"exit {STRICT_EXIT} (after writing) when the self-check does not show a gain over cubic",
    )

    evaluate = sub.add_parser("evaluate", help="degrade a reference, enhance it and score it vs cubic")
    evaluate.add_argument("reference", type=Path)
    add_run_options(evaluate)
    add_input_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")

    demo = sub.add_parser("demo", help="run on a built-in synthetic sample and write a figure")
    demo.add_argument("--out", type=Path, default=Path("demo_out"))
    demo.add_argument("--time-budget", type=float, default=DEMO_TIME_BUDGET, metavar="SECONDS")
    demo.add_argument("--device", default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--overwrite", action="store_true", default=True, help=argparse.SUPPRESS)
    add_denoise_parser(sub)
    add_sim_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    WRITTEN.clear()
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            handler: Callable[[argparse.Namespace], int] = {
                "enhance": run_enhance,
                "evaluate": run_evaluate,
                "demo": run_demo_command,
                "denoise": run_denoise,
                "sim": run_sim_command,
            }[args.command]
            return handler(args)
    except SelfVisionError as err:
        print(f"self-vision: error: {cli_message(err)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        done = f"; already written: {', '.join(map(str, WRITTEN))}" if WRITTEN else "; nothing was written"
        print(f"self-vision: interrupted{done}", file=sys.stderr)
        return 130


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings meant for the user (e.g. an invalid calibration) as one line; others as Python prints them."""
    from ..core.io.metadata import CalibrationWarning

    if issubclass(category, CalibrationWarning):
        print(f"self-vision: warning: {' '.join(str(message).split())}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def run_demo_command(args: argparse.Namespace) -> int:
    from ..core.devices import resolve_device
    from ..core.validate import check_seed, check_time_budget
    from ..demo import run_demo

    check_time_budget(args.time_budget, "--time-budget")
    check_seed(args.seed, "--seed")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file, not a folder; choose a folder for the demo's outputs")
    resolve_device(args.device)
    run_demo(args.out, time_budget=args.time_budget, device=args.device, seed=args.seed)
    return 0
