"""Speed and memory benchmark: training steps/s, inference output voxels/s, peak RSS of a whole run.

    .venv/bin/python benchmarks/speed.py            # markdown rows for docs/benchmarks.md
    .venv/bin/python benchmarks/speed.py --shape 32,256,256 --factor 1,4,4 --threads 1 2

Each measurement runs in a fresh subprocess so that peak RSS belongs to that run alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time


def _child(kind: str, shape: tuple[int, ...], factor: tuple[int, ...], threads: int, steps: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from self_vision.core.enhance.options import EnhanceOptions
    from self_vision.core.enhance.run import enhance_steps
    from self_vision.core.events import run_to_end
    from self_vision.core.sample import synthetic_neurons

    volume = (synthetic_neurons(shape, seed=0) * 1000).astype(np.uint16)
    options = EnhanceOptions(steps=steps, seed=0)
    start = time.perf_counter()
    result = run_to_end(enhance_steps(volume, factor, voxel_size=(2.0, 0.5, 0.5), options=options, device="cpu"))
    total = time.perf_counter() - start
    out = {"kind": kind, "shape": shape, "factor": factor, "threads": threads, "path": result.path}
    out["train_steps"] = sum(log.steps for log in result.logs.values())
    out["train_seconds"] = result.train_seconds
    out["steps_per_s"] = out["train_steps"] / max(result.train_seconds, 1e-9)
    normalized = result.normalizer.forward(volume)
    for bp, label in ((0, "infer_net"), (result.model.back_projection, "infer_net_bp")):
        t = time.perf_counter()
        y = result.model.apply(normalized, back_projection=bp)
        seconds = time.perf_counter() - t
        out[f"{label}_seconds"] = seconds
        out[f"{label}_voxels_per_s"] = y.size / seconds
    out["total_seconds"] = total
    out["output_voxels"] = int(result.data.size)
    out["input_bytes"] = int(volume.nbytes)
    out["output_bytes"] = int(result.data.nbytes)
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="32,256,256")
    parser.add_argument("--factors", nargs="+", default=["1,4,4", "4,1,1"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = tuple(int(v) for v in args.shape.split(","))
    if args.child:
        factor, threads = args.child.split(":")
        print(json.dumps(_child("run", shape, tuple(int(v) for v in factor.split(",")), int(threads), args.steps)))
        return
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.machine()}, {platform.python_version()}, input {shape} uint16")
    print(
        "| factor | threads | path | train steps/s | inference voxels/s (net) | (net + BP) | output voxels |"
        " peak RSS | limit 3×(in+out)+1 GB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for factor in args.factors:
        for threads in args.threads:
            cmd = [
                sys.executable,
                __file__,
                "--shape",
                args.shape,
                "--steps",
                str(args.steps),
                "--child",
                f"{factor}:{threads}",
            ]
            row = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
            limit = 3 * (row["input_bytes"] + row["output_bytes"]) + 2**30
            print(
                f"| {factor} | {threads} | {row['path']} | {row['steps_per_s']:.1f} | "
                f"{row['infer_net_voxels_per_s']:.2e} | {row['infer_net_bp_voxels_per_s']:.2e} | "
                f"{row['output_voxels']:.2e} | {row['peak_rss_bytes'] / 2**30:.2f} GiB | {limit / 2**30:.2f} GiB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
