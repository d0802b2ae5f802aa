"""dask.distributed: a LocalCluster on loopback writes the same voxels as the single-process run."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from self_vision.core.blockwise.distributed import close, connect
from self_vision.core.blockwise.run import enhance_blockwise_steps
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import train_steps
from self_vision.core.errors import UsageError
from self_vision.core.events import run_to_end
from self_vision.core.io.lazy import as_lazy, open_lazy
from self_vision.core.io.writing import write_tiff
from self_vision.core.sample import synthetic_neurons

BLOCKS = {"chunks": (10, 32, 32), "block_output": 10 * 32 * 64, "device": "cpu"}


@pytest.fixture(scope="module")
def client():
    client = connect(workers=2, threads_per_worker=1)
    yield client
    close(client)


def test_local_cluster_matches_single_process(tmp_path, client):
    data = (synthetic_neurons(shape=(10, 48, 48), seed=2) * 3000).astype(np.uint16)
    path = write_tiff(tmp_path / "in.tif", data, voxel_size=(2.0, 0.4, 0.4))
    trained = run_to_end(train_steps(data, (1, 2, 2), options=EnhanceOptions(steps=5, seed=0), device="cpu"))
    volume = open_lazy(path)
    here = run_to_end(enhance_blockwise_steps(volume, tmp_path / "one.zarr", None, model=trained.enhancer, **BLOCKS))
    there = run_to_end(
        enhance_blockwise_steps(volume, tmp_path / "many.zarr", None, model=trained.enhancer, client=client, **BLOCKS)
    )
    assert there.blocks == here.blocks > 2
    workers_ran = client.run(lambda: __import__("self_vision.core.blockwise.distributed", fromlist=["_MODELS"])._MODELS)
    assert sum(len(models) for models in workers_ran.values()) >= 1  # the model reached the workers
    np.testing.assert_array_equal(
        zarr.open_group(str(tmp_path / "many.zarr"))["0"][:], zarr.open_group(str(tmp_path / "one.zarr"))["0"][:]
    )


def test_distributed_runs_need_a_file_input(tmp_path, client):
    data = synthetic_neurons(shape=(4, 32, 32), seed=0)
    with pytest.raises(UsageError, match="file"):
        run_to_end(enhance_blockwise_steps(as_lazy(data), tmp_path / "o.zarr", (1, 2, 2), client=client))


def test_bad_cluster_requests_are_usage_errors():
    with pytest.raises(UsageError, match="workers 0"):
        connect(workers=0)
