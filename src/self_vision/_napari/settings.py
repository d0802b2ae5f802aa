"""The dock's settings: ONE evented dataclass the panels bind their controls to, that
:func:`~self_vision._napari.request.build_request` reads, and that is kept between sessions.

Qt-free (``psygnal`` events); :func:`load` and :func:`save` reach ``QSettings`` lazily.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from psygnal import evented

from .. import defaults
from ..core.sampling import parse_sampling

_Z, _Y, _X = parse_sampling(defaults.SAMPLING, 3)

#: Quality presets: label -> seconds of training of a stage group and the enhancement networks sharing them.
PRESETS = dict(defaults.PRESETS)
#: Run modes: label -> ``RunRequest.mode``.
MODES = {
    "Enhance": "enhance",
    "Denoise": "denoise",
    "Denoise + enhance": "denoise+enhance",
    "SIM (raw 2D-SIM frames)": "sim",
}
#: What the Denoise mode interleaves: label -> core denoising mode.
INTERLEAVE = {"z-slices (SiS)": "sis", "time points (TiS)": "tis"}
#: How the microscope is assumed to sample: label -> ``EnhanceOptions.operator``.
OPERATORS = {"pixel averaging": "area", "Gaussian blur (PSF)": "psf", "cubic": "cubic"}
#: How the layer's z-planes were sampled: label -> core sampling word (``EnhanceOptions.sampling``).
SAMPLING_Z = {"z-step (optical sections)": "point", "pixel binning": "area"}
#: How its XY pixels were sampled.
SAMPLING_XY = {"pixel binning (camera pixels)": "area", "scan step (point samples)": "point"}
#: SIM: what is done to the raw frames before the Wiener reconstruction: label -> ``SimOptions.denoise``.
SIM_DENOISE = {"none (Wiener SIM only)": "none", "rDL (pattern-guided denoising)": "rdl"}
#: Inference arithmetic: label -> ``EnhanceOptions.precision``.
PRECISIONS = {"automatic": "auto", "full (32-bit)": "fp32", "half (bfloat16)": "bf16"}
#: The microscope, for the axial blur of the training planes (core.optics): label -> ``Optics.microscope``.
MICROSCOPES = {"widefield": "widefield", "confocal": "confocal", "two-photon": "two-photon"}
#: Immersion media: label -> name in core.optics.IMMERSION.
IMMERSIONS = {"oil": "oil", "water": "water", "silicone": "silicone", "glycerol": "glycerol", "air (dry)": "air"}
#: Fields that follow the chosen layer (proposed from it) and are not kept between sessions. The optics are
#: not kept either: a NA left from yesterday's data must not shape today's silently.
PER_LAYER = (
    "interleave",
    "all_volumes",
    "axial",
    "lateral",
    "output",
    "sim_pixel_nm",
    "na",
    "emission_nm",
    "excitation_nm",
    "immersion",
    "microscope",
)
#: Where QSettings keeps them (organisation, application).
STORE = ("napari-self-vision", "dock")


@evented
@dataclass
class DockSettings:
    """Every choice the dock offers; a panel's control changes a field, a field change updates the control."""

    mode: str = "enhance"  # one of MODES' values
    interleave: str = "sis"  # denoise: sis or tis
    all_volumes: bool = False  # enhance every time point / channel of a 4D+ layer
    axial: int = 1
    lateral: int = 2
    output: str = ""  # block-wise runs: the OME-Zarr folder ("" = beside the layer's file)
    preset: str = "Balanced"  # one of PRESETS
    device: str = "auto"
    steps: int = 0  # 0 = as many as the preset's time allows
    operator: str = "area"
    ensemble: bool = False
    uncertainty: bool = False
    seed: int = defaults.DEFAULT_SEED  # the product's fixed default; -1 = a different seed every run
    networks: int = 0  # networks of every stage, averaged (EnhanceOptions.members); 0 = as the Quality preset
    back_projection: int = 10
    tile_mvox: int = defaults.MAX_TILE_OUTPUT // 2**20  # largest inference tile, in millions of output voxels
    precision: str = "auto"
    sampling_z: str = _Z  # with sampling_xy: EnhanceOptions.sampling ("z=point,xy=area")
    sampling_xy: str = _X
    na: float = 0.0  # objective NA; 0 = unknown: the axial blur is the output's z spacing
    emission_nm: float = 520.0
    excitation_nm: float = 0.0  # 0 = as the emission (confocal); a two-photon microscope needs it
    immersion: str = "oil"  # one of IMMERSIONS' values
    microscope: str = "widefield"  # one of MICROSCOPES' values
    sim_pixel_nm: float = 0.0  # SIM: raw camera pixel in nm (0 = the layer's scale)
    sim_denoise: str = "none"  # SIM: none or rdl
    gar: float = 1.0
    fnsm: bool = False
    replace: bool = True  # a new result replaces the previous one of the same name
    advanced_open: bool = False

    def time_budget(self) -> float | None:
        """Seconds of training of a run, shared by its networks (None when a step count is set)."""
        return None if self.steps else self._preset().seconds

    def members(self) -> int | None:
        """Networks of every enhancement stage: the Advanced choice (None: as the Quality preset)."""
        return self.networks or None

    def axial_members(self) -> int | None:
        """Networks of the axial stage when Advanced leaves it to the Quality preset (None: the core's default)."""
        return self._preset().axial_networks

    def _preset(self) -> defaults.Preset:
        return PRESETS.get(self.preset, PRESETS["Balanced"])

    def sampling(self) -> str:
        """The core's sampling text, e.g. ``z=point,xy=area``."""
        return f"z={self.sampling_z},xy={self.sampling_xy}"

    def persisted(self) -> dict[str, Any]:
        """What is kept between sessions: everything but the per-layer proposals."""
        return {k: v for k, v in asdict(self).items() if k not in PER_LAYER}

    def update(self, values: dict[str, Any]) -> None:
        """Take the known fields of ``values`` whose type matches (a stale or foreign store is ignored)."""
        defaults_ = DockSettings()
        for f in fields(self):
            if f.name not in values:
                continue
            value, default = values[f.name], getattr(defaults_, f.name)
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is type(default):
                setattr(self, f.name, value)

    def restore_defaults(self) -> None:
        """Every kept setting back to its default (the per-layer proposals stay)."""
        self.update(DockSettings().persisted())


def load(settings: DockSettings) -> None:
    """Fill ``settings`` from the last session (QSettings); nothing when there is none or it is unreadable."""
    from qtpy.QtCore import QSettings

    text = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, *STORE).value("settings", "")
    try:
        values = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return
    if isinstance(values, dict):
        settings.update(values)


def save(settings: DockSettings) -> None:
    """Keep ``settings`` for the next session."""
    from qtpy.QtCore import QSettings

    store = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, *STORE)
    store.setValue("settings", json.dumps(settings.persisted()))
    store.sync()
