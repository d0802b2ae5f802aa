"""Reading raw SIM frames from MRC (through ``mrcfile``) and TIFF (ImageJ / OME, through ``tifffile``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError


@dataclass
class RawSIM:
    """Frames as stored (``(N, Y, X)`` or ``(T, N, Y, X)``) and the pixel size in µm (None when unknown)."""

    data: np.ndarray
    pixel_size_um: float | None
    source: str


def _mrc_pixel(voxel: float) -> float | None:
    """MRC cell sizes are Å by convention, but SIM tools (rDL-SIM) write µm: values below 10 are read as µm."""
    if not np.isfinite(voxel) or voxel <= 0:
        return None
    return voxel if voxel < 10 else voxel / 1e4


def read_mrc(path: Path) -> RawSIM:
    import mrcfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rDL-SIM files lack the MAP id and machine stamp
            with mrcfile.open(path, permissive=True) as mrc:
                if mrc.data is None:
                    raise DataError(f"MRC file {path} holds no image data; check the file")
                data = np.array(mrc.data)
                pixel = _mrc_pixel(float(mrc.voxel_size.x))
    except DataError:
        raise
    except Exception as err:
        raise DataError(f"cannot read {path} as MRC ({err}); give a raw SIM .mrc or .tif stack") from err
    if np.iscomplexobj(data):
        raise DataError(f"{path} holds complex values (an OTF?); give the raw SIM frames")
    return RawSIM(data=data, pixel_size_um=pixel, source=str(path))


def read_tiff(path: Path) -> RawSIM:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            data = tif.asarray()
            pixel = _tiff_pixel(tif)
    except Exception as err:
        raise DataError(f"cannot read {path} as TIFF ({err}); give a raw SIM .tif or .mrc stack") from err
    return RawSIM(data=np.squeeze(data) if data.ndim > 4 else data, pixel_size_um=pixel, source=str(path))


def _tiff_pixel(tif) -> float | None:
    """Pixel size in µm from OME metadata, else from the X resolution tag (ImageJ writes pixels per unit)."""
    if tif.ome_metadata:
        import re

        match = re.search(r'PhysicalSizeX="([0-9.eE+-]+)"', tif.ome_metadata)
        unit = re.search(r'PhysicalSizeXUnit="([^"]+)"', tif.ome_metadata)
        if match:
            value = float(match.group(1))
            scale = {"nm": 1e-3, "mm": 1e3, "m": 1e6}.get(unit.group(1) if unit else "µm", 1.0)
            return value * scale
    page = tif.pages[0]
    tag = page.tags.get("XResolution")
    if tag is None:
        return None
    num, den = tag.value
    if num <= 0 or den <= 0:
        return None
    per_unit = num / den
    unit = (tif.imagej_metadata or {}).get("unit", "")
    if per_unit <= 1.0 + 1e-9 and not unit:
        return None  # the default 1 pixel per unit: no calibration
    size = 1.0 / per_unit
    if unit in ("nm", "nanometer"):
        size *= 1e-3
    elif page.tags.get("ResolutionUnit") is not None and not unit:
        res_unit = page.tags["ResolutionUnit"].value
        if res_unit == 3:  # centimetre
            size *= 1e4
        elif res_unit == 2:  # inch
            size *= 25400.0
    return float(size)


def read_raw_sim(path: str | Path) -> RawSIM:
    """Read raw SIM frames from ``.mrc`` or ``.tif``/``.tiff``; the pixel size comes from the header if present."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"raw SIM file {path} does not exist; check the path")
    suffix = path.suffix.lower()
    if suffix in (".mrc", ".dv", ".st"):
        return read_mrc(path)
    if suffix in (".tif", ".tiff"):
        return read_tiff(path)
    raise DataError(f"{path} is neither .mrc nor .tif; save the raw SIM frames as MRC or TIFF")
