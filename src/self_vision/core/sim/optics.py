"""Optical transfer function (OTF) of the detection path and the expected illumination frequency.

Frequencies are in cycles per µm throughout. An :class:`OTF` is a radial profile ``otf(|k|)`` sampled from
``k = 0`` in steps of ``dk``; it comes either from a measured file (the radial complex MRC written by the
rDL-SIM / Chang Qiao tools) or from the ideal incoherent OTF of a circular pupil with detection NA and
emission wavelength.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError


def expected_k0(excitation_wavelength_um: float, na_excitation: float) -> float:
    """|k0| = 2·NA_exc/λ_exc (cycles/µm) of a two-beam pattern at the edge of the pupil (line spacing λ/(2·NA))."""
    if excitation_wavelength_um <= 0 or na_excitation <= 0:
        raise UsageError("excitation wavelength and NA must be positive")
    return 2.0 * na_excitation / excitation_wavelength_um


@dataclass(frozen=True)
class OTF:
    """A radial OTF: ``values[i]`` is the (real, normalised to 1 at k = 0) OTF at ``|k| = i·dk`` cycles/µm."""

    values: np.ndarray
    dk: float
    source: str = "computed"

    @property
    def cutoff(self) -> float:
        """The largest |k| where the OTF is still above 5e-3 of its DC value (cycles/µm)."""
        above = np.nonzero(self.values > 5e-3)[0]
        return float(above[-1] * self.dk) if above.size else self.dk

    def __call__(self, k: np.ndarray) -> np.ndarray:
        """The OTF at radial frequencies ``k`` (cycles/µm), linearly interpolated, 0 beyond the table."""
        grid = np.arange(self.values.size) * self.dk
        return np.interp(np.asarray(k, dtype=np.float64), grid, self.values, right=0.0)


def theoretical_otf(na: float, wavelength_um: float, *, samples: int = 512) -> OTF:
    """The incoherent in-focus OTF of a circular pupil, cutoff ``2·NA/λ`` (λ: emission, µm)."""
    if na <= 0 or wavelength_um <= 0:
        raise UsageError("detection NA and emission wavelength must be positive")
    kc = 2.0 * na / wavelength_um
    dk = kc / (samples - 2)
    rho = np.clip(np.arange(samples) * dk / kc, 0.0, 1.0)
    values = (2.0 / np.pi) * (np.arccos(rho) - rho * np.sqrt(1.0 - rho**2))
    return OTF(values=values.astype(np.float64), dk=float(dk), source=f"computed NA {na:g}, λ {wavelength_um:g} µm")


def _mrc_step(voxel: float) -> float:
    """The header's sample step: rDL-SIM writes µm⁻¹ (or µm) directly; a value > 10 is taken as Å-scaled."""
    return voxel / 1e4 if voxel > 10 else voxel


def read_otf(path: str | Path, *, dk: float | None = None) -> OTF:
    """Read a radial OTF from an MRC file (1 × N, complex or real; step from the header cell or ``dk``)
    or from a text/NPY file of values (``dk`` required)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"OTF file {path} does not exist; give the measured radial OTF (.mrc) or omit --otf")
    if path.suffix.lower() in (".mrc", ".otf"):
        import mrcfile

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with mrcfile.open(path, permissive=True) as mrc:
                    data = np.asarray(mrc.data)
                    step = float(mrc.voxel_size.x)
        except Exception as err:  # mrcfile raises ValueError/OSError variants
            raise DataError(f"cannot read OTF {path} as MRC ({err}); give a radial OTF MRC file") from err
        if data is None or data.size == 0:
            raise DataError(f"OTF file {path} holds no data; give a radial OTF MRC file")
        step = dk if dk is not None else _mrc_step(step)
    else:
        try:
            data = np.load(path) if path.suffix.lower() == ".npy" else np.loadtxt(path)
        except Exception as err:
            raise DataError(f"cannot read OTF {path} ({err}); give a radial OTF as .mrc, .npy or text") from err
        if dk is None:
            raise UsageError(f"OTF {path} has no frequency step; give dk (cycles/µm per sample)")
        step = dk
    squeezed = np.squeeze(data)
    if squeezed.ndim != 1 or squeezed.size < 8:
        raise DataError(
            f"OTF file {path} has shape {data.shape}, not a radial profile (1 × N); "
            "give the measured radial OTF (e.g. otf_tirf488.mrc), not an image or a 2D/3D OTF"
        )
    values = np.abs(squeezed.astype(np.complex128)) if np.iscomplexobj(squeezed) else squeezed.astype(np.float64)
    if not step > 0:
        raise DataError(f"OTF file {path} has no frequency step in its header (cell size 0); give dk explicitly")
    if not np.all(np.isfinite(values)) or values[0] <= 0:
        raise DataError(f"OTF file {path} does not start with a positive finite value at k = 0; check the file")
    values = values / values[0]
    if values.max() > 1.5 or values[-1] > 0.2:
        raise DataError(
            f"OTF file {path} does not fall towards 0 at high frequency (last value {values[-1]:.2f}); "
            "it is not a radial OTF"
        )
    return OTF(values=np.clip(values, 0.0, None), dk=float(step), source=str(path))


def frequency_grid(shape: tuple[int, int], pixel_um: float) -> tuple[np.ndarray, np.ndarray]:
    """``(ky, kx)`` of the unshifted 2D FFT of an image of ``shape`` and pixel size (cycles/µm), broadcastable."""
    ky = np.fft.fftfreq(shape[0], pixel_um)[:, None]
    kx = np.fft.fftfreq(shape[1], pixel_um)[None, :]
    return ky, kx


def otf_on_grid(
    otf: OTF, shape: tuple[int, int], pixel_um: float, shift: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """``OTF(|k + shift|)`` on the FFT grid; ``shift = (ky, kx)`` in cycles/µm."""
    ky, kx = frequency_grid(shape, pixel_um)
    return otf(np.hypot(ky + shift[0], kx + shift[1]))
