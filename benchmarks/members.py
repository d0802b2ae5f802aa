"""Several networks per stage: how the mean of K independently seeded fits compares with one fit.

Trains the product's enhancement ``K`` times on one degraded case (seeds ``--seeds``, exact steps, no self-check,
so every fit sees the whole input), then scores each network (with the product's back-projection) and the mean
of the first k of them, k = 2 .. K, against the reference, as gains in dB over the better classical result
(cubic or back-projection) with 95 % block-bootstrap intervals. ``EnhanceOptions.members`` is this mean inside
one run (its networks continue one random sequence instead of taking one seed each).

    .venv/bin/python benchmarks/members.py --protocol point --volumes nucleus --factor 4,1,1 --seeds 0-7 --steps 1500
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from pathlib import Path

import numpy as np
import torch

from quality import load_volumes
from self_vision.core.bootstrap import block_sse, gain_interval
from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.events import run_to_end
from self_vision.core.quality import back_projection_baseline, crop_reference, degrade_array
from self_vision.core.validate import parse_factor


def seeds_arg(text: str) -> list[int]:
    """``0-7`` or ``0,3,5``."""
    if "-" in text:
        low, high = (int(v) for v in text.split("-"))
        return list(range(low, high + 1))
    return [int(v) for v in text.split(",")]


def _gain(gain: tuple[float, float, float]) -> str:
    return f"{gain[0]:+.2f} [{gain[1]:+.2f}, {gain[2]:+.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--volumes", nargs="+", default=["nucleus"])
    parser.add_argument("--factor", default="4,1,1")
    parser.add_argument("--protocol", default="point", choices=["area", "point"])
    parser.add_argument("--seeds", type=seeds_arg, default=seeds_arg("0-7"))
    parser.add_argument("--steps", type=int, default=1500, help="exact steps of each network")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, {args.threads} "
        f"threads, torch {torch.__version__}; protocol {args.protocol}, factor {args.factor}, {args.steps} steps"
    )
    for name, (reference, voxel) in load_volumes(args.data, args.volumes).items():
        factor = parse_factor(args.factor, reference.ndim)
        options = EnhanceOptions(sampling=args.protocol, steps=args.steps, self_check=False)
        sampling = options.sampling_for(reference.ndim)
        reference = crop_reference(reference, factor)
        low = degrade_array(reference, factor, options.operator, options.psf_sigma, sampling)
        low_voxel = tuple(v * f for v, f in zip(voxel, factor, strict=True))
        border = [2 * f for f in factor]
        classical = {
            "cubic": block_sse(cubic_upsample(low, factor), reference, border),
            "back-projection": block_sse(
                back_projection_baseline(low, factor, options.operator, 10, options.psf_sigma, sampling),
                reference,
                border,
            ),
        }
        best = min(classical, key=lambda k: classical[k].sum())
        outputs = []
        for seed in args.seeds:
            run = dataclasses.replace(options, seed=seed)
            result = run_to_end(enhance_steps(low, factor, voxel_size=low_voxel, options=run, device="cpu"))
            trained = dataclasses.replace(result.model, detail_weights={}, back_projection=run.back_projection)
            outputs.append(result.normalizer.inverse(trained.apply(result.normalizer.forward(low))))
            gain = gain_interval(block_sse(outputs[-1], reference, border), classical[best])
            print(
                f"| {name} | {args.factor} | seed {seed} | {gain[0]:+.2f} [{gain[1]:+.2f}, {gain[2]:+.2f}] vs {best} |"
            )
        singles = [gain_interval(block_sse(y, reference, border), classical[best])[0] for y in outputs]
        spread = np.std(singles, ddof=1) if len(singles) > 1 else 0.0
        print(f"| {name} | {args.factor} | one network: mean {np.mean(singles):+.2f}, s.d. {spread:.2f} |")
        for k in range(2, len(outputs) + 1):
            gain = gain_interval(block_sse(np.mean(outputs[:k], axis=0), reference, border), classical[best])
            print(
                f"| {name} | {args.factor} | mean of {k} | {gain[0]:+.2f} [{gain[1]:+.2f}, {gain[2]:+.2f}] vs {best} |"
            )


if __name__ == "__main__":
    main()
