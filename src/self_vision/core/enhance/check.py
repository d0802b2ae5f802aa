"""The self-check of a trained :class:`Enhancer` on the held-out slab, and the detail-weight policy.

The statistics themselves (held-out split, group checks, weight fit) are in :mod:`.selfcheck`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..errors import UsageError
from .enhancer import Enhancer
from .options import EnhanceOptions
from .selfcheck import SelfCheck, check_axial_stage, check_volume_group


def check_detail_weight(options: EnhanceOptions) -> None:
    for name in ("detail_weight", "unchecked_detail_weight"):
        value = getattr(options, name)
        if value == "auto" and name == "detail_weight":
            continue
        if isinstance(value, str) or not 0.0 <= float(value) <= 1.0:
            allowed = "'auto' or a number" if name == "detail_weight" else "a number"
            raise UsageError(f"{name} must be {allowed} in [0, 1], not {value!r}")


def detail_weights_for(enhancer: Enhancer, options: EnhanceOptions, check: SelfCheck | None) -> dict[str, float]:
    """Each stage group's detail weight: the option's number, or (``"auto"``) what the self-check fitted."""
    labels = [label for label, _, _ in enhancer.groups()]
    if options.detail_weight != "auto":
        weight = float(options.detail_weight)
        return {} if weight == 1.0 else dict.fromkeys(labels, weight)
    fallback = options.unchecked_detail_weight
    found = {} if check is None else check.weights
    return {label: found.get(label, fallback) for label in labels}


def check_enhancer(
    enhancer: Enhancer,
    held: np.ndarray,
    held_source: np.ndarray | None,
    factor: tuple[int, ...],
    options: EnhanceOptions,
    device: torch.device,
    axial_planes: Callable[[np.ndarray], list[np.ndarray]] | None,
) -> SelfCheck:
    """Score the trained stages against cubic on the held-out slab (see :mod:`.selfcheck`).

    With ``options.detail_weight == "auto"`` it also fits each group's detail weight there (the weights are
    in the returned check; the caller puts them on the enhancer).
    """
    model_psnr: dict[str, float] = {}
    cubic_psnr: dict[str, float] = {}
    bp_psnr: dict[str, float] = {}
    weights: dict[str, float] = {}
    sources: dict[str, str] = {}
    weighted: dict[str, float] = {}
    proxies: dict[str, float] = {}
    calibrate = options.detail_weight == "auto"
    rounds = options.back_projection
    volume_groups = [g for g in enhancer.groups() if g[0] != "axial"]
    if volume_groups:
        label, volume_stages, volume_factor = volume_groups[0]
        part = Enhancer(volume_factor, volume_stages, options.operator, options.psf_sigma, 0)
        found = check_volume_group(
            lambda low: part.apply(low, device=device), held, volume_factor, options.operator, options.psf_sigma, rounds
        )
        if found is not None:
            model_psnr[label], cubic_psnr[label], bp_psnr[label] = found.model, found.cubic, found.back_projection
            if calibrate:
                weights[label], sources[label], weighted[label] = found.weight, "held-out", found.weighted
        elif calibrate:
            weights[label], sources[label] = options.unchecked_detail_weight, "not checked"
        if held_source is not None and weights.get(label, 1.0) != 1.0:  # the axial check sees what the product makes
            part.detail_weights = {label: weights[label]}
            held_source = part.apply(held, device=device)
    axial = [s for s in enhancer.stages if s.kind == "axial"]
    unchecked: dict[str, str] = {}
    if axial and held_source is not None:
        fz = factor[0]
        axial_factor = (fz, 1, 1)
        part = Enhancer(axial_factor, axial, options.operator, options.psf_sigma, 0)
        found = check_volume_group(
            lambda low: part.apply(low, device=device),
            held_source,
            axial_factor,
            options.operator,
            options.psf_sigma,
            rounds,
        )
        if found is not None:
            model_psnr["axial"], cubic_psnr["axial"], bp_psnr["axial"] = found.model, found.cubic, found.back_projection
            if calibrate:
                weights["axial"], sources["axial"], weighted["axial"] = found.weight, "held-out", found.weighted
        else:
            note = f"{held_source.shape[0]} slices are too few to degrade z once more"
            proxy = None
            if axial_planes is not None:
                proxy = check_axial_stage(
                    axial[0].model,
                    axial_planes(held_source),
                    fz,
                    options.operator,
                    options.psf_sigma,
                    rounds,
                    device,
                )
                if proxy is not None:
                    gain = proxy[0] - proxy[1]
                    note += f" (on held-out lateral planes it gains {gain:+.2f} dB, which need not hold in z)"
                    proxies["axial"] = proxy[2]
            unchecked["axial"] = note
            if calibrate:
                weights["axial"] = options.unchecked_detail_weight
                sources["axial"] = "z not checked" + (
                    f"; {proxies['axial']:.2f} on held-out lateral planes, not used" if "axial" in proxies else ""
                )
    return SelfCheck(model_psnr, cubic_psnr, bp_psnr, unchecked, weights, sources, weighted, proxies)
