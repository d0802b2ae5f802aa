"""Quality benchmark: PSNR/SSIM of the network (alone and with back-projection) vs cubic and back-projection.

Each case reduces a reference volume by the factor with the protocol's sampling model (``area``: block means,
binning; ``point``: one sample per block, a z-step or scan step), optionally adds Poisson-Gaussian noise
(``--noise PHOTONS,SIGMA`` on the 0.1-99.9 percentile scale), enhances the low-resolution copy with zero-shot
learning on that copy alone (the product told the same sampling model), and scores everything against the
reference (0.1-99.9 percentile scaling, borders cropped; "fg" = Otsu foreground of the reference). Gains carry
95 % block-bootstrap intervals; the product's self-check prediction is set against the true gain.

    .venv/bin/python benchmarks/quality.py --protocol point --volumes cortex nucleus --factors 3,1,1 1,3,3 --steps 400

Volumes: ``cortex``, ``nucleus``, ``nucleus-widefield`` (development, from ``--data``) and ``golgi``,
``chromosomes`` (held out: ``benchmarks/heldout.py`` fetches them). ``--json`` runs join with ``sign_table.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

from heldout import HELDOUT, heldout_path
from peer import care_available, care_isotropic, match_intensity
from self_vision.core.bootstrap import block_sse, gain_interval
from self_vision.core.degrade import add_poisson_gaussian, cubic_upsample
from self_vision.core.enhance.enhancer import Enhancer, apply_stage
from self_vision.core.enhance.gate import checked_finer
from self_vision.core.enhance.options import EnhanceOptions, paper_options
from self_vision.core.enhance.run import enhance_steps
from self_vision.core.enhance.selfcheck import fit_detail_weight
from self_vision.core.errors import DataError
from self_vision.core.events import run_to_end
from self_vision.core.optics import parse_optics
from self_vision.core.quality import (
    back_projection_baseline,
    crop_reference,
    degrade_array,
    foreground_mask,
    score,
)
from self_vision.core.validate import parse_factor
from sign_table import ci_text, print_checks

#: Lateral weights tried for the oracle of two-group runs (the axial weight is then fitted in closed form).
ORACLE_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def oracle_weights(
    enhancer: Enhancer, x: np.ndarray, reference: np.ndarray, border: list[int]
) -> tuple[dict[str, float], float]:
    """The detail weights that score best against the true (normalised) ``reference``, and that PSNR."""
    groups = enhancer.groups()
    dev = torch.device("cpu")
    best: tuple[dict[str, float], float] = ({}, -np.inf)
    first_label, first_stages, first_factor = groups[0]
    net = x
    for stage in first_stages:
        net = apply_stage(stage, net, dev, False, enhancer_tile(), "auto")
    cubic = cubic_upsample(x, first_factor)
    if len(groups) == 1:
        w, psnr = fit_detail_weight(
            net,
            cubic,
            x,
            reference,
            enhancer.factor,
            enhancer.operator,
            enhancer.psf_sigma,
            enhancer.back_projection,
            border,
        )
        return {first_label: w}, psnr
    label, stages, factor = groups[1]
    for w_first in ORACLE_GRID:
        y = cubic + np.float32(w_first) * (net - cubic)
        second = y
        for stage in stages:
            second = apply_stage(stage, second, dev, False, enhancer_tile(), "auto")
        w, psnr = fit_detail_weight(
            second,
            cubic_upsample(y, factor),
            x,
            reference,
            enhancer.factor,
            enhancer.operator,
            enhancer.psf_sigma,
            enhancer.back_projection,
            border,
        )
        if psnr > best[1]:
            best = ({first_label: w_first, label: w}, psnr)
    return best


def enhancer_tile() -> int:
    return EnhanceOptions().max_tile_output


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in weights.items())


def load_volumes(data_dir: Path, names: list[str]) -> dict[str, tuple[np.ndarray, tuple[float, ...]]]:
    """Reference volumes with voxel sizes (z, y, x) in µm."""
    known = {
        "cortex": ("cortex_2p_signal.tif", None, (5.0, 2.0, 2.0)),
        "nucleus": ("nucleus_confocal_widefield.tif", 0, (0.499, 0.256, 0.256)),
        # the same nucleus through a widefield microscope: kept out of every choice made on the two above
        "nucleus-widefield": ("nucleus_confocal_widefield.tif", 1, (0.499, 0.256, 0.256)),
    }
    out = {}
    for name in names:
        if name in HELDOUT:  # never used to choose a setting (benchmarks/heldout.py)
            voxel = HELDOUT[name].voxel
            out[name] = (tifffile.imread(heldout_path(name)).astype(np.float32), voxel)
            continue
        file, channel, voxel = known[name]
        data = tifffile.imread(data_dir / file)
        if channel is not None:
            data = data[:, channel]
        out[name] = (data.astype(np.float32), voxel)
    return out


def _noisy(low: np.ndarray, reference: np.ndarray, noise: tuple[float, float] | None, seed: int) -> np.ndarray:
    """``low`` with Poisson-Gaussian noise on the reference's 0.1-99.9 percentile scale (None: unchanged)."""
    if noise is None:
        return low
    lo, hi = np.percentile(reference, (0.1, 99.9))
    scaled = add_poisson_gaussian((low - lo) / (hi - lo), noise[0], noise[1], np.random.default_rng(seed))
    return (scaled * (hi - lo) + lo).astype(np.float32)


def run_case(
    reference: np.ndarray,
    voxel: tuple[float, ...],
    factor: tuple[int, ...],
    configs: dict[str, EnhanceOptions],
    noise: tuple[float, float] | None = None,
    peer: bool = False,
    flips: bool = False,
) -> tuple[list[dict], list[dict]]:
    """Rows of the quality table, and per config the self-check's prediction against the true gain; with
    ``peer``, CARE isotropic's rows on axial-only cases (benchmarks/peer.py); with ``flips``, the trained networks
    once more under the flip self-ensemble (its row's seconds: that inference)."""
    options = configs["default"] if "default" in configs else next(iter(configs.values()))
    sampling = options.sampling_for(reference.ndim)
    reference = crop_reference(reference, factor)
    low = degrade_array(reference, factor, options.operator, options.psf_sigma, sampling)
    low = _noisy(low, reference, noise, options.seed or 0)
    border = [2 * f for f in factor]
    mask = foreground_mask(reference)
    low_voxel = tuple(v * f for v, f in zip(voxel, factor, strict=True))
    rows: list[dict] = []
    checks: list[dict] = []
    sse: dict[str, np.ndarray] = {}

    def add(method: str, result: np.ndarray, seconds: float) -> None:
        whole = score(result, reference, border=border)
        fg = score(result, reference, border=border, mask=mask)
        sse[method] = block_sse(result, reference, border)
        ci = gain_interval(sse[method], sse["cubic"]) if "cubic" in sse else (0.0, 0.0, 0.0)
        rows.append(
            {
                "method": method,
                "psnr": whole.psnr,
                "ssim": whole.ssim,
                "psnr_fg": fg.psnr,
                "ssim_fg": fg.ssim,
                "seconds": seconds,
                "gain_ci": ci[1:],
            }
        )

    t = time.perf_counter()
    add("cubic", cubic_upsample(low, factor), time.perf_counter() - t)
    t = time.perf_counter()
    add(
        "back-projection",
        back_projection_baseline(low, factor, options.operator, 10, options.psf_sigma, sampling),
        time.perf_counter() - t,
    )
    care = care_isotropic(low, factor, low_voxel, options.seed or 0, 1) if peer else None
    if care is not None:
        add("CARE isotropic (peer)", care[0], care[1])
        again = degrade_array(care[0], factor, options.operator, options.psf_sigma, sampling)
        add("CARE isotropic, intensity fitted to the input", match_intensity(care[0], low, again), care[1])
    for config, config_options in configs.items():
        prefix = "" if config == "default" else f"{config}: "
        try:
            result = run_to_end(enhance_steps(low, factor, voxel_size=low_voxel, options=config_options, device="cpu"))
        except DataError as err:
            rows.append(
                {
                    "method": f"{prefix}n/a ({err})",
                    "psnr": float("nan"),
                    "ssim": float("nan"),
                    "psnr_fg": float("nan"),
                    "ssim_fg": float("nan"),
                    "seconds": 0.0,
                }
            )
            continue
        # the network as trained, with all its detail and the run's back-projection, whatever the gate chose
        trained = dataclasses.replace(result.model, detail_weights={}, back_projection=config_options.back_projection)
        x = result.normalizer.forward(low)
        net_only = trained.apply(x, back_projection=0)
        alone = f"{prefix}network ({_trained(result.path)})"
        add(
            alone,
            result.normalizer.inverse(net_only),
            result.train_seconds,
        )
        rows[-1]["steps"] = {stage: log.steps for stage, log in result.logs.items()}  # a time budget's share
        check = result.self_check
        full = f"{prefix}network + back-projection"
        if config_options.detail_weight != "auto":
            add(full, result.normalizer.inverse(trained.apply(x)), result.train_seconds)
            rows[-1]["self_check"] = None if check is None else check.gains
            add(f"{prefix}gated: {result.returned}", result.data, result.train_seconds)
            best = "cubic" if sse["cubic"].sum() <= sse["back-projection"].sum() else "back-projection"
            # the gate judges the network alone when it drops back-projection: predict and score that one
            dropped = result.gate is not None and result.gate.back_projection_dropped
            true = gain_interval(sse[alone if dropped else full], sse[best])
            slab = {} if check is None else check.plain_intervals if dropped else check.intervals
            planes = {} if check is None else check.plane_plain_intervals if dropped else check.plane_intervals
            predicted = dict(slab)
            over = {} if check is None else dict(check.best_classical)
            finer = check is not None and checked_finer(check, result.factor)
            for group, interval in planes.items():
                predicted[f"{group} (lateral planes)"] = interval  # the gate needs this one too
                over[f"{group} (lateral planes)"] = check.plane_best_classical.get(group, "?")
            checks.append(
                {
                    "config": config,
                    "predicted": predicted,
                    "predicted_over": over,
                    # z checked at a finer step judges alone (gate.py): the planes are reported, not used
                    "not_used": ["axial (lateral planes)"] if finer else [],
                    "unchecked": [] if check is None else list(check.unchecked),
                    "true": true,
                    "true_over": best,
                    "returned": result.returned + (" (back-projection dropped)" if dropped else ""),
                    "gated_vs_cubic": rows[-1]["psnr"] - rows[0]["psnr"],
                    "gated_ci": rows[-1]["gain_ci"],
                    "network_vs_cubic": rows[-2]["psnr"] - rows[0]["psnr"],
                    "gate": "" if result.gate is None else result.gate.summary(),
                }
            )
            if flips:  # the same networks under the geometric self-ensemble (inference only)
                t = time.perf_counter()
                flipped = trained.apply(x, ensemble=True)
                add(f"{prefix}network + back-projection, flip ensemble", result.normalizer.inverse(flipped), 0.0)
                rows[-1]["seconds"] = time.perf_counter() - t
            continue
        # the same trained network, all its detail (what the default returns) and the calibrated weights
        add(f"{prefix}network + back-projection (weight 1)", result.normalizer.inverse(trained.apply(x)), 0.0)
        rows[-1]["self_check"] = None if check is None else check.gains
        add(f"{prefix}weighted + back-projection ({_weights(result.detail_weights)})", result.data, 0.0)
        rows[-1]["weights"] = result.detail_weights
        rows[-1]["self_check_text"] = "" if check is None else check.weights_summary().removeprefix("; ")
        reference_n = result.normalizer.forward(reference)
        weights, _ = oracle_weights(result.model, x, reference_n, border)
        best_model = dataclasses.replace(result.model, detail_weights=weights)
        add(f"{prefix}oracle weight ({_weights(weights)})", result.normalizer.inverse(best_model.apply(x)), 0.0)
    return rows, checks


def _trained(path: str) -> str:
    """The stages that were trained, from a path such as ``cubic (gate; trained axial 3x1) + ...``."""
    if "trained " in path:
        return path.split("trained ", 1)[1].split(")")[0]
    return path.split(" + back")[0]


def _gains(gains: dict[str, float] | None) -> str:
    return "" if not gains else ", ".join(f"{k} {v:+.2f}" for k, v in gains.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--volumes", nargs="+", default=["cortex"])
    parser.add_argument("--factors", nargs="+", default=["1,4,4", "4,1,1"])
    parser.add_argument("--protocol", default="area", choices=["area", "point"], help="how the reference is reduced")
    parser.add_argument("--noise", default=None, metavar="PHOTONS,SIGMA", help="noise on the low-resolution copy")
    parser.add_argument("--budget", type=float, default=40.0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--path", default="auto")
    parser.add_argument("--operator", default="area")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--loss",
        default=EnhanceOptions().loss,
        choices=["l1", "l2", "mixed"],
        help="training loss (default: the product's)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["default"],
        choices=["default", "paper", "fnsm", "weighted", "matched", "whole"],
        help="the product's defaults, the paper's recipe (pipeline.paper_options), the defaults with FNSM first, "
        "the defaults with detail_weight='auto' (also shows the same network with weight 1 and the oracle weight), "
        "the defaults with match_noise=True, the defaults trained on the whole input (self_check=False: no held-out "
        "slab, no gate)",
    )
    parser.add_argument("--optics", default=None, help="NA,WAVELENGTH[,...] for every config (core.optics)")
    parser.add_argument(
        "--step-psf", type=float, default=None, help="EnhanceOptions.step_psf (PSF sigma in output voxels on step axes)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    parser.add_argument(
        "--members",
        type=int,
        default=None,
        help="networks per stage, averaged, sharing its budget (EnhanceOptions.members; default: the product's)",
    )
    parser.add_argument("--axial-members", type=int, default=None, help="EnhanceOptions.axial_members")
    parser.add_argument(
        "--peer", action="store_true", help="add CARE isotropic on axial-only cases (needs `make care-env`)"
    )
    parser.add_argument(
        "--flip-row", action="store_true", help="add the trained networks under the flip self-ensemble (inference only)"
    )
    args = parser.parse_args()
    if args.peer and not care_available():
        parser.error("--peer needs the CARE environment: run `make care-env` first")
    if args.threads:
        torch.set_num_threads(args.threads)
    noise = None if not args.noise else tuple(float(v) for v in args.noise.split(","))
    limits = {"time_budget": None if args.steps else args.budget, "steps": args.steps}
    common = {"operator": args.operator, "seed": args.seed, "sampling": args.protocol, **limits}
    common["members"] = args.members or None
    common["axial_members"] = args.axial_members
    if args.step_psf is not None:
        common["step_psf"] = args.step_psf
    if args.optics:
        common["optics"] = parse_optics(args.optics)
    configs = {
        "default": EnhanceOptions(path=args.path, loss=args.loss, **common),
        "paper": paper_options(**common),
        "fnsm": EnhanceOptions(path=args.path, loss=args.loss, fnsm=True, **common),
        "weighted": EnhanceOptions(path=args.path, loss=args.loss, detail_weight="auto", **common),
        "matched": EnhanceOptions(path=args.path, loss=args.loss, match_noise=True, **common),
        "whole": EnhanceOptions(path=args.path, loss=args.loss, self_check=False, **common),
    }
    configs = {name: configs[name] for name in args.configs}
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}; protocol {args.protocol}, noise {noise}, "
        f"members {args.members}, axial members {args.axial_members}"
    )
    print(
        "| volume | factor | method | PSNR | SSIM | PSNR fg | SSIM fg | Δ PSNR vs cubic | 95 % CI | train s "
        "| self-check Δ |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    all_rows, all_checks = [], []
    for name, (reference, voxel) in load_volumes(args.data, args.volumes).items():
        for text in args.factors:
            factor = parse_factor(text, reference.ndim)
            rows, checks = run_case(reference, voxel, factor, configs, noise, args.peer, args.flip_row)
            cubic = rows[0]["psnr"]
            for row in rows:
                row.update(volume=name, factor=text)
                print(
                    f"| {name} | {text} | {row['method']} | {row['psnr']:.2f} | {row['ssim']:.4f} | "
                    f"{row['psnr_fg']:.2f} | {row['ssim_fg']:.4f} | {row['psnr'] - cubic:+.2f} | "
                    f"{ci_text(row.get('gain_ci')) if row['method'] != 'cubic' else ''} | {row['seconds']:.1f} | "
                    f"{_gains(row.get('self_check')) or row.get('self_check_text', '')} |",
                    flush=True,
                )
            for check in checks:
                check.update(volume=name, factor=text)
            all_rows += rows
            all_checks += checks
    if all_checks:
        print_checks(all_checks)
    if args.json:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        args.json.write_text(json.dumps({"settings": settings, "rows": all_rows, "checks": all_checks}, indent=1))


if __name__ == "__main__":
    main()
