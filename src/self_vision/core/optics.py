"""The microscope's optics as far as the axial training planes need them: how much longer the PSF is along z
than across, from the numerical aperture, the wavelength(s) and the immersion medium.

Widths are the paraxial Gaussian approximations of Zhang, Zerubia & Olivo-Marin, "Gaussian approximations of
fluorescence microscope point-spread function models", Appl. Opt. 46, 1819 (2007): a widefield PSF has
``σ_lateral = 0.21 λ / NA`` and ``σ_axial = 0.66 λ n / NA²``. A confocal PSF with a small pinhole is the product
of the excitation and the emission PSFs (Gaussian widths combine as ``1/σ² = 1/σ_ex² + 1/σ_em²``); a two-photon
PSF is the excitation PSF squared (``σ / √2``). Lateral planes already carry the lateral PSF along the axis that
plays z, so the blur they need to look like z is ``√(σ_axial² − σ_lateral²)``.

Checked once against a vectorial model (psfmodels 0.3.3, Aguet et al. 2009; not a dependency: it registers a
napari plugin of its own): NA 1.2 water, emission 0.46 µm, widefield: σ 0.093 / 0.221 µm (vectorial, from the
FWHM) vs 0.081 / 0.281 µm here; confocal (1 AU pinhole, excitation 0.405 µm): extra axial blur 0.171 µm vs
0.178 µm here. docs/method.md, "Optics in the axial pairs".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import KIND_INVALID_VALUE, UsageError

MICROSCOPES = ("widefield", "confocal", "two-photon")
#: Refractive index of the common immersion media, by name.
IMMERSION = {"air": 1.0, "water": 1.333, "silicone": 1.406, "glycerol": 1.47, "oil": 1.515}


@dataclass(frozen=True)
class Optics:
    """Objective and light: ``na``, emission ``wavelength`` (µm), ``immersion`` refractive index, the kind of
    ``microscope``, and the ``excitation`` wavelength (µm; confocal: default the emission's, two-photon: required)."""

    na: float
    wavelength: float
    immersion: float = IMMERSION["oil"]
    microscope: str = "widefield"
    excitation: float | None = None

    def __post_init__(self) -> None:
        def bad(message: str) -> UsageError:
            return UsageError(f"optics: {message}", kind=KIND_INVALID_VALUE, option="optics")

        if self.microscope not in MICROSCOPES:
            raise bad(f"microscope {self.microscope!r}: choose one of {', '.join(MICROSCOPES)}")
        if not 1.0 <= self.immersion <= 2.0:
            raise bad(f"immersion index {self.immersion}: give the medium's refractive index (water 1.333, oil 1.515)")
        if not 0 < self.na < self.immersion:
            raise bad(f"NA {self.na} must be above 0 and below the immersion index {self.immersion}")
        for name, value in (("wavelength", self.wavelength), ("excitation", self.excitation)):
            if value is not None and not 0.2 <= value <= 2.0:
                raise bad(f"{name} {value}: give it in µm (e.g. 0.52 for 520 nm)")
        if self.microscope == "two-photon" and self.excitation is None:
            raise bad("a two-photon microscope needs the excitation wavelength (e.g. 0.92 µm)")

    def psf_sigmas(self) -> tuple[float, float]:
        """Gaussian σ of the PSF (µm) across (lateral) and along z (axial)."""
        emission = _widefield(self.wavelength, self.na, self.immersion)
        if self.microscope == "widefield":
            return emission
        excitation = _widefield(self.excitation or self.wavelength, self.na, self.immersion)
        if self.microscope == "two-photon":
            return excitation[0] / math.sqrt(2), excitation[1] / math.sqrt(2)
        return _product(excitation[0], emission[0]), _product(excitation[1], emission[1])

    def axial_blur(self) -> float:
        """Extra Gaussian σ (µm) that makes a lateral profile as long as an axial one."""
        lateral, axial = self.psf_sigmas()
        return math.sqrt(max(axial**2 - lateral**2, 0.0))

    def describe(self) -> str:
        """``NA 1.2, emission 0.46 µm, n 1.333, confocal``."""
        excitation = "" if self.excitation is None else f", excitation {self.excitation:g} µm"
        return f"NA {self.na:g}, emission {self.wavelength:g} µm{excitation}, n {self.immersion:g}, {self.microscope}"


def _widefield(wavelength: float, na: float, n: float) -> tuple[float, float]:
    return 0.21 * wavelength / na, 0.66 * wavelength * n / na**2


def _product(a: float, b: float) -> float:
    return a * b / math.sqrt(a**2 + b**2)


def parse_optics(text: str) -> Optics:
    """``NA,WAVELENGTH[,IMMERSION[,MICROSCOPE[,EXCITATION]]]`` (the command line's ``--optics``), e.g.
    ``1.2,0.46,water,confocal,0.405``; IMMERSION is a refractive index or one of :data:`IMMERSION`."""
    parts = [p.strip() for p in text.split(",")]
    usage = "write NA,WAVELENGTH_UM[,IMMERSION[,MICROSCOPE[,EXCITATION_UM]]], e.g. 1.2,0.46,water,confocal"
    if not 2 <= len(parts) <= 5:
        raise UsageError(f"optics {text!r}: {usage}", kind=KIND_INVALID_VALUE, option="optics")
    try:
        na, wavelength = float(parts[0]), float(parts[1])
        immersion = IMMERSION["oil"]
        if len(parts) > 2 and parts[2]:
            immersion = IMMERSION[parts[2].lower()] if parts[2].lower() in IMMERSION else float(parts[2])
        microscope = parts[3].lower() if len(parts) > 3 and parts[3] else "widefield"
        excitation = float(parts[4]) if len(parts) > 4 and parts[4] else None
    except ValueError:
        raise UsageError(f"optics {text!r}: {usage}", kind=KIND_INVALID_VALUE, option="optics") from None
    if not all(map(math.isfinite, (na, wavelength, immersion))):
        raise UsageError(f"optics {text!r}: numbers must be finite", kind=KIND_INVALID_VALUE, option="optics")
    return Optics(na, wavelength, immersion, microscope, excitation)
