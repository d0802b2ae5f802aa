"""One enhancement run: plan the stages, train them from the input, apply them, back-project, check.

Two ways to learn (``path``):

* ``"3d"`` — the paper's: one network with the full per-axis factor, trained on (degrade(crop), crop)
  pairs cut from the input. It needs at least ``MIN_LOW_RES`` slices after a further axial downsampling.
* ``"lateral-axial"`` — lateral factors as above (a 3D network with factor (1, fy, fx)); the axial factor
  from the sharper lateral planes (the CARE-isotropic idea): lateral planes, resampled along one lateral
  axis to the output's axial spacing and degraded along it the way z is sampled, teach a 2D network
  that is then applied to the XZ and YZ planes (averaged).

``"auto"`` takes ``"3d"`` when there is no axial factor and ``"lateral-axial"`` otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import torch

from ..degrade import degrade
from ..devices import resolve_device
from ..errors import DataError
from ..events import CancelToken, Event, StageInfo, TrainProgress
from ..fit import TrainLog
from ..geometry import output_voxel_size
from ..intensity import Normalizer
from ..model import Network, combine
from ..provenance import member_label
from ..resolution import ResolutionReport, resolution_report
from ..validate import check_size, check_volume, parse_factor
from .check import check_detail_weight, check_enhancer, detail_weights_for
from .classical import classical_check
from .enhancer import Enhancer, Stage, apply_stage
from .gate import GateDecision, apply_decision, decide
from .options import EnhanceOptions
from .planning import gradual_steps, plan_path
from .selfcheck import SelfCheck, split_holdout
from .training import train_axial_model, train_volume_model

T = TypeVar("T")


@dataclass
class EnhanceResult:
    """The enhanced volume (float32, input intensity units), its voxel size and how it was made."""

    data: np.ndarray
    voxel_size: tuple[float, ...] | None
    factor: tuple[int, ...]
    model: Enhancer
    path: str
    train_seconds: float = 0.0
    logs: dict[str, TrainLog] = field(default_factory=dict)
    normalizer: Normalizer | None = None
    self_check: SelfCheck | None = None
    uncertainty: np.ndarray | None = None  # per-voxel error estimate (input units, output grid), when asked
    #: What the gate decided (:mod:`.gate`): which groups kept the network, and what was returned; None for
    #: a loaded model (nothing to check it on).
    gate: GateDecision | None = None
    #: Decorrelation resolution per axis of the input and the result, and data consistency (core.resolution);
    #: None when ``EnhanceOptions.resolution`` is off.
    resolution: ResolutionReport | None = None

    @property
    def returned(self) -> str:
        """ "network", "cubic", "back-projection", or a mix per stage group (see :class:`GateDecision`)."""
        return "network" if self.gate is None else self.gate.returned

    @property
    def detail_weights(self) -> dict[str, float]:
        """Share of the network's detail kept per stage group (1 = all; 0 = classical back-projection)."""
        return {label: self.model.detail_weights.get(label, 1.0) for label, _, _ in self.model.groups()}


@dataclass
class Trained:
    """What training leaves: the model, the intensity map it was trained under, its logs and self-check."""

    enhancer: Enhancer
    normalizer: Normalizer
    factor: tuple[int, ...]
    logs: dict[str, TrainLog] = field(default_factory=dict)
    self_check: SelfCheck | None = None
    gate: GateDecision | None = None

    @property
    def train_seconds(self) -> float:
        return sum(log.seconds for log in self.logs.values())

    @property
    def returned(self) -> str:
        """What the enhancer returns after the gate (see :attr:`EnhanceResult.returned`)."""
        return "network" if self.gate is None else self.gate.returned


def train_steps(
    volume: np.ndarray,
    factor: Sequence[int] | str | int,
    *,
    voxel_size: Sequence[float] | None = None,
    options: EnhanceOptions | None = None,
    device: str | torch.device = "auto",
    cancel: CancelToken | None = None,
    name: str = "input",
) -> Generator[Event, None, Trained]:
    """Train the stages on ``volume`` (and self-check them) without enhancing the whole input.

    ``name`` (e.g. the file) starts every error message about the data.
    """
    options = options or EnhanceOptions()
    check_volume(volume, name)
    factor = parse_factor(factor, volume.ndim)
    check_size(volume.shape, factor, name)
    check_detail_weight(options)
    options.check_members()
    dev = resolve_device(device)
    path = plan_path(volume.shape, factor, options.path)
    rng = np.random.default_rng(options.seed)
    if options.seed is not None:
        torch.manual_seed(options.seed)
    normalizer = Normalizer.fit(volume)
    x = normalizer.forward(volume)

    stages: list[Stage] = []
    logs: dict[str, TrainLog] = {}
    axial_planes = None
    lateral_factor = factor if path == "3d" else (1, *factor[1:])
    axial = path == "lateral-axial"
    has_lateral = any(f > 1 for f in lateral_factor)
    share = 1.0 / (int(has_lateral) + int(axial))
    train_parts, held_x = split_holdout(x, factor) if options.self_check else ([x], None)
    sources, held_source = train_parts, held_x
    if has_lateral:
        steps = gradual_steps(lateral_factor) if options.gradual else [lateral_factor]
        distinct = list(dict.fromkeys(steps))
        stage_name = "3d" if path == "3d" and factor[0] > 1 else "lateral"
        models: dict[tuple[int, ...], Network] = {}
        for step in distinct:
            label = stage_name if len(distinct) == 1 else f"{stage_name} {'x'.join(map(str, step))}"
            members, count = [], options.members_for("volume")
            for k in range(count):
                net, logs[member_label(label, k)] = yield from _as_member(
                    train_volume_model(
                        train_parts,
                        step,
                        options,
                        options.settings(share / len(distinct), "volume", count),
                        dev,
                        rng,
                        label,
                        cancel,
                        lateral_factor,
                    ),
                    k,
                    count,
                )
                members.append(net)
            models[step] = combine(members)
        stages += [Stage("volume", models[step]) for step in steps]
        if axial:
            for stage in stages:
                sources = [apply_stage(stage, part, dev, False, options.max_tile_output) for part in sources]
                if held_x is not None:
                    held_source = apply_stage(stage, held_source, dev, False, options.max_tile_output)
    if axial:
        members, count = [], options.members_for("axial")
        for k in range(count):
            net, logs[member_label("axial", k)], axial_planes = yield from _as_member(
                train_axial_model(
                    x, sources, factor, voxel_size, options, options.settings(share, "axial", count), dev, rng, cancel
                ),
                k,
                count,
            )
            members.append(net)
        stages.append(Stage("axial", combine(members)))

    sampling = options.sampling_for(volume.ndim)
    enhancer = Enhancer(factor, stages, options.operator, options.psf_sigma, options.back_projection, sampling=sampling)
    check = None
    if held_x is not None:
        yield StageInfo("self-check", "checking the model against cubic and back-projection on held-out data")
        check = check_enhancer(enhancer, held_x, held_source, factor, options, dev, axial_planes, x)
    enhancer.detail_weights = detail_weights_for(enhancer, options, check)
    gate = None
    if options.self_check:
        classical = classical_check(x, factor, sampling, options.operator, options.psf_sigma)
        gate = decide(enhancer, check, options, classical)
    if gate is not None:
        apply_decision(enhancer, gate)
        yield StageInfo("gate", gate.summary())
    return Trained(enhancer, normalizer, factor, logs, check, gate)


def _as_member(training: Generator[Event, None, T], k: int, count: int) -> Generator[Event, None, T]:
    """Forward the training events of network ``k`` (0-based) of ``count`` of a stage: when there are several,
    its "learning" message ends "(network k+1 of count)", its steps carry the stage :func:`member_label`, and
    what it says about the data (the axial blur, say: the same for every network) is said by the first only."""
    if count == 1:
        return (yield from training)
    while True:
        try:
            event = next(training)
        except StopIteration as stop:
            return stop.value
        if isinstance(event, StageInfo):
            if not event.message.startswith("learning"):
                if k > 0:
                    continue
            else:
                event = StageInfo(event.stage, f"{event.message} (network {k + 1} of {count})")
        elif isinstance(event, TrainProgress):
            event = dataclasses.replace(event, stage=member_label(event.stage, k))
        yield event


def enhance_steps(
    volume: np.ndarray,
    factor: Sequence[int] | str | int,
    *,
    voxel_size: Sequence[float] | None = None,
    options: EnhanceOptions | None = None,
    device: str | torch.device = "auto",
    cancel: CancelToken | None = None,
    name: str = "input",
) -> Generator[Event, None, EnhanceResult]:
    """Train on ``volume`` and enhance it; yields progress events and returns an :class:`EnhanceResult`.

    ``name`` (e.g. the file) starts every error message about the data.
    """
    options = options or EnhanceOptions()
    trained = yield from train_steps(
        volume, factor, voxel_size=voxel_size, options=options, device=device, cancel=cancel, name=name
    )
    dev = resolve_device(device)
    yield StageInfo("inference", "enhancing the whole input")
    y = yield from trained.enhancer.apply_steps(
        trained.normalizer.forward(volume),
        device=dev,
        ensemble=options.ensemble,
        max_tile_output=options.max_tile_output,
        precision=options.precision,
    )
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    data = trained.normalizer.inverse(y, inplace=True)
    report = yield from _resolution_steps(volume, data, trained.enhancer, voxel_size, options)
    return EnhanceResult(
        data=data,
        voxel_size=None if voxel_size is None else output_voxel_size(voxel_size, trained.factor),
        factor=trained.factor,
        model=trained.enhancer,
        path=trained.enhancer.path
        if trained.gate is None or not trained.gate.fell_back
        else f"{trained.gate.returned} (gate; trained {trained.enhancer.path})",
        train_seconds=trained.train_seconds,
        logs=trained.logs,
        normalizer=trained.normalizer,
        self_check=trained.self_check,
        gate=trained.gate,
        resolution=report,
    )


def _resolution_steps(
    volume: np.ndarray,
    result: np.ndarray,
    enhancer: Enhancer,
    voxel_size: Sequence[float] | None,
    options: EnhanceOptions,
) -> Generator[Event, None, ResolutionReport | None]:
    """The resolution figure of input and result, with the result degraded again the way the input was sampled."""
    if not options.resolution:
        return None
    yield StageInfo("resolution", "measuring resolution (decorrelation) and consistency with the input")
    return resolution_of(volume, result, enhancer, voxel_size)


def resolution_of(
    volume: np.ndarray, result: np.ndarray, enhancer: Enhancer, voxel_size: Sequence[float] | None
) -> ResolutionReport:
    """:func:`~self_vision.core.resolution.resolution_report` of ``result`` (``volume`` enhanced by ``enhancer``),
    its consistency measured by degrading the result again with the enhancer's operator and sampling. ``volume``
    and ``result`` may be matching regions (as a block-wise run reads them)."""

    def degrade_again(region: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(region, dtype=np.float32))[None, None]
        out = degrade(t, enhancer.factor, enhancer.operator, enhancer.psf_sigma, sampling=enhancer.sampling)
        return out[0, 0].numpy()

    return resolution_report(volume, result, enhancer.factor, voxel_size, degrade_again)


def apply_model_steps(
    enhancer: Enhancer,
    volume: np.ndarray,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str | torch.device = "auto",
    options: EnhanceOptions | None = None,
    name: str = "input",
) -> Generator[Event, None, EnhanceResult]:
    """Enhance ``volume`` with an already trained model (no training).

    Of ``options`` only what inference reads is used: ``ensemble``, ``max_tile_output`` and ``precision``.
    """
    options = options or EnhanceOptions()
    check_volume(volume, name)
    if volume.ndim != len(enhancer.factor):
        raise DataError(f"{name}: is {volume.ndim}D but the model enhances {len(enhancer.factor)}D images")
    dev = resolve_device(device)
    normalizer = Normalizer.fit(volume)
    y = yield from enhancer.apply_steps(
        normalizer.forward(volume),
        device=dev,
        ensemble=options.ensemble,
        max_tile_output=options.max_tile_output,
        precision=options.precision,
    )
    data = normalizer.inverse(y, inplace=True)
    report = yield from _resolution_steps(volume, data, enhancer, voxel_size, options)
    return EnhanceResult(
        data=data,
        voxel_size=None if voxel_size is None else output_voxel_size(voxel_size, enhancer.factor),
        factor=enhancer.factor,
        model=enhancer,
        path=enhancer.path,
        normalizer=normalizer,
        resolution=report,
    )
