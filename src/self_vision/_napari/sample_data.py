"""Sample data for napari: the built-in synthetic neurons, undersampled and at full resolution."""

from __future__ import annotations

from typing import Any

SAMPLE_FACTOR = (1, 4, 4)
SAMPLE_VOXEL = (1.0, 0.25, 0.25)  # µm, of the full-resolution volume


def _reference():
    from ..core.quality import crop_reference
    from ..core.sample import synthetic_neurons

    return crop_reference(synthetic_neurons((24, 192, 192), seed=0), SAMPLE_FACTOR)


def undersampled_neurons() -> list[tuple[Any, dict, str]]:
    """The synthetic volume area-downsampled by (1, 4, 4): what a fast, undersampled acquisition gives."""
    from ..core.quality import degrade_array

    low = degrade_array(_reference(), SAMPLE_FACTOR)
    scale = tuple(v * f for v, f in zip(SAMPLE_VOXEL, SAMPLE_FACTOR, strict=True))
    translate = tuple(v * (f - 1) / 2 for v, f in zip(SAMPLE_VOXEL, SAMPLE_FACTOR, strict=True))
    meta = {
        "name": "undersampled neurons",
        "scale": scale,
        "translate": translate,
        "colormap": "magma",
        "units": ("micrometer",) * 3,
        "axis_labels": ("z", "y", "x"),
        "metadata": {"self_vision_factor": SAMPLE_FACTOR},  # the widget proposes this factor
    }
    return [(low, meta, "image")]


def reference_neurons() -> list[tuple[Any, dict, str]]:
    """The same synthetic volume at full resolution, to check an enhanced result against."""
    meta = {
        "name": "reference neurons",
        "scale": SAMPLE_VOXEL,
        "colormap": "magma",
        "units": ("micrometer",) * 3,
        "axis_labels": ("z", "y", "x"),
    }
    return [(_reference(), meta, "image")]
