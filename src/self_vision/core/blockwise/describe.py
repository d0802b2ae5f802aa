"""What a block-wise output says about itself: the run record (seed, steps, every setting; core.provenance) and,
for an enhancement, the no-reference resolution figure of input and output (core.resolution).

The record is made when training ends and kept in the partial output's run file, so a resumed run writes the
one its training made. The resolution figure is read after the last block, on the same central region an
in-memory run analyses (at most ``MAX_CROP`` output voxels per axis), so it costs about a second whatever the
volume's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..enhance.enhancer import Enhancer
from ..enhance.run import resolution_of
from ..enhance.selfcheck import SelfCheck
from ..intensity import Normalizer
from ..io.lazy import LazyVolume
from ..resolution import ResolutionReport, regions


@dataclass
class TrainedSample:
    """What the ``train`` callback of :func:`~.engine.blockwise_steps` returns."""

    model: Any
    normalizer: Normalizer
    self_check: SelfCheck | None = None
    seconds: float = 0.0
    #: The provenance record (core.provenance.run_record) of the training; written into the output.
    record: dict[str, Any] = field(default_factory=dict)
    #: What the self-check's gate decided (core.enhance.gate.GateDecision); None without one.
    gate: Any = None


def block_resolution(
    volume: LazyVolume, level0: Any, model: Enhancer, voxel_size: Sequence[float] | None
) -> ResolutionReport:
    """The resolution figure of a block-wise enhancement: ``volume``'s central region and its image in the
    written output ``level0`` (a Zarr array on the output grid), with the output degraded again to the input's."""
    region_in, region_out = regions(volume.shape, model.factor)
    low = np.asarray(volume.read(region_in))
    high = np.asarray(level0[region_out])
    return resolution_of(low, high, model, voxel_size)


def finished_record(
    record: dict[str, Any], *, blocks: int, resumed: int, resolution: ResolutionReport | None
) -> dict[str, Any]:
    """The record as written into the output: the training's, the blocks, and the resolution figure."""
    out = {**record, "blocks": blocks, "resumed_blocks": resumed}
    if resolution is not None:
        out["resolution"] = resolution.as_dict()
    return out
