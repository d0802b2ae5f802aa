"""What a block-wise output says about itself: the run record (seed, steps, settings) and the resolution figure."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from self_vision.core.blockwise.run import denoise_blockwise_steps, enhance_blockwise_steps
from self_vision.core.denoise.options import DenoiseOptions
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.errors import CancelledError
from self_vision.core.events import CancelToken, InferProgress, run_to_end
from self_vision.core.io.lazy import as_lazy
from self_vision.core.provenance import RECORD_KEY, read_record
from self_vision.core.sample import synthetic_neurons

BLOCKS = {"chunks": (12, 32, 32), "block_output": 12 * 64 * 64, "device": "cpu"}
OPTIONS = EnhanceOptions(steps=6, seed=4)


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    return synthetic_neurons(shape=(12, 64, 64), seed=5)


def enhance(volume, out, **kwargs):
    lazy = as_lazy(volume, (2.0, 0.5, 0.5), "µm")
    return run_to_end(enhance_blockwise_steps(lazy, out, (1, 2, 2), options=OPTIONS, **BLOCKS, **kwargs))


def test_zarr_output_carries_seed_steps_settings_and_resolution(tmp_path, volume):
    result = enhance(volume, tmp_path / "out.zarr")
    written = dict(zarr.open_group(str(result.path)).attrs[RECORD_KEY])
    assert written == result.record
    assert written["task"] == "enhance" and written["seed"] == 4 and written["exact_steps"] is True
    assert sum(written["steps_trained"].values()) > 0  # every stage's steps, not the time budget
    assert written["settings"]["steps"] == 6 and written["factor"] == [1, 2, 2]
    assert written["blocks"] == result.blocks and written["resumed_blocks"] == 0
    assert written["training_region"]
    # the no-reference figure, measured on the written output (the in-memory run's central region)
    assert result.resolution is not None
    assert written["resolution"] == result.resolution.as_dict()
    # input region and output region are the same part of the sample: the output degraded again matches the input
    assert result.resolution.consistency is not None and result.resolution.consistency < 0.2


def test_tiff_output_carries_the_same_record(tmp_path, volume):
    result = enhance(volume, tmp_path / "out.tif")
    found = read_record(result.path)
    assert found is not None and found["seed"] == 4 and found["settings"]["steps"] == 6
    assert found["steps_trained"] == result.record["steps_trained"]


def test_a_resumed_run_writes_the_record_its_training_made(tmp_path, volume):
    out = tmp_path / "out.zarr"
    cancel = CancelToken()
    lazy = as_lazy(volume, (2.0, 0.5, 0.5), "µm")
    steps = enhance_blockwise_steps(lazy, out, (1, 2, 2), options=OPTIONS, cancel=cancel, **BLOCKS)
    with pytest.raises(CancelledError):
        for event in steps:
            if isinstance(event, InferProgress):
                cancel.cancel()
    resumed = run_to_end(enhance_blockwise_steps(lazy, out, (1, 2, 2), resume=True, **BLOCKS))
    written = zarr.open_group(str(out)).attrs[RECORD_KEY]
    assert written["resumed_blocks"] == resumed.resumed_blocks > 0
    # the resume trained nothing: the record is the first run's (its seed and steps, not the resume's defaults)
    assert written["seed"] == 4 and written["settings"]["steps"] == 6 and sum(written["steps_trained"].values()) > 0


def test_no_resolution_figure_when_switched_off_or_denoising(tmp_path, volume):
    off = run_to_end(
        enhance_blockwise_steps(
            as_lazy(volume), tmp_path / "o.zarr", (1, 2, 2), options=EnhanceOptions(steps=2, resolution=False), **BLOCKS
        )
    )
    assert off.resolution is None and off.record["resolution"] is None
    noisy = volume + 0.05 * np.random.default_rng(0).standard_normal(volume.shape).astype(np.float32)
    denoised = run_to_end(
        denoise_blockwise_steps(as_lazy(noisy), tmp_path / "d.zarr", options=DenoiseOptions(steps=2, seed=1), **BLOCKS)
    )
    assert denoised.resolution is None
    written = zarr.open_group(str(denoised.path)).attrs[RECORD_KEY]
    assert written["task"] == "denoise" and written["mode"] == "sis" and written["seed"] == 1
