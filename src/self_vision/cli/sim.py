"""The ``self-vision sim`` subcommand: raw 2D-SIM frames -> Wiener SIM or rDL-SIM on a 2x grid.

``-o`` holds the final super-resolved image: the rDL-SIM image (Wiener SIM of the denoised raw frames) with
``--denoise rdl`` or ``plain``, else the Wiener SIM of the raw frames. ``--sim-wiener``, ``--widefield`` and
``--denoised`` write the other images of the run. Every number and path is checked before any work.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.errors import KIND_INVALID_VALUE, UsageError, invalid

#: Accepted ranges of the optical settings (wavelengths in nm on this face, NA dimensionless).
WAVELENGTH_NM = (250.0, 1500.0)
NA_RANGE = (0.1, 1.7)


def add_sim_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``sim`` on the ``self-vision`` subparsers; the defaults shown come from ``SimOptions``."""
    from ..core.sim.options import DENOISERS, TRAINING_MODES, SimOptions

    d = SimOptions()
    p = sub.add_parser(
        "sim",
        help="reconstruct raw 2D-SIM frames (3 orientations x 3 phases) on a 2x grid; optionally rDL-denoise them",
        description="-o holds the rDL-SIM image with --denoise rdl (plain: the same without the pattern branch), "
        "else the Wiener SIM of the raw frames. Defaults: see self_vision.core.sim.run.SimOptions.",
    )
    p.add_argument("input", type=Path, help="raw frames (9, Y, X) or (T, 9, Y, X) as .mrc or .tif")
    p.add_argument("-o", "--output", type=Path, required=True, help="super-resolved result (.tif, half the pixel)")
    p.add_argument("--pixel-size", type=float, default=None, metavar="UM", help="camera pixel in µm (default: file's)")
    p.add_argument(
        "--wavelength",
        "--excitation-wavelength",
        dest="excitation_wavelength",
        type=float,
        default=None,
        metavar="NM",
        help=f"excitation wavelength in nm (default {1000 * d.excitation_wavelength_um:g}): with --excitation-na, "
        "the expected pattern period",
    )
    p.add_argument(
        "--emission-wavelength",
        type=float,
        default=None,
        metavar="NM",
        help=f"nm (default {1000 * d.emission_wavelength_um:g})",
    )
    p.add_argument(
        "--na", type=float, default=None, help=f"detection NA, for the computed OTF (default {d.na_detection:g})"
    )
    p.add_argument(
        "--excitation-na", type=float, default=None, help=f"NA of the pattern beams (default {d.na_excitation:g})"
    )
    p.add_argument("--otf", type=Path, default=None, metavar="FILE", help="measured radial OTF (.mrc, 1 x N)")
    p.add_argument(
        "--order", choices=["orientation-major", "phase-major"], default=None, help=f"frame order (default {d.order})"
    )
    p.add_argument("--offset", type=float, default=None, metavar="COUNTS", help="camera offset (default: estimated)")
    p.add_argument("--angles", default=None, metavar="A,B,C", help="prior pattern angles in rad, one per orientation")
    p.add_argument("--wiener", type=float, default=None, metavar="W", help=f"Wiener parameter (default {d.wiener:g})")
    p.add_argument("--denoise", choices=DENOISERS, default=d.denoise, help=f"raw-frame denoiser (default {d.denoise})")
    p.add_argument(
        "--training",
        choices=TRAINING_MODES,
        default=None,
        help="auto: supervised with --target, timelapse with T >= 2, else self (recorruption)",
    )
    p.add_argument("--target", type=Path, default=None, metavar="HIGH_SNR", help="matched high-SNR raw frames")
    p.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"training time (default {d.time_budget_s:g})",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="exactly N training steps, no time limit (the run repeats exactly); with --time-budget: at most N",
    )
    p.add_argument("--seed", type=int, default=None, help=f"random seed (default {d.seed})")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--sim-wiener", type=Path, default=None, metavar="PATH", help="also write the Wiener SIM")
    p.add_argument("--widefield", type=Path, default=None, metavar="PATH", help="also write the widefield (2x grid)")
    p.add_argument("--denoised", type=Path, default=None, metavar="PATH", help="also write the denoised raw frames")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _outputs(args: argparse.Namespace) -> dict[str, Path | None]:
    return {"-o": args.output, "--sim-wiener": args.sim_wiener, "--widefield": args.widefield,
            "--denoised": args.denoised}  # fmt: skip


def _ranged(value: float | None, label: str, option: str, low: float, high: float, unit: str = "") -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or not low <= value <= high:
        raise invalid(label, value, f"give a value from {low:g} to {high:g}{unit}", option)
    return float(value)


def _angles(text: str | None) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        angles = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(
            f"--angles {text!r}: write radians like 1.48,2.53,3.57", kind=KIND_INVALID_VALUE, option="angles_prior"
        ) from None
    if len(angles) != 3 or not all(math.isfinite(a) for a in angles):
        raise invalid("--angles", text, "give 3 finite angles in radians, one per orientation", "angles_prior")
    return angles


def sim_options(args: argparse.Namespace) -> Any:
    """SimOptions from the flags; every number checked (one-line UsageError) before any file is read."""
    from ..core.sim.run import SimOptions
    from ..core.validate import check_seed, check_steps, check_time_budget

    check_time_budget(args.time_budget, "--time-budget")
    check_steps(args.steps, "--steps")
    check_seed(args.seed, "--seed")
    nm = " nm"
    changes: dict[str, Any] = {
        "pixel_size_um": _ranged(args.pixel_size, "--pixel-size", "pixel_size", 1e-3, 0.2, " µm"),
        "excitation_wavelength_um": _ranged(
            args.excitation_wavelength, "--wavelength", "wavelength", *WAVELENGTH_NM, nm
        ),
        "emission_wavelength_um": _ranged(
            args.emission_wavelength, "--emission-wavelength", "emission_wavelength", *WAVELENGTH_NM, nm
        ),
        "na_detection": _ranged(args.na, "--na", "na", *NA_RANGE),
        "na_excitation": _ranged(args.excitation_na, "--excitation-na", "excitation_na", *NA_RANGE),
        "offset": _ranged(args.offset, "--offset", "offset", 0.0, 1e6, " counts"),
        "wiener": _ranged(args.wiener, "--wiener", "wiener", 1e-6, 100.0),
        "time_budget_s": args.time_budget,
        "max_steps": args.steps,
        "seed": args.seed,
        "order": args.order,
        "training": args.training,
        "otf_path": None if args.otf is None else str(args.otf.expanduser()),
        "angles_prior": _angles(args.angles),
        "denoise": args.denoise,
        "device": args.device,
    }
    if args.steps is not None and args.time_budget is None:
        changes["time_budget_s"] = math.inf  # exactly --steps steps: the run repeats exactly
    for key in ("excitation_wavelength_um", "emission_wavelength_um"):
        if changes[key] is not None:
            changes[key] /= 1000.0
    changes = {k: v for k, v in changes.items() if v is not None}
    if args.denoise == "none":
        denoise_only = (("--training", args.training), ("--target", args.target), ("--denoised", args.denoised),
                        ("--time-budget", args.time_budget), ("--steps", args.steps))  # fmt: skip
        given = [flag for flag, value in denoise_only if value is not None]
        if given:
            raise UsageError(f"{given[0]} applies to raw-frame denoising; add --denoise rdl (or plain)")
    if args.training == "supervised" and args.target is None:
        raise UsageError("--training supervised needs --target HIGH_SNR (matched high-SNR raw frames)")
    if args.target is not None and args.training not in (None, "auto", "supervised"):
        raise UsageError(
            f"--target is for supervised training; omit it or use --training supervised, not {args.training}"
        )
    return replace(SimOptions(), **changes)


def _read(path: Path, label: str) -> Any:
    from ..core.io.paths import check_input_file
    from ..core.sim.read import read_raw_sim

    check_input_file(path, label=label)
    return read_raw_sim(path)


def run_sim_command(args: argparse.Namespace) -> int:
    """Handle ``self-vision sim``."""
    from ..api import RunRequest, run
    from ..core.devices import resolve_device
    from ..core.events import run_to_end
    from ..core.io.paths import check_extension, check_input_file, resolve_paths
    from ..core.io.writing import TIFF_OUTPUTS, check_output_path
    from ..core.provenance import sim_record
    from ..core.sim import layout
    from ..core.sim.run import with_file_pixel
    from .common import ProgressBar, steps_text

    options = sim_options(args)
    outputs = _outputs(args)
    resolve_paths({"input": args.input, "--otf": args.otf, "--target": args.target}, outputs)
    check_input_file(args.input)
    for label, path in outputs.items():
        if path is not None:
            check_output_path(path, overwrite=args.overwrite, label=label)
            check_extension(path, TIFF_OUTPUTS, label)
    resolve_device(args.device)
    if args.otf is not None:
        from ..core.sim.optics import read_otf

        check_input_file(args.otf, label="otf")
        read_otf(args.otf)  # a wrong kind of file fails here, before any work
    raw = _read(args.input, "input")
    layout.arrange(raw.data, options.n_orientations, options.n_phases, options.order)  # frame count and shape
    if options.pixel_size_um is None and raw.pixel_size_um is None:
        raise UsageError(f"{args.input}: the file records no pixel size; give --pixel-size UM (e.g. 0.0626)")
    both = options.pixel_size_um is not None and raw.pixel_size_um is not None
    if both and abs(options.pixel_size_um / raw.pixel_size_um - 1) > 0.01:
        _warn(f"--pixel-size {options.pixel_size_um:g} µm differs from the file's {raw.pixel_size_um:g} µm; using it")
    options = with_file_pixel(options, raw.pixel_size_um)
    target = None
    if args.target is not None:
        target = _read(args.target, "target").data
        if target.shape != raw.data.shape:
            raise UsageError(f"--target {args.target} has shape {target.shape}, the raw frames {raw.data.shape}; "
                             "give matched acquisitions")  # fmt: skip
    bar = ProgressBar(not args.quiet)
    start = time.perf_counter()
    try:
        request = RunRequest(
            "sim", raw.data, device=args.device, sim_options=options, target=target, name=str(args.input)
        )
        result = run_to_end(run(request), bar)
    finally:
        bar.close()
    record = sim_record(result, options)
    final = result.sr_denoised if result.sr_denoised is not None else result.sr
    what = {"rdl": "rDL-SIM", "plain": "plain-denoised SIM"}.get(options.denoise, "Wiener SIM")
    _write(args.output, final, result.pixel_size_um, args.overwrite, record)
    if args.sim_wiener is not None:
        _write(args.sim_wiener, result.sr, result.pixel_size_um, args.overwrite, record)
    if args.widefield is not None:
        _write(args.widefield, result.widefield, result.pixel_size_um, args.overwrite, record)
    if args.denoised is not None and result.denoised is not None:
        _write(args.denoised, result.denoised, result.raw_pixel_size_um, args.overwrite, record, frames=True)
    if result.losses:
        trained = f"; {result.training_mode} training, {steps_text(record)}"
    else:
        trained = "; no training (Wiener SIM only): repeats exactly"
    print(
        f"self-vision: {args.input.name} {raw.data.shape} -> {args.output} {final.shape} {what}, "
        f"pixel {result.pixel_size_um:g} µm{trained}; total {time.perf_counter() - start:.1f} s"
    )
    print(result.summary())
    for warning in result.warnings:
        _warn(warning)
    return 0


def _warn(message: str) -> None:
    print(f"self-vision: warning: {' '.join(message.split())}", file=sys.stderr)


def _write(path: Path, data: Any, pixel_um: float, overwrite: bool, record: dict, frames: bool = False) -> None:
    """YX (one acquisition) or TYX (time-lapse; raw frames: every frame in input order) with the pixel size."""
    from ..core.io.writing import write_tiff
    from .common import wrote

    if frames:
        data = data.reshape(-1, *data.shape[-2:])
    axes = "YX" if data.ndim == 2 else "TYX"
    wrote(write_tiff(path, data, voxel_size=(pixel_um, pixel_um), unit="µm", overwrite=overwrite, axes=axes,
                          record=record))  # fmt: skip
