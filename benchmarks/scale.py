"""Large-volume benchmark: block-wise enhancement into OME-Zarr — throughput, peak memory, scaling.

    .venv/bin/python benchmarks/scale.py                       # 1.25e8 .. 1e9 output voxels, 1 process
    .venv/bin/python benchmarks/scale.py --sizes 5e8 --workers 1 2 --threads 1
    .venv/bin/python benchmarks/scale.py --sizes 2e6 --keep    # a quick check

A synthetic input (tiled synthetic neurons, uint16, written to Zarr chunk by chunk so that making it
needs little memory) is enhanced by ``--factor`` with one model trained beforehand (training time is not
part of these numbers; see benchmarks/speed.py). Every run is a fresh subprocess; peak memory is the
largest sum of RSS over that process and all its children (dask workers included), sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "scale"


def _input_shape(output_voxels: float, factor: tuple[int, ...], depth: int) -> tuple[int, int, int]:
    lateral = math.sqrt(output_voxels / (depth * factor[0]) / (factor[1] * factor[2]))
    side = max(16, round(lateral))
    return depth, side, side


def make_input(path: Path, shape: tuple[int, int, int]) -> None:
    """Tile a 256² synthetic neuron field over ``shape`` (with flips so it does not repeat exactly)."""
    import numpy as np
    import zarr

    from self_vision.core.sample import synthetic_neurons

    tile = (synthetic_neurons((shape[0], 256, 256), seed=0) * 3000).astype(np.uint16)
    array = zarr.create_array(str(path), shape=shape, chunks=(shape[0], 256, 256), dtype="uint16", overwrite=True)
    for y in range(0, shape[1], 256):
        for x in range(0, shape[2], 256):
            part = tile[:, :: (-1) ** (y // 256), :: (-1) ** (x // 256)]
            h, w = min(256, shape[1] - y), min(256, shape[2] - x)
            array[:, y : y + h, x : x + w] = part[:, :h, :w]


def train_model(path: Path, factor: tuple[int, ...], steps: int) -> None:
    import numpy as np
    import torch

    from self_vision.core.enhance.enhancer import save_model
    from self_vision.core.enhance.options import EnhanceOptions
    from self_vision.core.enhance.run import train_steps
    from self_vision.core.events import run_to_end
    from self_vision.core.sample import synthetic_neurons

    torch.set_num_threads(2)
    volume = (synthetic_neurons((32, 256, 256), seed=0) * 3000).astype(np.uint16)
    trained = run_to_end(train_steps(volume, factor, options=EnhanceOptions(steps=steps, seed=0), device="cpu"))
    save_model(trained.enhancer, path)


def _child(args: argparse.Namespace) -> dict:
    import torch

    from self_vision.core.blockwise.run import enhance_blockwise_steps
    from self_vision.core.enhance.enhancer import load_model
    from self_vision.core.events import run_to_end
    from self_vision.core.io.lazy import open_lazy

    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    client = None
    workers = args.workers[0]
    if workers > 1 or args.cluster:
        from self_vision.core.blockwise.distributed import connect

        client = connect(workers=workers, threads_per_worker=args.threads)
    volume = open_lazy(args.input)
    start = time.perf_counter()
    result = run_to_end(enhance_blockwise_steps(volume, args.output, None, model=model, device="cpu", client=client))
    seconds = time.perf_counter() - start
    if client is not None:
        from self_vision.core.blockwise.distributed import close

        close(client)
    voxels = math.prod(result.shape)
    return {
        "input_shape": list(volume.shape),
        "output_shape": list(result.shape),
        "output_voxels": voxels,
        "blocks": result.blocks,
        "infer_seconds": result.infer_seconds,
        "total_seconds": seconds,  # blocks + pyramid + metadata
        "voxels_per_s": voxels / result.infer_seconds,
        "seconds_per_gvoxel": result.infer_seconds / voxels * 1e9,
    }


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def measure(command: list[str]) -> tuple[dict, int]:
    """Run ``command``; return its JSON result and the peak RSS of its process tree."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"benchmark child failed ({proc.returncode}): {' '.join(command)}")
    return json.loads(stdout.strip().splitlines()[-1]), peak[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1.25e8, 2.5e8, 5e8, 1e9], help="output voxels")
    parser.add_argument("--factor", default="1,4,4")
    parser.add_argument("--depth", type=int, default=32, help="input slices")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="dask worker processes (1: no cluster)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per process")
    parser.add_argument("--steps", type=int, default=200, help="training steps of the model used")
    parser.add_argument("--keep", action="store_true", help="keep inputs and outputs under benchmarks/out/scale")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    parser.add_argument("--plot", type=Path, default=None, help="also draw cost per voxel against size (PNG)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cluster", action="store_true", help="use a LocalCluster even for 1 worker")
    parser.add_argument("--input", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args)))
        return
    factor = tuple(int(v) for v in args.factor.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    model = OUT / f"model_{'x'.join(map(str, factor))}.pt"
    if not model.exists():
        train_model(model, factor, args.steps)
    rows = []
    for size in args.sizes:
        shape = _input_shape(size, factor, args.depth)
        source = OUT / f"input_{'x'.join(map(str, shape))}.zarr"
        if not source.exists():
            make_input(source, shape)
        for workers in args.workers:
            target = OUT / "result.zarr"
            shutil.rmtree(target, ignore_errors=True)
            shutil.rmtree(OUT / "result.zarr.partial", ignore_errors=True)
            command = [sys.executable, __file__, "--child", "--input", str(source), "--output", str(target)]
            command += ["--model", str(model), "--workers", str(workers), "--threads", str(args.threads)]
            row, peak = measure(command)
            row.update(workers=workers, threads=args.threads, peak_rss_gib=peak / 2**30)
            rows.append(row)
            print(
                f"| {row['output_voxels']:.3g} | {'x'.join(map(str, row['input_shape']))} | {workers} x {args.threads} "
                f"| {row['blocks']} | {row['infer_seconds']:.0f} | {row['voxels_per_s']:.3g} "
                f"| {row['seconds_per_gvoxel']:.0f} | {row['peak_rss_gib']:.2f} |",
                flush=True,
            )
        if not args.keep:
            shutil.rmtree(source, ignore_errors=True)
    shutil.rmtree(OUT / "result.zarr", ignore_errors=True)
    print(
        f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.plot:
        plot(rows, args.plot)


def plot(rows: list[dict], path: Path) -> None:
    """Seconds per 10⁹ output voxels against output size, one line per worker layout."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    for layout in sorted({(r["workers"], r["threads"]) for r in rows}):
        mine = sorted((r for r in rows if (r["workers"], r["threads"]) == layout), key=lambda r: r["output_voxels"])
        x = [r["output_voxels"] for r in mine]
        ax.plot(x, [r["seconds_per_gvoxel"] for r in mine], "o-", label=f"{layout[0]} process x {layout[1]} threads")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("output voxels")
    ax.set_ylabel("seconds per 10⁹ output voxels")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
