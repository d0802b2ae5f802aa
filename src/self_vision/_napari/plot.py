"""A light live loss plot: one panel per training stage, each with its own step axis, sharing a labelled log
loss axis. A QWidget painting polylines (no matplotlib redraws on the GUI thread)."""

from __future__ import annotations

import math

from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen, QPolygonF
from qtpy.QtWidgets import QSizePolicy, QWidget

#: Points kept per curve; older ones are averaged pairwise so a long run stays cheap to paint.
MAX_POINTS = 2000
#: Pixels left of the panels for the loss axis, and below them for the step axis and stage names.
LEFT, BOTTOM, TOP = 44, 30, 14


class LossPlot(QWidget):
    """Training loss against step, one panel (and colour) per stage, log-scaled; cheap to update often."""

    COLORS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(130)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip(
            "Training loss per step (mean absolute error on intensities scaled to 0–1, log scale), one panel"
            " per stage. It should fall, then flatten; a curve still falling at the end means more training time"
            " (Quality: Best) may help."
        )
        self._curves: dict[str, list[float]] = {}
        self._strides: dict[str, int] = {}
        self._buffers: dict[str, list[float]] = {}
        self._steps: dict[str, int] = {}
        self._labels: dict[str, str] = {}

    def clear(self) -> None:
        """Forget all curves."""
        for store in (self._curves, self._strides, self._buffers, self._steps, self._labels):
            store.clear()
        self.update()

    def add_losses(self, stage: str, losses: list[float], label: str | None = None) -> None:
        """Append the losses of ``stage``'s latest steps and repaint; ``label`` names its panel."""
        curve = self._curves.setdefault(stage, [])
        buffer = self._buffers.setdefault(stage, [])
        stride = self._strides.setdefault(stage, 1)
        self._labels[stage] = label or self._labels.get(stage, stage)
        self._steps[stage] = self._steps.get(stage, 0) + len(losses)
        for value in losses:
            if not math.isfinite(value) or value <= 0:
                continue
            buffer.append(value)
            if len(buffer) >= stride:
                curve.append(sum(buffer) / len(buffer))
                buffer.clear()
        if len(curve) > MAX_POINTS:
            curve[:] = [(a + b) / 2 for a, b in zip(curve[::2], curve[1::2], strict=False)]
            self._strides[stage] = stride * 2
        self.update()

    def points(self, stage: str) -> list[float]:
        """The (possibly averaged) losses plotted for ``stage``."""
        return list(self._curves.get(stage, []))

    def stages(self) -> list[str]:
        """The stages plotted, one panel each, in order."""
        return [s for s, c in self._curves.items() if c]

    def panels(self) -> list[QRectF]:
        """One panel per stage, side by side, each with its own step axis (0 to that stage's steps)."""
        area = QRectF(self.rect()).adjusted(LEFT, TOP, -6, -BOTTOM)
        count = len(self.stages())
        if not count:
            return []
        gap = 8.0
        width = (area.width() - gap * (count - 1)) / count
        return [QRectF(area.left() + i * (width + gap), area.top(), width, area.height()) for i in range(count)]

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        faint = QColor(text.red(), text.green(), text.blue(), 90)
        area = QRectF(self.rect()).adjusted(LEFT, TOP, -6, -BOTTOM)
        stages = self.stages()
        if not stages:
            painter.setPen(faint)
            painter.drawRect(area)
            painter.setPen(text)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "the loss curve appears during training")
            return
        values = [v for s in stages for v in self._curves[s]]
        lo, hi = math.log10(min(values)), math.log10(max(values))
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        self._paint_loss_axis(painter, area, lo, hi, text, faint)
        for i, (stage, panel) in enumerate(zip(stages, self.panels(), strict=True)):
            painter.setPen(faint)
            painter.drawRect(panel)
            curve = self._curves[stage]
            step = panel.width() / max(len(curve) - 1, 1)
            poly = QPolygonF(
                [
                    QPointF(panel.left() + j * step, panel.bottom() - (math.log10(v) - lo) / (hi - lo) * panel.height())
                    for j, v in enumerate(curve)
                ]
            )
            painter.setPen(QPen(QColor(self.COLORS[i % len(self.COLORS)]), 1.5))
            painter.drawPolyline(poly)
            painter.setPen(text)
            below = QRectF(panel.left(), panel.bottom() + 1, panel.width(), 13)
            painter.drawText(below, Qt.AlignmentFlag.AlignLeft, "0")
            painter.drawText(below, Qt.AlignmentFlag.AlignRight, f"{self._steps.get(stage, len(curve))}")
            name = QRectF(panel.left(), panel.bottom() + 14, panel.width(), 14)
            painter.setPen(QColor(self.COLORS[i % len(self.COLORS)]))
            painter.drawText(name, Qt.AlignmentFlag.AlignHCenter, f"{self._labels.get(stage, stage)}: {curve[-1]:.3g}")
        painter.setPen(text)
        painter.drawText(
            QRectF(area.left(), 0, area.width(), TOP), Qt.AlignmentFlag.AlignCenter, "training loss (log) vs step"
        )

    @staticmethod
    def _paint_loss_axis(painter: QPainter, area: QRectF, lo: float, hi: float, text: QColor, faint: QColor) -> None:
        """Tick labels of the log loss axis: the decades inside the range, else its two ends."""
        decades = [d for d in range(math.ceil(lo), math.floor(hi) + 1)]
        ticks = [10.0**d for d in decades] if len(decades) >= 2 else [10.0**lo, 10.0**hi]
        for value in ticks:
            y = area.bottom() - (math.log10(value) - lo) / (hi - lo) * area.height()
            painter.setPen(faint)
            painter.drawLine(QPointF(area.left() - 3, y), QPointF(area.left(), y))
            painter.setPen(text)
            box = QRectF(0, y - 7, LEFT - 5, 14)
            painter.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.2g}")
