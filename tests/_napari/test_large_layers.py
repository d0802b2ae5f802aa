"""Lazy and multiscale layers: trained on a sample, enhanced block by block into OME-Zarr, added lazily."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import zarr

from self_vision._napari import layers
from self_vision._napari.reader import get_reader
from self_vision._napari.results import RESOLUTION_KEY
from self_vision.core.blockwise.store import is_complete, partial_path

pytestmark = pytest.mark.qt

SCALE = (2.0, 0.5, 0.5)


@pytest.fixture
def lazy_layer(widget_and_viewer, small_volume):
    _, viewer, _ = widget_and_viewer
    return viewer.add_image(
        da.from_array(small_volume, chunks=(8, 24, 24)),
        name="lazy cells",
        scale=SCALE,
        units=("micrometer",) * 3,
        contrast_limits=(0.0, 1.0),
    )


def test_lazy_layer_is_written_to_ome_zarr_and_added_lazily(widget_and_viewer, lazy_layer, qtbot, tmp_path, quick):
    widget, viewer, _ = widget_and_viewer
    quick(widget)
    widget.select_layer(lazy_layer)
    assert widget.large_layer() and widget.output_row.isVisibleTo(widget)
    out = tmp_path / "result.ome.zarr"
    widget.output_edit.setText(str(out))
    with qtbot.waitSignal(widget.run_finished, timeout=90_000) as done:
        assert widget.start()
    assert done.args == ["done"], widget.status.text()
    assert is_complete(out)
    result = viewer.layers["lazy cells ×1×2×2"]
    assert isinstance(result.data, da.Array)  # opened lazily from disk, not held in memory
    assert result.data.shape == (8, 96, 96)
    np.testing.assert_allclose(result.scale, (2.0, 0.25, 0.25))
    np.testing.assert_array_equal(np.asarray(result.data), zarr.open_group(str(out))["0"][:])
    assert result.metadata[layers.RESULT_KEY]["path"] == str(out)
    # the no-reference resolution figure, as an in-memory run gives it: on the layer and in the status
    assert result.metadata[layers.RESULT_KEY][RESOLUTION_KEY]["unit"]
    assert "resolution" in widget.status.text()


def test_cancelling_keeps_finished_blocks_and_start_resumes(
    widget_and_viewer, lazy_layer, qtbot, tmp_path, quick, monkeypatch
):
    widget, _, _ = widget_and_viewer
    quick(widget, steps=3)
    widget.select_layer(lazy_layer)
    out = tmp_path / "r.ome.zarr"
    widget.output_edit.setText(str(out))
    from self_vision import defaults

    monkeypatch.setattr(defaults, "BLOCK_OUTPUT_VOXELS", 8 * 32 * 32)  # several blocks
    monkeypatch.setattr(defaults, "OUTPUT_CHUNK_LATERAL", 32)

    def cancel_on_first_block(event):
        if type(event).__name__ == "InferProgress" and event.stage == "blocks":
            widget.cancel()

    widget.start()
    widget._worker.yielded.connect(cancel_on_first_block)
    qtbot.waitUntil(lambda: widget._worker is None, timeout=90_000)
    assert "Start resumes" in widget.status.text()
    assert partial_path(out).is_dir() and not out.exists()
    with qtbot.waitSignal(widget.run_finished, timeout=90_000) as done:
        assert widget.start()
    assert done.args == ["done"], widget.status.text()
    assert is_complete(out)


def test_multiscale_layers_are_offered_and_the_reader_opens_ome_zarr(widget_and_viewer, tmp_path):
    from ome_zarr.writer import write_image

    widget, viewer, _ = widget_and_viewer
    data = (np.random.default_rng(0).random((4, 64, 64)) * 1000).astype(np.uint16)
    group = zarr.open_group(str(tmp_path / "img.ome.zarr"), mode="w")
    write_image(data, group, axes="zyx", scale_factors=[2], scale={"z": 1.5, "y": 0.3, "x": 0.3})
    reader = get_reader(str(tmp_path / "img.ome.zarr"))
    assert reader is not None
    [(levels, meta, kind)] = reader(str(tmp_path / "img.ome.zarr"))
    assert kind == "image" and meta["multiscale"] and len(levels) == 2
    assert meta["scale"] == pytest.approx((1.5, 0.3, 0.3))
    layer = viewer.add_image(levels, **meta)
    names = [widget.layer_box.itemText(i) for i in range(widget.layer_box.count())]
    assert layer.name in names
    widget.select_layer(layer)
    assert widget.large_layer()
    widget.mode_box.setCurrentText("Denoise")
    assert not widget.large_layer() and widget.start() is False
    assert "only Enhance" in widget.status.text()
