"""The block-wise run shared by enhancing and denoising: paths, lock, sample, train, blocks, finish.

:func:`blockwise_steps` resolves the output's paths against the input, takes the output's lock, then either
resumes a partial output (after checking that it was started for this input and these settings) or trains on a
structured sample and starts one; then it writes every pending block and finishes (see :mod:`.store`).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ... import defaults
from ..enhance.enhancer import Enhancer
from ..enhance.selfcheck import SelfCheck
from ..errors import (
    KIND_CANCELLED,
    KIND_INVALID_VALUE,
    KIND_OUTPUT_PATH,
    KIND_PARTIAL_EXISTS,
    KIND_RESUME_MISMATCH,
    CancelledError,
    DataError,
    UsageError,
    one_line,
    output_exists,
)
from ..events import CancelToken, Event, InferProgress, StageInfo
from ..geometry import output_translate, output_voxel_size
from ..intensity import Normalizer
from ..io.lazy import LazyVolume
from ..io.writing import TIFF_OUTPUTS, check_output_path, write_tiff
from ..resolution import ResolutionReport
from ..validate import check_size, check_volume
from .describe import TrainedSample, block_resolution, finished_record
from .guard import OutputLock, check_resume, fingerprint, lock_path, model_digest
from .models import BlockJob, load_block_model, run_block, save_block_model
from .plan import BlockPlan, check_block_settings, format_region, plan_blocks, training_region
from .store import OutputStore, partial_path

#: Output names the block-wise path writes as OME-Zarr folders.
ZARR_OUTPUTS = (".zarr",)


@dataclass
class BlockwiseResult:
    """Where the enhanced volume was written and how the run went."""

    path: Path
    shape: tuple[int, ...]
    voxel_size: tuple[float, ...] | None
    factor: tuple[int, ...]
    model: Enhancer
    blocks: int
    resumed_blocks: int  # blocks found done from an earlier, interrupted run
    train_seconds: float
    infer_seconds: float
    training_region: tuple[slice, ...] | None
    self_check: SelfCheck | None = None
    #: What made the output (core.provenance), as written into it: seed, steps, settings, blocks, resolution.
    record: dict[str, Any] = field(default_factory=dict)
    #: Decorrelation resolution of input and output on a central region (enhancement with options.resolution).
    resolution: ResolutionReport | None = None
    #: What the self-check's gate decided (core.enhance.gate.GateDecision); None for a given model or a resume.
    gate: Any = None


def is_blockwise_output(path: str | Path) -> bool:
    """Outputs the block-wise path writes: OME-Zarr folders."""
    return Path(path).name.lower().endswith(ZARR_OUTPUTS)


def blockwise_steps(
    volume: LazyVolume,
    output: str | Path,
    factor: tuple[int, ...] | None,
    train: Any,
    *,
    kind: str,
    device: torch.device,
    cancel: CancelToken | None = None,
    resume: bool = False,
    overwrite: bool = False,
    chunks: Sequence[int] | None = None,
    block_output: int | None = None,
    halo: int = defaults.BLOCK_HALO,
    train_voxels: int = defaults.TRAIN_VOXELS,
    client: Any = None,
    ensemble: bool = False,
    precision: str = "auto",
    sis_inference: str = "halves",
    given_model: Any = None,
    resolution: bool = False,
) -> Generator[Event, None, BlockwiseResult]:
    """The block-wise run shared by enhancing and denoising: sample, ``train(sample)``, blocks, finish.

    ``train`` is a generator function taking the training sample and returning a :class:`TrainedSample`;
    ``kind`` (``enhance`` / ``denoise``) says how the model is applied and saved. ``resolution``: measure the
    resolution figure of input and output after the last block (enhancement).
    """
    from ..io.paths import resolve_paths

    chunks = check_block_settings(chunks, block_output, train_voxels, len(volume.shape))
    final = Path(output).expanduser()
    tiff = final.suffix.lower() in TIFF_OUTPUTS
    if not tiff and not is_blockwise_output(final):
        raise UsageError(
            f"{final}: give an OME-Zarr folder (name ending .zarr) or a .tif file as the output",
            kind=KIND_OUTPUT_PATH,
            option="output",
        )
    source = None if volume.spec is None else volume.spec.path
    resolve_paths(
        {"input": source},
        {"output": final},
        {"output": [partial_path(final), lock_path(final)]},
    )
    _check_final(final, overwrite)
    if client is not None and volume.spec is None:
        raise UsageError("distributed runs read the input from a file on every worker; give a file path as input")
    with OutputLock(final), _write_errors(final):
        return (
            yield from _locked_steps(
                volume,
                final,
                tiff,
                factor,
                train,
                kind,
                device,
                cancel,
                resume,
                overwrite,
                chunks,
                block_output,
                halo,
                train_voxels,
                client,
                ensemble,
                precision,
                sis_inference,
                given_model,
                resolution,
            )
        )


def _locked_steps(
    volume: LazyVolume,
    final: Path,
    tiff: bool,
    factor: tuple[int, ...] | None,
    train: Any,
    kind: str,
    device: torch.device,
    cancel: CancelToken | None,
    resume: bool,
    overwrite: bool,
    chunks: Sequence[int] | None,
    block_output: int | None,
    halo: int,
    train_voxels: int,
    client: Any,
    ensemble: bool,
    precision: str,
    sis_inference: str,
    given_model: Any,
    resolution: bool,
) -> Generator[Event, None, BlockwiseResult]:
    """:func:`blockwise_steps` once the output's lock is held."""
    store = OutputStore(final)
    if store.path.exists() and not (resume or overwrite):
        raise UsageError(
            f"{store.path}: an interrupted run's output is there",
            kind=KIND_PARTIAL_EXISTS,
            option="resume",
            hint="resume it to continue, or overwrite (or delete it) to start again",
        )
    name = volume.name
    current = fingerprint(volume)
    settings = {
        "kind": kind,
        "chunks": None if chunks is None else [int(c) for c in chunks],
        "block_output": block_output,
        "halo": halo,
        "ensemble": bool(ensemble),
        "precision": precision,
        "sis_inference": sis_inference if kind == "denoise" else None,
    }  # the voxel size is compared apart (a resumed run writes the one recorded when it started)

    trained_check: SelfCheck | None = None
    gate = None  # the gate's decision (core.enhance.gate.GateDecision), from training
    region: tuple[slice, ...] | None = None
    train_seconds = 0.0
    if resume and store.exists:
        run = store.run()
        if run.get("kind", "enhance") != kind:
            raise UsageError(
                f"{store.path}: was started to {run.get('kind')}, not to {kind}",
                kind=KIND_RESUME_MISMATCH,
                option="resume",
                hint="delete it or overwrite to start again",
            )
        plan = BlockPlan.from_dict(run["plan"])
        if tuple(plan.shape) != volume.shape or (factor is not None and tuple(plan.factor) != tuple(factor)):
            raise UsageError(
                f"{store.path}: was started for an input of shape {tuple(plan.shape)} and factor "
                f"{tuple(plan.factor)}; this run asks for {volume.shape} and {factor}",
                kind=KIND_RESUME_MISMATCH,
                option="resume",
                hint="delete it or overwrite to start again",
            )
        check_resume(store.path, run, current, {**settings, "model": model_digest(given_model)})
        _check_resumed_voxel_size(store.path, run.get("voxel_size"), volume.voxel_size)
        model = load_block_model(store.model_path, kind)
        normalizer = Normalizer(*run["normalizer"])
        record = dict(run.get("record") or {})
        factor = tuple(plan.factor)
        yield StageInfo("resume", f"resuming {store.path.name}: {len(store.done())} of {len(plan)} blocks are done")
    else:
        if factor is None:
            raise UsageError(
                "give the enhancement factor (or a trained model)", kind=KIND_INVALID_VALUE, option="factor"
            )
        check_size(volume.shape, factor, name)
        plan = plan_blocks(volume.shape, factor, chunks=chunks, block_output=block_output, halo=halo)
        region = training_region(volume, factor, train_voxels)
        where = f"{name} (training region {format_region(region)})"
        check_size(tuple(r.stop - r.start for r in region), factor, where)
        sample = volume.read(region)
        check_volume(sample, where)
        yield StageInfo("sample", f"training on region {format_region(region)} of {_fmt_shape(volume.shape)}")
        trained: TrainedSample = yield from train(sample)
        model, normalizer, trained_check = trained.model, trained.normalizer, trained.self_check
        train_seconds, gate = trained.seconds, trained.gate
        record = {**trained.record, "training_region": format_region(region)}
        del sample
        store.create(
            plan.output_shape,
            plan.chunks,
            {
                "kind": kind,
                "input": name,
                "fingerprint": current,
                "settings": {**settings, "model": model_digest(model)},
                "factor": list(factor),
                "plan": plan.to_dict(),
                "normalizer": [normalizer.low, normalizer.high],
                "voxel_size": None if volume.voxel_size is None else list(volume.voxel_size),
                "translate": None if volume.translate is None else list(volume.translate),
                "unit": volume.unit,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "record": record,
            },
        )
        save_block_model(model, store.model_path)

    job = BlockJob(
        str(store.path), normalizer.low, normalizer.high, str(device), ensemble, precision, sis_inference=sis_inference
    )
    done = store.done()
    resumed = len(done)
    pending = [i for i in range(len(plan)) if i not in done]
    verb = "enhancing" if kind == "enhance" else "denoising"
    yield StageInfo("inference", f"{verb} {len(pending)} of {len(plan)} blocks into {store.path.name}")
    started = time.perf_counter()
    if client is None:
        for finished in range(len(pending)):
            if cancel is not None and cancel.cancelled:
                raise _cancelled(store, len(done) + finished, len(plan))
            block = plan.block(pending[finished])
            store.write_block(block.index, block.output, run_block(job, volume, block, model))
            yield InferProgress("blocks", resumed + finished + 1, len(plan))
    else:
        from .distributed import run_blocks

        finished = 0
        for _ in run_blocks(client, job, volume, plan, pending, model, cancel):
            finished += 1
            yield InferProgress("blocks", resumed + finished, len(plan))
        if cancel is not None and cancel.cancelled:
            raise _cancelled(store, resumed + finished, len(plan))
    infer_seconds = time.perf_counter() - started
    run = store.run()
    voxel = None if run["voxel_size"] is None else output_voxel_size(run["voxel_size"], factor)
    where = _output_translate(run, factor)
    import zarr

    level0 = zarr.open_array(str(store.path / "0"), mode="r")
    report = None
    if resolution and kind == "enhance":
        yield StageInfo("resolution", "measuring resolution (decorrelation) and consistency with the input")
        report = block_resolution(volume, level0, model, run["voxel_size"])
    record = finished_record(record, blocks=len(plan), resumed=resumed, resolution=report)
    yield StageInfo("writing", f"finishing {final.name}")
    if tiff:
        write_tiff(final, level0, voxel_size=voxel, unit=run["unit"], translate=where, overwrite=True, record=record)
        store.discard()
    else:
        store.finish(
            voxel_size=voxel, translate=where, unit=run["unit"], overwrite=overwrite, name=final.stem, record=record
        )
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return BlockwiseResult(
        final,
        plan.output_shape,
        voxel,
        factor,
        model,
        len(plan),
        resumed,
        train_seconds,
        infer_seconds,
        region,
        trained_check,
        record,
        report,
        gate,
    )


@contextmanager
def _write_errors(final: Path) -> Iterator[None]:
    """An output that cannot be written (disk full, I/O error, permissions) is a one-line error, not a traceback;
    the blocks finished so far stay in the partial output."""
    try:
        yield
    except OSError as exc:
        raise DataError(
            f"{final}: cannot write the output ({exc.strerror or one_line(exc)}); check free disk space and that the "
            "folder is writable, then resume the run (finished blocks are kept)",
            kind=KIND_OUTPUT_PATH,
            option="resume",
        ) from None


def _check_final(final: Path, overwrite: bool) -> None:
    """Fail before any work when the output cannot be written."""
    if final.exists() and not overwrite:
        raise output_exists(final)
    if final.suffix.lower() in TIFF_OUTPUTS:
        check_output_path(final, overwrite=overwrite)
    elif not final.parent.is_dir():
        raise UsageError(
            f"{final}: folder {final.parent} does not exist; create it first or choose another output",
            kind=KIND_OUTPUT_PATH,
        )
    elif final.exists() and not final.is_dir():
        raise UsageError(f"{final}: is a file, not an OME-Zarr folder; choose another output", kind=KIND_OUTPUT_PATH)
    if partial_path(final).exists() and not partial_path(final).is_dir():
        raise UsageError(f"{partial_path(final)}: is in the way (a file); move it", kind=KIND_OUTPUT_PATH)


def _output_translate(run: dict[str, Any], factor: Sequence[int]) -> tuple[float, ...] | None:
    """Where the output's voxel 0 lies in the input's world: the input's translate moved by the sub-voxel offset
    of the pixel-area convention (:func:`~self_vision.core.geometry.output_translate`, as napari results are
    placed). None for an uncalibrated input (its output is labelled in output voxels, so no world to keep)."""
    if run.get("voxel_size") is None:
        return None
    return output_translate(run["voxel_size"], factor, run.get("translate"))


def _check_resumed_voxel_size(path: Path, recorded: Any, given: Sequence[float] | None) -> None:
    """A resumed run writes the voxel size recorded when it started: refuse a different one given now."""
    if given is None or recorded is None:
        return
    if len(recorded) != len(given) or any(
        abs(float(a) - float(b)) > 1e-9 * abs(float(a)) for a, b in zip(recorded, given, strict=False)
    ):
        raise UsageError(
            f"{path}: was started with voxel size {tuple(recorded)}, not {tuple(given)}; resuming would label the "
            "output with the first",
            kind=KIND_RESUME_MISMATCH,
            option="resume",
            hint="resume with the same voxel size, or start again (overwrite, or delete it)",
        )


def _cancelled(store: OutputStore, done: int, total: int) -> CancelledError:
    return CancelledError(
        f"cancelled: {done} of {total} blocks are saved in {store.path}",
        kind=KIND_CANCELLED,
        option="resume",
        hint="resume the run to continue",
    )


def _fmt_shape(shape: Sequence[int]) -> str:
    return "x".join(str(n) for n in shape)
