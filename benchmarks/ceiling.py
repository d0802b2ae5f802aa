"""A supervised ceiling per benchmark case: how much of the reachable gain the zero-shot result takes.

The reference is split along X into two halves. A larger network (``--features``, more steps, one 3D network
with the full factor) is trained on true pairs from the first half, (reduce(reference), reference), reduced with
the protocol's sampling model, and applied to the second half's reduced copy. The zero-shot product is run as
the user would, on the whole reduced volume, and scored on the same second half. Everything is dB over cubic on
that half (borders cropped). The ceiling is a property of the data and this architecture, not a bound on every
method.

    .venv/bin/python benchmarks/ceiling.py --protocol point --volumes cortex nucleus --factors 2,1,1 4,1,1 1,3,3
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
from self_vision.core.enhance.run import enhance_steps, train_steps
from self_vision.core.errors import DataError
from self_vision.core.events import run_to_end
from self_vision.core.quality import crop_reference, degrade_array, score
from self_vision.core.validate import parse_factor


@dataclasses.dataclass(frozen=True)
class HalfSplit:
    """A benchmark case split along X: the reference (cropped to the factor), its reduced copy, and cubic's PSNR
    on the second half, against which every method is scored (borders cropped)."""

    reference: np.ndarray
    low: np.ndarray
    low_voxel: tuple[float, ...]
    half_low: int  # where the second half starts on the input grid
    half: int  # ... and on the output grid
    border: list[int]
    cubic: float

    @classmethod
    def of(
        cls, reference: np.ndarray, voxel: tuple[float, ...], factor: tuple[int, ...], options: EnhanceOptions
    ) -> HalfSplit:
        """``reference`` reduced by ``factor`` with ``options``' degradation and sampling model."""
        sampling = options.sampling_for(reference.ndim)
        reference = crop_reference(reference, factor)
        low = degrade_array(reference, factor, options.operator, options.psf_sigma, sampling)
        low_voxel = tuple(v * f for v, f in zip(voxel, factor, strict=True))
        half_low = low.shape[-1] // 2
        half = half_low * factor[-1]
        border = [2 * f for f in factor]
        truth = reference[..., half:]
        cubic = score(cubic_upsample(low, factor)[..., half:], truth, border=border).psnr
        return cls(reference, low, low_voxel, half_low, half, border, cubic)

    def gain(self, second_half: np.ndarray) -> float:
        """dB over cubic of a result's second half."""
        return score(second_half, self.reference[..., self.half :], border=self.border).psnr - self.cubic


def ceiling_case(
    reference: np.ndarray,
    voxel: tuple[float, ...],
    factor: tuple[int, ...],
    product: EnhanceOptions,
    big: EnhanceOptions,
) -> dict[str, float]:
    """dB over cubic on the second X half: the product (network as trained, and what it returns) and the ceiling
    (network alone and with back-projection)."""
    split = HalfSplit.of(reference, voxel, factor, product)
    second = (Ellipsis, slice(split.half, None))
    out: dict[str, float] = {}
    result = run_to_end(enhance_steps(split.low, factor, voxel_size=split.low_voxel, options=product, device="cpu"))
    trained = dataclasses.replace(result.model, detail_weights={}, back_projection=product.back_projection)
    x = result.normalizer.forward(split.low)
    out["zero-shot network"] = split.gain(result.normalizer.inverse(trained.apply(x, back_projection=0))[second])
    out[f"zero-shot returned ({result.returned})"] = split.gain(result.data[second])
    first_half = split.reference[..., : split.half]
    try:
        supervised = run_to_end(train_steps(first_half, factor, voxel_size=voxel, options=big, device="cpu"))
    except DataError as err:
        out[f"ceiling n/a ({err})"] = float("nan")
        return out
    y = supervised.normalizer.forward(split.low[..., split.half_low :])
    net = supervised.enhancer
    out["ceiling network"] = split.gain(supervised.normalizer.inverse(net.apply(y, back_projection=0)))
    out["ceiling + back-projection"] = split.gain(supervised.normalizer.inverse(net.apply(y)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--volumes", nargs="+", default=["cortex", "nucleus"])
    parser.add_argument("--factors", nargs="+", default=["2,1,1", "4,1,1", "1,3,3"])
    parser.add_argument("--protocol", default="point", choices=["area", "point"])
    parser.add_argument("--steps", type=int, default=400, help="the product's training steps")
    parser.add_argument("--ceiling-steps", type=int, default=2000)
    parser.add_argument("--features", type=int, default=32, help="the ceiling network's width (product: 16)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    product = EnhanceOptions(steps=args.steps, sampling=args.protocol)
    big = EnhanceOptions(
        steps=args.ceiling_steps,
        sampling=args.protocol,
        path="3d",
        gradual=False,
        features=args.features,
        self_check=False,
        resolution=False,
    )
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, {args.threads} "
        f"threads, torch {torch.__version__}; protocol {args.protocol}; product {args.steps} steps, ceiling "
        f"{args.ceiling_steps} steps, {args.features} features; dB over cubic on the second X half"
    )
    print("| volume | factor | method | Δ PSNR vs cubic |")
    print("|---|---|---|---|")
    for name, (reference, voxel) in load_volumes(args.data, args.volumes).items():
        for text in args.factors:
            factor = parse_factor(text, reference.ndim)
            for method, value in ceiling_case(reference, voxel, factor, product, big).items():
                print(f"| {name} | {text} | {method} | {value:+.2f} |", flush=True)


if __name__ == "__main__":
    main()
