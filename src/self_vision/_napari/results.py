"""Placing a run's result in the viewer: which kind of result it is (isinstance on the core's result types,
no attribute probing), the layer(s) it becomes, and the self-check verdict they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.provenance import RECORD_KEY
from . import layers, words
from .state import RunContext

#: Metadata key (inside ``layers.RESULT_KEY``) of the self-check verdict line.
VERDICT_KEY = "verdict"
#: Metadata key of the no-reference resolution figure (core.resolution.ResolutionReport.as_dict).
RESOLUTION_KEY = "resolution"


@dataclass
class Placed:
    """What a finished run added: the result layer, its uncertainty layer, the enhancer that made it."""

    layer: Any
    uncertainty: Any = None
    model: Any = None  # the Enhancer (None for denoising: a denoiser is not saved from the dock)
    verdict: str = ""
    details: str = ""  # the self-check in numbers (the status tooltip)
    how: str = ""  # what the run did, in words
    resolution: str = ""  # the decorrelation resolution line (enhancement), shown under the verdict
    extra: list[Any] = field(default_factory=list)  # SIM: the widefield (and plain SIM) layers beside the best


def place_result(viewer: Any, context: RunContext, result: Any, *, replace: bool = True) -> Placed:
    """Add ``result`` over ``context.layer`` (exactly aligned) and return what was added."""
    from ..core.blockwise.run import BlockwiseResult
    from ..core.denoise.result import DenoiseResult
    from ..core.enhance.run import EnhanceResult
    from ..core.sim.run import SimResult

    if isinstance(result, SimResult):
        return place_sim(viewer, context, result, replace=replace)
    layer, factor, index, mode = context.layer, context.factor, context.index, context.mode
    if isinstance(result, BlockwiseResult):  # block-wise: open what was written, lazily
        from ..core.io.lazy import open_pyramid

        levels = open_pyramid(result.path)[0]
        data: Any = levels if len(levels) > 1 else levels[0]
        check, model = result.self_check, result.model
        how = f"{words.how_text(model, factor, context.applying)}, block by block"
    elif isinstance(result, EnhanceResult):
        data, check, model = result.data, result.self_check, result.model
        how = words.how_text(model, factor, context.applying)
    elif isinstance(result, DenoiseResult):
        learned = "time points" if result.mode == "tis" else "z-slices"
        data, check, model, how = result.data, None, None, f"denoised by comparing neighbouring {learned}"
    else:
        raise TypeError(f"unexpected result {type(result).__name__}")
    skipped = None if check is not None else words.check_skipped_reason(result, context)
    verdict = words.verdict(check, skipped) + words.gate_note(getattr(result, "gate", None))
    kwargs = layers.result_kwargs(layer, factor, index, all_volumes=context.all_volumes, mode=mode)
    meta = kwargs["metadata"][layers.RESULT_KEY]
    meta[VERDICT_KEY] = verdict
    if isinstance(result, BlockwiseResult):
        meta["path"] = str(result.path)
    kwargs["metadata"][RECORD_KEY] = run_record_of(context, result)
    resolution = result.resolution if isinstance(result, (EnhanceResult, BlockwiseResult)) else None
    if resolution is not None:
        meta[RESOLUTION_KEY] = resolution.as_dict()
    name = layers.result_name(layer.name, factor, mode)
    added = _add(viewer, data, name, kwargs, replace)
    details = check.summary() if check is not None else verdict
    placed = Placed(added, None, model, verdict, details, how)
    if resolution is not None:
        placed.resolution = resolution.short()
        placed.details += "\n" + resolution.summary()
    if isinstance(result, EnhanceResult) and result.uncertainty is not None:
        placed.uncertainty = _add_uncertainty(viewer, context, result.uncertainty, added.name, replace)
    return placed


def place_sim(viewer: Any, context: RunContext, result: Any, *, replace: bool = True) -> Placed:
    """Add widefield, SIM and (when denoised) rDL-SIM over the raw layer, at half its pixel, exactly aligned."""
    layer = context.layer
    pattern = words.sim_pattern_lines(result.params)
    info = {
        "source": layer.name,
        "mode": "sim",
        "pattern": pattern,
        "warnings": list(result.warnings),
        "pixel_size_um": result.pixel_size_um,
        "summary": result.summary(),
    }
    outputs = [("widefield", result.widefield), ("SIM", result.sr)]
    if result.sr_denoised is not None:
        outputs.append(("rDL-SIM", result.sr_denoised))
    added = []
    record = run_record_of(context, result)
    for label, image in outputs:
        kwargs = layers.sim_kwargs(layer, image, f"{layer.name} {label}")
        kwargs["metadata"] = {layers.RESULT_KEY: {**info, "output": label}, RECORD_KEY: record}
        name = kwargs.pop("name")
        added.append(_add(viewer, image, name, kwargs, replace))
    warned = f"; {len(result.warnings)} warning(s)" if result.warnings else ""
    verdict = f"pattern of {len(result.params)} stripe orientations estimated{warned}"
    how = "Wiener SIM" + (" of the rDL-denoised frames" if result.sr_denoised is not None else "")
    placed = Placed(added[-1], None, None, verdict, result.summary(), how)
    placed.extra = added[:-1]
    return placed


def run_record_of(context: RunContext, result: Any) -> dict[str, Any]:
    """The run record (core.provenance: seed, steps, every setting) of ``result``: the layer carries it, and
    the plugin's writer puts it into the saved file, as the command line does."""
    from ..core.blockwise.run import BlockwiseResult
    from ..core.denoise.options import DenoiseOptions
    from ..core.denoise.result import DenoiseResult
    from ..core.enhance.options import EnhanceOptions
    from ..core.provenance import denoise_record, enhance_record, sim_record
    from ..core.sim.options import SimOptions
    from ..core.sim.run import SimResult

    request = context.request
    if isinstance(result, BlockwiseResult):
        return result.record
    if isinstance(result, SimResult):
        return sim_record(result, request.sim_options or SimOptions())
    if isinstance(result, DenoiseResult):
        return denoise_record(result, request.denoise_options or DenoiseOptions())
    return enhance_record(result, request.options or EnhanceOptions())


def _add(viewer: Any, data: Any, name: str, kwargs: dict[str, Any], replace: bool) -> Any:
    if name in viewer.layers and replace:  # LayerList has no .get
        viewer.layers.remove(name)
    return viewer.add_image(data, name=name, **kwargs)


def _add_uncertainty(viewer: Any, context: RunContext, data: np.ndarray, result_name: str, replace: bool) -> Any:
    """Add ``<result name> uncertainty`` over the result (the volume trained on), magma, additive."""
    kwargs = layers.result_kwargs(context.layer, context.factor, context.index)
    kwargs["metadata"][layers.RESULT_KEY]["uncertainty"] = True
    top = float(np.percentile(data, 99.5)) if data.size else 0.0
    kwargs.update(colormap="magma", contrast_limits=(0.0, top if top > 0 else 1.0), gamma=1.0, blending="additive")
    return _add(viewer, data, f"{result_name} uncertainty", kwargs, replace)


def result_info(layer: Any) -> dict[str, Any] | None:
    """The Self-Vision metadata of a result layer, or None for any other layer."""
    meta = layer.metadata or {}
    info = meta.get(layers.RESULT_KEY)
    return info if isinstance(info, dict) else None
