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


def grid_of(viewer: Any) -> Any:
    """The viewer's grid settings: ``viewer.canvas.grid`` since napari 0.9, ``viewer.grid`` before."""
    canvas = getattr(viewer, "canvas", None)
    return canvas.grid if canvas is not None and hasattr(canvas, "grid") else viewer.grid


def side_by_side(viewer: Any, layers: list[Any], hidden: dict[str, bool] | None = None) -> dict[str, bool] | None:
    """Toggle grid mode showing only ``layers`` (linked cameras); returns the visibility to restore later.

    Call with the dict returned by the enabling call to switch back and restore the other layers.
    """
    grid = grid_of(viewer)
    if grid.enabled:
        grid.enabled = False
        for layer in viewer.layers:
            if hidden and layer.name in hidden:
                layer.visible = hidden[layer.name]
        return None
    saved = {}
    for layer in viewer.layers:
        if not any(layer == kept for kept in layers):  # ==, not id(): plugins get a new proxy per access
            saved[layer.name] = layer.visible
            layer.visible = False
        else:
            layer.visible = True
    grid.stride = 1
    grid.shape = (-1, -1)
    grid.enabled = True
    viewer.reset_view()
    return saved
