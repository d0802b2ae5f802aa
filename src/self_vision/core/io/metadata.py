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


def physical_translate(tif: tifffile.TiffFile, sizes: dict[str, tuple[float, str | None]]) -> dict[str, float]:
    """Per-axis (``"X"``, ``"Y"``, ``"Z"``) world position of the first voxel's centre — napari's ``translate`` —
    in the unit of ``sizes`` (from :func:`physical_sizes`; an axis without a size counts in pixels).

    Read from the OME ``Plane`` of the first plane (``PositionX/Y/Z``, converted to the voxel size's unit), or
    from ImageJ's calibration origin (``xorigin`` / ``yorigin`` / ``zorigin``, in pixels: the translate is
    ``-origin · size``). A position that is not a finite number is ignored with a :class:`CalibrationWarning`.
    Files without either give ``{}`` (the origin).
    """
    invalid: list[str] = []
    found: dict[str, float] = {}
    with suppress(Exception):  # metadata is best effort; never fail a read because of it
        if tif.is_ome and tif.ome_metadata:
            found = _ome_translate(tif.ome_metadata, sizes, invalid)
    with suppress(Exception):
        if not found and tif.is_imagej and tif.imagej_metadata:
            found = _imagej_translate(tif.imagej_metadata, sizes, invalid)
    if invalid:
        warnings.warn(
            f"{getattr(tif, 'filename', '') or 'input'}: {', '.join(invalid)} "
            f"{'is' if len(invalid) == 1 else 'are'} not a valid position; the image is placed at the origin "
            "along that axis",
            CalibrationWarning,
            stacklevel=2,
        )
    return found


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _imagej_translate(ij: dict[str, Any], sizes: dict, invalid: list[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for ax in "XYZ":
        value = ij.get(f"{ax.lower()}origin")
        if value is None:
            continue
        number = _finite(value)
        if number is None:
            invalid.append(f"ImageJ {ax.lower()}origin {value!r}")
        elif number:
            found[ax] = tidy(-number * sizes.get(ax, (1.0, None))[0])
    return found


def _ome_translate(xml: str, sizes: dict, invalid: list[str]) -> dict[str, float]:
    """PositionX/Y/Z of the first OME Image's plane at Z = T = C = 0 (or its first plane)."""
    image = tifffile.xml2dict(xml).get("OME", {}).get("Image", {})
    image = (image[0] if image else {}) if isinstance(image, list) else image
    planes = image.get("Pixels", {}).get("Plane", []) if isinstance(image, dict) else []
    planes = [p for p in (planes if isinstance(planes, list) else [planes]) if isinstance(p, dict)]
    first = [p for p in planes if all(int(p.get(f"The{a}", 0)) == 0 for a in "ZTC")] or planes
    if not first:
        return {}
    found: dict[str, float] = {}
    for ax in "XYZ":
        value = first[0].get(f"Position{ax}")
        if value is None:
            continue
        number = _finite(value)
        if number is None:
            invalid.append(f"OME Position{ax} {value!r}")
            continue
        unit = normalize_unit(first[0].get(f"Position{ax}Unit"))
        size_unit = sizes[ax][1] if ax in sizes else None
        if unit in UNIT_IN_UM and size_unit in UNIT_IN_UM:
            number = number * UNIT_IN_UM[unit] / UNIT_IN_UM[size_unit]
        elif unit in UNIT_IN_UM and ax not in sizes:
            continue  # a physical position on an uncalibrated axis: no common frame with the voxel grid
        if number:
            found[ax] = tidy(number)
    return found
