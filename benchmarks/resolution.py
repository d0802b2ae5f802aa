"""The no-reference resolution figure against the truth: decorrelation per axis of the reference, the input and
every method's result, beside each result's PSNR gain over cubic and its consistency with the input.

It shows what the figure can and cannot say: whether it tracks the reference's resolution, and whether a result
that reads sharper is also closer to the truth (docs/method.md, "Resolution without a reference").

    .venv/bin/python benchmarks/resolution.py --protocol point --volumes cortex nucleus --factors 2,1,1 4,1,1 1,2,2
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
from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.events import run_to_end
from self_vision.core.quality import back_projection_baseline, crop_reference, degrade_array, score
from self_vision.core.resolution import decorrelation, regions, resolution_report
from self_vision.core.validate import parse_factor


def rows_for(reference: np.ndarray, voxel: tuple[float, ...], factor: tuple[int, ...], options: EnhanceOptions):
    """(method, figure per axis, consistency, PSNR gain over cubic) for the reference, input and results."""
    sampling = options.sampling_for(reference.ndim)
    reference = crop_reference(reference, factor)
    low = degrade_array(reference, factor, options.operator, options.psf_sigma, sampling)
    low_voxel = tuple(v * f for v, f in zip(voxel, factor, strict=True))
    result = run_to_end(enhance_steps(low, factor, voxel_size=low_voxel, options=options, device="cpu"))
    trained = dataclasses.replace(result.model, detail_weights={}, back_projection=options.back_projection)
    x = result.normalizer.forward(low)
    outputs = {
        "cubic": cubic_upsample(low, factor),
        "back-projection": back_projection_baseline(low, factor, options.operator, 10, options.psf_sigma, sampling),
        "network": result.normalizer.inverse(trained.apply(x, back_projection=0)),
        "network + back-projection": result.normalizer.inverse(trained.apply(x)),
        f"returned ({result.returned})": result.data,
    }
    border = [2 * f for f in factor]
    cubic = score(outputs["cubic"], reference, border=border).psnr

    def degrade_again(region: np.ndarray) -> np.ndarray:
        return degrade_array(region, factor, options.operator, options.psf_sigma, sampling)

    reference_figure = decorrelation(reference[regions(low.shape, factor)[1]], voxel)
    rows = [("reference", [reference_figure[i] for i in range(reference.ndim)], None, None)]
    for method, data in outputs.items():
        report = resolution_report(low, data, factor, low_voxel, degrade_again)
        if not rows[1:]:
            rows.append(("input", list(report.before.values()), None, None))
        gain = score(data, reference, border=border).psnr - cubic
        rows.append((method, list(report.after.values()), report.consistency, gain))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--volumes", nargs="+", default=["cortex", "nucleus"])
    parser.add_argument("--factors", nargs="+", default=["2,1,1", "4,1,1", "1,2,2"])
    parser.add_argument("--protocol", default="point", choices=["area", "point"])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = EnhanceOptions(steps=args.steps, sampling=args.protocol)
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, {args.threads} "
        f"threads, torch {torch.__version__}; protocol {args.protocol}, {args.steps} steps"
    )
    print("| volume | factor | image | z | y | x | re-degraded vs input (RMS) | Δ PSNR vs cubic |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (reference, voxel) in load_volumes(args.data, args.volumes).items():
        for text in args.factors:
            factor = parse_factor(text, reference.ndim)
            for method, figure, consistency, gain in rows_for(reference, voxel, factor, options):
                axes = " | ".join(str(f) for f in figure)
                off = "" if consistency is None else f"{100 * consistency:.1f} %"
                delta = "" if gain is None else f"{gain:+.2f}"
                print(f"| {name} | {text} | {method} | {axes} | {off} | {delta} |", flush=True)


if __name__ == "__main__":
    main()
