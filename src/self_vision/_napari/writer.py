"""napari writer: an image layer to an ImageJ TIFF whose voxel size is the layer's scale and whose calibration
origin (ImageJ's ``xorigin``/``yorigin``/``zorigin``) is the layer's translate, carrying a result layer's run record
(seed, steps, settings; core.provenance) as the command line's outputs do."""

from __future__ import annotations

from typing import Any


def write_image(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """Write a grey 2D/3D image layer to ``path`` (.tif/.tiff) with its scale as voxel size and its translate as
    the position of the first voxel (see :func:`~self_vision.core.io.writing.write_tiff`); returns [path]."""
    import numpy as np

    from ..core.errors import UsageError
    from ..core.io.units import normalize_unit
    from ..core.io.writing import write_tiff
    from ..core.provenance import RECORD_KEY

    if meta.get("rgb"):
        raise UsageError(f"{path}: RGB layers are not written by Self-Vision; use napari's built-in TIFF writer")
    array = np.asarray(data)
    if array.ndim not in (2, 3):
        raise UsageError(f"{path}: the layer has {array.ndim} axes; Self-Vision writes 2D or 3D images only")
    scale = tuple(float(s) for s in meta.get("scale") or (1.0,) * array.ndim)
    units = [normalize_unit(str(u)) for u in meta.get("units") or ()]
    spatial = [u for u in units if u is not None]
    unit = spatial[-1] if spatial else None
    translate = tuple(float(t) for t in meta.get("translate") or (0.0,) * array.ndim)
    record = (meta.get("metadata") or {}).get(RECORD_KEY)  # a result's run record (seed, steps, settings)
    written = write_tiff(
        path,
        array,
        voxel_size=scale[-array.ndim :],
        unit=unit,
        overwrite=True,
        translate=translate[-array.ndim :],
        record=record if isinstance(record, dict) else None,
    )
    return [str(written)]
