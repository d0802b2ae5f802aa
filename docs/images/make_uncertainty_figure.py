"""Measure the uncertainty map and draw docs/images/uncertainty.png.

    .venv/bin/python docs/images/make_uncertainty_figure.py [--steps 600] [--no-real] [--no-figure]

1. Synthetic: ``synthetic_neurons`` (16, 96, 96), degraded 1x2x2, Gaussian noise (sigma 0.1) added to the
   half of the low-resolution input with Y >= 24. Enhanced with the uncertainty map; a second model with
   another seed gives the two-seed spread for comparison. Printed: mean uncertainty in the noisy half over
   the clean half, and how each map tracks the error against the clean reference.
   The same input once more: one model with ``--steps`` against the mean of two with half the steps each.
2. Real (``/work/shared/data``, skipped when absent): the 2-photon cortex stack (30, 510, 667) and
   channel 0 of the confocal nucleus (45, 130, 133), each degraded 1x2x2 as ``self-vision evaluate``
   does, enhanced, and the error against the reference compared with the uncertainty map. The local
   brightness (the cubic interpolation, smoothed) is scored too as a trivial predictor of the error.

Error-tracking numbers: Pearson correlation of map and |result - reference| and the mean error in the
10% of voxels the map ranks highest versus the other 90% (borders of 2 output voxels excluded).
Training runs on one CPU thread with a fixed seed and step count.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from self_vision.api import RunRequest
from self_vision.api import run as dispatch
from self_vision.core.degrade import add_poisson_gaussian, cubic_upsample
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.enhance.uncertainty import local_rms
from self_vision.core.events import run_to_end
from self_vision.core.quality import crop_reference, degrade_array, score
from self_vision.core.sample import synthetic_neurons

HERE = Path(__file__).resolve().parent
DATA = Path("/work/shared/data")


def _inner(a: np.ndarray, border: int = 2) -> np.ndarray:
    return a[tuple(slice(border, s - border) if s > 2 * border + 4 else slice(None) for s in a.shape)].ravel()


def tracking(u: np.ndarray, err: np.ndarray) -> tuple[float, float, float]:
    """(Pearson r, mean error in the top 10% of ``u``, mean error in the rest) away from the borders."""
    u, err = _inner(u), _inner(err)
    top = u >= np.quantile(u, 0.9)
    return float(np.corrcoef(u, err)[0, 1]), float(err[top].mean()), float(err[~top].mean())


def partial_r(u: np.ndarray, err: np.ndarray, control: np.ndarray) -> float:
    """Correlation of ``u`` and ``err`` once what ``control`` (the brightness) explains linearly is taken out."""
    u, err, c = _inner(u), _inner(err), _inner(control)
    design = np.stack([np.ones_like(c), c], axis=1).astype(np.float64)

    def rest(v: np.ndarray) -> np.ndarray:
        return v - design @ np.linalg.lstsq(design, v.astype(np.float64), rcond=None)[0]

    return float(np.corrcoef(rest(u), rest(err))[0, 1])


def line(label: str, u: np.ndarray, err: np.ndarray, brightness: np.ndarray | None = None) -> str:
    r, top, rest = tracking(u, err)
    text = f"  {label:<22} r = {r:+.2f}; error in top 10%: {top:.4g}, rest: {rest:.4g} ({top / rest:.1f}x)"
    if brightness is not None:
        text += f"; partial r given brightness {partial_r(u, err, brightness):+.2f}"
    return text


def synthetic(steps: int) -> dict[str, np.ndarray]:
    factor = (1, 2, 2)
    reference = synthetic_neurons((16, 96, 96), seed=3)
    low = degrade_array(reference, factor)
    half = low.shape[1] // 2
    noisy = low.copy()
    noisy[:, half:] = add_poisson_gaussian(low[:, half:], None, 0.1, np.random.default_rng(0))
    options = EnhanceOptions(steps=steps, seed=0)
    result = run_to_end(dispatch(RunRequest("enhance", noisy, factor, options=options, device="cpu", uncertainty=True)))
    other = run_to_end(enhance_steps(noisy, factor, options=EnhanceOptions(steps=steps, seed=1), device="cpu"))
    spread = local_rms(0.5 * (result.data - other.data), 2.0)  # sigma 2 output voxels = 1 input voxel
    err = np.abs(result.data - reference)
    h = reference.shape[1] // 2
    print(f"synthetic neurons (16, 96, 96), 1x2x2, noise sigma 0.1 on Y >= {h}, {steps} steps, seed 0")
    for label, u in (("uncertainty map", result.uncertainty), ("two-seed spread", spread)):
        ratio = u[:, h:].mean() / u[:, :h].mean()
        print(f"  {label:<22} mean noisy half / clean half = {ratio:.2f}")
    brightness = ndimage.gaussian_filter(cubic_upsample(noisy, factor), 2.0)
    for label, u in (("uncertainty map", result.uncertainty), ("two-seed spread", spread)):
        print(line(label, u, err, brightness))
    print(line("brightness (trivial)", brightness, err))
    clean = np.s_[:, 2 : h - 2]
    print("  clean half only:")
    for label, u in (("uncertainty map", result.uncertainty), ("two-seed spread", spread)):
        print(line(label, u[clean], err[clean]))
    u = result.uncertainty
    print(f"  mean map / mean error: clean half {u[clean].mean() / err[clean].mean():.2f}, "
          f"noisy half {u[:, h + 2 : -2].mean() / err[:, h + 2 : -2].mean():.2f}")  # fmt: skip
    return {
        "input": cubic_upsample(noisy, factor),
        "result": result.data,
        "error": err,
        "uncertainty": result.uncertainty,
    }


def two_seed_budget(steps: int) -> None:
    """One model with ``steps`` against the mean of two models (seeds 0, 1) with half the steps each."""
    factor = (1, 2, 2)
    reference = synthetic_neurons((16, 96, 96), seed=3)
    low = degrade_array(reference, factor)
    half = low.shape[1] // 2
    low[:, half:] = add_poisson_gaussian(low[:, half:], None, 0.1, np.random.default_rng(0))
    one = run_to_end(enhance_steps(low, factor, options=EnhanceOptions(steps=steps, seed=0), device="cpu")).data
    halves = [
        run_to_end(enhance_steps(low, factor, options=EnhanceOptions(steps=steps // 2, seed=s), device="cpu")).data
        for s in (0, 1)
    ]
    mean = 0.5 * (halves[0] + halves[1])
    h = reference.shape[1] // 2
    parts = {"clean half": np.s_[:, 4 : h - 4, 4:-4], "noisy half": np.s_[:, h + 4 : -4, 4:-4]}
    print(f"same synthetic input: one model with {steps} steps vs the mean of two with {steps // 2} each (PSNR)")
    for label, part in parts.items():
        a, b = score(one[part], reference[part]).psnr, score(mean[part], reference[part]).psnr
        print(f"  {label}: one {a:.2f} dB, mean of two {b:.2f} dB ({b - a:+.2f})")


def real(name: str, path: Path, channel: int | None, steps: int) -> dict[str, np.ndarray] | None:
    from self_vision.core.io.tiff import read_tiff

    if not path.is_file():
        print(f"{name}: {path} not found, skipped")
        return None
    factor = (1, 2, 2)
    volume = read_tiff(path, channel=channel)
    reference = crop_reference(volume.data.astype(np.float32), factor)
    low = degrade_array(reference, factor)
    options = EnhanceOptions(steps=steps, seed=0)
    result = run_to_end(dispatch(RunRequest("enhance", low, factor, options=options, device="cpu", uncertainty=True)))
    err = np.abs(result.data - reference)
    brightness = ndimage.gaussian_filter(cubic_upsample(low, factor), 2.0)
    print(f"{name} {reference.shape}, 1x2x2, {steps} steps, seed 0")
    print(line("uncertainty map", result.uncertainty, err, brightness))
    print(line("brightness (trivial)", brightness, err))
    return {
        "input": cubic_upsample(low, factor),
        "result": result.data,
        "error": err,
        "uncertainty": result.uncertainty,
    }


def figure(rows: dict[str, dict[str, np.ndarray]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = ("input", "result", "error", "uncertainty")
    titles = ("input (cubic)", "result", "|result - reference|", "uncertainty map")
    fig, axes = plt.subplots(len(rows), 4, figsize=(13, 3.4 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        z = images["result"].shape[0] // 2
        err_max = float(np.percentile(images["error"][z], 99.5))
        for c, key in enumerate(columns):
            image = images[key][z]
            ax = axes[r, c]
            if key in ("error", "uncertainty"):
                top = err_max if key == "error" else float(np.percentile(image, 99.5))
                ax.imshow(image, cmap="magma", vmin=0, vmax=top)
            else:
                ax.imshow(image, cmap="gray", vmin=np.percentile(image, 0.5), vmax=np.percentile(image, 99.8))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c])
        axes[r, 0].set_ylabel(label)
    fig.tight_layout()
    fig.savefig(out, dpi=64)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--no-real", action="store_true", help="synthetic data only")
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = {"synthetic, noisy lower half": synthetic(args.steps)}
    two_seed_budget(args.steps)
    if not args.no_real:
        cortex = real("cortex 2p", DATA / "cortex_2p_signal.tif", None, args.steps)
        nucleus = real("nucleus confocal ch0", DATA / "nucleus_confocal_widefield.tif", 0, args.steps)
        if cortex is not None:
            rows["cortex 2p"] = cortex
        if nucleus is not None:
            rows["nucleus confocal"] = nucleus
    if not args.no_figure:
        figure(rows, HERE / "uncertainty.png")


if __name__ == "__main__":
    main()
