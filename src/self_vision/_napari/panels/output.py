"""The models-and-views panel: save / load a model, compare input and result, restore the default settings."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QFileDialog, QGridLayout, QPushButton, QWidget

from .. import compare


class OutputPanel(QWidget):
    """Buttons only; the dock connects them (it knows the models and the layers)."""

    def __init__(self, viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.models: dict[str, Any] = {}  # result layer id -> the enhancer that made it
        self._last: Any = None  # the result layer added last
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.save_button = QPushButton(
            "Save model…", toolTip="Save the model that made the result layer you are looking at"
        )
        self.save_button.setEnabled(False)
        self.load_button = QPushButton(
            "Load model…", toolTip="Apply a saved model to the chosen image (no training); asks before replacing"
        )
        grid.addWidget(self.save_button, 0, 0, 1, 2)
        grid.addWidget(self.load_button, 0, 2, 1, 2)
        self.grid_button = QPushButton(
            "Side by side", toolTip="Input and result next to each other, named, with linked zoom (again: back)"
        )
        grid.addWidget(self.grid_button, 1, 0)
        self.plane_buttons = {}
        for column, plane in enumerate(compare.PLANES, start=1):
            axes = {"XY": "the lateral plane", "XZ": "an axial plane (X against Z)", "YZ": "an axial plane (Y, Z)"}
            button = QPushButton(plane, toolTip=f"Show {axes[plane]} of every layer, zoomed to fit")
            button.setMaximumWidth(48)
            button.clicked.connect(lambda _=False, p=plane: compare.show_plane(self.viewer, p))
            grid.addWidget(button, 1, column)
            self.plane_buttons[plane] = button
        self.restore_button = QPushButton(
            "Restore defaults", toolTip="Every setting back to the product's default (they are kept between sessions)"
        )
        grid.addWidget(self.restore_button, 2, 0, 1, 4)

    # ------------------------------------------------------------------ the models of the results shown

    def remember(self, layer: Any, model: Any) -> None:
        """``layer`` (a result just added) was made by ``model`` (None: a denoiser, not saved here)."""
        self._last = layer
        if model is not None:
            self.models[str(layer.unique_id)] = model

    @property
    def result_layer(self) -> Any:
        """The result layer added last (None once it is deleted)."""
        layer = self._last
        return layer if layer is not None and layer in self.viewer.layers else None

    def shown_result(self) -> Any:
        """The result the user looks at: the selected layer if a model made it, else the last result added."""
        active = self.viewer.layers.selection.active
        if active is not None and str(active.unique_id) in self.models:
            return active
        return self.result_layer

    def model(self) -> Any:
        """The enhancer of the result shown, or None."""
        layer = self.shown_result()
        return None if layer is None else self.models.get(str(layer.unique_id))

    def update_save(self, running: bool) -> None:
        layer, model = self.shown_result(), self.model()
        self.save_button.setEnabled(model is not None and not running)
        tip = f"Save the model that made '{layer.name}'" if model is not None else "No result with a model is shown"
        self.save_button.setToolTip(tip)

    def save_model(self, path: str | None = None) -> str | None:
        """Save the model of the result shown (a file dialog when ``path`` is None); the path written, or None.

        Raises ``ValueError`` with a one-line message when it cannot be saved.
        """
        from napari.utils.notifications import show_info, show_warning

        model, layer = self.model(), self.shown_result()
        if model is None:
            show_warning("no result with a trained model is shown: run Start first, or load one")
            return None
        if path is None:
            title = f"Save the model of '{layer.name}'"
            path, _ = QFileDialog.getSaveFileName(self, title, "", "Self-Vision model (*.pt)")
            if not path:
                return None
            if not path.endswith(".pt"):
                path += ".pt"
        from ...core.enhance.enhancer import save_model
        from ...core.errors import SelfVisionError

        try:
            written = save_model(model, path)
        except SelfVisionError as err:
            raise ValueError(str(err)) from None
        show_info(f"the model of '{layer.name}' was saved to {written}")
        return str(written)
