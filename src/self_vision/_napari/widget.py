"""The Self-Vision dock: pick an image layer and a mode (enhance, denoise, both), train in the background, add the
result."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QEvent, Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import compare, layers
from .plot import LossPlot

if TYPE_CHECKING:
    import napari

#: Quality presets: label -> seconds of training.
PRESETS = {"Fast": 15.0, "Balanced": 40.0, "Best": 120.0}
OPERATORS = ("area", "psf", "cubic")
#: Run modes: label -> ``RunRequest.mode``.
MODES = {"Enhance": "enhance", "Denoise": "denoise", "Denoise + enhance": "denoise+enhance"}
#: What the Denoise mode interleaves: label -> core denoising mode.
INTERLEAVE = {"z-slices (SiS)": "sis", "time points (TiS)": "tis"}
#: Axis labels that mark a layer's first axis as time (the reader writes 't').
TIME_LABELS = ("t", "time")


def _user_message(err: BaseException) -> str:
    """A one-line message for an error from a run: what went wrong and what to do."""
    from ..core.errors import SelfVisionError

    if isinstance(err, SelfVisionError):
        return str(err)
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if isinstance(err, MemoryError) or "out of memory" in text.lower():
        return "out of memory: choose a smaller tile size (Advanced), a smaller factor, or the CPU device"
    return f"Self-Vision run failed ({type(err).__name__}: {text}); see the console for details"


class EnhanceWidget(QWidget):
    """Dock widget: zero-shot resolution enhancement and/or SiS denoising of the chosen image layer."""

    #: Emitted when a run ends: "done", "cancelled" or "error".
    run_finished = Signal(str)

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.model: Any = None  # the last trained or loaded Enhancer
        self.result_layer: Any = None
        self.uncertainty_layer: Any = None  # the last '<result> uncertainty' layer added
        self.source_layer: Any = None
        self._worker: Any = None
        self._cancel: Any = None
        self._progress: Any = None
        self._started = 0.0
        self._stage = ""  # the stage of the latest training step (names the inference that follows)
        self._hidden: dict[str, bool] | None = None
        self._choices: list[Any] = []
        self._build()
        self._connect_viewer()
        self._refresh_layers()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.mode_box = QComboBox(
            toolTip="Enhance: zero-shot resolution enhancement. Denoise: self-supervised denoising, SiS for a 3D"
            " stack (even slices predict odd ones) or TiS for a time-lapse (even time points predict odd ones);"
            " same voxel size. Denoise + enhance: SiS-denoise, then enhance the denoised volume (noisy"
            " undersampled acquisitions)"
        )
        self.mode_box.addItems(list(MODES))
        self.mode_box.currentIndexChanged.connect(self._update_controls)
        form.addRow("Mode", self.mode_box)
        self.interleave_box = QComboBox(
            toolTip="Denoise: SiS pairs even with odd z-slices of the current 3D volume; TiS pairs even with odd"
            " time points of the whole (T,Y,X) or (T,Z,Y,X) layer. Chosen from the layer's axis labels (a first"
            " axis 't' or 'time' means TiS); change it here"
        )
        self.interleave_box.addItems(list(INTERLEAVE))
        form.addRow("Denoise by", self.interleave_box)
        self.layer_box = QComboBox(toolTip="Image layer to enhance (grey 2D/3D; 4D+: the current 3D volume or all)")
        self.layer_box.currentIndexChanged.connect(self._on_layer_changed)
        form.addRow("Image", self.layer_box)
        self.all_volumes_check = QCheckBox("process every time point / channel")
        self.all_volumes_check.setToolTip(
            "Train on the volume at the current time point / channel, then apply that model (no retraining)"
            " to every volume of the layer; the result keeps the layer's leading axes"
        )
        self.all_volumes_check.setVisible(False)
        form.addRow("", self.all_volumes_check)
        self.axial_spin = self._spin(1, layers.MAX_FACTOR, 1, "Upsampling along Z (1 = none)")
        self.lateral_spin = self._spin(1, layers.MAX_FACTOR, 2, "Upsampling along Y and X")
        self.axial_spin.valueChanged.connect(self._update_controls)
        self.lateral_spin.valueChanged.connect(self._update_controls)
        factors = QHBoxLayout()
        factors.addWidget(QLabel("axial"))
        factors.addWidget(self.axial_spin)
        factors.addWidget(QLabel("lateral"))
        factors.addWidget(self.lateral_spin)
        form.addRow("Factor", factors)
        self.output_row = QWidget()
        row = QHBoxLayout(self.output_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.output_edit = QLineEdit(
            toolTip="Large, lazy or multiscale layers are enhanced block by block into this OME-Zarr folder,"
            " then opened lazily; Start again after a cancel or crash resumes where it stopped"
        )
        browse = QToolButton(text="…", toolTip="Choose the OME-Zarr folder to write")
        browse.clicked.connect(self._choose_output)
        row.addWidget(QLabel("Write to"))
        row.addWidget(self.output_edit, 1)
        row.addWidget(browse)
        self.output_row.setVisible(False)
        form.addRow(self.output_row)
        self.preset_box = QComboBox(toolTip="Training time: Fast 15 s, Balanced 40 s, Best 120 s")
        self.preset_box.addItems(list(PRESETS))
        self.preset_box.setCurrentText("Balanced")
        form.addRow("Quality", self.preset_box)
        self.device_box = QComboBox(toolTip="Where to train: Auto picks the first GPU, else the CPU")
        form.addRow("Device", self.device_box)
        self._fill_devices()
        layout.addLayout(form)

        self.advanced_button = QToolButton(text="Advanced", checkable=True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.toggled.connect(self._toggle_advanced)
        layout.addWidget(self.advanced_button)
        self.advanced = QWidget()
        adv = QFormLayout(self.advanced)
        adv.setContentsMargins(12, 0, 0, 0)
        self.steps_spin = self._spin(0, 1_000_000, 0, "Training steps; 0 = as many as the quality's time allows")
        self.steps_spin.setSpecialValueText("auto (time budget)")
        adv.addRow("Steps", self.steps_spin)
        self.operator_box = QComboBox(toolTip="How the microscope is assumed to sample: area mean, PSF, cubic")
        self.operator_box.addItems(list(OPERATORS))
        adv.addRow("Degradation", self.operator_box)
        self.ensemble_check = QCheckBox("self-ensemble (8 flips, slower, smoother)")
        adv.addRow("", self.ensemble_check)
        self.uncertainty_check = QCheckBox("Uncertainty layer")
        self.uncertainty_check.setToolTip(
            "Enhance: also add '<result> uncertainty', the model's estimated error per voxel (its error one scale"
            " down, in the input's units; high where the input is noisy). Costs one small extra inference"
        )
        adv.addRow("", self.uncertainty_check)
        self.seed_spin = self._spin(-1, 2**31 - 1, -1, "Random seed; -1 = different every run")
        self.seed_spin.setSpecialValueText("random")
        adv.addRow("Seed", self.seed_spin)
        self.backproj_spin = self._spin(0, 100, 10, "Rounds of data consistency with the input after the network")
        adv.addRow("Back-projection", self.backproj_spin)
        default_tile = 4  # megavoxels: the core's DEFAULT_MAX_TILE_OUTPUT (not imported: that would load torch)
        tile_tip = "Largest output tile (megavoxels); lower it if short of memory"
        self.tile_spin = self._spin(1, 1024, default_tile, tile_tip)
        self.tile_spin.setSuffix(" Mvox")
        adv.addRow("Tile size", self.tile_spin)
        self.gar_spin = QDoubleSpinBox(toolTip="Weight γ of the gap-amending regulariser (denoising); 0 = off")
        self.gar_spin.setRange(0.0, 100.0)
        self.gar_spin.setSingleStep(0.5)
        self.gar_spin.setValue(1.0)
        self.gar_spin.setSpecialValueText("off")
        adv.addRow("GAR γ", self.gar_spin)
        self.fnsm_check = QCheckBox("FNSM (Fourier noise suppression first stage)")
        self.fnsm_check.setToolTip("Denoising: a learned soft low-pass before the network")
        adv.addRow("", self.fnsm_check)
        self.replace_check = QCheckBox("replace the previous result layer")
        self.replace_check.setChecked(True)
        adv.addRow("", self.replace_check)
        self.advanced.setVisible(False)
        layout.addWidget(self.advanced)

        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self._on_start_clicked)
        layout.addWidget(self.start_button)
        self.progress_bar = QProgressBar(textVisible=True)
        self.progress_bar.setFormat("idle")
        self.progress_bar.setValue(0)
        layout.addWidget(self.progress_bar)
        self.status = QLabel("Choose an image layer and press Start.", wordWrap=True)
        layout.addWidget(self.status)
        self.plot = LossPlot()
        layout.addWidget(self.plot)

        models = QHBoxLayout()
        self.save_button = QPushButton("Save model…", toolTip="Save the last trained model to a file")
        self.save_button.clicked.connect(lambda: self.save_model())
        self.save_button.setEnabled(False)
        self.load_button = QPushButton("Load model…", toolTip="Apply a saved model to the chosen layer (no training)")
        self.load_button.clicked.connect(lambda: self.load_model())
        models.addWidget(self.save_button)
        models.addWidget(self.load_button)
        layout.addLayout(models)

        views = QHBoxLayout()
        self.grid_button = QPushButton("Side by side", toolTip="Input and result in linked views (grid mode)")
        self.grid_button.clicked.connect(self.toggle_side_by_side)
        views.addWidget(self.grid_button)
        for plane in compare.PLANES:
            button = QPushButton(plane, toolTip=f"Show the {plane} plane of all layers")
            button.setMaximumWidth(44)
            button.clicked.connect(lambda _=False, p=plane: compare.show_plane(self.viewer, p))
            views.addWidget(button)
        layout.addLayout(views)
        layout.addStretch(1)
        self._settings = [
            self.mode_box,
            self.interleave_box,
            self.layer_box,
            self.all_volumes_check,
            self.axial_spin,
            self.lateral_spin,
            self.preset_box,
            self.device_box,
            self.advanced,
            self.load_button,
            self.save_button,
        ]

    @staticmethod
    def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox(toolTip=tip)
        spin.setRange(low, high)
        spin.setValue(value)
        return spin

    def _fill_devices(self) -> None:
        from ..core.devices import available_devices

        self.device_box.addItem("Auto", "auto")
        devices = available_devices()
        for info in devices:
            self.device_box.addItem(info.label, info.name)
        if not any(d.name.startswith("cuda") for d in devices):
            self.device_box.addItem("cuda — not available (no CUDA GPU or a CPU-only torch)", None)
            item = self.device_box.model().item(self.device_box.count() - 1)
            item.setEnabled(False)
            item.setToolTip("Install a CUDA build of PyTorch on a machine with an NVIDIA GPU to train on it")

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # ------------------------------------------------------------------ layers

    def _connect_viewer(self) -> None:
        events = self.viewer.layers.events
        self._viewer_callbacks = [
            (events.inserted, self._refresh_layers),
            (events.removed, self._refresh_layers),
            (events.reordered, self._refresh_layers),
            (self.viewer.layers.selection.events.active, self._follow_active),
        ]
        for emitter, callback in self._viewer_callbacks:
            emitter.connect(callback)

    def _disconnect_viewer(self) -> None:
        for emitter, callback in getattr(self, "_viewer_callbacks", []):
            emitter.disconnect(callback)
        self._viewer_callbacks = []

    def _refresh_layers(self, event: Any = None) -> None:
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
        if index >= 0 and not self.is_running:
            self.layer_box.setCurrentIndex(index)

    def select_layer(self, layer: Any) -> None:
        """Show ``layer`` in the picker (if it can be enhanced)."""
        index = self.index_of(layer)
        if index >= 0:
            self.layer_box.setCurrentIndex(index)

    def selected_layer(self) -> Any:
        """The layer the picker shows, or None."""
        index = self.layer_box.currentIndex()
        return self._choices[index] if 0 <= index < len(self._choices) else None

    def _on_layer_changed(self, index: int = 0) -> None:
        layer = self.selected_layer()
        self._update_controls()
        if layer is None:
            return
        axial, lateral = layers.default_factors(layer)
        self.axial_spin.setValue(axial if layers.spatial_ndim(layer) == 3 else 1)
        self.lateral_spin.setValue(lateral)
        self.interleave_box.setCurrentIndex(list(INTERLEAVE.values()).index(self.suggested_interleave(layer)))

    @staticmethod
    def suggested_interleave(layer: Any) -> str:
        """``tis`` for a (T,Y,X) or (T,Z,Y,X) layer whose first axis is labelled as time, else ``sis``."""
        if layer is None or layer.ndim not in (3, 4):
            return "sis"
        first = str(layer.axis_labels[0]).lower() if len(layer.axis_labels) else ""
        return "tis" if first in TIME_LABELS else "sis"

    def denoise_mode(self) -> str:
        """What Denoise interleaves: ``sis`` (z-slices) or ``tis`` (time points); Denoise + enhance is always SiS."""
        return INTERLEAVE[self.interleave_box.currentText()] if self.mode() == "denoise" else "sis"

    def mode(self) -> str:
        """The run mode the switch shows: ``enhance``, ``denoise`` or ``denoise+enhance``."""
        return MODES[self.mode_box.currentText()]

    def _update_controls(self, index: int = 0) -> None:
        """Show what the mode and layer use: factors for enhancing, GAR/FNSM for denoising."""
        layer = self.selected_layer()
        enhancing = self.mode() != "denoise"
        denoising = self.mode() != "enhance"
        self.all_volumes_check.setVisible(self._leading_axes(layer) > 0 and not denoising)
        self.interleave_box.setEnabled(self.mode() == "denoise")
        self.lateral_spin.setEnabled(enhancing)
        self.axial_spin.setEnabled(enhancing and layer is not None and layers.spatial_ndim(layer) == 3)
        for widget in (self.gar_spin, self.fnsm_check, self.operator_box, self.ensemble_check, self.backproj_spin):
            widget.setEnabled(denoising if widget in (self.gar_spin, self.fnsm_check) else enhancing)
        self.uncertainty_check.setEnabled(self.mode() == "enhance")
        large = self.large_layer(layer)
        self.output_row.setVisible(large)
        if large:
            self.all_volumes_check.setVisible(False)
            self.output_edit.setPlaceholderText(layers.default_output(layer, self._factor(layer)))

    def _factor(self, layer: Any) -> tuple[int, ...]:
        return layers.factor_tuple(layers.spatial_ndim(layer), self.axial_spin.value(), self.lateral_spin.value())

    def large_layer(self, layer: Any = None) -> bool:
        """True when the (chosen) layer is enhanced block by block into OME-Zarr (see ``layers.is_large``)."""
        layer = self.selected_layer() if layer is None else layer
        return layer is not None and self.mode() == "enhance" and layers.is_large(layer, self._factor(layer))

    def output_path(self, layer: Any = None) -> str:
        """The OME-Zarr folder a block-wise run writes: the field's text, else the suggested default."""
        layer = self.selected_layer() if layer is None else layer
        return self.output_edit.text().strip() or layers.default_output(layer, self._factor(layer))

    def _choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Write the enhanced volume to", self.output_path(), "OME-Zarr (*.zarr)"
        )
        if path:
            self.output_edit.setText(path if path.endswith(".zarr") else path + ".ome.zarr")

    @staticmethod
    def _leading_axes(layer: Any) -> int:
        """How many axes of ``layer`` lie before the 2D/3D data a run works on (time, channels)."""
        return 0 if layer is None else layer.ndim - layers.spatial_ndim(layer)

    def all_volumes(self, layer: Any = None) -> bool:
        """True when the run should cover every volume of the (chosen) layer's leading axes."""
        layer = self.selected_layer() if layer is None else layer
        return self._leading_axes(layer) > 0 and self.all_volumes_check.isChecked() and self.mode() == "enhance"

    # ------------------------------------------------------------------ running

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    def _on_start_clicked(self) -> None:
        if self.is_running:
            self.cancel()
        else:
            self.start()

    def options(self) -> Any:
        """The EnhanceOptions the current settings describe."""
        from ..core.enhance.options import EnhanceOptions

        steps = self.steps_spin.value() or None
        return EnhanceOptions(
            steps=steps,
            time_budget=None if steps else PRESETS[self.preset_box.currentText()],
            operator=self.operator_box.currentText(),
            ensemble=self.ensemble_check.isChecked(),
            uncertainty=self.uncertainty_check.isChecked() and self.mode() == "enhance",
            seed=None if self.seed_spin.value() < 0 else self.seed_spin.value(),
            back_projection=self.backproj_spin.value(),
            max_tile_output=self.tile_spin.value() * 2**20,
        )

    def denoise_options(self) -> Any:
        """The DenoiseOptions the current settings describe (steps, time, seed and tiles shared with enhancing)."""
        from ..core.denoise.options import DenoiseOptions

        steps = self.steps_spin.value() or None
        return DenoiseOptions(
            gamma=self.gar_spin.value(),
            fnsm=self.fnsm_check.isChecked(),
            steps=steps,
            time_budget=None if steps else PRESETS[self.preset_box.currentText()],
            seed=None if self.seed_spin.value() < 0 else self.seed_spin.value(),
            max_tile_output=self.tile_spin.value() * 2**20,
        )

    def _check_layer(self) -> Any:
        layer = self.selected_layer()
        if layer is None:
            active = self.viewer.layers.selection.active
            reason = layers.unsupported_reason(active)
            if active is None and len(self.viewer.layers):
                reason = "no layer here can be enhanced: Self-Vision needs a grey 2D/3D Image layer"
            self._fail(reason)
        return layer

    def start(self, model: Any = None) -> bool:
        """Start a run on the chosen layer (training, or applying ``model``); False if it could not start."""
        from .worker import RunRequest

        layer = self._check_layer()
        if layer is None:
            return False
        mode = "enhance" if model is not None else self.mode()
        if mode == "enhance" and layers.is_large(layer, tuple(model.factor) if model else self._factor(layer)):
            return self._start_large(layer, model)
        if layer.multiscale or not isinstance(layer.data, np.ndarray):
            self._fail(f"'{layer.name}' is lazy or multiscale: only Enhance runs block by block; choose Enhance")
            return False
        interleave = self.denoise_mode() if mode == "denoise" else "sis"
        if interleave == "tis":  # the whole layer: time first, then (Y,X) or (Z,Y,X)
            if layer.ndim not in (3, 4):
                self._fail(f"TiS denoises a (T,Y,X) or (T,Z,Y,X) layer; '{layer.name}' has {layer.ndim} axes")
                return False
            data, index = np.array(layer.data, copy=True), ()
        else:
            data, index = layers.current_volume(layer, self.viewer.dims.point)
        nd = data.ndim
        if model is not None:
            factor = tuple(model.factor)
        elif mode == "denoise":
            factor = (1,) * nd
        else:
            factor = layers.factor_tuple(nd, self.axial_spin.value(), self.lateral_spin.value())
        request = RunRequest(
            data=data,
            factor=factor,
            voxel_size=tuple(float(s) for s in layer.scale[-nd:][1 if interleave == "tis" else 0 :]),
            options=None if model is not None else self.options(),
            device=self.device_box.currentData() or "auto",
            model=model,
            mode=mode,
            denoise_options=self.denoise_options() if mode != "enhance" else None,
            denoise_mode=interleave,
        )
        if self.all_volumes(layer):
            # the worker reads one volume at a time (no copy of the whole layer on the GUI thread)
            request.volumes, request.index = layer.data, index
        self._begin(layer, factor, index, request)
        return True

    def _start_large(self, layer: Any, model: Any = None) -> bool:
        """Enhance a large / lazy / multiscale layer block by block into the OME-Zarr folder shown."""
        from .worker import RunRequest

        factor = tuple(model.factor) if model is not None else self._factor(layer)
        volume, index = layers.lazy_volume(layer, self.viewer.dims.point)
        if len(factor) != len(volume.shape):
            self._fail(f"the model enhances {len(factor)}D images; '{layer.name}' gives {len(volume.shape)}D volumes")
            return False
        request = RunRequest(
            data=None,
            factor=factor,
            voxel_size=volume.voxel_size,
            options=None if model is not None else self.options(),
            device=self.device_box.currentData() or "auto",
            model=model,
            large_output=self.output_path(layer),
            lazy=volume,
        )
        self._begin(layer, factor, index, request)
        self.status.setText(f"{self.status.text()[:-1]} block by block into {request.large_output}…")
        return True

    def _begin(self, layer: Any, factor: tuple[int, ...], index: tuple[int, ...], request: Any) -> None:
        from napari.utils import progress

        from ..core.events import CancelToken
        from .worker import start_run

        self._run = (layer, factor, index, request.volumes is not None, request.mode, request)
        self._stage = ""
        self._cancel = CancelToken()
        self.plot.clear()
        for widget in self._settings:
            widget.setEnabled(False)
        self.start_button.setText("Cancel")
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("starting…")
        what = "applying the model to" if request.model is not None else "learning from"
        text = f"{what} '{layer.name}' (factor {'×'.join(map(str, factor))})"
        if request.mode == "denoise":
            text = f"learning to denoise '{layer.name}' ({'TiS' if request.denoise_mode == 'tis' else 'SiS'})"
        elif request.mode == "denoise+enhance":
            text = f"denoising '{layer.name}' (SiS), then enhancing it (factor {'×'.join(map(str, factor))})"
        if request.volumes is not None:
            count = int(np.prod(request.volumes.shape[: request.volumes.ndim - request.data.ndim]))
            text += f", then applying it to all {count} volumes"
        self.status.setText(text + "…")
        self._progress = progress(total=0, desc=f"Self-Vision: {layer.name}")
        self._started = time.perf_counter()
        self._worker = start_run(
            request,
            self._cancel,
            yielded=self._on_event,
            returned=self._on_returned,
            errored=self._on_errored,
            finished=self._on_finished,
        )

    def cancel(self) -> None:
        """Ask the running job to stop; the widget goes idle when the worker has finished."""
        if self._worker is None:
            return
        self._cancel.cancel()
        self._worker.quit()
        self._outcome = "cancelled"
        self.status.setText("cancelling…")
        self.start_button.setEnabled(False)

    def _on_event(self, event: Any) -> None:
        from ..core.events import InferProgress, StageInfo
        from .worker import TrainBatch, VolumeProgress

        if isinstance(event, VolumeProgress):
            scale = 100  # sub-steps per volume: the bar moves with the tiles of each volume too
            value = event.volume * scale + (scale * event.done) // max(event.total, 1)
            self.progress_bar.setRange(0, event.volumes * scale)
            self.progress_bar.setValue(min(value, event.volumes * scale))
            shown = min(event.volume + 1, event.volumes)
            self.progress_bar.setFormat(f"volumes: {shown}/{event.volumes}")
            if self._progress is not None:
                self._progress.total = event.volumes
                self._progress.n = event.volume
                self._progress.set_description(f"Self-Vision: volume {shown}/{event.volumes}")
        elif isinstance(event, TrainBatch):
            e = event.latest
            self._stage = e.stage
            self.plot.add_losses(e.stage, event.losses)
            self.progress_bar.setRange(0, max(e.total, 1))
            self.progress_bar.setValue(min(e.step, e.total))
            self.progress_bar.setFormat(f"{e.stage}: step {e.step}/{e.total} · ETA {e.eta:.0f} s")
            if self._progress is not None:
                self._progress.total = max(e.total, 1)
                self._progress.n = min(e.step, e.total)
                self._progress.set_description(f"Self-Vision {e.stage}: loss {e.loss:.4f}")
        elif isinstance(event, StageInfo):
            self.status.setText(event.message)
        elif isinstance(event, InferProgress):
            self.progress_bar.setRange(0, max(event.total, 1))
            self.progress_bar.setValue(event.done)
            verb = "denoising" if self._stage in ("sis", "tis") else "enhancing"
            self.progress_bar.setFormat(f"{verb}: {event.done}/{event.total}")

    def _on_returned(self, result: Any) -> None:
        if self._cancel is not None and self._cancel.cancelled:
            return
        layer, factor, index, all_volumes, mode, _ = self._run
        if mode != "denoise":  # the enhancer (Save model… saves enhancers only)
            self.model = result.model
        try:
            if hasattr(result, "blocks"):  # block-wise: open what was written, lazily
                from ..core.io.lazy import open_pyramid

                levels = open_pyramid(result.path)[0]
                self._add_result(layer, levels if len(levels) > 1 else levels[0], factor, index, mode=mode)
                self.result_layer.metadata[layers.RESULT_KEY]["path"] = str(result.path)
            else:
                self._add_result(layer, result.data, factor, index, all_volumes=all_volumes, mode=mode)
            if getattr(result, "uncertainty", None) is not None:
                self._add_uncertainty(layer, result.uncertainty, factor, index)
        except Exception as err:  # never let a slot raise: napari would abort
            self._outcome = "error"
            self._fail(f"could not add the result layer ({type(err).__name__}: {err})")
            return
        seconds = time.perf_counter() - self._started
        self._outcome = "done"
        how = getattr(result, "path", None) or {"sis": "SiS", "tis": "TiS"}.get(getattr(result, "mode", ""), "SiS")
        self.status.setText(f"done in {seconds:.0f} s ({how}); added '{self.result_layer.name}'")
        if getattr(result, "uncertainty", None) is not None:
            self.status.setText(f"{self.status.text()} and '{self.uncertainty_layer.name}'")
        check = getattr(result, "self_check", None)
        if check is not None:
            self.status.setText(f"{self.status.text()}\n{check.summary()}")
            if not check.trusted:
                from napari.utils.notifications import show_warning

                show_warning(check.summary())

    def _add_result(
        self,
        layer: Any,
        data: Any,
        factor: tuple[int, ...],
        index: tuple[int, ...],
        *,
        all_volumes: bool = False,
        mode: str = "enhance",
    ) -> None:
        kwargs = layers.result_kwargs(layer, factor, index, all_volumes=all_volumes, mode=mode)
        name = layers.result_name(layer.name, factor, mode)
        if name in self.viewer.layers and self.replace_check.isChecked():  # LayerList has no .get
            self.viewer.layers.remove(name)
        self.result_layer = self.viewer.add_image(data, name=name, **kwargs)
        self.source_layer = layer

    def _add_uncertainty(self, layer: Any, data: Any, factor: tuple[int, ...], index: tuple[int, ...]) -> None:
        """Add ``<result name> uncertainty`` over the result (the volume trained on), magma, additive."""
        kwargs = layers.result_kwargs(layer, factor, index)
        kwargs["metadata"][layers.RESULT_KEY]["uncertainty"] = True
        top = float(np.percentile(data, 99.5)) if data.size else 0.0
        kwargs.update(colormap="magma", contrast_limits=(0.0, top if top > 0 else 1.0), gamma=1.0, blending="additive")
        name = f"{self.result_layer.name} uncertainty"
        if name in self.viewer.layers and self.replace_check.isChecked():
            self.viewer.layers.remove(name)
        self.uncertainty_layer = self.viewer.add_image(data, name=name, **kwargs)

    def _on_errored(self, err: BaseException) -> None:
        from ..core.errors import CancelledError

        if isinstance(err, CancelledError) or (self._cancel is not None and self._cancel.cancelled):
            self._outcome = "cancelled"
            return
        self._outcome = "error"
        self._fail(_user_message(err))

    def _on_finished(self) -> None:
        outcome = getattr(self, "_outcome", None) or "cancelled"
        self._worker = None
        self._outcome = None
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        for widget in self._settings:
            widget.setEnabled(True)
        self._update_controls()
        self.save_button.setEnabled(self.model is not None)
        self.start_button.setEnabled(True)
        self.start_button.setText("Start")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(100 if outcome == "done" else 0)
        self.progress_bar.setFormat({"done": "done", "cancelled": "cancelled"}.get(outcome, "failed"))
        if outcome == "cancelled":
            run = getattr(self, "_run", None)
            resumable = run is not None and getattr(run[-1], "large_output", None)
            self.status.setText(
                "cancelled; finished blocks are kept: Start resumes" if resumable else "cancelled; nothing was added"
            )
        self.run_finished.emit(outcome)

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        show_error(message)

    # ------------------------------------------------------------------ models

    def save_model(self, path: str | None = None) -> str | None:
        """Save the last trained model (asks for a file when ``path`` is None); returns the path written."""
        if self.model is None:
            show_warning("no trained model yet: run Start first, or load one")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save Self-Vision model", "", "Self-Vision model (*.pt)")
            if not path:
                return None
            if not path.endswith(".pt"):
                path += ".pt"
        from ..core.enhance.enhancer import save_model
        from ..core.errors import SelfVisionError

        try:
            written = save_model(self.model, path)
        except SelfVisionError as err:
            self._fail(str(err))
            return None
        show_info(f"model saved to {written}")
        return str(written)

    def load_model(self, path: str | None = None) -> bool:
        """Load a saved model (asks when ``path`` is None) and apply it to the chosen layer without training."""
        if path is None:
            filters = "Self-Vision model (*.pt);;All files (*)"
            path, _ = QFileDialog.getOpenFileName(self, "Load Self-Vision model", "", filters)
            if not path:
                return False
        from ..core.enhance.enhancer import load_model
        from ..core.errors import SelfVisionError

        try:
            model = load_model(path)
        except SelfVisionError as err:
            self._fail(str(err))
            return False
        self.model = model
        self.save_button.setEnabled(True)
        return self.start(model=model)

    # ------------------------------------------------------------------ comparing

    def toggle_side_by_side(self) -> None:
        """Input and result side by side in grid mode (press again to go back)."""
        shown = [x for x in (self.source_layer, self.result_layer) if x is not None and x in self.viewer.layers]
        if not shown and self.selected_layer() is not None:
            shown = [self.selected_layer()]
        self._hidden = compare.side_by_side(self.viewer, shown, self._hidden)

    # ------------------------------------------------------------------ closing

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ParentChange and self.parent() is None:  # the dock was removed
            self.shutdown()
        return super().event(event)

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel a running job and stop following the viewer (the widget is going away)."""
        self.cancel()
        self._disconnect_viewer()
