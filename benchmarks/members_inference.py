"""Inference time of an axial stage that averages several networks (the default averages 4, Best 12).

    .venv/bin/python benchmarks/members_inference.py --members 1 4 12 --shape 32 256 256 --factor 4 --threads 2

Trains a few steps per network on a synthetic volume (the weights do not matter for the time), then times
whole-volume inference (back-projection included, the self-check off) with each number of networks, best of
``--repeats``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import apply_model_steps, train_steps
from self_vision.core.events import run_to_end
from self_vision.core.sample import synthetic_neurons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 12])
    parser.add_argument("--shape", type=int, nargs=3, default=[32, 256, 256], metavar=("Z", "Y", "X"))
    parser.add_argument("--factor", type=int, default=4, help="axial factor")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    volume = synthetic_neurons(tuple(args.shape), seed=0).astype(np.float32)
    factor = (args.factor, 1, 1)
    out_voxels = volume.size * args.factor
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}; input {volume.shape}, factor {factor}"
    )
    print("| axial networks | inference s | output voxels/s | × one network |")
    print("|---|---:|---:|---:|")
    first = None
    for members in args.members:
        options = EnhanceOptions(steps=2, members=members, self_check=False, resolution=False)
        trained = run_to_end(train_steps(volume, factor, voxel_size=(2.0, 0.5, 0.5), options=options, device="cpu"))
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run_to_end(apply_model_steps(trained.enhancer, volume, voxel_size=(2.0, 0.5, 0.5), device="cpu"))
            seconds.append(time.perf_counter() - start)
        best = min(seconds)
        first = first or best
        print(f"| {members} | {best:.2f} | {out_voxels / best:.3g} | {best / first:.2f} |")


if __name__ == "__main__":
    main()
