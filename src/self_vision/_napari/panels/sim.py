"""The SIM panel (SIM mode only): the raw camera pixel, whether rDL denoises the frames first, and the
illumination pattern the last run found (stripe direction, line spacing, modulation) with its warnings."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QWidget

from ..request import sim_pixel_um
from ..settings import SIM_DENOISE, DockSettings
from .bind import bind_combo, bind_spin


class SimPanel(QWidget):
    """Shown in SIM mode only; its report is filled in when a SIM run ends."""

    def __init__(self, settings: DockSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        form = self.form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.sim_pixel_spin = QDoubleSpinBox(
            toolTip="The camera pixel of the raw SIM frames, in nm, as it is in the sample (after the objective)."
            " Leave at 'from the layer' when the layer's scale carries it (a calibrated file)"
        )
        self.sim_pixel_spin.setRange(0.0, 1000.0)
        self.sim_pixel_spin.setDecimals(1)
        self.sim_pixel_spin.setSuffix(" nm")
        self.sim_pixel_spin.setSpecialValueText("from the layer")
        bind_spin(self.sim_pixel_spin, settings, "sim_pixel_nm")
        form.addRow("Raw pixel", self.sim_pixel_spin)
        self.sim_denoise_box = QComboBox(
            toolTip="rDL: first denoise the raw frames with a small network told where the stripes are (learned"
            " from these frames alone, for the Quality's time), then Wiener SIM of them. Choose it for dim data"
            " whose SIM shows a honeycomb of noise; none is instant"
        )
        bind_combo(self.sim_denoise_box, settings, "sim_denoise", SIM_DENOISE)
        form.addRow("Denoise frames", self.sim_denoise_box)
        # short lines, not wrapped: a wrapped label in a form inside a scroll area gets too little height
        self.sim_pattern_label = QLabel("shown after a run")
        self.sim_pattern_label.setToolTip(
            "What the run found in the data, per stripe orientation: direction, spacing of the lines and their"
            " contrast (modulation: 1 = full, below ~0.3 the SIM gain is small). Expect the directions about 60°"
            " apart and one spacing for all"
        )
        form.addRow("Pattern", self.sim_pattern_label)
        self.sim_warnings_label = QLabel("", wordWrap=True)
        self.sim_warnings_label.setStyleSheet("color: #ffb74d")
        form.addRow("", self.sim_warnings_label)
        self.sim_warnings_label.setVisible(False)
        settings.events.mode.connect(self.update_controls)
        self.update_controls()

    def update_controls(self, *args: object) -> None:
        self.setVisible(self.settings.mode == "sim")

    def show_layer(self, layer: Any) -> None:
        """Say which pixel the layer gives (the field's placeholder)."""
        pixel = None if layer is None else sim_pixel_um(DockSettings(), layer)
        self.sim_pixel_spin.setSpecialValueText(
            f"from the layer ({1000 * pixel:.1f} nm)" if pixel else "from the layer (none: type it)"
        )

    def report(self, pattern: list[str], warnings: list[str]) -> None:
        """Show the pattern a run found and its warnings."""
        self.sim_pattern_label.setText("\n".join(pattern) or "no pattern was estimated")
        self.sim_warnings_label.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.sim_warnings_label.setVisible(bool(warnings))
