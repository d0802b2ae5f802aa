"""Background runs for the dock widget: a plain generator around the core, started in napari's ``thread_worker``.

:func:`run_events` holds no Qt and touches no viewer: it drives :func:`self_vision.api.run` (the one dispatcher),
forwards stage and
inference events, batches training steps into at most ~10 :class:`TrainBatch` updates per second (so the
GUI thread is never flooded with signals) and returns the core's ``EnhanceResult``. With
``RunRequest.volumes`` set it then applies the trained model to every 3D volume of the leading axes
(time points, channels), yielding a :class:`VolumeProgress` per volume, and returns all of them stacked.
``RunRequest.mode`` picks what the run does: enhance, SiS-denoise (a ``DenoiseResult``), or both in a row.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # heavy imports stay out of module top level (napari starts fast)
    from napari.qt.threading import GeneratorWorker

    from ..core.denoise.options import DenoiseOptions
    from ..core.denoise.result import DenoiseResult
    from ..core.enhance.enhancer import Enhancer
    from ..core.enhance.options import EnhanceOptions
    from ..core.enhance.run import EnhanceResult
    from ..core.events import CancelToken, TrainProgress

#: Seconds between two training updates sent to the GUI thread.
UPDATE_INTERVAL = 0.1
#: What a run does: enhance, SiS-denoise (factor 1), or denoise then enhance.
MODES = ("enhance", "denoise", "denoise+enhance", "sim")


@dataclass
class RunRequest:
    """Everything one run needs, captured on the GUI thread; ``data`` is a private copy of the layer's data."""

    data: np.ndarray | None
    factor: tuple[int, ...]
    voxel_size: tuple[float, ...] | None
    options: EnhanceOptions | None = None
    device: str = "auto"
    model: Enhancer | None = None  # apply this trained model instead of training
    #: Every volume: the layer's full data (leading axes first; read one volume at a time, not copied) and
    #: the index of ``data`` in its leading axes. None: ``data`` alone.
    volumes: Any = None
    index: tuple[int, ...] = ()
    mode: str = "enhance"  # one of MODES; ignored when ``model`` is set (applying is enhancing)
    denoise_options: DenoiseOptions | None = None
    #: Denoise mode only: ``sis`` (``data`` is a ZYX stack) or ``tis`` (``data`` is a TYX/TZYX time-lapse).
    denoise_mode: str = "sis"
    #: Block-wise enhancement of a large or lazy layer: the OME-Zarr folder to write and the lazily read
    #: volume (``core.sources.LazyVolume``); ``data`` is then unused. An interrupted run there is resumed.
    large_output: str | None = None
    lazy: Any = None
    #: SIM mode: the ``core.sim.run.SimOptions`` (``data`` is the raw ``(9, Y, X)`` / ``(T, 9, Y, X)`` stack).
    sim_options: Any = None

    def to_core(self) -> Any:
        """The :class:`self_vision.api.RunRequest` of this run (applying a model is enhancing)."""
        from ..api import Blockwise
        from ..api import RunRequest as CoreRequest

        blockwise = None if self.large_output is None else Blockwise(self.lazy, self.large_output, resume=True)
        task = "enhance" if self.model is not None else self.mode
        return CoreRequest(
            task,
            self.data,
            self.factor,
            self.voxel_size,
            self.options,
            self.denoise_options,
            self.denoise_mode,
            self.model,
            self.device,
            blockwise=blockwise,
            sim_options=self.sim_options,
        )


@dataclass(frozen=True)
class VolumeProgress:
    """Applying the model to every volume: ``volume`` of ``volumes`` done, ``done``/``total`` tiles of the next."""

    volume: int
    volumes: int
    done: int = 0
    total: int = 1


@dataclass
class TrainBatch:
    """Training steps since the last update: the newest event plus every loss in between."""

    latest: TrainProgress
    losses: list[float] = field(default_factory=list)


def run_events(
    request: RunRequest, cancel: CancelToken, *, num_threads: int | None = None, interval: float = UPDATE_INTERVAL
) -> Generator[Any, None, EnhanceResult | DenoiseResult]:
    """Train (or apply ``request.model``) and return the result; yields StageInfo, InferProgress, TrainBatch
    and, for every volume, VolumeProgress."""
    import torch

    from ..api import run

    if num_threads:  # torch's intra-op thread count is per thread: match the GUI thread's setting
        torch.set_num_threads(num_threads)
    if request.mode not in MODES:
        raise ValueError(f"unknown run mode {request.mode!r}; choose one of {', '.join(MODES)}")
    if request.large_output is not None and (request.mode != "enhance" or request.volumes is not None):
        raise ValueError("block-wise runs enhance one volume")
    if request.volumes is not None and request.model is None and request.mode != "enhance":
        raise ValueError("every time point / channel is offered for enhancement only")
    gen = run(request.to_core(), cancel)
    try:
        result = yield from _forward(gen, cancel, interval)
        if request.volumes is not None:
            result = yield from _every_volume(request, result, cancel)
    finally:
        if torch.cuda.is_available():  # give GPU memory back after every run, failed ones included
            torch.cuda.empty_cache()
    return result


def _forward(gen: Generator[Any, None, Any], cancel: CancelToken, interval: float) -> Generator[Any, None, Any]:
    """Drive one core generator: forward its events (training steps batched), stop on cancel, return its value."""
    from ..core.errors import CancelledError
    from ..core.events import TrainProgress

    pending: TrainBatch | None = None
    last = 0.0
    try:
        while True:
            try:
                event = next(gen)
            except StopIteration as stop:
                result = stop.value
                break
            if cancel.cancelled:
                raise CancelledError("cancelled by the user")
            if isinstance(event, TrainProgress):
                if pending is None:
                    pending = TrainBatch(event)
                pending.latest = event
                pending.losses.append(event.loss)
                now = time.perf_counter()
                if now - last >= interval or event.step >= event.total:
                    yield pending
                    pending, last = None, now
                continue
            if pending is not None:
                yield pending
                pending = None
            yield event
    finally:
        gen.close()
    if pending is not None:
        yield pending
    return result


def _every_volume(
    request: RunRequest, first: EnhanceResult, cancel: CancelToken
) -> Generator[Any, None, EnhanceResult]:
    """Apply ``first.model`` to every volume of ``request.volumes`` (no training) and stack the results.

    The output is allocated once; the volume the model was trained on (``request.index``) reuses ``first.data``.
    Cancel is checked between volumes and between tiles.
    """
    from dataclasses import replace

    from ..api import run
    from ..core.errors import CancelledError
    from ..core.events import InferProgress, StageInfo

    source = request.volumes
    lead = tuple(source.shape[: source.ndim - request.data.ndim])
    count = int(np.prod(lead))
    out = np.empty(lead + first.data.shape, dtype=first.data.dtype)
    options = None if request.options is None else replace(request.options, uncertainty=False)
    apply = replace(request, model=first.model, options=options, volumes=None, large_output=None)
    for number, index in enumerate(np.ndindex(*lead)):
        if cancel.cancelled:
            raise CancelledError("cancelled by the user")
        yield VolumeProgress(number, count)
        if index == tuple(request.index):
            out[index] = first.data
            continue
        yield StageInfo("volumes", f"applying the model to volume {number + 1}/{count} (index {index})")
        volume = np.array(source[index], copy=True)
        gen = run(replace(apply, data=volume).to_core())
        try:
            while True:
                try:
                    event = next(gen)
                except StopIteration as stop:
                    out[index] = stop.value.data
                    break
                if cancel.cancelled:
                    raise CancelledError("cancelled by the user")
                if isinstance(event, InferProgress):
                    yield VolumeProgress(number, count, event.done, max(event.total, 1))
        finally:
            gen.close()
        del volume, gen
    yield VolumeProgress(count, count)
    return replace(first, data=out)


def start_run(request: RunRequest, cancel: CancelToken, **connect: Any) -> GeneratorWorker:
    """Start :func:`run_events` in napari's ``thread_worker``; ``connect`` maps signal names to callbacks."""
    import torch
    from napari.qt.threading import create_worker

    worker = create_worker(
        run_events, request, cancel, num_threads=torch.get_num_threads(), _connect=connect, _start_thread=False
    )
    worker.start()
    return worker
