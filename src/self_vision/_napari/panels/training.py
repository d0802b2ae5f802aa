"""The run panel: quality and device, Start/Cancel, the progress bar (mirrored in napari's Activity panel),
the status line and the loss plot."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QComboBox, QFormLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from .. import words
from ..plot import LossPlot
from ..settings import PRESETS, DockSettings
from ..state import RunContext, RunState
from .bind import bind_combo, set_row_visible


class RunPanel(QWidget):
    """Starts and follows a run; every update goes to the dock's bar and to napari's ``progress``."""

    def __init__(self, settings: DockSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = self.form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.preset_box = QComboBox(toolTip=words.preset_tip(PRESETS))
        bind_combo(self.preset_box, settings, "preset", {name: name for name in PRESETS})
        form.addRow("Quality", self.preset_box)
        self.device_box = QComboBox(toolTip="Where to compute: Auto picks the first GPU, else the CPU")
        self._fill_devices()
        form.addRow("Device", self.device_box)
        layout.addLayout(form)
        settings.events.mode.connect(self.update_controls)
        settings.events.sim_denoise.connect(self.update_controls)
        self.start_button = QPushButton("Start")
        layout.addWidget(self.start_button)
        self.progress_bar = QProgressBar(textVisible=True)
        self.progress_bar.setFormat("idle")
        self.progress_bar.setValue(0)
        layout.addWidget(self.progress_bar)
        self.status = QLabel("Choose an image layer and press Start.", wordWrap=True)
        layout.addWidget(self.status)
        self.plot = LossPlot()
        layout.addWidget(self.plot)
        self.update_controls()

    def update_controls(self, *args: object) -> None:
        """Quality is a training time: hidden for a SIM run that trains nothing."""
        trains = not (self.settings.mode == "sim" and self.settings.sim_denoise == "none")
        set_row_visible(self.form, self.preset_box, trains)

    def _fill_devices(self) -> None:
        from ...core.devices import available_devices

        choices = {"Auto": "auto"}
        devices = available_devices()
        for info in devices:
            choices[info.label] = info.name
        bind_combo(self.device_box, self.settings, "device", choices)
        if not any(d.name.startswith("cuda") for d in devices):
            self.device_box.addItem("cuda — not available (no CUDA GPU or a CPU-only torch)", None)
            item = self.device_box.model().item(self.device_box.count() - 1)
            item.setEnabled(False)
            item.setToolTip("Install a CUDA build of PyTorch on a machine with an NVIDIA GPU to train on it")
        if self.device_box.findData(self.settings.device) < 0:  # a device of an earlier session is gone
            self.settings.device = "auto"

    # ------------------------------------------------------------------ progress

    def started(self, context: RunContext, text: str) -> None:
        from napari.utils import progress

        self.plot.clear()
        self.start_button.setText("Cancel")
        self.start_button.setEnabled(True)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("starting…")
        self.status.setText(text)
        self.status.setToolTip("")
        total = round(context.budget) if context.budget else 0
        context.progress = progress(total=total, desc=f"Self-Vision: {context.layer.name}")

    @staticmethod
    def _activity(context: RunContext, value: int, total: int, description: str) -> None:
        """napari's Activity panel: it refreshes on ``update``, so move by the difference."""
        bar = context.progress
        if bar is None:
            return
        if bar.total != total:
            bar.total = total
        value = max(0, min(value, total))
        if value != bar.n:
            bar.update(value - bar.n)
        bar.set_description(description)

    def train(self, context: RunContext, batch: Any) -> None:
        """A batch of training steps: loss plot, bar, Activity panel (time against budget when time-budgeted)."""
        e = batch.latest
        context.stage = e.stage
        context.stage_elapsed[e.stage] = e.elapsed
        label = words.stage_name(e.stage, context.factor)
        self.plot.add_losses(e.stage, batch.losses, label)
        if context.budget:
            spent, total = context.trained_seconds, context.budget
            self.progress_bar.setRange(0, max(round(total), 1))
            self.progress_bar.setValue(min(round(spent), round(total)))
            self.progress_bar.setFormat(f"{label}: step {e.step} · {spent:.0f} s of {total:.0f} s")
            self._activity(context, round(spent), max(round(total), 1), f"Self-Vision {label}: {spent:.0f} s")
        else:
            self.progress_bar.setRange(0, max(e.total, 1))
            self.progress_bar.setValue(min(e.step, e.total))
            self.progress_bar.setFormat(f"{label}: step {e.step} of {e.total} · about {e.eta:.0f} s left")
            self._activity(context, e.step, max(e.total, 1), f"Self-Vision {label}: step {e.step}")

    def inference(self, context: RunContext, done: int, total: int) -> None:
        verb = "denoising" if context.stage in ("sis", "tis") else "enhancing"
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat(f"{verb}: piece {done} of {total}")
        self._activity(context, done, max(total, 1), f"Self-Vision: {verb}")

    def volumes(self, context: RunContext, event: Any) -> None:
        scale = 100  # sub-steps per volume: the bar moves with the tiles of each volume too
        value = event.volume * scale + (scale * event.done) // max(event.total, 1)
        self.progress_bar.setRange(0, event.volumes * scale)
        self.progress_bar.setValue(min(value, event.volumes * scale))
        shown = min(event.volume + 1, event.volumes)
        self.progress_bar.setFormat(f"volume {shown} of {event.volumes}")
        self._activity(context, event.volume, event.volumes, f"Self-Vision: volume {shown} of {event.volumes}")

    def finished(self, context: RunContext | None) -> None:
        if context is not None and context.progress is not None:
            context.progress.close()
            context.progress = None
        state = context.state if context is not None else RunState.CANCELLED
        self.start_button.setEnabled(True)
        self.start_button.setText("Start")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(100 if state is RunState.DONE else 0)
        self.progress_bar.setFormat({RunState.DONE: "done", RunState.CANCELLED: "cancelled"}.get(state, "failed"))
