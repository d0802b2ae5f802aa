"""Where the axial gap lies: the product's own axial stage (a 2D (f, 1) network on planes) trained on different
planes, everything else as shipped, scored on the second X half like ``ceiling.py``.

- ``product``: the lateral planes of the input, prepared as the product does (its estimated axial blur,
  resampled to the output's z spacing);
- ``reference-lateral``: the same preparation of the reference's lateral planes (first X half): the right
  resolution, the wrong axis;
- ``oracle``: the reference's true ZY and ZX planes (first X half): the right axis, the supervision no user has;
- ``with-input-z``: the product's planes plus the input's own ZY and ZX planes (the right axis one factor too
  coarse: a self-supervised z signal a user does have);
- ``input-z``: the input's own ZY and ZX planes alone (ZSSR along z: the right axis, one factor too coarse).

If ``oracle`` gains and the others do not, the network and its training are not the limit; the lateral planes
are. The self-check is off (it would hold out a slab), so ``product`` here is not the benchmark's number.

    .venv/bin/python benchmarks/axial_oracle.py --volumes nucleus cortex --factors 2 4
    .venv/bin/python benchmarks/axial_oracle.py --volumes nucleus --factors 4 --blurs 0.3 0.5 1 2 3
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ceiling import HalfSplit
from quality import load_volumes
from self_vision.core.enhance import training
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.errors import DataError
from self_vision.core.events import run_to_end
from self_vision.core.intensity import Normalizer

MODES = ("product", "reference-lateral", "oracle", "with-input-z", "input-z")


def _z_planes(volume: np.ndarray) -> list[np.ndarray]:
    """The ZY and ZX planes of a (Z, Y, X) volume as plane stacks whose axis 1 is z."""
    return [np.ascontiguousarray(volume.transpose(1, 0, 2)), np.ascontiguousarray(volume.transpose(2, 0, 1))]


def axial_gain(reference: np.ndarray, voxel: tuple[float, ...], fz: int, mode: str, options: EnhanceOptions) -> float:
    """dB over cubic on the second X half of the network alone, its axial stage trained on ``mode``'s planes."""
    factor = (fz, 1, 1)
    split = HalfSplit.of(reference, voxel, factor, options)
    known = Normalizer.fit(split.low).forward(split.reference)[..., : split.half]
    product_planes = training.axial_training_planes

    def planes(source: np.ndarray, **preparation) -> list[np.ndarray]:
        if mode == "oracle":
            return _z_planes(known)
        if mode == "input-z":
            return _z_planes(source)
        lateral = product_planes(known if mode == "reference-lateral" else source, **preparation)
        return lateral + _z_planes(source) if mode == "with-input-z" else lateral

    training.axial_training_planes = planes
    try:
        result = run_to_end(enhance_steps(split.low, factor, voxel_size=split.low_voxel, options=options, device="cpu"))
    finally:
        training.axial_training_planes = product_planes
    model = dataclasses.replace(result.model, detail_weights={}, back_projection=0)
    network = result.normalizer.inverse(model.apply(result.normalizer.forward(split.low), back_projection=0))
    return split.gain(network[..., split.half :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--volumes", nargs="+", default=["nucleus", "cortex"])
    parser.add_argument("--factors", nargs="+", type=int, default=[2, 4], help="axial factors")
    parser.add_argument("--protocol", default="point", choices=["area", "point"])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument(
        "--blurs", nargs="*", type=float, default=[], help="also the product's planes at these axial blurs (µm)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, {args.threads} "
        f"threads, torch {torch.__version__}; protocol {args.protocol}, {args.steps} steps, self-check off; "
        "network alone, dB over cubic on the second X half"
    )
    print("| volume | axial factor | planes | " + " | ".join(f"seed {s}" for s in args.seeds) + " |")
    print("|---|---|---|" + "---|" * len(args.seeds))
    for name, (reference, voxel) in load_volumes(args.data, args.volumes).items():
        for fz in args.factors:
            runs = [(mode, None) for mode in args.modes] + [("product", blur) for blur in args.blurs]
            for mode, blur in runs:
                gains = []
                for seed in args.seeds:
                    options = EnhanceOptions(
                        steps=args.steps,
                        sampling=args.protocol,
                        seed=seed,
                        self_check=False,
                        resolution=False,
                        axial_blur=blur,
                    )
                    try:
                        gains.append(f"{axial_gain(reference, voxel, fz, mode, options):+.2f}")
                    except DataError as err:
                        gains.append(f"n/a ({err})")
                label = mode if blur is None else f"{mode}, axial blur {blur:g} µm"
                print(f"| {name} | {fz} | {label} | " + " | ".join(gains) + " |", flush=True)


if __name__ == "__main__":
    main()
