"""The Self-Vision dock: a thin composition of its panels (input, advanced, run, models and views) around ONE
settings object, and the lifecycle of a run: build the request, start the worker, follow its events, place the
result (see ``docs/architecture.md``)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from napari.utils.notifications import show_error, show_warning
from qtpy.QtCore import QEvent, Qt, QTimer, Signal
from qtpy.QtWidgets import QFileDialog, QFrame, QMessageBox, QScrollArea, QVBoxLayout, QWidget

from . import compare, layers, results, settings, words
from .panels.advanced import AdvancedPanel
from .panels.input import InputPanel, suggested_interleave
from .panels.output import OutputPanel
from .panels.sim import SimPanel
from .panels.training import RunPanel
from .request import RequestError, build_request, enhance_options
from .request import denoise_options as _denoise_options
from .state import RunContext, RunState

if TYPE_CHECKING:
    import napari

#: Controls the tests and scripts reach on the dock itself (they live on its panels).
_CONTROLS = {
    "inputs": (
        "mode_box",
        "interleave_box",
        "layer_box",
        "all_volumes_check",
        "axial_spin",
        "lateral_spin",
        "output_row",
        "output_edit",
        "factor_row",
    ),
    "advanced": (
        "steps_spin",
        "operator_box",
        "ensemble_check",
        "uncertainty_check",
        "seed_spin",
        "networks_spin",
        "backproj_spin",
        "tile_spin",
        "precision_box",
        "gar_spin",
        "fnsm_check",
        "replace_check",
        "sampling_z_box",
        "sampling_xy_box",
        "na_spin",
        "immersion_box",
        "microscope_box",
        "emission_spin",
        "excitation_spin",
    ),
    "runner": ("preset_box", "device_box", "start_button", "progress_bar", "status", "plot"),
    "outputs": ("save_button", "load_button", "grid_button", "restore_button"),
    "sim": ("sim_pixel_spin", "sim_denoise_box", "sim_pattern_label", "sim_warnings_label"),
}


def ask(parent: QWidget, question: str) -> bool:
    """Yes/No dialog (tests replace it)."""
    answer = QMessageBox.question(parent, "Self-Vision", question)
    return answer == QMessageBox.StandardButton.Yes


class EnhanceWidget(QWidget):
    """Dock widget: zero-shot resolution enhancement and/or self-supervised denoising of the chosen image layer."""

    #: Emitted when a run ends: "done", "cancelled" or "error" (a ``RunState`` value).
    run_finished = Signal(str)

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.settings = settings.DockSettings()
        settings.load(self.settings)
        self.context: RunContext | None = None  # the run in flight (or the last one)
        self._worker: Any = None
        self._hidden: dict[str, bool] | None = None
        self.uncertainty_layer: Any = None
        self.source_layer: Any = None

        self.inputs = InputPanel(self.settings, napari_viewer)
        self.advanced = AdvancedPanel(self.settings)
        self.runner = RunPanel(self.settings)
        self.outputs = OutputPanel(napari_viewer)
        self.sim = SimPanel(self.settings)
        self.extra_layers: list[Any] = []  # SIM: the widefield and plain SIM beside the result layer
        for panel, names in _CONTROLS.items():
            for name in names:
                setattr(self, name, getattr(getattr(self, panel), name))
        body = QWidget()
        column = QVBoxLayout(body)
        for panel in (self.inputs, self.sim, self.advanced, self.runner, self.outputs):
            column.addWidget(panel)
        column.addStretch(1)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._body, self._scroll = body, scroll
        self._fit_width()
        body.installEventFilter(self)  # a row shown or hidden (Advanced, the mode) re-lays the body out
        scroll.verticalScrollBar().installEventFilter(self)  # the bar appears, or is styled wider than its hint

        self.start_button.clicked.connect(self._on_start_clicked)
        self.save_button.clicked.connect(lambda: self.save_model())
        self.load_button.clicked.connect(lambda: self.load_model())
        self.grid_button.clicked.connect(self.toggle_side_by_side)
        self.restore_button.clicked.connect(self.restore_defaults)
        self.settings.events.connect(self._settings_changed)
        self.inputs.layer_changed.connect(lambda: self.sim.show_layer(self.selected_layer()))
        self.sim.show_layer(self.selected_layer())
        napari_viewer.layers.selection.events.active.connect(self._update_save)

    # ------------------------------------------------------------------ settings

    def _settings_changed(self, *args: Any) -> None:
        if self.context is None or self.context.state is not RunState.RUNNING:
            settings.save(self.settings)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        kinds = (QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.Resize)
        if event.type() in kinds and watched in (self._body, self._scroll.verticalScrollBar()):
            QTimer.singleShot(0, self._fit_width)
        return super().eventFilter(watched, event)

    def _fit_width(self) -> None:
        """At least as wide as the controls now shown (Advanced open, the mode's rows): the panels never clip."""
        taken = self._scroll.width() - self._scroll.viewport().width()  # the bar with its margin, once shown
        width = max(self._scroll.verticalScrollBar().sizeHint().width(), taken)
        self.setMinimumWidth(self._body.minimumSizeHint().width() + width)

    def restore_defaults(self) -> None:
        """Every setting back to its default; the factors are proposed again for the chosen layer."""
        self.settings.restore_defaults()
        self.inputs.user_factors = False
        layer = self.selected_layer()
        if layer is not None:
            self.inputs.propose_factors(layer)
        settings.save(self.settings)

    def options(self) -> Any:
        """The EnhanceOptions the current settings describe."""
        return enhance_options(self.settings)

    def denoise_options(self) -> Any:
        """The DenoiseOptions the current settings describe."""
        return _denoise_options(self.settings)

    def mode(self) -> str:
        """The run mode the switch shows: ``enhance``, ``denoise`` or ``denoise+enhance``."""
        return self.settings.mode

    def denoise_mode(self) -> str:
        """What Denoise interleaves: ``sis`` (z-slices) or ``tis`` (time points); Denoise + enhance is always SiS."""
        return self.settings.interleave if self.settings.mode == "denoise" else "sis"

    suggested_interleave = staticmethod(suggested_interleave)

    def selected_layer(self) -> Any:
        return self.inputs.selected_layer()

    def select_layer(self, layer: Any) -> None:
        self.inputs.select_layer(layer)

    def large_layer(self, layer: Any = None) -> bool:
        return self.inputs.large_layer(layer)

    # ------------------------------------------------------------------ running

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def model(self) -> Any:
        """The enhancer of the result shown (None when no result with one is in the viewer)."""
        return self.outputs.model()

    def _on_start_clicked(self) -> None:
        if self.is_running:
            self.cancel()
        else:
            self.start()

    def _check_layer(self) -> Any:
        layer = self.selected_layer()
        if layer is None:
            active = self.viewer.layers.selection.active
            reason = layers.unsupported_reason(active)
            if active is None and len(self.viewer.layers):
                reason = "no layer here can be processed: Self-Vision needs a grey 2D/3D Image layer"
            self._fail(reason)
        return layer

    def start(self, model: Any = None) -> bool:
        """Start a run on the chosen layer (training, or applying ``model``); False if it could not start."""
        from ..core.events import CancelToken
        from .worker import start_run

        layer = self._check_layer()
        if layer is None or self.is_running:
            return False
        try:
            context = build_request(self.settings, layer, self.viewer.dims.point, model)
        except RequestError as err:
            self._fail(str(err))
            return False
        context.cancel = CancelToken()
        self.context = context
        self.inputs.set_locked(True)
        for widget in (self.advanced, self.sim, self.preset_box, self.device_box, self.outputs):
            widget.setEnabled(False)
        self.runner.started(context, words.start_text(context))
        self._worker = start_run(
            context.request,
            context.cancel,
            yielded=self._on_event,
            returned=self._on_returned,
            errored=self._on_errored,
            finished=self._on_finished,
        )
        return True

    def cancel(self) -> None:
        """Ask the running job to stop; the widget goes idle when the worker has finished."""
        if self._worker is None or self.context is None:
            return
        # the token only: the run raises CancelledError at its next step, tile or block, so every generator is
        # closed on the way out (a block-wise run releases its output lock). worker.quit() would abandon them.
        self.context.cancel.cancel()
        self.context.state = RunState.CANCELLING
        self.status.setText("cancelling…")
        self.start_button.setEnabled(False)

    def _on_event(self, event: Any) -> None:
        from ..core.events import InferProgress, StageInfo
        from .worker import TrainBatch, VolumeProgress

        context = self.context
        if context is None:
            return
        if isinstance(event, VolumeProgress):
            self.runner.volumes(context, event)
        elif isinstance(event, TrainBatch):
            self.runner.train(context, event)
        elif isinstance(event, StageInfo):
            if event.stage.startswith(("lateral", "3d")):
                context.volume_stages += 1
            text = words.stage_message(event.stage, event.message, context.factor, context.volume_stages)
            self.status.setText(text)
            self.status.setToolTip(event.message)
        elif isinstance(event, InferProgress):
            self.runner.inference(context, event.done, event.total)

    def _on_returned(self, result: Any) -> None:
        context = self.context
        if context is None or context.cancel.cancelled:
            return
        try:
            placed = results.place_result(self.viewer, context, result, replace=self.settings.replace)
        except Exception as err:  # never let a slot raise: napari would abort
            context.state = RunState.FAILED
            self._fail(f"could not add the result layer ({type(err).__name__}: {err})")
            return
        context.state = RunState.DONE
        self.source_layer, self.uncertainty_layer = context.layer, placed.uncertainty
        self.extra_layers = placed.extra
        self.outputs.remember(placed.layer, placed.model)
        names = [x.name for x in (*placed.extra, placed.layer, placed.uncertainty) if x is not None]
        added = ", ".join(f"'{n}'" for n in names[:-1]) + (" and " if len(names) > 1 else "") + f"'{names[-1]}'"
        if context.mode == "sim":
            self.sim.report(words.sim_pattern_lines(result.params), list(result.warnings))
            for warning in result.warnings:
                show_warning(f"SIM: {warning}")
        resolution = f"\n{placed.resolution}" if placed.resolution else ""
        self.status.setText(
            f"done in {context.seconds:.0f} s ({placed.how}); added {added}\n{placed.verdict}{resolution}"
        )
        self.status.setToolTip(placed.details)
        if placed.verdict.startswith("not verified"):
            show_warning(placed.verdict)

    def _on_errored(self, err: BaseException) -> None:
        from ..core.errors import CancelledError

        context = self.context
        if context is None:
            return
        if isinstance(err, CancelledError) or context.cancel.cancelled:
            context.state = RunState.CANCELLED
            return
        context.state = RunState.FAILED
        self._fail(words.user_message(err))

    def _on_finished(self) -> None:
        context = self.context
        self._worker = None
        if context is not None and context.state in (RunState.RUNNING, RunState.CANCELLING):
            context.state = RunState.CANCELLED
        self.inputs.set_locked(False)
        for widget in (self.advanced, self.sim, self.preset_box, self.device_box, self.outputs):
            widget.setEnabled(True)
        self.runner.finished(context)
        self._update_save()
        state = context.state if context is not None else RunState.CANCELLED
        if state is RunState.CANCELLED:
            resumable = context is not None and context.blockwise
            self.status.setText(
                "cancelled; finished blocks are kept: Start resumes" if resumable else "cancelled; nothing was added"
            )
        settings.save(self.settings)
        self.run_finished.emit(state.value)

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        show_error(message)

    # ------------------------------------------------------------------ models

    @property
    def result_layer(self) -> Any:
        """The result layer added last (None once it is deleted)."""
        return self.outputs.result_layer

    def _update_save(self, *args: Any) -> None:
        self.outputs.update_save(self.is_running)

    def save_model(self, path: str | None = None) -> str | None:
        """Save the model of the result shown (asks for a file when ``path`` is None); returns the path written."""
        try:
            return self.outputs.save_model(path)
        except ValueError as err:
            self._fail(str(err))
            return None

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
        layer = self.selected_layer()
        if layer is not None and self.settings.replace:
            name = layers.result_name(layer.name, tuple(model.factor))
            if name in self.viewer.layers and not ask(self, f"Replace '{name}' with the saved model's result?"):
                self.status.setText(f"kept '{name}'; the saved model was not applied")
                return False
        return self.start(model=model)

    # ------------------------------------------------------------------ comparing

    def toggle_side_by_side(self) -> None:
        """Input and result side by side in grid mode, named and zoomed to fit (press again to go back)."""
        candidates = (self.source_layer, *self.extra_layers, self.result_layer)
        shown = [x for x in candidates if x is not None and x in self.viewer.layers]
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
        self.inputs.disconnect_viewer()
        with contextlib.suppress(RuntimeError, TypeError, ValueError):
            self.viewer.layers.selection.events.active.disconnect(self._update_save)
