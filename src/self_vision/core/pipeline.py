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

import functools
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .axial import axial_training_planes, estimate_axial_blur
from .degrade import back_project, cubic_upsample
from .devices import resolve_device
from .errors import DataError, UsageError
from .events import CancelToken, Event, InferProgress, StageInfo
from .geometry import output_voxel_size
from .infer import DEFAULT_MAX_TILE_OUTPUT, predict, predict_planes, self_ensemble
from .intensity import Normalizer
from .model import ModelConfig, SelfVisionNet
from .modelfile import save_payload
from .patches import PatchSampler
from .selfcheck import SelfCheck, check_axial_stage, check_volume_group, split_holdout
from .train import TrainLog, TrainSettings, train_model
from .validate import MIN_LOW_RES, check_size, check_volume, parse_factor

PATHS = ("auto", "3d", "lateral-axial")
LOSSES = ("l1", "l2", "mixed")
MODEL_FORMAT = "napari-self-vision model"


@dataclass
class EnhanceOptions:
    """Everything that shapes a run besides the data; defaults suit a laptop CPU."""

    path: str = "auto"
    steps: int | None = None  # per run; split over stages
    time_budget: float | None = None  # seconds of training per run; default 40 s when steps is None too
    operator: str = "area"
    psf_sigma: float = 0.5
    back_projection: int = 10  # rounds of data consistency after the network; 0 = the network alone
    ensemble: bool = False
    seed: int | None = None
    batch_size: int | None = None
    learning_rate: float = 2e-3
    loss: str = "mixed"  # l1, l2, or "mixed": l1 for volume (lateral) stages, l2 for the axial stage
    features: int = 16
    mapping: int = 3
    residual: str = "cubic"  # the interpolation the network's detail is added to: cubic, linear or none
    max_tile_output: int = DEFAULT_MAX_TILE_OUTPUT
    precision: str = (
        "auto"  # inference convolutions: fp32, bf16, or auto (bf16 on CUDA and on CPUs with AMX/AVX512-BF16)
    )
    self_check: bool = True  # hold out a quarter of X from training and score the model on it
    gradual: bool = True  # large factors in prime steps (4 = 2 x 2), one model per distinct step
    noise: tuple[float | None, float] | None = None  # (photons at intensity 1, read sigma) on training inputs
    axial_blur: float | None = None  # µm of extra axial blur for the lateral-axial path; None: estimate it
    uncertainty: bool = False  # also map the model's error one scale down per voxel (see .uncertainty)
    fnsm: bool = False  # a learned Fourier low-pass (core.fnsm) as the network's first stage
    # How much of the network's detail (its output minus cubic interpolation) is kept, per stage group:
    # a number in [0, 1] for every group, or "auto": fitted on the self-check's held-out slab (0 = the result
    # is classical back-projection from cubic). A group the slab cannot check gets ``unchecked_detail_weight``
    # (default 1). Not the weight fitted on held-out lateral planes for a thin stack's axial stage: measured, it
    # points the wrong way (0.03 where the true best is 1, 0.88 where it is 0; docs/experiments.md); that
    # weight is only reported (SelfCheck.proxy_weights).
    detail_weight: float | str = 1.0
    unchecked_detail_weight: float = 1.0

    def settings(self, share: float, stage: str = "volume") -> TrainSettings:
        """Training settings of one stage (``volume`` or ``axial``) given its ``share`` of the budget."""
        if self.loss not in LOSSES:
            raise UsageError(f"loss {self.loss!r}: choose one of {', '.join(LOSSES)}")
        loss = self.loss if self.loss != "mixed" else ("l1" if stage == "volume" else "l2")
        budget = self.time_budget
        if budget is None and self.steps is None:
            budget = 40.0
        return TrainSettings(
            steps=None if self.steps is None else max(1, round(self.steps * share)),
            time_budget=None if budget is None else budget * share,
            learning_rate=self.learning_rate,
            loss=loss,
            operator=self.operator,
            psf_sigma=self.psf_sigma,
            noise_photons=None if self.noise is None else self.noise[0],
            noise_sigma=0.0 if self.noise is None else self.noise[1],
        )


@dataclass
class Stage:
    """A trained network and how it is applied: ``volume`` (to the whole array) or ``axial`` (to XZ/YZ planes)."""

    kind: str
    model: SelfVisionNet


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
        return " + ".join(f"{s.kind} {'x'.join(map(str, s.model.factor))}" for s in self.stages) + (
            f" + back-projection x{self.back_projection}" if self.back_projection else ""
        )

    def apply_steps(
        self,
        normalized: np.ndarray,
        *,
        device: torch.device,
        ensemble: bool = False,
        back_projection: int | None = None,
        max_tile_output: int = DEFAULT_MAX_TILE_OUTPUT,
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
                x = _apply_stage(stage, x, device, ensemble, max_tile_output, precision)
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
            x = _back_project_array(x, normalized, self.factor, self.operator, rounds, self.psf_sigma, device)
        return x

    def apply(self, normalized: np.ndarray, *, device: torch.device | str = "cpu", **kwargs) -> np.ndarray:
        return run_to_end(self.apply_steps(normalized, device=resolve_device(device), **kwargs))

    def to_dict(self) -> dict:
        return {
            "format": MODEL_FORMAT,
            "version": 1,
            "factor": list(self.factor),
            "operator": self.operator,
            "psf_sigma": self.psf_sigma,
            "back_projection": self.back_projection,
            "detail_weights": dict(self.detail_weights),
            "stages": [
                {"kind": s.kind, "config": s.model.config.to_dict(), "state": s.model.state_dict()} for s in self.stages
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Enhancer:
        stages = []
        for entry in data["stages"]:
            config = dict(entry["config"])
            config["factor"] = tuple(config["factor"])
            model = SelfVisionNet(ModelConfig(**config))
            model.load_state_dict(entry["state"])
            model.eval()
            stages.append(Stage(entry["kind"], model))
        return cls(
            tuple(data["factor"]),
            stages,
            data["operator"],
            float(data["psf_sigma"]),
            int(data["back_projection"]),
            {str(k): float(v) for k, v in data.get("detail_weights", {}).items()},
        )


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

    @property
    def detail_weights(self) -> dict[str, float]:
        """Share of the network's detail kept per stage group (1 = all; 0 = classical back-projection)."""
        return {label: self.model.detail_weights.get(label, 1.0) for label, _, _ in self.model.groups()}


def _apply_stage(
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


def _back_project_array(
    estimate: np.ndarray,
    low_res: np.ndarray,
    factor: Sequence[int],
    operator: str,
    rounds: int,
    psf_sigma: float,
    device: torch.device,
) -> np.ndarray:
    with torch.no_grad():
        y = torch.from_numpy(estimate)[None, None].to(device)
        x = torch.from_numpy(np.ascontiguousarray(low_res))[None, None].to(device)
        return back_project(y, x, factor, operator, rounds, psf_sigma)[0, 0].cpu().numpy()


def plan_path(shape: Sequence[int], factor: Sequence[int], path: str) -> str:
    """Resolve ``auto`` and check that the chosen path can learn from this shape."""
    if path not in PATHS:
        raise UsageError(f"unknown path {path!r}; choose one of {', '.join(PATHS)}")
    if len(shape) == 2 or factor[0] == 1:
        return "3d"
    if path == "auto":
        return "lateral-axial"
    if path == "3d" and shape[0] < factor[0] * MIN_LOW_RES:
        raise DataError(
            f"input has {shape[0]} slices, too few to learn a {factor[0]}x axial factor from z itself "
            f"(needs {factor[0] * MIN_LOW_RES}); use the lateral-axial path"
        )
    return path


def _volume_patch(shape: Sequence[int], factor: Sequence[int]) -> tuple[int, ...]:
    """High-resolution training patch for a volume-kind stage."""
    nd = len(factor)
    lateral_lr = 16 if nd == 3 else 24
    patch = []
    for axis, (size, f) in enumerate(zip(shape, factor, strict=True)):
        lr = (min(8, size // f) if f > 1 else min(8, size)) if nd == 3 and axis == 0 else min(lateral_lr, size // f)
        patch.append(max(1, lr) * f)
    return tuple(patch)


def _model_config(factor: tuple[int, ...], options: EnhanceOptions) -> ModelConfig:
    return ModelConfig(
        factor, features=options.features, mapping=options.mapping, residual=options.residual, fnsm=options.fnsm
    )


def paper_options(**overrides: object) -> EnhanceOptions:
    """The Self-Vision paper's recipe as far as its text describes it, for comparisons.

    One 3D network with the full per-axis factor learned from the volume itself (no gradual steps, no
    lateral-to-axial path), an FSRCNN-style MSE loss, a linearly interpolated input under the learned
    detail, and back-projection to fuse. Everything else (patches, augmentation, budget) as the default.
    """
    settings: dict[str, object] = {
        "path": "3d",
        "gradual": False,
        "loss": "l2",
        "residual": "linear",
        "back_projection": 10,
    }
    settings.update(overrides)
    return EnhanceOptions(**settings)  # type: ignore[arg-type]


def gradual_steps(factor: Sequence[int]) -> list[tuple[int, ...]]:
    """Split per-axis factors into steps of prime factors: (1, 4, 4) -> [(1, 2, 2), (1, 2, 2)].

    Zero-shot pairs for a large factor come from a much coarser copy of the input, where small structures
    vanish; small steps keep the pairs' scale close to the scale the model is applied at.
    """
    remaining = [int(f) for f in factor]
    steps = []
    while any(r > 1 for r in remaining):
        step = tuple(_smallest_prime_factor(r) for r in remaining)
        steps.append(step)
        remaining = [r // s for r, s in zip(remaining, step, strict=True)]
    return steps


def _smallest_prime_factor(n: int) -> int:
    if n == 1:
        return 1
    return next(p for p in range(2, n + 1) if n % p == 0)


def _train_volume_model(
    x: np.ndarray,
    factor: tuple[int, ...],
    options: EnhanceOptions,
    settings: TrainSettings,
    device: torch.device,
    rng: np.random.Generator,
    stage: str,
    cancel: CancelToken | None,
) -> Generator[Event, None, tuple[SelfVisionNet, TrainLog]]:
    """Fit a volume-kind model of ``factor`` to (degrade(crop), crop) pairs cut from ``x``."""
    model = SelfVisionNet(_model_config(factor, options))
    patch = _volume_patch(x.shape, factor)
    sampler = PatchSampler([x], patch, rng)
    yield StageInfo(stage, f"learning {'x'.join(map(str, factor))} from {patch} patches of the input")
    settings.batch_size = options.batch_size or (4 if len(patch) == 3 else 16)
    log = yield from train_model(
        model,
        sampler,
        settings,
        device=device,
        rng=rng,
        stage=stage,
        cancel=cancel,
        rotate_lateral=factor[-1] == factor[-2] and patch[-1] == patch[-2],
    )
    return model, log


def _train_axial_model(
    x: np.ndarray,
    source: np.ndarray,
    factor: tuple[int, ...],
    voxel_size: Sequence[float] | None,
    options: EnhanceOptions,
    settings: TrainSettings,
    device: torch.device,
    rng: np.random.Generator,
    cancel: CancelToken | None,
) -> Generator[Event, None, tuple[SelfVisionNet, TrainLog, Callable[[np.ndarray], list[np.ndarray]]]]:
    """Fit the 2D (fz, 1) model on lateral planes of ``source`` (see :mod:`.axial`).

    Returns the model, its training log and the function that prepares planes the way training did (the
    self-check reuses it on held-out data). ``x`` (the whole input) calibrates the axial blur.
    """
    fz = factor[0]
    lateral_spacing = z_out = None
    if voxel_size is not None:
        lateral_spacing = tuple(v / f for v, f in zip(voxel_size[1:], factor[1:], strict=True))
        z_out = voxel_size[0] / fz
    blur = options.axial_blur or 0.0
    if voxel_size is not None and options.axial_blur is None:
        blur, target, reached = estimate_axial_blur(x, voxel_size, fz)
        yield StageInfo(
            "axial",
            f"axial blur estimated at {blur:.2f} µm (z-neighbour correlation {target:.3f}, model {reached:.3f})",
        )
    planes = functools.partial(axial_training_planes, fz=fz, lateral_spacing=lateral_spacing, z_out=z_out, blur_um=blur)
    sources = planes(source)
    width = min(48, min(s.shape[2] for s in sources))
    lr = min(16, min(s.shape[1] for s in sources) // fz)
    if lr < MIN_LOW_RES:
        raise DataError(f"input lateral size {x.shape[1:]} is too small to learn a {fz}x axial factor")
    model = SelfVisionNet(_model_config((fz, 1), options))
    sampler = PatchSampler(sources, (1, lr * fz, width), rng)
    yield StageInfo("axial", f"learning {fz}x axial from lateral planes ({lr * fz}x{width} patches)")
    settings.batch_size = options.batch_size or 16
    log = yield from train_model(
        model, sampler, settings, device=device, rng=rng, stage="axial", cancel=cancel, rotate_lateral=False
    )
    return model, log, planes


@dataclass
class Trained:
    """What training leaves: the model, the intensity map it was trained under, its logs and self-check."""

    enhancer: Enhancer
    normalizer: Normalizer
    factor: tuple[int, ...]
    logs: dict[str, TrainLog] = field(default_factory=dict)
    self_check: SelfCheck | None = None

    @property
    def train_seconds(self) -> float:
        return sum(log.seconds for log in self.logs.values())


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
    _check_detail_weight(options)
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
    train_x, held_x = split_holdout(x, factor) if options.self_check else (x, None)
    source, held_source = train_x, held_x
    if has_lateral:
        steps = gradual_steps(lateral_factor) if options.gradual else [lateral_factor]
        distinct = list(dict.fromkeys(steps))
        stage_name = "3d" if path == "3d" and factor[0] > 1 else "lateral"
        models: dict[tuple[int, ...], SelfVisionNet] = {}
        for step in distinct:
            label = stage_name if len(distinct) == 1 else f"{stage_name} {'x'.join(map(str, step))}"
            models[step], logs[label] = yield from _train_volume_model(
                train_x, step, options, options.settings(share / len(distinct)), dev, rng, label, cancel
            )
        stages += [Stage("volume", models[step]) for step in steps]
        if axial:
            for stage in stages:
                source = _apply_stage(stage, source, dev, False, options.max_tile_output)
                if held_x is not None:
                    held_source = _apply_stage(stage, held_source, dev, False, options.max_tile_output)
    if axial:
        model, logs["axial"], axial_planes = yield from _train_axial_model(
            x, source, factor, voxel_size, options, options.settings(share, "axial"), dev, rng, cancel
        )
        stages.append(Stage("axial", model))

    enhancer = Enhancer(factor, stages, options.operator, options.psf_sigma, options.back_projection)
    check = None
    if held_x is not None:
        yield StageInfo("self-check", "checking the model against cubic on held-out data")
        check = _self_check(enhancer, held_x, held_source, factor, options, dev, axial_planes)
    enhancer.detail_weights = _detail_weights(enhancer, options, check)
    return Trained(enhancer, normalizer, factor, logs, check)


def _check_detail_weight(options: EnhanceOptions) -> None:
    for name in ("detail_weight", "unchecked_detail_weight"):
        value = getattr(options, name)
        if value == "auto" and name == "detail_weight":
            continue
        if isinstance(value, str) or not 0.0 <= float(value) <= 1.0:
            allowed = "'auto' or a number" if name == "detail_weight" else "a number"
            raise UsageError(f"{name} must be {allowed} in [0, 1], not {value!r}")


def _detail_weights(enhancer: Enhancer, options: EnhanceOptions, check: SelfCheck | None) -> dict[str, float]:
    """Each stage group's detail weight: the option's number, or (``"auto"``) what the self-check fitted."""
    labels = [label for label, _, _ in enhancer.groups()]
    if options.detail_weight != "auto":
        weight = float(options.detail_weight)
        return {} if weight == 1.0 else dict.fromkeys(labels, weight)
    fallback = options.unchecked_detail_weight
    found = {} if check is None else check.weights
    return {label: found.get(label, fallback) for label in labels}


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
    return EnhanceResult(
        data=trained.normalizer.inverse(y, inplace=True),
        voxel_size=None if voxel_size is None else output_voxel_size(voxel_size, trained.factor),
        factor=trained.factor,
        model=trained.enhancer,
        path=trained.enhancer.path,
        train_seconds=trained.train_seconds,
        logs=trained.logs,
        normalizer=trained.normalizer,
        self_check=trained.self_check,
    )


def _self_check(
    enhancer: Enhancer,
    held: np.ndarray,
    held_source: np.ndarray | None,
    factor: tuple[int, ...],
    options: EnhanceOptions,
    device: torch.device,
    axial_planes: Callable[[np.ndarray], list[np.ndarray]] | None,
) -> SelfCheck:
    """Score the trained stages against cubic on the held-out slab (see :mod:`.selfcheck`).

    With ``options.detail_weight == "auto"`` it also fits each group's detail weight there (the weights are
    in the returned check; the caller puts them on the enhancer).
    """
    model_psnr: dict[str, float] = {}
    cubic_psnr: dict[str, float] = {}
    bp_psnr: dict[str, float] = {}
    weights: dict[str, float] = {}
    sources: dict[str, str] = {}
    weighted: dict[str, float] = {}
    proxies: dict[str, float] = {}
    calibrate = options.detail_weight == "auto"
    rounds = options.back_projection
    volume_groups = [g for g in enhancer.groups() if g[0] != "axial"]
    if volume_groups:
        label, volume_stages, volume_factor = volume_groups[0]
        part = Enhancer(volume_factor, volume_stages, options.operator, options.psf_sigma, 0)
        found = check_volume_group(
            lambda low: part.apply(low, device=device), held, volume_factor, options.operator, options.psf_sigma, rounds
        )
        if found is not None:
            model_psnr[label], cubic_psnr[label], bp_psnr[label] = found.model, found.cubic, found.back_projection
            if calibrate:
                weights[label], sources[label], weighted[label] = found.weight, "held-out", found.weighted
        elif calibrate:
            weights[label], sources[label] = options.unchecked_detail_weight, "not checked"
        if held_source is not None and weights.get(label, 1.0) != 1.0:  # the axial check sees what the product makes
            part.detail_weights = {label: weights[label]}
            held_source = part.apply(held, device=device)
    axial = [s for s in enhancer.stages if s.kind == "axial"]
    unchecked: dict[str, str] = {}
    if axial and held_source is not None:
        fz = factor[0]
        axial_factor = (fz, 1, 1)
        part = Enhancer(axial_factor, axial, options.operator, options.psf_sigma, 0)
        found = check_volume_group(
            lambda low: part.apply(low, device=device),
            held_source,
            axial_factor,
            options.operator,
            options.psf_sigma,
            rounds,
        )
        if found is not None:
            model_psnr["axial"], cubic_psnr["axial"], bp_psnr["axial"] = found.model, found.cubic, found.back_projection
            if calibrate:
                weights["axial"], sources["axial"], weighted["axial"] = found.weight, "held-out", found.weighted
        else:
            note = f"{held_source.shape[0]} slices are too few to degrade z once more"
            proxy = None
            if axial_planes is not None:
                proxy = check_axial_stage(
                    axial[0].model,
                    axial_planes(held_source),
                    fz,
                    options.operator,
                    options.psf_sigma,
                    rounds,
                    device,
                )
                if proxy is not None:
                    gain = proxy[0] - proxy[1]
                    note += f" (on held-out lateral planes it gains {gain:+.2f} dB, which need not hold in z)"
                    proxies["axial"] = proxy[2]
            unchecked["axial"] = note
            if calibrate:
                weights["axial"] = options.unchecked_detail_weight
                sources["axial"] = "z not checked" + (
                    f"; {proxies['axial']:.2f} on held-out lateral planes, not used" if "axial" in proxies else ""
                )
    return SelfCheck(model_psnr, cubic_psnr, bp_psnr, unchecked, weights, sources, weighted, proxies)


def apply_model_steps(
    enhancer: Enhancer,
    volume: np.ndarray,
    *,
    voxel_size: Sequence[float] | None = None,
    device: str | torch.device = "auto",
    ensemble: bool = False,
    name: str = "input",
) -> Generator[Event, None, EnhanceResult]:
    """Enhance ``volume`` with an already trained model (no training)."""
    check_volume(volume, name)
    if volume.ndim != len(enhancer.factor):
        raise DataError(f"{name}: is {volume.ndim}D but the model enhances {len(enhancer.factor)}D images")
    dev = resolve_device(device)
    normalizer = Normalizer.fit(volume)
    y = yield from enhancer.apply_steps(normalizer.forward(volume), device=dev, ensemble=ensemble)
    return EnhanceResult(
        data=normalizer.inverse(y, inplace=True),
        voxel_size=None if voxel_size is None else output_voxel_size(voxel_size, enhancer.factor),
        factor=enhancer.factor,
        model=enhancer,
        path=enhancer.path,
        normalizer=normalizer,
    )


def run_to_end(gen: Generator[Event, None, object], progress: Callable[[Event], None] | None = None) -> object:
    """Drive a generator to its end, passing each event to ``progress``; return its result."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(event)


def save_model(enhancer: Enhancer, path: str | Path) -> Path:
    """Write a trained model atomically (``torch.save`` of plain tensors and settings)."""
    return save_payload(enhancer.to_dict(), path)


def load_model(path: str | Path) -> Enhancer:
    """Read a model written by :func:`save_model`; a file of another kind is a one-line :class:`DataError`."""
    source = Path(path)
    if not source.is_file():
        raise DataError(f"{source}: no such model file")
    try:
        data = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as err:
        raise DataError(f"{source}: not a napari-self-vision model ({type(err).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise DataError(f"{source}: not a napari-self-vision model file")
    return Enhancer.from_dict(data)
