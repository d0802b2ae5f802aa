"""How much does a result vary from run to run? Time-budget runs vs exact-steps runs vs different seeds.

A time budget trains as many steps as the machine manages, so two default runs on the same stack train different
step counts and can differ; an exact-steps run with the same seed repeats bit for bit on the CPU; different seeds
show the method's own spread. One held-out stack (the confocal nucleus of ../shared/data, z reduced by keeping
every 3rd plane: point sampling), scored against the full stack with core.quality.score.

    .venv/bin/python benchmarks/reproducibility.py [--budget-runs 3] [--seeds 4] [--budget 40]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import tifffile

from self_vision.api import enhance
from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.quality import crop_reference, degrade_array, score

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nucleus_confocal_widefield.tif"
FACTOR = (3, 1, 1)
SAMPLING = ("point", "area", "area")


def _case() -> tuple[np.ndarray, np.ndarray]:
    volume = tifffile.imread(DATA)[:, 0].astype(np.float32)  # ZCYX: channel 0 is the confocal stack
    reference = crop_reference(volume, FACTOR)
    return reference, degrade_array(reference, FACTOR, sampling=SAMPLING)


def _run(low: np.ndarray, reference: np.ndarray, **settings) -> dict:
    options = EnhanceOptions(sampling="z=point,xy=area", **settings)
    start = time.perf_counter()
    result = enhance(low, FACTOR, voxel_size=(1.497, 0.256, 0.256), device="cpu", options=options)
    per_network = [log.steps for log in result.logs.values()]  # one log per network ("axial", "axial #2", ...)
    psnr = score(result.data, reference, border=(3, 0, 0)).psnr
    return {
        "psnr": psnr,
        "steps": sum(per_network),
        "per_network": per_network,
        "returned": result.returned,
        "seconds": time.perf_counter() - start,
    }


def _spread(rows: list[dict]) -> str:
    values = [r["psnr"] for r in rows]
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"range {max(values) - min(values):.3f} dB, sd {std:.3f} dB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-runs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--budget", type=float, default=None, help="seconds (default: the product's default)")
    args = parser.parse_args()
    reference, low = _case()
    cubic = score(cubic_upsample(low, FACTOR), reference, border=(3, 0, 0)).psnr
    print(f"case: {DATA.name} channel 0, z x3 point sampling, low {low.shape} -> {reference.shape}")
    print(f"cubic {cubic:.3f} dB\n")
    print("| run | seed | steps (all networks) | returned | PSNR dB | gain vs cubic dB | seconds |")
    print("|---|---|---|---|---|---|---|")

    def show(label: str, seed: int, row: dict) -> None:
        print(
            f"| {label} | {seed} | {row['steps']} | {row['returned']} | {row['psnr']:.3f} | "
            f"{row['psnr'] - cubic:+.3f} | {row['seconds']:.0f} |",
            flush=True,
        )

    budget_rows = []
    for i in range(args.budget_runs):
        row = _run(low, reference, seed=0, time_budget=args.budget)
        budget_rows.append(row)
        show(f"time budget #{i + 1}", 0, row)
    # --steps is each network's count: repeat the budget runs' median network, not their total
    steps = int(statistics.median(n for r in budget_rows for n in r["per_network"]))
    exact_rows = []
    for i in range(2):
        row = _run(low, reference, seed=0, steps=steps)
        exact_rows.append(row)
        show(f"exact {steps} steps per network #{i + 1}", 0, row)
    seed_rows = exact_rows[:1]
    for seed in range(1, args.seeds):
        row = _run(low, reference, seed=seed, steps=steps)
        seed_rows.append(row)
        show(f"exact {steps} steps per network", seed, row)
    print()
    print(f"- time-budget runs, seed 0: {_spread(budget_rows)}; steps {[r['steps'] for r in budget_rows]}")
    print(f"- exact-steps runs, seed 0: {_spread(exact_rows)}")
    print(f"- exact steps, seeds 0..{args.seeds - 1}: {_spread(seed_rows)}")


if __name__ == "__main__":
    main()
