"""A trained enhancement (:class:`Enhancer`): its stages, how they are applied, and its model file."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...defaults import MAX_TILE_OUTPUT
from ..degrade import back_project, cubic_upsample
from ..devices import resolve_device
from ..errors import KIND_INVALID_VALUE, DataError, UsageError, one_line
from ..events import Event, InferProgress, run_to_end
from ..infer import predict, predict_planes, self_ensemble
from ..io.modelcheck import MODEL_VERSION
from ..io.modelfile import MODEL_FORMAT, read_payload, save_payload
from ..model import ModelConfig, Network, SelfVisionNet, combine, members_of


@dataclass
class Stage:
    """A trained network (or the mean of several, :class:`~..model.MemberMean`) and how it is applied:
    ``volume`` (to the whole array) or ``axial`` (to XZ/YZ planes)."""

    kind: str
    model: Network

    @property
    def members(self) -> int:
        """Networks averaged in this stage."""
        return len(members_of(self.model))


@dataclass
class Enhancer:
    """A trained enhancement: its stages plus the data-consistency step. Save it, apply it to other data."""

    factor: tuple[int, ...]
    stages: list[Stage]
    operator: str = "area"
    psf_sigma: float = 0.5
    back_projection: int = 10
    #: Share of each stage group's detail kept (see :meth:`groups`); a missing group keeps all of it.
    detail_weights: dict[str, float] = field(default_factory=dict)
    #: How the input was sampled, per axis ("point" or "area", :mod:`..sampling`); None: area everywhere
    #: (what models saved before sampling models existed assume). Back-projection uses it.
    sampling: tuple[str, ...] | None = None

    def groups(self) -> list[tuple[str, list[Stage], tuple[int, ...]]]:
        """Consecutive stages of one kind, with a label ("lateral", "volume", "axial") and their joint factor."""
        out: list[tuple[str, list[Stage], tuple[int, ...]]] = []
        for stage in self.stages:
            if out and out[-1][1][-1].kind == stage.kind:
                out[-1][1].append(stage)
            else:
                out.append(("", [stage], ()))
        labelled = []
        for _, stages, _ in out:
            if stages[0].kind == "axial":
                labelled.append(("axial", stages, (stages[0].model.factor[0], 1, 1)))
                continue
            factor = tuple(int(np.prod(f)) for f in zip(*(s.model.factor for s in stages), strict=True))
            labelled.append(("lateral" if len(factor) == 3 and factor[0] == 1 else "volume", stages, factor))
        return labelled

    @property
    def path(self) -> str:
        return " + ".join(
            f"{s.kind} {'x'.join(map(str, s.model.factor))}" + (f" ({s.members} networks)" if s.members > 1 else "")
            for s in self.stages
        ) + (f" + back-projection x{self.back_projection}" if self.back_projection else "")

    def apply_steps(
        self,
        normalized: np.ndarray,
        *,
        device: torch.device,
        ensemble: bool = False,
        back_projection: int | None = None,
        max_tile_output: int = MAX_TILE_OUTPUT,
        precision: str = "auto",
    ) -> Generator[Event, None, np.ndarray]:
        """Enhance a normalised array; yields one event per stage."""
        if normalized.ndim != len(self.factor):
            raise DataError(f"this model enhances {len(self.factor)}D data; the input is {normalized.ndim}D")
        x = normalized
        i = 0
        for label, stages, group_factor in self.groups():
            start = x
            for stage in stages:
                yield InferProgress("inference", i, len(self.stages))
                x = apply_stage(stage, x, device, ensemble, max_tile_output, precision)
                i += 1
            weight = self.detail_weights.get(label, 1.0)
            if weight != 1.0:  # cubic + weight * (network - cubic)
                base = cubic_upsample(start, group_factor)
                x = np.subtract(x, base, out=x if x.dtype == np.float32 else None)
                x *= np.float32(weight)
                x += base
        yield InferProgress("inference", len(self.stages), len(self.stages))
        rounds = self.back_projection if back_projection is None else back_projection
        if rounds:
            x = back_project_array(
                x, normalized, self.factor, self.operator, rounds, self.psf_sigma, device, self.sampling
            )
        return x

    def apply(self, normalized: np.ndarray, *, device: torch.device | str = "cpu", **kwargs) -> np.ndarray:
        return run_to_end(self.apply_steps(normalized, device=resolve_device(device), **kwargs))

    def to_dict(self) -> dict:
        return {
            "format": MODEL_FORMAT,
            # format 1 unless a stage averages several networks (its extra "members": what format 2 adds)
            "version": MODEL_VERSION if any(s.members > 1 for s in self.stages) else 1,
            "factor": list(self.factor),
            "operator": self.operator,
            "psf_sigma": self.psf_sigma,
            "back_projection": self.back_projection,
            "detail_weights": dict(self.detail_weights),
            "sampling": None if self.sampling is None else list(self.sampling),
            "stages": [_stage_dict(s) for s in self.stages],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Enhancer:
        stages = []
        for entry in data["stages"]:
            config = dict(entry["config"])
            config["factor"] = tuple(config["factor"])
            members = []
            for state in [entry["state"], *entry.get("members", [])]:
                model = SelfVisionNet(ModelConfig(**config))
                model.load_state_dict(state)
                members.append(model.eval())
            stages.append(Stage(entry["kind"], combine(members).eval()))
        return cls(
            tuple(data["factor"]),
            stages,
            data["operator"],
            float(data["psf_sigma"]),
            int(data["back_projection"]),
            {str(k): float(v) for k, v in data.get("detail_weights", {}).items()},
            None if data.get("sampling") is None else tuple(str(v) for v in data["sampling"]),
        )


def _stage_dict(stage: Stage) -> dict:
    """A stage as saved: its kind, config and first network's weights; the others' weights as ``members``."""
    first, *others = members_of(stage.model)
    entry = {"kind": stage.kind, "config": first.config.to_dict(), "state": first.state_dict()}
    if others:
        entry["members"] = [m.state_dict() for m in others]
    return entry


def apply_stage(
    stage: Stage, x: np.ndarray, device: torch.device, ensemble: bool, max_tile_output: int, precision: str = "fp32"
) -> np.ndarray:
    model = stage.model
    if stage.kind == "volume":
        square = model.factor[-1] == model.factor[-2]

        def run(v: np.ndarray) -> np.ndarray:
            return predict(model, v, device=device, max_tile_output=max_tile_output, precision=precision)

        return self_ensemble(run, x, rotate_lateral=square) if ensemble else run(x)
    if stage.kind == "axial":

        def run_planes(planes: np.ndarray) -> np.ndarray:
            return predict_planes(model, planes, device=device, max_tile_output=max_tile_output, precision=precision)

        def along(planes: np.ndarray) -> np.ndarray:
            if not ensemble:
                return run_planes(planes)
            return self_ensemble(lambda p: run_planes(p), planes, rotate_lateral=False)

        zx = along(np.ascontiguousarray(x.transpose(1, 0, 2))).transpose(1, 0, 2)  # planes over y
        zy = along(np.ascontiguousarray(x.transpose(2, 0, 1))).transpose(1, 2, 0)  # planes over x
        return (0.5 * (zx + zy)).astype(np.float32)
    raise DataError(f"unknown stage kind {stage.kind!r} in the model")


def back_project_array(
    estimate: np.ndarray,
    low_res: np.ndarray,
    factor: Sequence[int],
    operator: str,
    rounds: int,
    psf_sigma: float,
    device: torch.device,
    sampling: Sequence[str] | None = None,
) -> np.ndarray:
    with torch.no_grad():
        y = torch.from_numpy(estimate)[None, None].to(device)
        x = torch.from_numpy(np.ascontiguousarray(low_res))[None, None].to(device)
        return back_project(y, x, factor, operator, rounds, psf_sigma, sampling)[0, 0].cpu().numpy()


def save_model(enhancer: Enhancer, path: str | Path) -> Path:
    """Write a trained model atomically (``torch.save`` of plain tensors and settings)."""
    if not isinstance(enhancer, Enhancer):
        raise UsageError(
            f"save_model: give a trained model (e.g. result.model), not {type(enhancer).__name__}",
            kind=KIND_INVALID_VALUE,
            option="model",
        )
    return save_payload(enhancer.to_dict(), path)


def load_model(path: str | Path) -> Enhancer:
    """Read a model written by :func:`save_model`; a file of another kind is a one-line :class:`DataError`."""
    data = read_payload(path, MODEL_FORMAT)
    try:
        return Enhancer.from_dict(data)
    except Exception as err:
        where = Path(path).expanduser()
        raise DataError(f"{where}: a damaged model file ({type(err).__name__}: {one_line(err)})") from None
