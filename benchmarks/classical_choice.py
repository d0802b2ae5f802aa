"""Cubic or back-projection: does the gate's classical check (core.enhance.classical) pick the better one?

Each case bins a reference volume (area protocol), optionally adds Poisson-Gaussian noise to the binned copy
(``--noise`` levels, as in quality.py), and compares back-projection with cubic against the reference: *true*,
and *true, corrected* (a Stein correction for the reference's own noise, which the binned copy shares and
back-projection reproduces: the same credit the product's check removes). Beside it, what three rules choose:

- *always back-projection*: the gate's fallback for inputs nothing could be checked on, until 2026-12-08;
- *old check*: the same reduction once more, but at the binned copy's averaged noise and with no correction
  (how the slab check scored the classical methods);
- *product*: :func:`self_vision.core.enhance.classical.classical_check`.

    .venv/bin/python benchmarks/classical_choice.py --volumes nucleus nucleus-widefield cortex \
        --factors 1,4,4 1,3,3 4,1,1 3,1,1 2,2,2 --noise none 200,0 50,0 20,0.005 5,0.01

No network is trained; a few seconds per case. Held-out volumes (golgi, chromosomes) work too.
"""

from __future__ import annotations

import argparse
import datetime
import platform
from pathlib import Path

import numpy as np

from quality import _noisy, load_volumes
from self_vision.core.bootstrap import block_sse, gain_interval
from self_vision.core.degrade import cubic_upsample
from self_vision.core.enhance.classical import CLASSICAL_ROUNDS, check_factor, classical_check, stein_credit
from self_vision.core.enhance.noise import noise_curve
from self_vision.core.intensity import Normalizer
from self_vision.core.quality import back_projection_baseline, crop_reference, degrade_array

AREA = ("area", "area", "area")


def _methods(low: np.ndarray, factor: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    return cubic_upsample(low, factor), back_projection_baseline(low, factor, "area", CLASSICAL_ROUNDS, 0.5, AREA)


def margin(low: np.ndarray, reference: np.ndarray, factor: tuple[int, ...], corrected: bool = False):
    """Back-projection over cubic against ``reference`` (dB, interval); ``corrected``: less the credit for the
    reference's own noise (4 draws of its measured curve)."""
    border = [min(2 * f, n // 4) for f, n in zip(factor, reference.shape, strict=True)]
    sse = [block_sse(m, reference, border) for m in _methods(low, factor)]
    if corrected:
        reduce = lambda n: _methods(degrade_array(n, factor, "area", 0.5, AREA), factor)  # noqa: E731
        credit = stein_credit(reference, noise_curve(reference), reduce, border, np.random.default_rng(0), draws=4)
        sse = [s + c for s, c in zip(sse, credit, strict=True)]
    return gain_interval(np.clip(sse[1], 0, None), np.clip(sse[0], 0, None))


def old_check(x: np.ndarray, factor: tuple[int, ...]) -> float | None:
    """The same reduction once more, scored as the slab check scored the classical methods."""
    g = check_factor(x.shape, factor)
    if g is None:
        return None
    base = crop_reference(x, g)
    return margin(degrade_array(base, g, "area", 0.5, AREA), base, g)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--volumes", nargs="+", default=["nucleus", "nucleus-widefield", "cortex"])
    parser.add_argument("--factors", nargs="+", default=["1,4,4", "4,1,1", "2,2,2"])
    parser.add_argument("--noise", nargs="+", default=["none", "200,0", "20,0.005"])
    parser.add_argument(
        "--bars", nargs="*", type=float, default=[], help="also tally the check with these bars (dB it must read)"
    )
    args = parser.parse_args()
    noises = [None if n == "none" else tuple(float(v) for v in n.split(",")) for n in args.noise]
    print(f"# {datetime.datetime.now():%Y-%m-%d %H:%M} on {platform.machine()}; area protocol")
    print("| volume | factor | noise | true | true, corrected | old check | product check | product picks |")
    print("|---|---|---|---:|---:|---:|---|---|")
    rules = ["always back-projection", "old check", "product", *(f"product, bar {b:g} dB" for b in args.bars)]
    tally: dict[str, list[tuple[float, float]]] = {rule: [] for rule in rules}
    for name, (reference, _) in load_volumes(args.data, args.volumes).items():
        for text in args.factors:
            factor = tuple(int(v) for v in text.split(","))
            ref = crop_reference(reference, factor)
            binned = degrade_array(ref, factor, "area", 0.5, AREA)
            for noise in noises:
                low = _noisy(binned, ref, noise, 0)
                true, corrected = margin(low, ref, factor), margin(low, ref, factor, corrected=True)
                x = Normalizer.fit(low).forward(low)
                old, check = old_check(x, factor), classical_check(x, factor, AREA)
                picks = {
                    "always back-projection": "back-projection",
                    "old check": "back-projection" if old is None or old > 0 else "cubic",
                    "product": "back-projection" if check is None else check.preferred,
                }
                for bar in args.bars:
                    passes = check is None or check.gain > bar
                    picks[f"product, bar {bar:g} dB"] = "back-projection" if passes else "cubic"
                for rule, pick in picks.items():  # what the pick returns, vs cubic (true, corrected)
                    bp = pick == "back-projection"
                    tally[rule].append((true[0] if bp else 0.0, corrected[0] if bp else 0.0))
                shown = "—" if check is None else f"{check.gain:+.2f} [{check.low:+.2f}, {check.high:+.2f}]"
                print(
                    f"| {name} | {text} | {'none' if noise is None else ','.join(f'{v:g}' for v in noise)} "
                    f"| {true[0]:+.2f} | {corrected[0]:+.2f} | {'—' if old is None else f'{old:+.2f}'} | {shown} "
                    f"| {picks['product']} |",
                    flush=True,
                )
    print()
    for rule, pairs in tally.items():
        for k, truth in enumerate(("true", "corrected")):
            gains = [p[k] for p in pairs]
            print(
                f"{rule} ({truth}): mean {np.mean(gains):+.2f} dB vs cubic over {len(gains)} cases; "
                f"below cubic on {sum(g < -0.005 for g in gains)}, worst {min(gains):+.2f}"
            )


if __name__ == "__main__":
    main()
