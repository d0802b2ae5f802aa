"""The input panel: the mode, the image layer (following the viewer), the factors, where block-wise runs write."""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from .. import layers
from ..request import is_blockwise, layer_factor, leading_axes, output_path
from ..settings import INTERLEAVE, MODES, DockSettings
from .bind import bind_check, bind_combo, bind_spin, bind_text, set_row_visible, spin

#: Axis labels that mark a layer's first axis as time (the reader writes 't').
TIME_LABELS = ("t", "time")


def suggested_interleave(layer: Any) -> str:
    """``tis`` for a (T,Y,X) or (T,Z,Y,X) layer whose first axis is labelled as time, else ``sis``."""
    if layer is None or layer.ndim not in (3, 4):
        return "sis"
    first = str(layer.axis_labels[0]).lower() if len(layer.axis_labels) else ""
    return "tis" if first in TIME_LABELS else "sis"


class InputPanel(QWidget):
    """What a run works on. Follows the viewer's layers; locked (nothing changes) while a run goes on."""

    layer_changed = Signal()

    def __init__(self, settings: DockSettings, viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings, self.viewer = settings, viewer
        self._choices: list[Any] = []
        self._locked = False
        self._stale = False  # the viewer's layers changed while locked: refresh on unlock
        self._proposing = False
        self.user_factors = False  # the user set the factors: never propose over them
        self._build()
        self._connect_viewer()
        self.refresh_layers()

    def _build(self) -> None:
        form = self.form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.mode_box = QComboBox(
            toolTip="Enhance: sharper, finer-sampled image learned from the image itself. Denoise: remove noise"
            " without changing the pixel size. Denoise + enhance: first denoise, then enhance (noisy, coarse"
            " acquisitions)"
        )
        bind_combo(self.mode_box, self.settings, "mode", MODES)
        form.addRow("Mode", self.mode_box)
        self.interleave_box = QComboBox(
            toolTip="What the denoiser compares. z-slices: neighbouring slices of a 3D stack show the same"
            " structure with different noise, so even slices learn to predict odd ones (SiS). time points:"
            " the same for consecutive frames of a time-lapse (TiS). Chosen from the layer's axis labels"
        )
        bind_combo(self.interleave_box, self.settings, "interleave", INTERLEAVE)
        form.addRow("Denoise by", self.interleave_box)
        self.layer_box = QComboBox(toolTip="The image layer to process (grey 2D/3D; 4D+: the current 3D volume)")
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_box.setMinimumContentsLength(16)  # a long layer name must not widen the dock
        self.layer_box.currentIndexChanged.connect(self._on_layer_changed)
        form.addRow("Image", self.layer_box)
        self.all_volumes_check = QCheckBox("process every time point / channel")
        self.all_volumes_check.setToolTip(
            "Learn from the volume at the current time point / channel, then apply that model (no retraining)"
            " to every volume of the layer; the result keeps the layer's time and channel axes"
        )
        bind_check(self.all_volumes_check, self.settings, "all_volumes")
        form.addRow("", self.all_volumes_check)
        self.axial_spin = spin(1, layers.MAX_FACTOR, "How many times finer the result samples Z (1 = unchanged)")
        self.lateral_spin = spin(1, layers.MAX_FACTOR, "How many times finer the result samples Y and X")
        bind_spin(self.axial_spin, self.settings, "axial")
        bind_spin(self.lateral_spin, self.settings, "lateral")
        self.settings.events.axial.connect(self._factor_edited)
        self.settings.events.lateral.connect(self._factor_edited)
        self.factor_row = QWidget()
        row = QHBoxLayout(self.factor_row)
        row.setContentsMargins(0, 0, 0, 0)
        for text, box in (("axial ×", self.axial_spin), ("lateral ×", self.lateral_spin)):
            row.addWidget(QLabel(text))
            row.addWidget(box, 1)
        form.addRow("Factor", self.factor_row)
        self.output_row = QWidget()
        row = QHBoxLayout(self.output_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.output_edit = QLineEdit(
            toolTip="Large, lazy or multiscale layers are enhanced block by block into this OME-Zarr folder,"
            " then opened lazily; Start again after a cancel or crash resumes where it stopped"
        )
        bind_text(self.output_edit, self.settings, "output")
        browse = QToolButton(text="…", toolTip="Choose the OME-Zarr folder to write")
        browse.clicked.connect(self._choose_output)
        row.addWidget(self.output_edit, 1)
        row.addWidget(browse)
        form.addRow("Write to", self.output_row)
        self.settings.events.mode.connect(self.update_controls)
        self.settings.events.axial.connect(self.update_controls)
        self.settings.events.lateral.connect(self.update_controls)

    # ------------------------------------------------------------------ layers

    def _connect_viewer(self) -> None:
        events = self.viewer.layers.events
        self._viewer_callbacks = [
            (events.inserted, self.refresh_layers),
            (events.removed, self.refresh_layers),
            (events.reordered, self.refresh_layers),
            (self.viewer.layers.selection.events.active, self._follow_active),
        ]
        for emitter, callback in self._viewer_callbacks:
            emitter.connect(callback)

    def disconnect_viewer(self) -> None:
        for emitter, callback in self._viewer_callbacks:
            emitter.disconnect(callback)
        self._viewer_callbacks = []

    def refresh_layers(self, event: Any = None) -> None:
        """Offer the viewer's grey image layers; keep the current choice when it is still there."""
        if self._locked:  # the run's layer stays shown, even if it was deleted
            self._stale = True
            return
        current = self.selected_layer()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self._choices = [layer for layer in self.viewer.layers if layers.is_supported(layer)]
        for layer in self._choices:
            self.layer_box.addItem(layer.name)
            layer.events.name.connect(self._rename_layer)
        self.layer_box.blockSignals(False)
        index = self.index_of(current)
        if index < 0:
            index = self.index_of(self.viewer.layers.selection.active)
        self.layer_box.setCurrentIndex(max(index, 0) if self._choices else -1)
        if index < 0 or self.selected_layer() != current:
            self._on_layer_changed()

    def index_of(self, layer: Any) -> int:
        """Position of ``layer`` in the picker, -1 if absent.

        Compared with ``==``: napari hands plugins proxies of its layers, a new one per access, which
        compare equal to (but are not) each other; Qt's ``findData`` would miss them.
        """
        if layer is None:
            return -1
        return next((i for i, choice in enumerate(self._choices) if choice == layer), -1)

    def _rename_layer(self, event: Any) -> None:
        index = self.index_of(event.source)
        if index >= 0:
            self.layer_box.setItemText(index, event.source.name)

    def _follow_active(self, event: Any = None) -> None:
        index = self.index_of(self.viewer.layers.selection.active)
        if index >= 0 and not self._locked:
            self.layer_box.setCurrentIndex(index)

    def select_layer(self, layer: Any) -> None:
        """Show ``layer`` in the picker (if it can be processed)."""
        index = self.index_of(layer)
        if index >= 0 and not self._locked:
            self.layer_box.setCurrentIndex(index)

    def selected_layer(self) -> Any:
        """The layer the picker shows, or None."""
        index = self.layer_box.currentIndex()
        return self._choices[index] if 0 <= index < len(self._choices) else None

    def _on_layer_changed(self, index: int = 0) -> None:
        layer = self.selected_layer()
        if layer is not None:
            self.settings.interleave = suggested_interleave(layer)
            self.factor_row.setToolTip(layers.why_factors(layer))
            if not self.user_factors:
                self.propose_factors(layer)
        self.update_controls()
        self.layer_changed.emit()

    def propose_factors(self, layer: Any) -> None:
        """Set the factors that restore isotropy (capped) for ``layer``; not counted as the user's."""
        axial, lateral = layers.default_factors(layer)
        self._proposing = True
        try:
            self.settings.axial = axial if layers.spatial_ndim(layer) == 3 else 1
            self.settings.lateral = lateral
        finally:
            self._proposing = False

    def _factor_edited(self, value: int = 0) -> None:
        if not self._proposing and not self._locked:
            self.user_factors = True

    # ------------------------------------------------------------------ state

    def set_locked(self, locked: bool) -> None:
        """Freeze the picker and every control for a run (True) or free them (False)."""
        self._locked = locked
        self.setEnabled(not locked)
        if not locked and self._stale:
            self._stale = False
            self.refresh_layers()
        self.update_controls()

    def large_layer(self, layer: Any = None) -> bool:
        """True when the (chosen) layer is enhanced block by block into OME-Zarr (see ``layers.is_large``)."""
        return is_blockwise(self.settings, self.selected_layer() if layer is None else layer)

    def update_controls(self, *args: Any) -> None:
        """Show what the mode and layer use; hide the rest (factors when denoising, time points for 2D...)."""
        layer = self.selected_layer()
        mode = self.settings.mode
        form = self.form
        set_row_visible(form, self.interleave_box, mode == "denoise")
        set_row_visible(form, self.factor_row, mode not in ("denoise", "sim"))
        self.axial_spin.setEnabled(layer is not None and layers.spatial_ndim(layer) == 3)
        large = self.large_layer(layer)
        set_row_visible(form, self.output_row, large)
        set_row_visible(form, self.all_volumes_check, leading_axes(layer) > 0 and mode == "enhance" and not large)
        if large:
            self.output_edit.setPlaceholderText(layers.default_output(layer, layer_factor(self.settings, layer)))

    def _choose_output(self) -> None:
        layer = self.selected_layer()
        start = output_path(self.settings, layer) if layer is not None else ""
        path, _ = QFileDialog.getSaveFileName(self, "Write the enhanced volume to", start, "OME-Zarr (*.zarr)")
        if path:
            self.settings.output = path if path.endswith(".zarr") else path + ".ome.zarr"

    def factor(self, layer: Any) -> tuple[int, ...]:
        return layer_factor(self.settings, layer)
