"""Denoising benchmark: SiS with/without GAR and FNSM vs a Gaussian filter (best sigma) and non-local means.

Clean references are real volumes (channel 0 of the nucleus, z-step near Nyquist; the cortex, 5 µm z-step
where neighbouring slices differ), scaled to [0, 1] by their 0.1-99.9 percentiles; Poisson-Gaussian noise
is added at three photon levels. Everything is scored (PSNR/SSIM, core.quality.score) against the clean
reference. The Gaussian's sigma is the best of a grid chosen with the reference (an oracle: an upper bound).

    .venv/bin/python benchmarks/denoise.py --data ../shared/data --steps 600 --threads 1
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import tifffile
import torch
from scipy import ndimage
from skimage.restoration import denoise_nl_means

from self_vision.core.degrade import add_poisson_gaussian
from self_vision.core.denoise.inference import apply_denoiser
from self_vision.core.denoise.options import DenoiseOptions
from self_vision.core.denoise.run import denoise_steps
from self_vision.core.events import run_to_end
from self_vision.core.intensity import Normalizer
from self_vision.core.quality import score

#: photons at intensity 1 (high, middle, low signal); read noise sigma in 0-1 units
LEVELS = (100.0, 20.0, 5.0)
READ_SIGMA = 0.01
VARIANTS = {
    "SiS": (0.0, False),
    "SiS+GAR": (1.0, False),
    "SiS+FNSM": (0.0, True),
    "SiS+GAR+FNSM": (1.0, True),
}


def load(data_dir: Path, crop: int) -> dict[str, tuple[np.ndarray, tuple[float, float, float]]]:
    """Clean references in [0, 1] with voxel sizes (z, y, x) in µm."""
    nucleus = tifffile.imread(data_dir / "nucleus_confocal_widefield.tif")[:, 0]
    cortex = tifffile.imread(data_dir / "cortex_2p_signal.tif")
    _, h, w = cortex.shape
    y0, x0 = (h - crop) // 2, (w - crop) // 2
    cortex = cortex[:, y0 : y0 + crop, x0 : x0 + crop]
    out = {}
    for name, vol, voxel in (("nucleus", nucleus, (0.499, 0.256, 0.256)), ("cortex", cortex, (5.0, 2.0, 2.0))):
        x = np.clip(Normalizer.fit(vol).forward(vol), 0, 1)
        out[name] = (x, voxel)
    return out


def best_gaussian(noisy: np.ndarray, clean: np.ndarray) -> tuple[float, np.ndarray]:
    best = None
    for sigma in (0.5, 0.75, 1.0, 1.5, 2.0, 3.0):
        smooth = ndimage.gaussian_filter(noisy, sigma)
        psnr = score(smooth, clean).psnr
        if best is None or psnr > best[0]:
            best = (psnr, sigma, smooth)
    assert best is not None
    return best[1], best[2]


def nlm(noisy: np.ndarray) -> np.ndarray:
    diff = np.diff(noisy, axis=-1)  # noise sigma from the MAD of neighbour differences (PyWavelets-free)
    sigma = float(np.median(np.abs(diff - np.median(diff))) / 0.6745 / np.sqrt(2))
    return denoise_nl_means(noisy, h=0.8 * sigma, sigma=sigma, patch_size=3, patch_distance=3, fast_mode=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--budget", type=float, default=20.0, help="training seconds per SiS run")
    parser.add_argument("--steps", type=int, default=None, help="training steps per SiS run (instead of --budget)")
    parser.add_argument("--volumes", nargs="+", default=None, help="only these volumes (nucleus, cortex)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--crop", type=int, default=256, help="lateral crop of the cortex volume")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--sis-inference",
        choices=["halves", "full"],
        default="halves",
        help="how a SiS net is applied (default halves)",
    )
    parser.add_argument(
        "--also-full",
        action="store_true",
        help="also score each trained SiS net applied to the full stack (the old inference), same training",
    )
    parser.add_argument("--json", type=Path, default=Path("benchmarks/out/denoise.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name, (clean, voxel) in load(args.data, args.crop).items():
        if args.volumes and name not in args.volumes:
            continue
        for photons in LEVELS:
            noisy = add_poisson_gaussian(clean, photons, READ_SIGMA, np.random.default_rng(0))
            results: dict[str, tuple[np.ndarray, float, str]] = {"noisy": (noisy, 0.0, "")}
            sigma, smooth = best_gaussian(noisy, clean)
            results["Gaussian (best σ)"] = (smooth, 0.0, f"σ={sigma}")
            t = time.perf_counter()
            results["NLM"] = (nlm(noisy), time.perf_counter() - t, "")
            for label, (gamma, fnsm) in VARIANTS.items():
                limit = {"steps": args.steps, "time_budget": None} if args.steps else {"time_budget": args.budget}
                options = DenoiseOptions(gamma=gamma, fnsm=fnsm, seed=0, sis_inference=args.sis_inference, **limit)
                gen = denoise_steps(noisy, "sis", voxel_size=voxel, options=options, device=args.device)
                res = run_to_end(gen)
                note = f"{res.log.steps} steps"
                if res.fnsm_cutoff is not None:
                    note += f", k_c={res.fnsm_cutoff:.2f}/µm"
                results[label] = (res.data, res.train_seconds, note)
                if args.also_full and args.sis_inference != "full":
                    x = res.normalizer.forward(noisy)
                    full = apply_denoiser(res.model, x, "ZYX", device=torch.device(args.device), sis_inference="full")
                    results[f"{label} [full-stack inference]"] = (res.normalizer.inverse(full), res.train_seconds, note)
            for label, (data, seconds, note) in results.items():
                s = score(data, clean)
                rows.append(
                    {
                        "volume": name,
                        "photons": photons,
                        "method": label,
                        "psnr": s.psnr,
                        "ssim": s.ssim,
                        "seconds": seconds,
                        "note": note,
                    }
                )
                line = f"{name:8} {photons:>5g} {label:18} {s.psnr:7.2f} {s.ssim:.4f} {seconds:6.1f}s {note}"
                print(line, flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": platform.processor() or platform.machine(), "rows": rows}, indent=1))
    print()
    print("| volume | photons | method | PSNR (dB) | SSIM | train s | note |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['volume']} | {r['photons']:g} | {r['method']} | {r['psnr']:.2f} | {r['ssim']:.4f} | "
            f"{r['seconds']:.1f} | {r['note']} |"
        )


if __name__ == "__main__":
    main()
