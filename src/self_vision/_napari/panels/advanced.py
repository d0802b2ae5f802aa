"""The Advanced panel: every option with a one-line tooltip saying what it does and when to change it; options
that do not apply to the current mode are hidden."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QToolButton, QVBoxLayout, QWidget

from ...defaults import AXIAL_MEMBERS, MAX_MEMBERS, VOLUME_MEMBERS
from ..settings import OPERATORS, PRECISIONS, PRESETS, SAMPLING_XY, SAMPLING_Z, DockSettings
from .bind import bind_check, bind_combo, bind_spin, set_row_visible, spin
from .optics import OpticsRows

#: Which options each mode uses (the others are hidden): enhance-only, denoise-only, both.
ENHANCE_ONLY = (
    "operator_box",
    "sampling_z_box",
    "sampling_xy_box",
    "ensemble_check",
    "networks_spin",
    "backproj_spin",
    "precision_box",
    "na_spin",
)
DENOISE_ONLY = ("gar_spin", "fnsm_check")


class AdvancedPanel(QWidget):
    """A collapsible form of the options most users never change."""

    def __init__(self, settings: DockSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.toggle = QToolButton(text="Advanced", checkable=True, toolTip="Show the options most runs never need")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self._show)
        layout.addWidget(self.toggle)
        self.body = QWidget()
        self.form = form = QFormLayout(self.body)
        form.setContentsMargins(12, 0, 0, 0)
        layout.addWidget(self.body)

        self.steps_spin = spin(
            0,
            1_000_000,
            "Training steps. Leave at 'auto' to train as long as the Quality allows; set a number for runs that"
            " repeat exactly in length",
            special="auto (Quality's time)",
        )
        bind_spin(self.steps_spin, settings, "steps")
        form.addRow("Training steps", self.steps_spin)
        self.operator_box = QComboBox(
            toolTip="How the microscope turned the fine image into the pixels you have, as the model learns it."
            " Pixel averaging suits camera and most confocal data; Gaussian blur (PSF) suits images blurrier than"
            " their pixel size; cubic only for images that were resized by software"
        )
        bind_combo(self.operator_box, settings, "operator", OPERATORS)
        form.addRow("Microscope model", self.operator_box)
        self.sampling_z_box = QComboBox(
            toolTip="How each plane of your stack was taken. z-step: the stage moved and each plane is one optical"
            " section (widefield, confocal, light-sheet stacks: keep this). Pixel binning: planes were summed or"
            " averaged in groups (rare)"
        )
        bind_combo(self.sampling_z_box, settings, "sampling_z", SAMPLING_Z)
        form.addRow("Z planes are", self.sampling_z_box)
        self.sampling_xy_box = QComboBox(
            toolTip="How each XY pixel was taken. Pixel binning: a camera pixel collects light over its area (most"
            " microscopes: keep this). Scan step: a point-scanning microscope sampled one point per pixel with a"
            " pixel larger than its spot"
        )
        bind_combo(self.sampling_xy_box, settings, "sampling_xy", SAMPLING_XY)
        form.addRow("XY pixels are", self.sampling_xy_box)
        self.optics = OpticsRows(settings, form)
        self.na_spin, self.immersion_box = self.optics.na_spin, self.optics.immersion_box
        self.microscope_box = self.optics.microscope_box
        self.emission_spin, self.excitation_spin = self.optics.emission_spin, self.optics.excitation_spin
        self.ensemble_check = QCheckBox("average 8 flipped copies")
        self.ensemble_check.setToolTip(
            "Enhance the image in its 8 flipped orientations and average them: a smoother, slightly more"
            " reliable result, 8× slower to compute"
        )
        bind_check(self.ensemble_check, settings, "ensemble")
        form.addRow("Self-ensemble", self.ensemble_check)
        self.uncertainty_check = QCheckBox("add an uncertainty layer")
        self.uncertainty_check.setToolTip(
            "Also add '<result> uncertainty': the model's estimated error per voxel (measured one scale down, in"
            " the image's intensity units; high where it is noisy). Costs one small extra run of the model"
        )
        bind_check(self.uncertainty_check, settings, "uncertainty")
        form.addRow("Uncertainty", self.uncertainty_check)
        self.seed_spin = spin(
            -1,
            2**31 - 1,
            "Starting point of the random choices in training. A fixed number (default 0) with a step count"
            " repeats a run exactly; 'random' differs every run",
            special="random",
        )
        bind_spin(self.seed_spin, settings, "seed")
        form.addRow("Seed", self.seed_spin)
        self.networks_spin = spin(
            0,
            MAX_MEMBERS,
            f"Networks trained and averaged per stage ('as Quality': for z {_axial_counts()}; lateral stages"
            f" {VOLUME_MEMBERS}). One network's result depends on its random start (on a test stack the gain"
            " over cubic varied by 2 dB between seeds); the mean of 4 is steadier and on average better, and lets"
            " the self-check confirm a thin stack's z. They share the Quality's time; with Steps each trains"
            " them. Each is applied to the whole input, so their part of inference takes N times as long",
            special="as Quality",
        )
        bind_spin(self.networks_spin, settings, "networks")
        form.addRow("Networks", self.networks_spin)
        self.backproj_spin = spin(
            0,
            100,
            "Rounds of correction after the model so that the result, blurred and resampled back, matches your"
            " image exactly. 0 shows the model alone; keep 10 unless the result looks ringed",
        )
        bind_spin(self.backproj_spin, settings, "back_projection")
        form.addRow("Match the input", self.backproj_spin)
        self.tile_spin = spin(
            1,
            1024,
            "The largest piece (in million output voxels) the model computes at once. Lower it if the run"
            " fails for lack of memory; raise it on a large GPU for speed",
        )
        self.tile_spin.setSuffix(" million voxels")
        bind_spin(self.tile_spin, settings, "tile_mvox")
        form.addRow("Tile size", self.tile_spin)
        self.precision_box = QComboBox(
            toolTip="Arithmetic of the enhancement. Automatic uses half precision where the hardware is fast at"
            " it (GPUs, recent CPUs); choose full (32-bit) if a result looks blocky or differs between machines"
        )
        bind_combo(self.precision_box, settings, "precision", PRECISIONS)
        form.addRow("Precision", self.precision_box)
        self.gar_spin = QDoubleSpinBox(
            toolTip="Gap-filling regulariser (GAR, from rDL): how strongly the denoiser is kept from blurring"
            " across the gap between the slices it compares. 1 suits most stacks; 0 turns it off; raise it if"
            " the result looks smeared along Z or time"
        )
        self.gar_spin.setRange(0.0, 100.0)
        self.gar_spin.setSingleStep(0.5)
        self.gar_spin.setSpecialValueText("off")
        bind_spin(self.gar_spin, settings, "gar")
        form.addRow("Gap regulariser", self.gar_spin)
        self.fnsm_check = QCheckBox("suppress noise in Fourier space first")
        self.fnsm_check.setToolTip(
            "A learned low-pass filter (FNSM) before the denoiser: helps on very noisy data, may soften the finest"
            " detail"
        )
        bind_check(self.fnsm_check, settings, "fnsm")
        form.addRow("Fourier filter", self.fnsm_check)
        self.replace_check = QCheckBox("replace the previous result")
        self.replace_check.setToolTip(
            "A new run replaces the result layer of the same name; untick to keep every run's result"
        )
        bind_check(self.replace_check, settings, "replace")
        form.addRow("Result layer", self.replace_check)
        self.toggle.setChecked(settings.advanced_open)
        self.body.setVisible(settings.advanced_open)
        settings.events.mode.connect(self.update_controls)
        settings.events.na.connect(self.update_controls)
        self.update_controls()

    def _show(self, shown: bool) -> None:
        self.body.setVisible(shown)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.settings.advanced_open = shown

    def update_controls(self, *args: object) -> None:
        """Show the options the mode uses; hide (and disable) the others."""
        mode = self.settings.mode
        for name in ENHANCE_ONLY:
            set_row_visible(self.form, getattr(self, name), mode in ("enhance", "denoise+enhance"))
        for name in DENOISE_ONLY:
            set_row_visible(self.form, getattr(self, name), mode in ("denoise", "denoise+enhance"))
        set_row_visible(self.form, self.uncertainty_check, mode == "enhance")
        for field in self.optics.details:  # the objective's details once its NA is known
            set_row_visible(self.form, field, mode in ("enhance", "denoise+enhance") and self.settings.na > 0)
        set_row_visible(self.form, self.tile_spin, mode != "sim")


def _axial_counts() -> str:
    """``4 with Balanced, 12 with Best, 1 with Fast``: the axial stage's networks under each Quality preset."""
    counts = {name: AXIAL_MEMBERS if p.axial_networks is None else p.axial_networks for name, p in PRESETS.items()}
    return ", ".join(f"{n} with {name}" for name, n in counts.items())
