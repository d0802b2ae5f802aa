"""From the dock's settings and the chosen layer to the run request: ONE function, :func:`build_request`,
for every kind of run (train or apply, enhance or denoise, one volume, every volume, block by block).

Qt-free: the panels only edit :class:`~.settings.DockSettings`; this module reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import layers
from .settings import DockSettings
from .state import RunContext


class RequestError(Exception):
    """Why a run cannot start, in one line for the user."""


def enhance_options(settings: DockSettings, mode: str | None = None) -> Any:
    """The ``EnhanceOptions`` the settings describe (``mode`` decides whether an uncertainty map is asked)."""
    from ..core.enhance.options import EnhanceOptions

    mode = settings.mode if mode is None else mode
    steps = settings.steps or None
    return EnhanceOptions(
        steps=steps,
        time_budget=settings.time_budget(),
        operator=settings.operator,
        ensemble=settings.ensemble,
        uncertainty=settings.uncertainty and mode == "enhance",
        seed=None if settings.seed < 0 else settings.seed,
        members=settings.members(),
        axial_members=settings.axial_members(),
        back_projection=settings.back_projection,
        max_tile_output=settings.tile_mvox * 2**20,
        precision=settings.precision,
        sampling=settings.sampling(),
        optics=optics(settings) if mode in ("enhance", "denoise+enhance") else None,
    )


def optics(settings: DockSettings) -> Any:
    """The ``core.optics.Optics`` the settings give, or None while the NA is unknown (0)."""
    if not settings.na:
        return None
    from ..core.errors import UsageError
    from ..core.optics import IMMERSION, Optics

    try:
        return Optics(
            settings.na,
            settings.emission_nm / 1000,
            IMMERSION[settings.immersion],
            settings.microscope,
            settings.excitation_nm / 1000 if settings.excitation_nm else None,
        )
    except UsageError as err:
        raise RequestError(f"Advanced ▸ Objective: {str(err).removeprefix('optics: ')}") from None


def denoise_options(settings: DockSettings) -> Any:
    """The ``DenoiseOptions`` the settings describe (steps, time, seed and tiles shared with enhancing)."""
    from ..core.denoise.options import DenoiseOptions

    return DenoiseOptions(
        gamma=settings.gar,
        fnsm=settings.fnsm,
        steps=settings.steps or None,
        time_budget=settings.time_budget(),
        seed=None if settings.seed < 0 else settings.seed,
        max_tile_output=settings.tile_mvox * 2**20,
    )


def layer_factor(settings: DockSettings, layer: Any) -> tuple[int, ...]:
    """The per-axis enhancement factor the settings give for ``layer``'s 2D/3D volumes."""
    return layers.factor_tuple(layers.spatial_ndim(layer), settings.axial, settings.lateral)


def leading_axes(layer: Any) -> int:
    """How many axes of ``layer`` lie before the 2D/3D data a run works on (time, channels)."""
    return 0 if layer is None else layer.ndim - layers.spatial_ndim(layer)


def is_blockwise(settings: DockSettings, layer: Any, model: Any = None) -> bool:
    """True when the run on ``layer`` goes block by block into OME-Zarr (see ``layers.is_large``)."""
    if layer is None or (model is None and settings.mode != "enhance"):
        return False
    factor = tuple(model.factor) if model is not None else layer_factor(settings, layer)
    return layers.is_large(layer, factor)


def output_path(settings: DockSettings, layer: Any) -> str:
    """The OME-Zarr folder a block-wise run writes: the field's text, else the suggested default."""
    return settings.output.strip() or layers.default_output(layer, layer_factor(settings, layer))


def run_budget(settings: DockSettings, mode: str) -> float | None:
    """Seconds of training a run of ``mode`` takes (None: a step count): the preset's time for enhancing
    (shared by its networks) and as much again for a denoiser."""
    seconds = settings.time_budget()
    if seconds is None:
        return None
    return seconds * (2 if mode == "denoise+enhance" else 1)


def build_request(
    settings: DockSettings, layer: Any, point: Sequence[float] | None = None, model: Any = None
) -> RunContext:
    """The run on ``layer`` (its leading axes at the viewer's ``point``) the settings describe, or, with
    ``model``, applying that model; raises :class:`RequestError` when it cannot start."""
    from .worker import RunRequest

    mode = "enhance" if model is not None else settings.mode
    if mode == "sim":
        return sim_request(settings, layer)
    # a loaded model trains nothing, but its inference reads the tile size, precision and ensemble from here
    options = enhance_options(settings, mode)
    budget = None if model is not None else run_budget(settings, mode)
    device = settings.device or "auto"
    if is_blockwise(settings, layer, model):
        factor = tuple(model.factor) if model is not None else layer_factor(settings, layer)
        volume, index = layers.lazy_volume(layer, point)
        if len(factor) != len(volume.shape):
            raise RequestError(
                f"the model enhances {len(factor)}D images; '{layer.name}' gives {len(volume.shape)}D volumes"
            )
        request = RunRequest(
            data=None,
            factor=factor,
            voxel_size=volume.voxel_size,
            options=options,
            device=device,
            model=model,
            large_output=output_path(settings, layer),
            lazy=volume,
        )
        return RunContext(layer, factor, index, request, budget)
    if layer.multiscale or not isinstance(layer.data, np.ndarray):
        raise RequestError(f"'{layer.name}' is lazy or multiscale: only Enhance runs block by block; choose Enhance")
    interleave = settings.interleave if mode == "denoise" else "sis"
    if interleave == "tis":  # the whole layer: time first, then (Y,X) or (Z,Y,X)
        if layer.ndim not in (3, 4):
            raise RequestError(f"TiS denoises a (T,Y,X) or (T,Z,Y,X) layer; '{layer.name}' has {layer.ndim} axes")
        data, index = np.array(layer.data, copy=True), ()
    else:
        data, index = layers.current_volume(layer, point)
    nd = data.ndim
    if model is not None:
        factor = tuple(model.factor)
    elif mode == "denoise":
        factor = (1,) * nd
    else:
        factor = layers.factor_tuple(nd, settings.axial, settings.lateral)
    request = RunRequest(
        data=data,
        factor=factor,
        voxel_size=tuple(float(s) for s in layer.scale[-nd:][1 if interleave == "tis" else 0 :]),
        options=options,
        device=device,
        model=model,
        mode=mode,
        denoise_options=denoise_options(settings) if mode != "enhance" else None,
        denoise_mode=interleave,
    )
    if leading_axes(layer) > 0 and settings.all_volumes and mode == "enhance":
        # the worker reads one volume at a time (no copy of the whole layer on the GUI thread)
        request.volumes, request.index = layer.data, index
    return RunContext(layer, factor, index, request, budget)


def sim_pixel_um(settings: DockSettings, layer: Any) -> float | None:
    """The raw SIM pixel in µm: the field when set, else the layer's X scale when it carries a length unit."""
    if settings.sim_pixel_nm > 0:
        return settings.sim_pixel_nm / 1000.0
    unit = str(layer.units[-1]) if len(layer.units) else "pixel"
    per_um = {"micrometer": 1.0, "nanometer": 1e-3, "millimeter": 1e3}.get(unit)
    if per_um is None:
        return None
    return float(layer.scale[-1]) * per_um


def sim_request(settings: DockSettings, layer: Any) -> RunContext:
    """The SIM run on ``layer`` (a raw ``(9, Y, X)`` or ``(T, 9, Y, X)`` stack) the settings describe."""
    import dataclasses

    from ..core.sim.run import SimOptions
    from .worker import RunRequest

    if layer.multiscale or not isinstance(layer.data, np.ndarray):
        raise RequestError(f"'{layer.name}' is lazy or multiscale; SIM needs the raw frames in memory")
    if layer.ndim not in (3, 4):
        raise RequestError(
            f"SIM takes raw frames as (9, Y, X) or (T, 9, Y, X); '{layer.name}' has {layer.ndim} axes"
            f" {layer.data.shape}"
        )
    pixel = sim_pixel_um(settings, layer)
    if pixel is None:
        raise RequestError(
            f"'{layer.name}' has no pixel size; type the camera pixel (e.g. 62.6 nm) in 'Raw pixel' (SIM)"
        )
    train = settings.time_budget()  # None: the step count decides
    budget = train if settings.sim_denoise != "none" else None
    defaults_ = SimOptions()
    options = dataclasses.replace(
        defaults_,
        pixel_size_um=pixel,
        denoise=settings.sim_denoise,
        time_budget_s=train if train is not None else 1e6,
        max_steps=settings.steps or defaults_.max_steps,
        seed=settings.seed if settings.seed >= 0 else int(np.random.default_rng().integers(2**31 - 1)),
        device=settings.device or "auto",
    )
    request = RunRequest(
        data=np.array(layer.data, copy=True),
        factor=(2, 2),
        voxel_size=(pixel, pixel),
        device=settings.device or "auto",
        mode="sim",
        sim_options=options,
    )
    return RunContext(layer, (2, 2), (), request, budget)
