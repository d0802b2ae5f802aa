"""A light live loss curve: a QWidget that paints a log-scale polyline (no matplotlib redraws on the GUI thread)."""

from __future__ import annotations

import math

from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen, QPolygonF
from qtpy.QtWidgets import QSizePolicy, QWidget

#: Points kept per curve; older ones are averaged pairwise so a long run stays cheap to paint.
MAX_POINTS = 2000


class LossPlot(QWidget):
    """Training loss against step, one colour per stage, log-scaled; cheap to update many times a second."""

    COLORS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip("Training loss (L1, normalised intensities) per step; log scale")
        self._curves: dict[str, list[float]] = {}
        self._strides: dict[str, int] = {}
        self._buffers: dict[str, list[float]] = {}

    def clear(self) -> None:
        """Forget all curves."""
        self._curves.clear()
        self._strides.clear()
        self._buffers.clear()
        self.update()

    def add_losses(self, stage: str, losses: list[float]) -> None:
        """Append the losses of ``stage``'s latest steps and repaint."""
        curve = self._curves.setdefault(stage, [])
        buffer = self._buffers.setdefault(stage, [])
        stride = self._strides.setdefault(stage, 1)
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

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        frame = QRectF(self.rect()).adjusted(4, 4, -4, -16)
        painter.setPen(QPen(QColor(text.red(), text.green(), text.blue(), 90)))
        painter.drawRect(frame)
        values = [v for c in self._curves.values() for v in c]
        if not values:
            painter.setPen(text)
            painter.drawText(frame, Qt.AlignmentFlag.AlignCenter, "loss curve appears during training")
            return
        lo, hi = math.log10(min(values)), math.log10(max(values))
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        longest = max(len(c) for c in self._curves.values())
        for i, (stage, curve) in enumerate(self._curves.items()):
            if not curve:
                continue
            color = QColor(self.COLORS[i % len(self.COLORS)])
            painter.setPen(QPen(color, 1.5))
            step = frame.width() / max(longest - 1, 1)
            poly = QPolygonF(
                [
                    QPointF(frame.left() + j * step, frame.bottom() - (math.log10(v) - lo) / (hi - lo) * frame.height())
                    for j, v in enumerate(curve)
                ]
            )
            painter.drawPolyline(poly)
            painter.drawText(QPointF(frame.left() + 4 + 90 * i, self.height() - 3), f"{stage} {curve[-1]:.4f}")
        painter.setPen(text)
        painter.drawText(frame.adjusted(3, 1, -3, -1), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, "loss")
