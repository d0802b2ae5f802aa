"""The optics rows of the Advanced panel: the objective (NA, immersion) and the microscope (kind, wavelengths),
from which the axial blur of the training planes is computed (core.optics) instead of taken as the output's z spacing.
Only the NA row shows until an NA is given."""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout

from ..settings import IMMERSIONS, MICROSCOPES, DockSettings
from .bind import bind_combo, bind_spin


def _nm_spin(tip: str, special: str | None = None) -> QDoubleSpinBox:
    box = QDoubleSpinBox(toolTip=tip, decimals=0, suffix=" nm")
    box.setRange(0.0 if special else 200.0, 2000.0)
    box.setSingleStep(10.0)
    if special:
        box.setSpecialValueText(special)
    return box


class OpticsRows:
    """The NA row and, once an NA is given, immersion, microscope and wavelength rows, bound to the settings."""

    def __init__(self, settings: DockSettings, form: QFormLayout) -> None:
        self.settings = settings
        self.na_spin = QDoubleSpinBox(
            toolTip="Numerical aperture of the objective (printed on it). With it, the extra blur that makes the"
            " training planes look like your z-axis comes from the optics; 'unknown' uses the output's z spacing",
            decimals=2,
        )
        self.na_spin.setRange(0.0, 1.7)
        self.na_spin.setSingleStep(0.05)
        self.na_spin.setSpecialValueText("unknown")
        bind_spin(self.na_spin, settings, "na")
        form.addRow("Objective NA", self.na_spin)
        self.immersion_box = QComboBox(toolTip="What is between the objective and the coverslip")
        bind_combo(self.immersion_box, settings, "immersion", IMMERSIONS)
        form.addRow("Immersion", self.immersion_box)
        self.microscope_box = QComboBox(
            toolTip="Widefield: camera images of the whole field. Confocal: a pinhole (narrower PSF). Two-photon:"
            " a pulsed infrared laser (give its excitation wavelength)"
        )
        bind_combo(self.microscope_box, settings, "microscope", MICROSCOPES)
        form.addRow("Light path", self.microscope_box)
        self.emission_spin = _nm_spin("Emission wavelength of the dye")
        bind_spin(self.emission_spin, settings, "emission_nm")
        form.addRow("Emission", self.emission_spin)
        self.excitation_spin = _nm_spin(
            "Excitation wavelength (confocal: leave at 'as emission' if unsure; two-photon: required, e.g. 920 nm)",
            special="as emission",
        )
        bind_spin(self.excitation_spin, settings, "excitation_nm")
        form.addRow("Excitation", self.excitation_spin)

    @property
    def details(self) -> tuple[QComboBox | QDoubleSpinBox, ...]:
        """The rows that matter only once the NA is known."""
        return (self.immersion_box, self.microscope_box, self.emission_spin, self.excitation_spin)
