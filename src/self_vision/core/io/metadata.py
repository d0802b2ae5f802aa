"""Voxel sizes as TIFF files record them: OME-XML, the ImageJ description, or the resolution tags."""

from __future__ import annotations

import math
import warnings
from contextlib import suppress
from typing import Any

import tifffile

from .units import MICRON, UNIT_IN_UM, normalize_unit, tidy


class CalibrationWarning(UserWarning):
    """A file's voxel size is present but invalid (0, negative, NaN): it is ignored, and the user is told."""


def _warn_invalid(where: str, found: list[str]) -> None:
    """One warning for every invalid size of one file."""
    warnings.warn(
        f"{where}: {', '.join(found)} {'is' if len(found) == 1 else 'are'} not a valid voxel size (0, negative or "
        "NaN); the file's calibration is ignored, set the voxel size yourself if you need it",
        CalibrationWarning,
        stacklevel=4,
    )


def physical_sizes(tif: tifffile.TiffFile, series: tifffile.TiffPageSeries) -> dict[str, tuple[float, str | None]]:
    """Per-axis (``"X"``, ``"Y"``, ``"Z"``) physical size and unit found in the file's metadata.

    A size that is present but invalid (0, negative, NaN) is dropped with a :class:`CalibrationWarning`.
    """
    where = str(getattr(tif, "filename", "") or "input")
    invalid: list[str] = []
    sizes = _sizes(tif, series, invalid)
    if invalid:
        _warn_invalid(where, invalid)
    return sizes


def _sizes(tif: tifffile.TiffFile, series: tifffile.TiffPageSeries, invalid: list[str]) -> dict:
    """:func:`physical_sizes` without the warning: invalid sizes are named in ``invalid``."""
    with suppress(Exception):  # metadata is best effort; never fail a read because of it
        if tif.is_ome and tif.ome_metadata:
            sizes = _ome_sizes(tif.ome_metadata, invalid)
            if sizes:
                return sizes
    page = getattr(series, "keyframe", None) or tif.pages.first
    with suppress(Exception):
        ij = tif.imagej_metadata if tif.is_imagej else None
        if ij is not None:
            return _imagej_sizes(ij, page, invalid)
    with suppress(Exception):
        return _tag_sizes(page)
    return {}


def _ome_sizes(xml: str, invalid: list[str]) -> dict[str, tuple[float, str | None]]:
    """PhysicalSizeX/Y/Z of the first OME Image (units default to µm as in the OME schema)."""
    ome = tifffile.xml2dict(xml).get("OME", {})
    image = ome.get("Image", {})
    if isinstance(image, list):
        image = image[0] if image else {}
    pixels = image.get("Pixels", {}) if isinstance(image, dict) else {}
    sizes: dict[str, tuple[float, str | None]] = {}
    for ax in "XYZ":
        value = pixels.get(f"PhysicalSize{ax}")
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if number > 0 and math.isfinite(number):
            sizes[ax] = (number, normalize_unit(pixels.get(f"PhysicalSize{ax}Unit", MICRON)) or MICRON)
        else:
            invalid.append(f"OME PhysicalSize{ax} {value!r}")
    return sizes


def _imagej_sizes(ij: dict[str, Any], page: Any, invalid: list[str]) -> dict[str, tuple[float, str | None]]:
    """Sizes from an ImageJ file: X/Y from the resolution tags, Z from ``spacing``, unit from ``unit``."""
    unit = normalize_unit(ij.get("unit"))
    sizes: dict[str, tuple[float, str | None]] = {}
    for ax, tag in (("X", "XResolution"), ("Y", "YResolution")):
        value = _inverse_rational(page.tags.get(tag))
        if value is not None:
            sizes[ax] = (value, unit)
        elif page.tags.get(tag) is not None:
            invalid.append(f"ImageJ {tag} {page.tags.get(tag).value!r}")
    spacing = ij.get("spacing")
    if spacing is not None:
        try:
            value = float(spacing)
        except (TypeError, ValueError):
            value = math.nan
        if value > 0 and math.isfinite(value):
            sizes["Z"] = (tidy(value), unit)
        else:
            invalid.append(f"ImageJ spacing {spacing!r}")
    if unit is None and all(v == 1.0 for v, _ in sizes.values()):
        return {}  # ImageJ's "uncalibrated": 1 pixel per pixel
    return sizes


def _tag_sizes(page: Any) -> dict[str, tuple[float, str | None]]:
    """X/Y sizes from plain TIFF resolution tags (ignored when they look like screen defaults)."""
    resunit = page.tags.get("ResolutionUnit")
    resunit = int(resunit.value) if resunit is not None else 2  # TIFF default: inch
    unit = {1: None, 2: "in", 3: "cm", 4: "mm", 5: MICRON}.get(resunit)
    sizes: dict[str, tuple[float, str | None]] = {}
    for ax, tag in (("X", "XResolution"), ("Y", "YResolution")):
        value = _inverse_rational(page.tags.get(tag))
        if value is not None:
            sizes[ax] = (value, unit)
    per_unit = {round(1 / v, 6) for v, _ in sizes.values()}  # pixels per unit
    if len(sizes) < 2 or per_unit == {1.0} or (unit == "in" and per_unit <= {72.0, 96.0, 300.0}):
        return {}  # no calibration, or the default dots-per-inch of a non-microscopy program
    if unit in ("in", "cm", "mm"):
        return {ax: (tidy(v * UNIT_IN_UM[unit]), MICRON) for ax, (v, _) in sizes.items()}
    return sizes


def _inverse_rational(tag: Any) -> float | None:
    """``1 / resolution`` of an XResolution/YResolution tag, or None if absent or invalid."""
    if tag is None:
        return None
    value = tag.value
    if isinstance(value, tuple) and len(value) == 2:
        num, den = float(value[0]), float(value[1])
    else:
        num, den = float(value), 1.0
    if num <= 0 or den <= 0 or not math.isfinite(num) or not math.isfinite(den):
        return None
    return tidy(den / num)
