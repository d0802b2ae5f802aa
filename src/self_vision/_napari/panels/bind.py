"""Two-way bindings between Qt controls and fields of the evented ``DockSettings``."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from ..settings import DockSettings


def spin(low: int, high: int, tip: str, special: str | None = None) -> QSpinBox:
    box = QSpinBox(toolTip=tip)
    box.setRange(low, high)
    if special:
        box.setSpecialValueText(special)
    return box


def bind_spin(box: QSpinBox | QDoubleSpinBox, settings: DockSettings, name: str) -> None:
    box.setValue(getattr(settings, name))
    box.valueChanged.connect(lambda value: setattr(settings, name, value))
    getattr(settings.events, name).connect(lambda value: box.setValue(value) if box.value() != value else None)


def bind_check(box: QCheckBox, settings: DockSettings, name: str) -> None:
    box.setChecked(getattr(settings, name))
    box.toggled.connect(lambda value: setattr(settings, name, bool(value)))
    getattr(settings.events, name).connect(lambda value: box.setChecked(value) if box.isChecked() != value else None)


def bind_text(edit: QLineEdit, settings: DockSettings, name: str) -> None:
    edit.setText(getattr(settings, name))
    edit.textChanged.connect(lambda value: setattr(settings, name, value))
    getattr(settings.events, name).connect(lambda value: edit.setText(value) if edit.text() != value else None)


def bind_combo(box: QComboBox, settings: DockSettings, name: str, choices: dict[str, Any]) -> None:
    """``choices``: label -> field value; each label is an item whose data is its value."""
    # long labels (e.g. "pixel binning (camera pixels)") must not widen the dock: the list shows them whole
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(16)
    if not box.count():
        for label, value in choices.items():
            box.addItem(label, value)

    def show(value: Any) -> None:
        index = box.findData(value)
        if index >= 0 and index != box.currentIndex():
            box.setCurrentIndex(index)

    show(getattr(settings, name))
    box.currentIndexChanged.connect(
        lambda index: setattr(settings, name, box.itemData(index)) if box.itemData(index) is not None else None
    )
    getattr(settings.events, name).connect(show)


def set_row_visible(form: QFormLayout, field: QWidget, shown: bool) -> None:
    """Show or hide one row of ``form`` (its label too); a hidden control is also disabled."""
    field.setEnabled(shown)
    field.setVisible(shown)
    label = form.labelForField(field)
    if label is not None:
        label.setVisible(shown)
