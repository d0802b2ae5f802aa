"""One-click comparison views: input and result side by side (grid mode) and lateral/axial planes (dims order)."""

from __future__ import annotations

from typing import Any

#: Plane name -> order of the last three dims (napari shows the last two of ``dims.order``).
PLANES = {"XY": (0, 1, 2), "XZ": (1, 0, 2), "YZ": (2, 0, 1)}


def show_plane(viewer: Any, plane: str) -> None:
    """Show the XY (lateral), XZ or YZ (axial) plane of every layer; leading axes (time, …) keep their order."""
    ndim = viewer.dims.ndim
    if ndim < 3:
        return
    lead = list(range(ndim - 3))
    viewer.dims.ndisplay = 2
    viewer.dims.order = tuple(lead + [ndim - 3 + i for i in PLANES[plane]])
    viewer.reset_view()


def side_by_side(viewer: Any, layers: list[Any], hidden: dict[str, bool] | None = None) -> dict[str, bool] | None:
    """Toggle grid mode showing only ``layers`` (linked cameras); returns the visibility to restore later.

    Call with the dict returned by the enabling call to switch back and restore the other layers.
    """
    if viewer.grid.enabled:
        viewer.grid.enabled = False
        for layer in viewer.layers:
            if hidden and layer.name in hidden:
                layer.visible = hidden[layer.name]
        return None
    keep = {id(layer) for layer in layers}
    saved = {}
    for layer in viewer.layers:
        if id(layer) not in keep:
            saved[layer.name] = layer.visible
            layer.visible = False
        else:
            layer.visible = True
    viewer.grid.stride = 1
    viewer.grid.enabled = True
    viewer.reset_view()
    return saved
