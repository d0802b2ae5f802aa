"""Glue between napari layers and the core: which layers qualify, what to send, how to place the result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import defaults

#: Largest factor the widget offers per axis (the core's MAX_FACTOR).
MAX_FACTOR = defaults.MAX_FACTOR
#: Largest factor the widget proposes per axis (restoring isotropy beyond it invents more than it finds).
FACTOR_CAP = defaults.PROPOSED_FACTOR_CAP
#: Metadata key a layer may carry with the factor it was undersampled by (the sample data sets it).
FACTOR_KEY = "self_vision_factor"
#: Results larger than this (output voxels) are enhanced block by block into an OME-Zarr folder.
LARGE_OUTPUT_VOXELS = defaults.BLOCKWISE_OUTPUT_VOXELS
#: Metadata key of a result layer: its source layer's name, the factor and the leading-axes index used.
RESULT_KEY = "self_vision_result"


def unsupported_reason(layer: Any) -> str | None:
    """Why ``layer`` cannot be enhanced, in plain words, or None when it can."""
    from napari.layers import Image

    if layer is None:
        return "no image layer: open or drag in a 2D/3D image first"
    if not isinstance(layer, Image):
        kind = layer.__class__.__name__  # type() would name the PublicOnlyProxy napari hands to plugins
        return f"layer '{layer.name}' is a {kind} layer; Self-Vision enhances Image layers only"
    if layer.rgb:
        return f"layer '{layer.name}' is RGB; split it into channels (one grey layer each) first"
    if layer.ndim < 2:
        return f"layer '{layer.name}' has {layer.ndim} axis; give a 2D or 3D image"
    return None


def is_supported(layer: Any) -> bool:
    """True for grey (non-RGB, single-scale) Image layers with 2 or more axes."""
    return unsupported_reason(layer) is None


def spatial_ndim(layer: Any) -> int:
    """Axes the run works on: 2 for 2D layers, else the last 3."""
    return 2 if layer.ndim == 2 else 3


def current_volume(layer: Any, world_point: Sequence[float] | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
    """A private float-or-int copy of the 2D/3D data to enhance and the index of the leading axes used.

    For 4D+ layers the leading axes are taken at ``world_point`` (the viewer's current position).
    """
    nd = spatial_ndim(layer)
    lead = layer.ndim - nd
    index: tuple[int, ...] = ()
    if lead:
        point = layer.world_to_data(world_point) if world_point is not None else [0] * layer.ndim
        shape = layer.data.shape
        index = tuple(int(np.clip(round(float(p)), 0, shape[i] - 1)) for i, p in enumerate(point[:lead]))
    data = np.array(layer.data[index] if index else layer.data, copy=True)
    return data, index


def is_large(layer: Any, factor: Sequence[int]) -> bool:
    """True when ``layer`` is enhanced block by block: multiscale, lazy (dask, Zarr) or a huge output."""
    if layer.multiscale or not isinstance(layer.data, np.ndarray):
        return True
    nd = len(factor)
    return int(np.prod(layer.data.shape[-nd:])) * int(np.prod(factor)) > LARGE_OUTPUT_VOXELS


def lazy_volume(layer: Any, world_point: Sequence[float] | None = None) -> tuple[Any, tuple[int, ...]]:
    """The 2D/3D volume to enhance as a lazy :class:`~self_vision.core.sources.LazyVolume` (finest level of a
    multiscale layer; leading axes at ``world_point``) and the leading-axes index used. Nothing is read."""
    from ..core.io.lazy import as_lazy

    data = layer.data[0] if layer.multiscale else layer.data
    nd = spatial_ndim(layer)
    lead = layer.ndim - nd
    index: tuple[int, ...] = ()
    if lead:
        point = layer.world_to_data(world_point) if world_point is not None else [0] * layer.ndim
        index = tuple(int(np.clip(round(float(p)), 0, data.shape[i] - 1)) for i, p in enumerate(point[:lead]))
    volume = data[index] if index else data
    unit = str(layer.units[-1]) if len(layer.units) else None
    return as_lazy(volume, tuple(float(s) for s in layer.scale[-nd:]), _core_unit(unit)), index


def default_output(layer: Any, factor: Sequence[int]) -> str:
    """Where a block-wise result goes unless the user says otherwise: beside the layer's file, else home."""
    from pathlib import Path

    source = getattr(getattr(layer, "source", None), "path", None)
    folder = Path(source).parent if source else Path.home()
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in layer.name).strip("_") or "image"
    return str(folder / f"{safe}_x{'x'.join(map(str, factor))}.ome.zarr")


def _core_unit(unit: str | None) -> str | None:
    return {"micrometer": "µm", "nanometer": "nm", "millimeter": "mm", "pixel": None}.get(unit or "pixel", unit)


def suggest_factors(scale: Sequence[float], lateral: int = 2, cap: int = FACTOR_CAP) -> tuple[int, int]:
    """(axial, lateral): ``lateral``, and the axial factor that makes output voxels near-isotropic, at most ``cap``."""
    scale = [float(s) for s in scale]
    if len(scale) < 3 or scale[-1] <= 0:
        return 1, min(lateral, cap)
    target = scale[-1] / lateral
    axial = round(scale[-3] / target) if scale[-3] > 0 else 1
    return int(np.clip(axial, 1, cap)), min(lateral, cap)


def default_factors(layer: Any) -> tuple[int, int]:
    """(axial, lateral) from the layer's metadata hint when present, else from its scale (both capped)."""
    hint = (layer.metadata or {}).get(FACTOR_KEY)
    if hint is not None and len(hint) >= 2:
        axial = int(hint[-3]) if len(hint) >= 3 else 1
        return min(axial, FACTOR_CAP), min(int(hint[-1]), FACTOR_CAP)
    return suggest_factors(layer.scale[-spatial_ndim(layer) :])


def why_factors(layer: Any) -> str:
    """Why :func:`default_factors` proposes what it does, in one or two sentences (the factors' tooltip)."""
    hint = (layer.metadata or {}).get(FACTOR_KEY)
    if hint is not None and len(hint) >= 2:
        return f"Proposed from the layer's metadata: it was undersampled by {tuple(int(h) for h in hint)}."
    axial, lateral = default_factors(layer)
    if spatial_ndim(layer) < 3:
        return f"Proposed ×{lateral} lateral for a 2D image."
    z, x = float(layer.scale[-3]), float(layer.scale[-1])
    if z <= 0 or x <= 0 or (z == 1.0 and x == 1.0 and str(layer.units[-1]) == "pixel"):
        return f"Proposed ×{lateral} lateral; the layer has no voxel size, so no axial factor is proposed."
    unit = _core_unit(str(layer.units[-1])) or ""
    full = z / (x / lateral)
    text = (
        f"Proposed ×{axial} axial: with ×{lateral} lateral the XY pixel becomes {x / lateral:.3g} {unit}, and the"
        f" z-step of {z:.3g} {unit} is {full:.3g}× that"
    )
    if round(full) > FACTOR_CAP:
        return (
            f"{text}; isotropy would need ×{round(full)}, capped at ×{FACTOR_CAP} because a larger factor invents"
            " more than the image holds (the self-check rarely verifies it). Type a larger one to try."
        )
    return f"{text}, so ×{axial} makes the voxels near-isotropic."


def factor_tuple(ndim: int, axial: int, lateral: int) -> tuple[int, ...]:
    """Per-axis factor for a 2D (Y, X) or 3D (Z, Y, X) run."""
    return (lateral, lateral) if ndim == 2 else (axial, lateral, lateral)


def result_name(source: str, factor: Sequence[int], mode: str = "enhance") -> str:
    """Name of the result layer: ``nuclei ×1×4×4``, ``nuclei denoised`` or ``nuclei denoised ×1×4×4``."""
    if mode == "denoise":
        return f"{source} denoised"
    prefix = f"{source} denoised" if mode == "denoise+enhance" else source
    return f"{prefix} ×{'×'.join(map(str, factor))}"


def result_kwargs(
    layer: Any,
    factor: Sequence[int],
    index: Sequence[int] = (),
    *,
    all_volumes: bool = False,
    mode: str = "enhance",
) -> dict[str, Any]:
    """Layer properties that make the result overlay ``layer`` exactly (scale, translate, units, look).

    ``all_volumes``: the result keeps the layer's leading axes (every time point / channel), with their
    scale, translate, units and labels unchanged. ``mode`` (enhance, denoise, denoise+enhance) goes into
    the metadata; a denoised result has factor 1, so the layer's own scale and translate.
    """
    from ..core.geometry import output_translate, output_voxel_size

    nd = len(factor)
    lead = layer.ndim - nd if all_volumes else 0
    scale = tuple(float(s) for s in layer.scale[-nd:])
    translate = tuple(float(t) for t in layer.translate[-nd:])
    kwargs: dict[str, Any] = {
        "scale": tuple(float(s) for s in layer.scale[:lead]) + tuple(output_voxel_size(scale, factor)),
        "translate": tuple(float(t) for t in layer.translate[:lead])
        + tuple(output_translate(scale, factor, translate)),
        "units": tuple(str(u) for u in layer.units[-nd - lead :]),
        "axis_labels": tuple(layer.axis_labels[-nd - lead :]),
        "colormap": layer.colormap,
        "contrast_limits": tuple(layer.contrast_limits),
        "gamma": layer.gamma,
        "blending": layer.blending,
        "metadata": {
            RESULT_KEY: {
                "source": layer.name,
                "factor": tuple(factor),
                "index": tuple(index),
                "all_volumes": all_volumes,
                "mode": mode,
            }
        },
    }
    return kwargs


def sim_kwargs(layer: Any, image: np.ndarray, name: str) -> dict[str, Any]:
    """Layer properties of a SIM output (``(2Y, 2X)`` or ``(T, 2Y, 2X)``) over the raw ``(…, 9, Y, X)`` layer.

    The SIM grid halves the raw pixel, and its sample 0 sits exactly on raw pixel 0 (the core resamples in
    Fourier space, ``core/sim/fourier.resample``: sample ``j`` of the 2× grid is raw position ``j / 2``), so in
    napari's pixel-centre convention the translate is the raw layer's own and the scale half of it. A time
    axis keeps its scale and translate; the frame axis (9) is dropped.
    """
    keep = [0] if image.ndim == 3 else []  # the T axis of a (T, 9, Y, X) layer
    axes = [*keep, layer.ndim - 2, layer.ndim - 1]
    half = [*([1.0] * len(keep)), 0.5, 0.5]
    finite = image[np.isfinite(image)]
    low, high = np.percentile(finite, (0.5, 99.8)) if finite.size else (0.0, 1.0)
    return {
        "name": name,
        "scale": tuple(float(layer.scale[a]) * h for a, h in zip(axes, half, strict=True)),
        "translate": tuple(float(layer.translate[a]) for a in axes),
        "units": tuple(str(layer.units[a]) for a in axes),
        "axis_labels": tuple(layer.axis_labels[a] for a in axes),
        "colormap": layer.colormap,
        "contrast_limits": (float(low), float(high) if high > low else float(low) + 1.0),
        "blending": layer.blending,
    }
