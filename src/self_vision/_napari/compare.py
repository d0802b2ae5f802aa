"""One-click comparison views: input and result side by side (grid mode), lateral/axial planes (dims order);
every view labelled with its layers' names and zoomed to fit."""

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
    grid = grid_of(viewer)
    if grid.enabled:
        grid.shape = _grid_shape(viewer, sum(layer.visible for layer in viewer.layers))
    label_layers(viewer, [layer for layer in viewer.layers if layer.visible])
    fit(viewer)


def grid_of(viewer: Any) -> Any:
    """The viewer's grid settings: ``viewer.canvas.grid`` since napari 0.9, ``viewer.grid`` before."""
    canvas = getattr(viewer, "canvas", None)
    return canvas.grid if canvas is not None and hasattr(canvas, "grid") else viewer.grid


def label_layers(viewer: Any, shown: list[Any]) -> None:
    """Name every layer in ``shown`` in its view (napari's layer-name overlay); hide the others' names."""
    for layer in viewer.layers:
        overlay = getattr(layer, "name_overlay", None)  # napari >= 0.6
        if overlay is not None:
            overlay.visible = any(layer == kept for kept in shown)


def fit(viewer: Any) -> None:
    """Zoom so that the visible layers fill the canvas (little margin)."""
    visible = [layer for layer in viewer.layers if layer.visible]
    viewer.reset_view(layers=visible or None, margin=0.02)


def _grid_shape(viewer: Any, count: int) -> tuple[int, int]:
    """One row for views about as wide as tall; one column for wide strips (XZ of a thin stack)."""
    extent = viewer.layers.extent.world
    shown = list(viewer.dims.displayed)
    if len(shown) == 2 and count > 1:
        height, width = (float(extent[1][d] - extent[0][d]) for d in shown)
        if width > 2 * max(height, 1e-9):
            return (count, 1)
    return (-1, -1)


def side_by_side(viewer: Any, layers: list[Any], hidden: dict[str, bool] | None = None) -> dict[str, bool] | None:
    """Toggle grid mode showing only ``layers`` (linked cameras, labelled); returns the visibility to restore.

    Call with the dict returned by the enabling call to switch back and restore the other layers.
    """
    grid = grid_of(viewer)
    if grid.enabled:
        grid.enabled = False
        for layer in viewer.layers:
            if hidden and layer.name in hidden:
                layer.visible = hidden[layer.name]
        label_layers(viewer, [])
        fit(viewer)
        return None
    saved = {}
    for layer in viewer.layers:
        if not any(layer == kept for kept in layers):  # ==, not id(): plugins get a new proxy per access
            saved[layer.name] = layer.visible
            layer.visible = False
        else:
            layer.visible = True
    grid.stride = 1
    grid.shape = _grid_shape(viewer, len(layers))
    grid.enabled = True
    label_layers(viewer, layers)
    fit(viewer)
    return saved
