"""``self-vision enhance`` and ``self-vision evaluate``: parse, call the API, write, summarise."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..core.errors import UsageError
from ..core.validate import parse_factor
from .common import (
    STRICT_EXIT,
    ProgressBar,
    check_cli_paths,
    check_model_path,
    enhance_options,
    gate_text,
    read_volume,
    steps_text,
    voxel_size_arg,
    wrote,
)


def run_enhance(args: argparse.Namespace) -> int:
    from ..api import enhance
    from ..core.enhance.enhancer import load_model, save_model
    from ..core.io.paths import check_extension, check_input_file
    from ..core.io.writing import TIFF_OUTPUTS, check_output_path, write_tiff
    from ..core.provenance import enhance_record
    from .blockwise import run_blockwise_enhance, wants_blocks

    options = enhance_options(args)
    if wants_blocks(args):
        return run_blockwise_enhance(args, options, voxel_size_arg(args.voxel_size))
    voxel_size_arg(args.voxel_size)  # checked before any work
    outputs = {"-o": args.output, "--uncertainty": args.uncertainty, "--save-model": args.save_model}
    check_cli_paths(args, outputs)
    check_input_file(args.input)
    check_output_path(args.output, overwrite=args.overwrite, label="-o")
    check_extension(args.output, TIFF_OUTPUTS, "-o")
    if args.save_model is not None:
        check_model_path(args.save_model, args.overwrite)
    if args.uncertainty is not None:
        check_output_path(args.uncertainty, overwrite=args.overwrite, label="--uncertainty")
        check_extension(args.uncertainty, TIFF_OUTPUTS, "--uncertainty")
    model = load_model(args.model) if args.model is not None else None
    if model is None and args.factor is None:
        raise UsageError("enhance: give --factor Z,Y,X (e.g. 1,4,4), or --model PATH to apply a saved model")
    volume = read_volume(args, args.input)
    if model is not None and args.factor is not None:
        given = parse_factor(args.factor, volume.data.ndim)
        if given != model.factor:
            raise UsageError(f"--factor {args.factor} differs from the model's factor {model.factor}; omit --factor")
    elif model is None:
        parse_factor(args.factor, volume.data.ndim)
    bar = ProgressBar(not args.quiet)
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
    unit = volume.unit or "µm"
    record = enhance_record(result, options)
    kept = {"voxel_size": result.voxel_size, "unit": unit, "overwrite": args.overwrite, "record": record}
    wrote(write_tiff(args.output, result.data, **kept))
    if args.uncertainty is not None and result.uncertainty is not None:
        wrote(write_tiff(args.uncertainty, result.uncertainty, **kept))
    if args.save_model is not None:
        wrote(save_model(result.model, args.save_model))
    voxel = "" if result.voxel_size is None else " voxel " + "x".join(f"{v:g}" for v in result.voxel_size)
    check = result.self_check
    gain = "" if check is None or not check.gains else f"; self-check {check.gain:+.2f} dB vs cubic"
    gain += gate_text(result.gate, check)
    print(
        f"self-vision: {args.input.name} {volume.data.shape} -> {args.output} {result.data.shape}{voxel} "
        f"via {result.path}; {steps_text(record)}, total {time.perf_counter() - start:.1f} s{gain}"
    )
    if result.resolution is not None:
        print(f"self-vision: {result.resolution.summary()}")
    if check is not None and not check.trusted:
        print(f"self-vision: warning: {check.summary()}", file=sys.stderr)
        if args.strict:
            return STRICT_EXIT
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from ..api import evaluate
    from ..core.io.paths import check_input_file

    options = enhance_options(args)
    voxel_size_arg(args.voxel_size)
    check_input_file(args.reference)
    volume = read_volume(args, args.reference)
    bar = ProgressBar(not args.quiet and not args.json)
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
                    "sampling": evaluation.sampling,
                    "returned": evaluation.returned,
                    "gate": evaluation.gate,
                }
            )
        )
        return 0
    cubic = evaluation.scores["cubic"]["psnr"]
    print(f"{'method':<16} {'PSNR (dB)':>9} {'SSIM':>7} {'vs cubic':>9}")
    for name, s in evaluation.scores.items():
        print(f"{name:<16} {s['psnr']:>9.2f} {s['ssim']:>7.4f} {s['psnr'] - cubic:>+9.2f}")
    print(f"path: {evaluation.path}; trained {evaluation.train_seconds:.1f} s")
    if evaluation.gate:
        print(f"enhanced = {evaluation.returned}: {evaluation.gate}".replace("(keep_network)", "(--keep-network)"))
    return 0
