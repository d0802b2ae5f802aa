"""OME-Zarr output written block by block, resumable, that only appears under its name once complete.

A run writes into ``NAME.partial`` next to the requested ``NAME``: level ``0`` (the full-resolution
array, one Zarr chunk per output chunk), ``.self_vision/run.json`` (what is being made), the model it is
made with, and one empty marker file per finished block under ``.self_vision/done/``. When every block is
done, the pyramid levels and the OME-Zarr (0.5) ``multiscales`` metadata are written, the completion
attribute is set, the markers are removed and the folder is renamed to ``NAME`` — the last step. So a
folder called ``NAME`` is always complete, and an interrupted run leaves only ``NAME.partial``, which
``--resume`` continues (skipping the blocks marked done).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, output_exists
from ..provenance import RECORD_KEY

PARTIAL_SUFFIX = ".partial"
STATE = ".self_vision"
RUN_FILE = "run.json"
MODEL_FILE = "model.pt"
#: Stop adding pyramid levels once the largest lateral axis is at most this long.
PYRAMID_SMALLEST = 512


def partial_path(final: Path) -> Path:
    return final.with_name(final.name + PARTIAL_SUFFIX)


class OutputStore:
    """The partial OME-Zarr store of one run."""

    def __init__(self, final: str | Path) -> None:
        self.final = Path(final).expanduser()
        self.path = partial_path(self.final)

    # ------------------------------------------------------------------ lifecycle

    @property
    def exists(self) -> bool:
        return (self.path / STATE / RUN_FILE).is_file()

    def create(self, shape: Sequence[int], chunks: Sequence[int], run: dict[str, Any]) -> None:
        """Start a new partial store (an old partial one is replaced)."""
        import zarr

        if self.path.exists():
            shutil.rmtree(self.path)
        (self.path / STATE / "done").mkdir(parents=True)
        zarr.create_array(
            str(self.path), name="0", shape=tuple(shape), chunks=tuple(chunks), dtype="float32", fill_value=0.0
        )
        self._write_json(self.path / STATE / RUN_FILE, run)

    def run(self) -> dict[str, Any]:
        """What this partial store was started to make (``run.json``)."""
        try:
            return json.loads((self.path / STATE / RUN_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise DataError(
                f"{self.path}: its run record is unreadable ({exc}); delete the folder and start again"
            ) from None

    @property
    def model_path(self) -> Path:
        return self.path / STATE / MODEL_FILE

    # ------------------------------------------------------------------ blocks

    def write_block(self, index: int, region: tuple[slice, ...], data: np.ndarray) -> None:
        write_block(self.path, index, region, data)

    def done(self) -> set[int]:
        folder = self.path / STATE / "done"
        return {int(p.name) for p in folder.iterdir() if p.name.isdigit()} if folder.is_dir() else set()

    # ------------------------------------------------------------------ finishing

    def finish(
        self,
        *,
        voxel_size: Sequence[float] | None,
        unit: str | None,
        overwrite: bool,
        name: str = "enhanced",
        translate: Sequence[float] | None = None,
        record: dict[str, Any] | None = None,
    ) -> Path:
        """Pyramid, metadata, completion marker, then the rename that makes the result appear.

        ``translate``: where level 0's voxel 0 lies (its ``translation`` transform, with each coarser level's
        block-mean shift added to it); None or all zero writes none for level 0. ``record`` (core.provenance:
        seed, steps, settings) goes into the group's attributes under ``self_vision_run``.
        """
        import zarr
        from ome_zarr.writer import write_multiscales_metadata

        group = zarr.open_group(str(self.path), mode="r+")
        base = group["0"]
        ndim = base.ndim
        scale = list(voxel_size) if voxel_size is not None else [1.0] * ndim
        levels = pyramid_factors(tuple(base.shape), scale)
        for level in range(1, len(levels)):
            _downsample(self.path, level, levels[level - 1], levels[level])
        axes_names = "zyx"[-ndim:]
        space_unit = _ngff_unit(unit) if voxel_size is not None else None
        origin = [float(t) for t in translate] if translate is not None else [0.0] * ndim
        datasets = []
        for level, factors in enumerate(levels):
            level_scale = [s * f for s, f in zip(scale, factors, strict=True)]
            transforms: list[dict[str, Any]] = [{"type": "scale", "scale": level_scale}]
            # the block mean of f voxels is centred (f-1)/2 voxels in from level 0's voxel 0
            shift = [t + s * (f - 1) / 2 for t, s, f in zip(origin, scale, factors, strict=True)]
            if any(shift):
                transforms.append({"type": "translation", "translation": shift})
            datasets.append({"path": str(level), "coordinateTransformations": transforms})
        write_multiscales_metadata(
            group,
            datasets,
            axes=[{"name": a, "type": "space", **({"unit": space_unit} if space_unit else {})} for a in axes_names],
            name=name,
        )
        run = self.run()
        group.attrs["self_vision"] = {"complete": True, "factor": run.get("factor"), "input": run.get("input")}
        if record is not None:
            group.attrs[RECORD_KEY] = record
        shutil.rmtree(self.path / STATE / "done", ignore_errors=True)
        return self._move_into_place(overwrite)

    def _move_into_place(self, overwrite: bool) -> Path:
        if self.final.exists():
            if not overwrite:
                raise output_exists(self.final)
            # a hidden name of this run's own, so that no file of the user's (say NAME.old) is touched
            old = self.final.with_name(f".{self.final.name}.{os.getpid()}-{secrets.token_hex(4)}.old")
            os.replace(self.final, old)
            os.replace(self.path, self.final)
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        else:
            os.replace(self.path, self.final)
        return self.final

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    @staticmethod
    def _write_json(path: Path, data: dict[str, Any]) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)


def write_block(partial: str | Path, index: int, region: tuple[slice, ...], data: np.ndarray) -> None:
    """Write one block's output (whole chunks) into a partial store, then mark it done — in that order."""
    import zarr

    partial = Path(partial)
    array = zarr.open_array(str(partial / "0"), mode="r+")
    array[region] = data
    (partial / STATE / "done" / str(index)).touch()


def is_complete(path: str | Path) -> bool:
    """True for an OME-Zarr folder this project finished writing."""
    import zarr

    try:
        attrs = zarr.open_group(str(path), mode="r").attrs.asdict()
    except Exception:
        return False
    return bool(attrs.get("self_vision", {}).get("complete"))


def pyramid_factors(shape: Sequence[int], voxel_size: Sequence[float]) -> list[tuple[int, ...]]:
    """Per-level cumulative downsampling: 2x laterally each level; 2x in Z too once Z is the finer axis."""
    levels = [tuple(1 for _ in shape)]
    current = list(shape)
    spacing = list(voxel_size)
    while max(current[-2:]) > PYRAMID_SMALLEST and min(current[-2:]) >= 2:
        step = [1] * len(shape)
        step[-1] = step[-2] = 2
        if len(shape) == 3 and spacing[0] <= spacing[-1] and current[0] >= 2:
            step[0] = 2
        current = [c // s for c, s in zip(current, step, strict=True)]
        spacing = [v * s for v, s in zip(spacing, step, strict=True)]
        levels.append(tuple(p * s for p, s in zip(levels[-1], step, strict=True)))
    return levels


def _downsample(store: Path, level: int, prior: tuple[int, ...], factors: tuple[int, ...]) -> None:
    """Level ``level`` as block means of level ``level - 1`` (dask, chunk by chunk: bounded memory)."""
    import dask.array as da
    import zarr

    previous = da.from_zarr(str(store / str(level - 1)))
    step = {a: f // p for a, (f, p) in enumerate(zip(factors, prior, strict=True)) if f // p > 1}
    smaller = da.coarsen(np.mean, previous, step, trim_excess=True).astype(np.float32)
    chunks = tuple(min(c, s) for c, s in zip(previous.chunksize, smaller.shape, strict=True))
    target = zarr.create_array(
        str(store), name=str(level), shape=smaller.shape, chunks=chunks, dtype="float32", overwrite=True
    )
    da.store(smaller.rechunk(chunks), target, lock=False)


def _ngff_unit(unit: str | None) -> str | None:
    """An OME-Zarr (UDUNITS-2) unit name for a normalised length unit."""
    return {"µm": "micrometer", "nm": "nanometer", "mm": "millimeter", "cm": "centimeter", "m": "meter"}.get(unit or "")
