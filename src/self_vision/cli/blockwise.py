"""``self-vision enhance`` / ``denoise`` for volumes larger than memory: block-wise into OME-Zarr / BigTIFF,
resumable, optionally on a dask.distributed cluster. Parses and prints; the work is in
:mod:`self_vision.core.blockwise`."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..defaults import BLOCKWISE_OUTPUT_BYTES


def add_blockwise_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("large volumes (block-wise; automatic for .zarr input/output and huge outputs)")
    group.add_argument("--resume", action="store_true", help="continue an interrupted block-wise run (OUT.partial)")
    group.add_argument("--workers", type=int, default=None, metavar="N", help="a local dask cluster of N processes")
    group.add_argument("--scheduler", default=None, metavar="ADDRESS", help="a dask scheduler, e.g. tcp://host:8786")
    group.add_argument("--chunks", default=None, metavar="Z,Y,X", help="output chunk shape (default 64,256,256)")
    group.add_argument(
        "--train-voxels", type=int, default=None, metavar="N", help="train on a region of at most N input voxels"
    )
    group.add_argument(
        "--block-voxels",
        type=int,
        default=None,
        metavar="N",
        help="output voxels per block (bounds memory; default 2^25)",
    )


def wants_blocks(args: argparse.Namespace) -> bool:
    """Block-wise when asked for (Zarr in/out, resume, cluster, chunks) or when the output would be huge."""
    from ..core.blockwise.run import is_blockwise_output
    from ..core.io.lazy import is_zarr_path

    if is_zarr_path(args.input) or is_blockwise_output(args.output):
        return True
    asked = (args.workers, args.scheduler, args.chunks, args.train_voxels, args.block_voxels)
    if args.resume or any(v is not None for v in asked):
        return True
    try:
        size = args.input.stat().st_size
    except OSError:
        return False
    factor = _factor_product(getattr(args, "factor", None))
    return size * factor * 2 > BLOCKWISE_OUTPUT_BYTES  # 16-bit input -> float32 output


def run_blockwise_enhance(args: argparse.Namespace, options: Any, voxel_size: tuple[float, ...] | None) -> int:
    """``self-vision enhance`` block by block."""
    from ..api import RunRequest
    from ..core.enhance.enhancer import load_model

    if getattr(args, "uncertainty", None) is not None:
        raise UsageError("--uncertainty is not available for block-wise (large or .zarr) runs")
    if args.save_model is not None:
        raise UsageError(
            "block-wise runs keep their model inside the output (.self_vision/model.pt); drop --save-model"
        )
    model = load_model(args.model) if args.model is not None else None
    if model is not None and args.factor is not None:
        from ..core.validate import parse_factor

        if parse_factor(args.factor, len(model.factor)) != tuple(model.factor):
            raise UsageError(f"--factor {args.factor} differs from the model's factor {model.factor}; omit --factor")
    if model is None and args.factor is None and not args.resume:
        raise UsageError("enhance: give --factor Z,Y,X (e.g. 1,4,4), or --model PATH to apply a saved model")

    request = RunRequest("enhance", factor=args.factor if model is None else model.factor, options=options, model=model)
    return _run_blockwise(args, request, voxel_size, "enhanced")


def run_blockwise_denoise(args: argparse.Namespace, options: Any, model: Any) -> int:
    """``self-vision denoise`` block by block (SiS on a z-stack)."""
    from ..api import RunRequest

    if args.mode == "tis":
        raise UsageError(
            "block-wise (large or .zarr) denoising is SiS on a z-stack; TiS needs the time-lapse in memory"
        )
    if args.save_model is not None:
        raise UsageError(
            "block-wise runs keep their model inside the output (.self_vision/model.pt); drop --save-model"
        )

    request = RunRequest("denoise", denoise_options=options, model=model)
    return _run_blockwise(args, request, None, "denoised")


def _run_blockwise(args: argparse.Namespace, request: Any, voxel_size: tuple[float, ...] | None, what: str) -> int:
    """Open the input lazily, connect to a cluster if asked, run ``request`` block-wise with a progress bar."""
    from ..api import Blockwise, run
    from ..core.events import run_to_end
    from ..core.io.lazy import open_lazy
    from .common import STRICT_EXIT, ProgressBar, steps_text

    if args.workers is not None and args.scheduler:
        raise UsageError("give --workers N (a local cluster) or --scheduler ADDRESS, not both")
    from ..core.blockwise.plan import check_block_settings
    from ..core.validate import check_int

    check_int(args.workers, "--workers", "workers", minimum=1, maximum=4096, what="number of worker processes")
    labels = ("--chunks", "--block-voxels", "--train-voxels")
    chunks = check_block_settings(_chunks(args.chunks), args.block_voxels, args.train_voxels, labels=labels)
    volume = open_lazy(args.input, channel=args.channel, timepoint=args.timepoint)
    check_block_settings(chunks, None, None, len(volume.shape), labels=labels)
    if voxel_size is not None:
        if len(voxel_size) != len(volume.shape):
            raise UsageError(f"--voxel-size: give {len(volume.shape)} positive numbers")
        volume.voxel_size = voxel_size
    client = None
    if args.workers is not None or args.scheduler:
        from ..core.blockwise.distributed import connect

        client = connect(args.scheduler, args.workers)
    bar = ProgressBar(not args.quiet)
    start = time.perf_counter()
    try:
        request.device = args.device
        request.name = str(args.input)
        request.blockwise = Blockwise(
            volume,
            args.output,
            resume=args.resume,
            overwrite=args.overwrite,
            chunks=chunks,
            block_output=args.block_voxels,
            train_voxels=args.train_voxels,
            client=client,
        )
        result = run_to_end(run(request), bar)
    except KeyboardInterrupt:
        bar.close()
        partial = Path(str(args.output) + ".partial")
        where = f"; finished blocks are kept in {partial}, rerun with --resume" if partial.exists() else ""
        print(f"self-vision: interrupted{where}", file=sys.stderr)
        return 130
    finally:
        bar.close()
        if client is not None:
            from ..core.blockwise.distributed import close

            close(client)
    seconds = time.perf_counter() - start
    voxels = math.prod(result.shape)
    gate = ""
    if request.task == "enhance" and result.gate is not None:
        from .common import gate_text

        gate = gate_text(result.gate, result.self_check)
    resumed = f", {result.resumed_blocks} resumed" if result.resumed_blocks else ""
    print(
        f"self-vision: {args.input.name} {volume.shape} -> {result.path} {result.shape} {what} in {result.blocks} "
        f"blocks{resumed}; {steps_text(result.record)}, {voxels / max(result.infer_seconds, 1e-9):.3g} "
        f"output voxels/s, total {seconds:.1f} s{gate}"
    )
    if result.resolution is not None:
        print(f"self-vision: {result.resolution.summary()}")
    check = result.self_check
    if check is not None and not check.trusted:
        print(f"self-vision: warning: {check.summary()}", file=sys.stderr)
        if getattr(args, "strict", False):
            return STRICT_EXIT
    return 0


def _chunks(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--chunks {text!r}: write whole numbers like 32,256,256") from None


def _factor_product(text: str | None) -> int:
    if not text:
        return 1
    try:
        return math.prod(int(v) for v in str(text).replace("x", ",").split(","))
    except ValueError:
        return 1
