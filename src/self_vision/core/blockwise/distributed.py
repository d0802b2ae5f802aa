"""Blocks on a dask.distributed cluster: the model is shipped to every worker once, blocks are tasks.

Each task reopens the input from its :class:`.sources.SourceSpec`, enhances one block and writes its
chunks straight into the partial OME-Zarr store (a file system all workers share), then marks the block
done — the same :class:`.store.OutputStore` the single-process path uses, so a cluster run can be resumed
by either. Works with any ``distributed.Client``: a ``LocalCluster`` (``--workers N``), a scheduler
address (``--scheduler tcp://HOST:PORT``), dask-jobqueue (Slurm, PBS…) or dask-kubernetes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from ..events import CancelToken
from ..io.lazy import LazyVolume, SourceSpec
from .plan import BlockPlan

# per worker process: model key -> model (Enhancer or DenoiseNet), input spec -> opened volume
_MODELS: dict[str, Any] = {}
_VOLUMES: dict[SourceSpec, LazyVolume] = {}


def connect(scheduler: str | None = None, workers: int | None = None, threads_per_worker: int = 1) -> Any:
    """A client for ``scheduler`` (an address) or for a new LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    from ..errors import UsageError

    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except OSError as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot connect ({exc}); check the address") from None
    if workers is None or workers < 1:
        raise UsageError(f"--workers {workers}: give a positive number of worker processes")
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=threads_per_worker, processes=True, dashboard_address=None
    )
    return Client(cluster)


def close(client: Any) -> None:
    """Close a client and, when it made it, its LocalCluster."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def run_blocks(
    client: Any,
    job: Any,
    volume: LazyVolume,
    plan: BlockPlan,
    pending: Sequence[int],
    model: Any,
    cancel: CancelToken | None = None,
) -> Iterator[int]:
    """Submit ``pending`` blocks; yield each block index as its output is written. Cancel stops submitting."""
    from distributed import as_completed

    from ..errors import CancelledError
    from .models import block_model_state

    state = block_model_state(model)
    key = _model_key(state)
    shipped = client.scatter(state, broadcast=True, hash=False)  # once per worker, not once per task
    threads = job.threads or _threads_per_worker(client)
    futures = [
        client.submit(_block_task, job, volume.spec, plan, index, key, shipped, threads, key=f"block-{key}-{index}")
        for index in pending
    ]
    try:
        for future in as_completed(futures):
            if cancel is not None and cancel.cancelled:
                break
            error = future.exception()
            if error is not None:
                if isinstance(error, CancelledError):
                    break
                raise error
            yield int(future.result())
    finally:
        client.cancel(futures)


def _block_task(job: Any, spec: SourceSpec, plan: BlockPlan, index: int, key: str, state: dict, threads: int) -> int:
    """Runs on a worker: enhance block ``index`` and write it (the model comes from the worker's cache)."""
    import torch

    from .models import block_model_from_state, run_block
    from .store import write_block

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = block_model_from_state(state)
    volume = _VOLUMES.get(spec)
    if volume is None:
        volume = _VOLUMES[spec] = spec.open()
    block = plan.block(index)
    write_block(job.store, index, block.output, run_block(job, volume, block, model))
    return index


def _model_key(state: dict) -> str:
    """A digest of every tensor and setting in a model's state (names the model on the workers)."""
    import torch

    digest = hashlib.sha1()

    def walk(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            digest.update(value.detach().cpu().numpy().tobytes())
        elif isinstance(value, dict):
            for k in sorted(value, key=str):
                digest.update(str(k).encode())
                walk(value[k])
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        else:
            digest.update(repr(value).encode())

    walk(state)
    return digest.hexdigest()[:16]


def _threads_per_worker(client: Any) -> int:
    info = client.scheduler_info().get("workers", {})
    threads = [w.get("nthreads", 1) for w in info.values()]
    return max(1, min(threads)) if threads else 1
