"""The ``self-vision denoise`` subcommand: parse, read (keeping T for TiS), call the API, write, print."""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import UsageError
from ..defaults import DEFAULT_SEED
from .blockwise import add_blockwise_options


def add_denoise_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``denoise`` on the ``self-vision`` subparsers."""
    p = sub.add_parser("denoise", help="denoise a z-stack (SiS) or time-lapse (TiS), learning from it alone")
    p.add_argument("input", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument(
        "--mode",
        choices=["sis", "tis"],
        default=None,
        help="sis: z-stack (default); tis: time-lapse (default: --model's)",
    )
    p.add_argument("--gar", type=float, default=1.0, metavar="GAMMA", help="gap-amending regulariser weight (0: off)")
    p.add_argument("--fnsm", action="store_true", help="add the Fourier noise-suppression first stage")
    p.add_argument(
        "--sis-inference",
        choices=["halves", "full"],
        default="halves",
        help="SiS: apply the net to the half-stacks it learned on (default; z-step near Nyquist) or to the full"
        " stack (better for coarse z-steps, e.g. 5 µm two-photon)",
    )
    limit = p.add_mutually_exclusive_group()
    limit.add_argument("--time-budget", type=float, default=None, metavar="SECONDS", help="training time (default 30)")
    limit.add_argument("--steps", type=int, default=None, metavar="N", help="training steps instead of a time budget")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed (default {DEFAULT_SEED}; with --steps a run repeats exactly)",
    )
    p.add_argument("--channel", type=int, default=None, help="channel to use from a multichannel file")
    p.add_argument("--timepoint", type=int, default=None, help="sis only: time point of a time series")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file (and --save-model file)")
    models = p.add_mutually_exclusive_group()
    models.add_argument("--save-model", type=Path, default=None, metavar="PATH", help="also save the trained denoiser")
    models.add_argument(
        "--model", type=Path, default=None, metavar="PATH", help="apply a saved denoiser instead of training"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_blockwise_options(p)
    return p


def run_denoise(args: argparse.Namespace) -> int:
    """Handle ``self-vision denoise``."""
    from ..api import denoise
    from ..core.denoise.files import load_denoiser, save_denoiser
    from ..core.denoise.options import DenoiseOptions
    from ..core.io.paths import check_extension, check_input_file
    from ..core.io.writing import TIFF_OUTPUTS, check_output_path
    from ..core.provenance import denoise_record
    from ..core.validate import check_seed, check_steps, check_time_budget
    from .common import ProgressBar, check_cli_paths, check_model_path, steps_text, wrote

    check_steps(args.steps, "--steps")
    check_time_budget(args.time_budget, "--time-budget")
    check_seed(args.seed, "--seed")
    if args.gar < 0 or not math.isfinite(args.gar) or args.gar > 1e6:
        raise UsageError(f"--gar {args.gar}: give 0 (off) or a positive weight", kind="invalid value", option="gar")
    check_cli_paths(args, {"-o": args.output, "--save-model": args.save_model})
    check_input_file(args.input, folders=True)
    model = None
    if args.model is not None:
        if args.steps is not None or args.time_budget is not None:
            raise UsageError("--model applies a saved denoiser without training; omit --steps / --time-budget")
        model = load_denoiser(args.model)
        if args.mode is not None and args.mode != model.config.mode:
            raise UsageError(
                f"--model {args.model} was trained for {model.config.mode}; use --mode {model.config.mode}"
            )
        args.mode = model.config.mode
    args.mode = args.mode or "sis"
    from .blockwise import run_blockwise_denoise, wants_blocks

    if wants_blocks(args):
        from ..core.denoise.options import DenoiseOptions

        options = DenoiseOptions(
            gamma=args.gar,
            fnsm=args.fnsm,
            steps=args.steps,
            time_budget=args.time_budget,
            seed=args.seed,
            sis_inference=args.sis_inference,
        )
        return run_blockwise_denoise(args, options, model)
    if args.mode == "tis" and args.timepoint is not None:
        raise UsageError("--timepoint: TiS learns from the time axis; omit --timepoint")
    check_output_path(args.output, overwrite=args.overwrite, label="-o")
    check_extension(args.output, TIFF_OUTPUTS, "-o")
    if args.save_model is not None:
        check_model_path(args.save_model, args.overwrite)
    data, voxel_size, unit, axes = _read(args)
    seeded = {} if args.seed is None else {"seed": args.seed}
    settings = DenoiseOptions(
        sis_inference=args.sis_inference, gamma=args.gar, fnsm=args.fnsm, steps=args.steps, time_budget=args.time_budget
    )
    settings = replace(settings, **seeded)
    bar = ProgressBar(not args.quiet)
    start = time.perf_counter()
    try:
        result = denoise(
            data,
            args.mode,
            voxel_size=voxel_size,
            device=args.device,
            time_budget=args.time_budget,
            steps=args.steps,
            seed=args.seed,
            gar=args.gar,
            fnsm=args.fnsm,
            progress=bar,
            name=str(args.input),
            model=model,
            options=settings,
        )
    finally:
        bar.close()
    record = denoise_record(result, settings if model is None else DenoiseOptions())
    wrote(_write(args.output, result.data, axes, voxel_size, unit, args.overwrite, record))
    saved = ""
    if args.save_model is not None:
        saved = f"; model saved to {save_denoiser(result, args.save_model)}"
        wrote(args.save_model)
    cutoff = "" if result.fnsm_cutoff is None else f"; {result.model.fnsm.report()}"  # type: ignore[union-attr]
    how = f"saved model {args.model}, no training" if model is not None else f"GAR γ={args.gar:g}"
    print(
        f"self-vision: {args.input.name} {data.shape} {axes} -> {args.output} via {args.mode.upper()} "
        f"({how}); {steps_text(record)}, total {time.perf_counter() - start:.1f} s"
        f"{cutoff}{saved}"
    )
    return 0


def _read(args: argparse.Namespace) -> tuple[np.ndarray, tuple[float, ...] | None, str | None, str]:
    """(data, spatial voxel size, unit, axes): ZYX via core.io for SiS, TYX/TZYX with T kept for TiS."""
    from ..core.io.tiff import read_tiff

    if args.mode == "sis":
        volume = read_tiff(args.input, channel=args.channel, timepoint=args.timepoint)
        return volume.data, volume.voxel_size, volume.unit, volume.axes
    from ..core.io.tiff import read_time_lapse

    return read_time_lapse(args.input, args.channel)


def _write(
    path: Path,
    data: np.ndarray,
    axes: str,
    voxel_size: tuple[float, ...] | None,
    unit: str | None,
    overwrite: bool,
    record: dict | None = None,
) -> Path:
    """YX/ZYX, or TYX/TZYX as an ImageJ hyperstack, through core.io.write_tiff (atomic, never overwrites unasked)."""
    from ..core.io.writing import write_tiff

    unit = unit or "µm"
    return write_tiff(path, data, voxel_size=voxel_size, unit=unit, overwrite=overwrite, axes=axes, record=record)
