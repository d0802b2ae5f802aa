"""The optics rows of the Advanced panel: the objective (NA, immersion) and the microscope (kind, wavelengths),
from which the axial blur of the training planes is computed (core.optics) instead of estimated from the data."""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QWidget

from ..settings import IMMERSIONS, MICROSCOPES, DockSettings
from .bind import bind_combo, bind_spin


def _row(tip: str, *widgets: QWidget) -> QWidget:
    row = QWidget(toolTip=tip)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return row


def _nm_spin(tip: str, special: str | None = None) -> QDoubleSpinBox:
    box = QDoubleSpinBox(toolTip=tip, decimals=0, suffix=" nm")
    box.setRange(0.0 if special else 200.0, 2000.0)
    box.setSingleStep(10.0)
    if special:
        box.setSpecialValueText(special)
    return box


class OpticsRows:
    """Two form rows, ``objective`` and ``light``, bound to the settings' optics fields."""

    def __init__(self, settings: DockSettings) -> None:
        self.na_spin = QDoubleSpinBox(
            toolTip="Numerical aperture of the objective (printed on it). With it, the extra blur that makes the"
            " training planes look like your z-axis comes from the optics; 'unknown' estimates it from the data",
            decimals=2,
        )
        self.na_spin.setRange(0.0, 1.7)
        self.na_spin.setSingleStep(0.05)
        self.na_spin.setSpecialValueText("unknown")
        bind_spin(self.na_spin, settings, "na")
        self.immersion_box = QComboBox(toolTip="What is between the objective and the coverslip")
        bind_combo(self.immersion_box, settings, "immersion", IMMERSIONS)
        self.objective = _row(
            "The objective's numerical aperture and immersion: with them the axial blur comes from the optics",
            self.na_spin,
            self.immersion_box,
        )
        self.microscope_box = QComboBox(
            toolTip="Widefield: camera images of the whole field. Confocal: a pinhole (narrower PSF). Two-photon:"
            " a pulsed infrared laser (give its excitation wavelength)"
        )
        bind_combo(self.microscope_box, settings, "microscope", MICROSCOPES)
        self.emission_spin = _nm_spin("Emission wavelength of the dye")
        bind_spin(self.emission_spin, settings, "emission_nm")
        self.excitation_spin = _nm_spin(
            "Excitation wavelength (confocal: leave at 'as emission' if unsure; two-photon: required, e.g. 920 nm)",
            special="as emission",
        )
        bind_spin(self.excitation_spin, settings, "excitation_nm")
        self.light = _row(
            "The kind of microscope and the dye's emission (and excitation) wavelengths; used once the NA is known",
            self.microscope_box,
            self.emission_spin,
            self.excitation_spin,
        )
        settings.events.na.connect(self.update_controls)
        self.update_controls()

    def update_controls(self, *args: object) -> None:
        """The wavelengths and the microscope matter only once the NA is known."""
        known = self.na_spin.value() > 0
        for widget in (self.immersion_box, self.microscope_box, self.emission_spin, self.excitation_spin):
            widget.setEnabled(known)
