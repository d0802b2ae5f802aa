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

from ... import defaults
from ..events import CancelToken
from ..io.lazy import LazyVolume, SourceSpec
from .plan import BlockPlan

# per worker process: model key -> model (Enhancer or DenoiseNet), input spec -> opened volume
_MODELS: dict[str, Any] = {}
_VOLUMES: dict[SourceSpec, LazyVolume] = {}


def connect(
    scheduler: str | None = None,
    workers: int | None = None,
    threads_per_worker: int = 1,
    timeout: float | None = None,
) -> Any:
    """A client for ``scheduler`` (an address) or for a new LocalCluster of ``workers`` processes.

    A scheduler must accept the connection and answer within ``timeout`` seconds (each; default
    :data:`defaults.SCHEDULER_TIMEOUT`); a listener that accepts but never answers is a one-line
    :class:`UsageError` of kind ``timeout``, not a hang.
    """
    from ..errors import KIND_INVALID_VALUE, UsageError

    timeout = defaults.SCHEDULER_TIMEOUT if timeout is None else timeout

    if scheduler:
        if not isinstance(scheduler, str) or ("://" not in scheduler and ":" not in scheduler):
            raise UsageError(
                f"scheduler {scheduler!r}: give an address such as tcp://HOST:8786",
                kind=KIND_INVALID_VALUE,
                option="scheduler",
            )
        _probe(scheduler, timeout)
        return _within(lambda: _client(scheduler, timeout), scheduler, 3 * timeout)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UsageError(
            f"workers {workers!r}: give a positive number of worker processes",
            kind=KIND_INVALID_VALUE,
            option="workers",
        )
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=threads_per_worker, processes=True, dashboard_address=None
    )
    return Client(cluster)


def _client(scheduler: str, timeout: float) -> Any:
    from distributed import Client

    return Client(scheduler, timeout=f"{timeout}s")


def _unreachable(scheduler: str, what: str) -> Any:
    from ..errors import KIND_TIMEOUT, UsageError

    return UsageError(
        f"scheduler {scheduler}: {what}",
        kind=KIND_TIMEOUT,
        option="scheduler",
        hint="check the address and that the scheduler runs",
    )


def _probe(scheduler: str, timeout: float) -> None:
    """For ``tcp://`` addresses: the listener must accept and send its handshake within ``timeout`` seconds."""
    import socket
    from urllib.parse import urlsplit

    if not scheduler.startswith("tcp://"):
        return
    parts = urlsplit(scheduler)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise _unreachable(scheduler, "is not HOST:PORT")
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            if not sock.recv(1):
                raise _unreachable(scheduler, "closed the connection without answering")
    except TimeoutError:
        raise _unreachable(scheduler, f"accepted no connection or sent no answer within {timeout:g} s") from None
    except OSError as exc:
        raise _unreachable(scheduler, f"cannot connect ({exc.strerror or exc})") from None


def _within(make: Any, scheduler: str, seconds: float) -> Any:
    """``make()`` in a helper thread, given up (a one-line error) after ``seconds``."""
    import threading

    from ..errors import SelfVisionError, one_line

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["client"] = make()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, name="self-vision-connect", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise _unreachable(scheduler, f"did not complete the connection within {seconds:g} s")
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, OSError | TimeoutError):
            raise _unreachable(scheduler, f"cannot connect ({type(exc).__name__}: {exc})") from None
        if isinstance(exc, Exception) and not isinstance(exc, SelfVisionError):  # e.g. MemoryError on garbage
            raise _unreachable(
                scheduler, f"answered, but not as a dask scheduler ({type(exc).__name__}: {one_line(exc)})"
            ) from None
        raise exc
    return box["client"]


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
    key = model_key(state)
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


def model_key(state: dict) -> str:
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
