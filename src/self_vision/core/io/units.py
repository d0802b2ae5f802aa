"""Physical units of voxel sizes: normalising the names files use, and writing them back (ImageJ)."""

from __future__ import annotations

import re

MICRON = "µm"


# Length units we recognise, in micrometres; keys are normalised spellings.
UNIT_IN_UM: dict[str, float] = {
    "m": 1e6,
    "cm": 1e4,
    "mm": 1e3,
    MICRON: 1.0,
    "nm": 1e-3,
    "pm": 1e-6,
    "Å": 1e-4,
    "in": 25400.0,
}


_UNIT_ALIASES: dict[str, str] = {
    "micron": MICRON,
    "microns": MICRON,
    "micrometer": MICRON,
    "micrometre": MICRON,
    "micrometers": MICRON,
    "micrometres": MICRON,
    "um": MICRON,
    "µm": MICRON,  # U+00B5 MICRO SIGN
    "μm": MICRON,  # U+03BC GREEK SMALL LETTER MU
    "nanometer": "nm",
    "nanometre": "nm",
    "nanometers": "nm",
    "nanometres": "nm",
    "millimeter": "mm",
    "millimetre": "mm",
    "centimeter": "cm",
    "centimetre": "cm",
    "meter": "m",
    "metre": "m",
    "angstrom": "Å",
    "å": "Å",
    "Å": "Å",  # U+212B ANGSTROM SIGN
    "inch": "in",
    "inches": "in",
}


# Spellings that mean "not calibrated".
_NO_UNIT = {"", "pixel", "pixels", "px", "none", "unknown"}


_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def normalize_unit(unit: str | None) -> str | None:
    """Return a canonical spelling of a length unit (``"micron"``, ``"um"``, ``"\\u00B5m"`` -> ``"µm"``).

    None or an uncalibrated spelling (``"pixel"``) gives None; an unknown unit is returned stripped.
    """
    if unit is None:
        return None
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), str(unit)).strip()
    if text.lower() in _NO_UNIT:
        return None
    return _UNIT_ALIASES.get(text, _UNIT_ALIASES.get(text.lower(), text))


def tidy(value: float) -> float:
    """Round to 12 significant digits, so rational round-off reads back as e.g. 0.65, not 0.6499999..."""
    return float(f"{value:.12g}")


def imagej_unit(unit: str | None) -> str | None:
    """The unit as written in an ImageJ description: ``micron`` for µm, ASCII with \\uXXXX escapes."""
    unit = normalize_unit(unit)
    if unit is None:
        return None
    if unit == MICRON:
        return "micron"  # understood by ImageJ/Fiji, Bio-Formats and tifffile, and plain ASCII
    return "".join(c if c.isascii() and c.isprintable() else f"\\u{ord(c):04X}" for c in unit)
